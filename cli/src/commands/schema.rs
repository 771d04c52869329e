//! `syncdb schema …`: a database's schema. `check FILE` reads and checks a
//! schema file offline (no daemon), so an editor or a CI job can validate
//! one before it is set; errors name `FILE:LINE:COLUMN`. `set`, `diff`
//! read the file here the same way and send the daemon its canonical form.

use std::path::Path;

use syncdb_core::Name;
use syncdb_core::ipc::{
    DbParams, SchemaData, SchemaDataParams, SchemaDiff, SchemaId, SchemaSet, SchemaSetParams,
    SchemaShow, StepReport,
};
use syncdb_core::schema::{Format, Schema};

use super::Ctx;
use crate::args::SchemaCommand;
use crate::exit::{CliError, Exit, Result};
use crate::output;

pub fn run(ctx: &Ctx, cmd: SchemaCommand) -> Result<()> {
    match cmd {
        SchemaCommand::Check {
            target,
            data: false,
            ..
        } => check(ctx, &target),
        SchemaCommand::Check {
            target,
            data: true,
            limit,
        } => check_data(ctx, &target.to_string_lossy(), limit),
        SchemaCommand::Set {
            db,
            file,
            allow_data_loss,
        } => set(ctx, &db, &file, allow_data_loss),
        SchemaCommand::Show { db } => show(ctx, &db),
        SchemaCommand::Diff { db, file } => diff(ctx, &db, &file),
    }
}

fn short(id: &SchemaId) -> String {
    format!("v{} ({})", id.version, &id.hash[..id.hash.len().min(12)])
}

fn step_lines(steps: &[StepReport]) -> Vec<String> {
    steps
        .iter()
        .map(|s| {
            let lost = match (s.lost, s.drops_data) {
                (0, _) => String::new(),
                (n, true) => format!(", drops data in {}", syncdb_core::words::count(n, "record")),
                (n, false) => format!(
                    ", loses a value in {}",
                    syncdb_core::words::count(n, "record")
                ),
            };
            let kept = match s.kept {
                0 => String::new(),
                1 => "; 1 record has no usable key at the new path and keeps its own".to_owned(),
                n => format!(
                    "; {} records have no usable key at the new path and keep theirs",
                    syncdb_core::words::thousands(n)
                ),
            };
            format!(
                "  step: {} ({}{lost}{kept})",
                s.step,
                syncdb_core::words::count(s.records, "record")
            )
        })
        .collect()
}

fn set(ctx: &Ctx, db: &str, file: &Path, allow_data_loss: bool) -> Result<()> {
    let db = Name::parse_as("database", db)?;
    let schema = read(file)?;
    let params = SchemaSetParams {
        folder: ctx.folder()?,
        db,
        schema: schema.canonical(),
        allow_data_loss,
    };
    let out = ctx.client()?.call::<SchemaSet>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    super::put::created_note(ctx, out.created_database, &out.db);
    let mut lines = vec![match (&out.previous, out.unchanged) {
        (_, true) => format!(
            "{} already has schema {} {}: nothing changed",
            out.db,
            schema.name,
            short(&out.schema)
        ),
        (Some(p), false) => format!(
            "{}: schema {} {} → {}",
            out.db,
            schema.name,
            short(p),
            short(&out.schema)
        ),
        (None, false) => format!(
            "{}: schema {} {} set",
            out.db,
            schema.name,
            short(&out.schema)
        ),
    }];
    lines.extend(step_lines(&out.steps));
    if out.violations > 0 {
        lines.push(format!(
            "{} {} the new schema: `syncdb schema check {} --data` lists them",
            syncdb_core::words::count(out.violations, "record"),
            if out.violations == 1 {
                "breaks"
            } else {
                "break"
            },
            out.db
        ));
    }
    output::line(lines.join("\n"))
}

fn show(ctx: &Ctx, db: &str) -> Result<()> {
    let db = Name::parse_as("database", db)?;
    let params = DbParams {
        folder: ctx.folder()?,
        db,
    };
    let out = ctx.client()?.call::<SchemaShow>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    let Some(id) = &out.schema else {
        return output::line(format!(
            "{} has no schema (set one with `syncdb schema set {} FILE`)",
            out.db, out.db
        ));
    };
    if let Some(why) = &out.unreadable {
        return output::line(format!(
            "{}: schema {} cannot be read by this syncdb: {why}",
            out.db,
            short(id)
        ));
    }
    let schema = out
        .content
        .as_ref()
        .and_then(|c| Schema::parse(&c.to_string(), Format::Json).ok())
        .ok_or_else(|| CliError::failed("the daemon sent a schema that does not read"))?;
    let versions: Vec<String> = out.versions.iter().map(u64::to_string).collect();
    output::line(format!(
        "{}: {}\n  versions held: {}",
        out.db,
        summary(&schema),
        versions.join(", ")
    ))
}

