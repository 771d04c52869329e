//! `syncdb sync`, `syncdb clone`, `syncdb digest`: moving data and checking
//! that replicas agree. Progress: bars on a terminal, plain lines otherwise,
//! JSON Lines with `--json`, nothing with `--quiet`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use serde_json::value::RawValue;
use syncdb_core::EngineKind;
use syncdb_core::ipc::{
    CloneFolder, CloneParams, Digest, DigestParams, Sync, SyncOutput, SyncParams, SyncProgress,
};

use super::{Ctx, absolute};
use crate::exit::{CliError, Result};
use crate::output;

#[derive(Deserialize)]
struct Note {
    #[serde(flatten)]
    progress: SyncProgress,
}

/// Renders progress events for people or scripts.
struct Render {
    json: bool,
    quiet: bool,
    bars: Option<MultiProgress>,
    by_stream: BTreeMap<(String, String, String), ProgressBar>,
}

impl Render {
    fn new(ctx: &Ctx) -> Render {
        let bars = output::bars_allowed(&ctx.global)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Render {
            json: ctx.global.json,
            quiet: ctx.global.quiet,
            bars,
            by_stream: BTreeMap::new(),
        }
    }

    fn show(&mut self, p: &SyncProgress) -> Result<()> {
        if self.json {
            return output::json(p);
        }
        if self.quiet {
            return Ok(());
        }
        let Some(multi) = &self.bars else {
            let what = if p.caught_up {
                "caught up".to_owned()
            } else {
                format!("{}/{} records", p.done, p.total)
            };
            output::note_always(format!("{} {} {}: {what}", p.direction, p.db, p.remote));
            return Ok(());
        };
        let key = (p.remote.clone(), p.db.to_string(), p.direction.clone());
        let bar = self.by_stream.entry(key).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} {bar:30} {pos}/{len} records ({per_sec}, eta {eta}) {msg}",
                )
                .expect("valid template"),
            );
            bar.set_prefix(format!("{} {} {}", p.direction, p.db, p.remote));
            bar
        });
        if p.caught_up {
            bar.set_message("caught up");
            bar.set_length(bar.position().max(bar.length().unwrap_or(0)));
        } else {
            bar.set_length(p.total);
            bar.set_position(p.done);
        }
        Ok(())
    }

    fn finish(&self) {
        for bar in self.by_stream.values() {
            bar.finish();
        }
    }
}

pub fn run(ctx: &Ctx, remote: Option<String>, once: bool, timeout: Option<u64>) -> Result<()> {
    let folder = ctx.folder()?;
    follow(
        ctx,
        SyncParams {
            folder,
            remote,
            once,
            timeout_secs: timeout,
        },
    )
}

fn follow(ctx: &Ctx, params: SyncParams) -> Result<()> {
    let mut render = Render::new(ctx);
    let out: SyncOutput = ctx.client()?.stream::<Sync>(&params, |raw: &RawValue| {
        let note: Note = serde_json::from_str(raw.get())
            .map_err(|e| CliError::failed(format!("unreadable progress from the daemon: {e}")))?;
        render.show(&note.progress)
    })?;
    render.finish();
    if ctx.global.json {
        return output::json(&out);
    }
    for r in &out.remotes {
        output::note(&ctx.global, format!("{}: caught up ({})", r.name, r.url));
    }
    Ok(())
}

pub fn clone(
    ctx: &Ctx,
    url: String,
    folder_id: String,
    dir: Option<PathBuf>,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    engine: Option<EngineKind>,
) -> Result<()> {
    let dir = absolute(&dir.unwrap_or_else(|| PathBuf::from(&folder_id)))?;
    // As in `init`: the daemon (and a private home) first, then the folder.
    let mut client = ctx.client()?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", dir.display())))?;
    let params = CloneParams {
        url,
        folder_id,
        path: std::fs::canonicalize(&dir).map_err(|e| CliError::failed(e.to_string()))?,
        token_file: token_file.as_deref().map(absolute).transpose()?,
        ca_file: ca_file.as_deref().map(absolute).transpose()?,
        engine,
    };
    let info = client.call::<CloneFolder>(&params)?;
    drop(client);
    output::note(&ctx.global, format!("cloning into {}", info.path.display()));
    follow(
        ctx,
        SyncParams {
            folder: Some(info.path),
            remote: Some("origin".into()),
            once: true,
            timeout_secs: None,
        },
    )
}

pub fn digest(ctx: &Ctx, db: Option<String>) -> Result<()> {
    let db = db
        .map(|d| syncdb_core::Name::parse_as("database name", &d))
        .transpose()?;
    let folder = ctx.folder()?;
    let out = ctx.client()?.call::<Digest>(&DigestParams { folder, db })?;
    for d in &out.databases {
        if ctx.global.json {
            output::json(d)?;
        } else {
            output::line(format!(
                "{}  {}  ({})",
                d.digest,
                d.name,
                syncdb_core::words::count(d.records, "record")
            ))?;
        }
    }
    Ok(())
}
