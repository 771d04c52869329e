//! `syncdb sync`, `syncdb clone`, `syncdb digest`: moving data and checking
//! that replicas agree. How progress is shown is in `progress.rs`.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::value::RawValue;
use syncdb_core::EngineKind;
use syncdb_core::ipc::{
    CloneFolder, CloneParams, Digest, DigestParams, FolderRm, FolderRmParams, Sync, SyncOutput,
    SyncParams, SyncProgress,
};

use super::{Ctx, absolute};
use crate::exit::{CliError, Result};
use crate::output;
use crate::progress::Render;

#[derive(Deserialize)]
struct Note {
    #[serde(flatten)]
    progress: SyncProgress,
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

/// `sync --once` with no progress shown, for commands that need the
/// folder caught up before (or after) what they do.
pub fn once_quietly(ctx: &Ctx, timeout: u64) -> Result<()> {
    let params = SyncParams {
        folder: ctx.folder()?,
        remote: None,
        once: true,
        timeout_secs: Some(timeout),
    };
    ctx.client()?
        .stream::<Sync>(&params, |_: &RawValue| Ok(()))
        .map(|_: SyncOutput| ())
}

fn follow(ctx: &Ctx, params: SyncParams) -> Result<()> {
    let mut render = Render::new(&ctx.global);
    let out: SyncOutput = ctx.client()?.stream::<Sync>(&params, |raw: &RawValue| {
        let note: Note = serde_json::from_str(raw.get())
            .map_err(|e| CliError::failed(format!("unreadable progress from the daemon: {e}")))?;
        render.show(&note.progress)
    })?;
    if ctx.global.json {
        return output::json(&out);
    }
    for r in &out.remotes {
        output::note(
            &ctx.global,
            format!(
                "{}: caught up ({})",
                r.name,
                r.via.as_ref().unwrap_or(&r.url)
            ),
        );
    }
    Ok(())
}

/// `urls`: the hub, then its failovers.
pub fn clone(
    ctx: &Ctx,
    mut urls: Vec<String>,
    folder_id: String,
    dir: Option<PathBuf>,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    engine: Option<EngineKind>,
) -> Result<()> {
    let dir = absolute(&dir.unwrap_or_else(|| PathBuf::from(&folder_id)))?;
    // As in `init`: the daemon (and a private home) first, then the folder.
    let mut client = ctx.client()?;
    let made_dir = !dir.exists();
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", dir.display())))?;
    // A clone that fails leaves nothing behind: no registered folder
    // retrying forever, no directory this command made.
    let remove_dir = || {
        if made_dir {
            let _ = std::fs::remove_dir(&dir);
        }
    };
    let path = std::fs::canonicalize(&dir).map_err(|e| CliError::failed(e.to_string()))?;
    let params = CloneParams {
        url: urls.remove(0),
        failover: urls,
        folder_id,
        path,
        token_file: token_file.as_deref().map(absolute).transpose()?,
        ca_file: ca_file.as_deref().map(absolute).transpose()?,
        engine,
    };
    let info = match client.call::<CloneFolder>(&params) {
        Ok(info) => info,
        Err(e) => {
            remove_dir();
            return Err(e);
        }
    };
    drop(client);
    output::note(&ctx.global, format!("cloning into {}", info.path.display()));
    let synced = follow(
        ctx,
        SyncParams {
            folder: Some(info.path.clone()),
            remote: Some("origin".into()),
            once: true,
            timeout_secs: None,
        },
    );
    let Err(mut e) = synced else {
        return Ok(());
    };
    // Only what this clone made is undone: an existing copy stays.
    if info.created {
        let undone = ctx.client().and_then(|mut c| {
            c.call::<FolderRm>(&FolderRmParams {
                folder: info.path.to_string_lossy().into_owned(),
                delete_files: true,
                keep_dir: !made_dir,
            })
        });
        match undone {
            Ok(_) => {
                remove_dir();
                e.message.push_str(&format!(
                    "; the clone was undone ({} is not registered{})",
                    info.path.display(),
                    if made_dir { " and was removed" } else { "" }
                ));
            }
            Err(undo) => e.message.push_str(&format!(
                "; undoing the clone failed too ({undo}): see `syncdb folder ls`, `syncdb folder rm`"
            )),
        }
    }
    Err(e)
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