fn diff(ctx: &Ctx, db: &str, file: &Path) -> Result<()> {
    let db = Name::parse_as("database", db)?;
    let schema = read(file)?;
    let params = SchemaSetParams {
        folder: ctx.folder()?,
        db,
        schema: schema.canonical(),
        allow_data_loss: false,
    };
    let out = ctx.client()?.call::<SchemaDiff>(&params)?;
    if ctx.global.json {
        output::json(&out)?;
        return refused_by_set(&out);
    }
    let from = out.from.as_ref().map_or("no schema".to_owned(), short);
    let verdict = match out.verdict.as_str() {
        "new" | "upgrade" => "`schema set` would move it there".to_owned(),
        "same" => "the database has this schema already".to_owned(),
        "older" => "`schema set` would refuse it: the version is older".to_owned(),
        _ => "`schema set` would refuse it: same version, other content".to_owned(),
    };
    let mut lines = vec![format!(
        "{}: {from} → {}: {verdict}",
        out.db,
        short(&out.to)
    )];
    lines.extend(out.changes.iter().map(|c| format!("  {c}")));
    lines.extend(step_lines(&out.steps));
    output::line(lines.join("\n"))?;
    refused_by_set(&out)
}

/// `schema diff` exits 2 when `schema set` would refuse the file.
fn refused_by_set(out: &syncdb_core::ipc::SchemaDiffOutput) -> Result<()> {
    let why = match out.verdict.as_str() {
        "older" => "its version is older than the database's",
        "conflict" => "the database has this version with other content",
        _ => return Ok(()),
    };
    Err(CliError::usage(format!(
        "`schema set {} FILE` would refuse it: {why}",
        out.db
    )))
}

fn check_data(ctx: &Ctx, db: &str, limit: u64) -> Result<()> {
    let db = Name::parse_as("database", db)?;
    let params = SchemaDataParams {
        folder: ctx.folder()?,
        db,
        limit,
    };
    let out = ctx.client()?.call::<SchemaData>(&params)?;
    if ctx.global.json {
        output::json(&out)?;
    } else {
        let id = out.schema.as_ref().map(short).unwrap_or_default();
        let mut lines = vec![format!(
            "{}: {} {} schema {id}",
            out.db,
            syncdb_core::words::count(out.violations, "record"),
            if out.violations == 1 {
                "breaks"
            } else {
                "break"
            },
        )];
        for v in &out.listed {
            let at = if v.pointer.is_empty() {
                String::new()
            } else {
                format!(" at {}", v.pointer)
            };
            lines.push(format!(
                "  {}/{}/{}{at}: {}",
                out.db, v.collection, v.key, v.rule
            ));
        }
        if out.violations > out.listed.len() as u64 {
            lines.push(format!(
                "  … and {} more (--limit)",
                out.violations - out.listed.len() as u64
            ));
        }
        output::line(lines.join("\n"))?;
    }
    if out.violations > 0 {
        return Err(CliError::new(
            Exit::Usage,
            format!(
                "{} of {} {} its schema",
                syncdb_core::words::count(out.violations, "record"),
                out.db,
                if out.violations == 1 {
                    "breaks"
                } else {
                    "break"
                }
            ),
        ));
    }
    Ok(())
}

/// The largest schema file read: a schema is stored as one record, and a
/// record is at most `daemon.max_document_bytes` (16 MiB unless raised).
const MAX_SCHEMA_FILE: u64 = 16 << 20;

/// Reads FILE (or stdin for `-`) as a schema, naming FILE in every error.
pub fn read(file: &Path) -> Result<Schema> {
    use std::io::Read;
    let name = file.display().to_string();
    let source: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?,
        )
    };
    let mut text = String::new();
    source
        .take(MAX_SCHEMA_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?;
    if text.len() as u64 > MAX_SCHEMA_FILE {
        return Err(CliError::usage(format!(
            "{name} is over {} MiB: too large for a schema",
            MAX_SCHEMA_FILE >> 20
        )));
    }
    Schema::parse(&text, Format::detect(&name, &text)).map_err(|e| {
        let sep = if e.location.is_some() { ":" } else { ": " };
        CliError::usage(format!("{name}{sep}{e}"))
    })
}

fn check(ctx: &Ctx, file: &Path) -> Result<()> {
    let schema = read(file)?;
    if ctx.global.json {
        return output::json(&describe(&schema));
    }
    output::line(format!("{}: {}", file.display(), summary(&schema)))
}

/// A schema in a few lines: name, version, collections, steps.
fn summary(schema: &Schema) -> String {
    let mut text = format!(
        "schema {} version {} (hash {}){}",
        schema.name,
        schema.version,
        &schema.hash()[..12],
        if schema.strict { ", strict" } else { "" }
    );
    let width = schema.collections.keys().map(|n| n.as_str().len()).max();
    for (name, c) in &schema.collections {
        let width = width.unwrap_or(0);
        text.push_str(&format!(
            "\n  {:width$}  key {}{}",
            name.as_str(),
            c.key_path.join("."),
            if c.json_schema.is_some() {
                ", JSON Schema"
            } else {
                ""
            }
        ));
    }
    for step in &schema.migrate {
        text.push_str(&format!("\n  step: {}", step.describe()));
    }
    text
}

/// What `--json` prints of a schema.
pub fn describe(schema: &Schema) -> serde_json::Value {
    let collections: Vec<serde_json::Value> = schema
        .collections
        .iter()
        .map(|(name, c)| {
            serde_json::json!({
                "name": name.as_str(),
                "key_path": c.key_path.join("."),
                "json_schema": c.json_schema.is_some(),
            })
        })
        .collect();
    serde_json::json!({
        "name": schema.name.as_str(),
        "version": schema.version,
        "hash": schema.hash(),
        "strict": schema.strict,
        "collections": collections,
        "migrate": schema.migrate.iter().map(|s| s.to_json()).collect::<Vec<_>>(),
    })
}
