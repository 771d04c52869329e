//! `syncdb schema …`: a database's schema. `check FILE` reads and checks a
//! schema file offline (no daemon), so an editor or a CI job can validate
//! one before it is set; errors name `FILE:LINE:COLUMN`.

use std::path::Path;

use syncdb_core::schema::{Format, Schema};

use super::Ctx;
use crate::args::SchemaCommand;
use crate::exit::{CliError, Result};
use crate::output;

pub fn run(ctx: &Ctx, cmd: SchemaCommand) -> Result<()> {
    match cmd {
        SchemaCommand::Check { file } => check(ctx, &file),
    }
}

/// Reads FILE (or stdin for `-`) as a schema, naming FILE in every error.
pub fn read(file: &Path) -> Result<Schema> {
    let name = file.display().to_string();
    let text = if name == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| CliError::usage(format!("cannot read the schema from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?
    };
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
    let mut text = format!(
        "{}: schema {} version {} (hash {}){}",
        file.display(),
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
    output::line(text)
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
    })
}
