//! `syncdb backup` and `syncdb restore` (the daemon's `ipc/backup.rs`).

use std::path::{Path, PathBuf};

use syncdb_core::Name;
use syncdb_core::ipc::{Backup, BackupParams, Restore, RestoreParams};
use syncdb_core::words::count;

use super::Ctx;
use crate::exit::{CliError, Result};
use crate::output;

/// The daemon resolves paths itself: make them absolute here.
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

pub fn backup(ctx: &Ctx, db: Option<&str>, dest: Option<PathBuf>, all: bool) -> Result<()> {
    // `backup --all DEST` puts DEST first.
    let (db, dest) = match (all, db, dest) {
        (true, Some(d), None) => (None, PathBuf::from(d)),
        (false, Some(db), Some(dest)) => (Some(Name::parse_as("database", db)?), dest),
        (true, _, Some(_)) => {
            return Err(CliError::usage(
                "give a database or --all, not both: `syncdb backup DB DEST` or `syncdb backup --all DEST`",
            ));
        }
        _ => {
            return Err(CliError::usage(
                "backup needs what and where: `syncdb backup DB DEST` or `syncdb backup --all DEST`",
            ));
        }
    };
    let p = BackupParams {
        folder: ctx.folder()?,
        db,
        dest: absolute(&dest)?,
    };
    let bar = output::spinner(&ctx.global, format!("backing up to {}", p.dest.display()));
    let out = ctx.client()?.call::<Backup>(&p);
    bar.finish_and_clear();
    let out = out?;
    if ctx.global.json {
        return output::json(&out);
    }
    for d in &out.manifest.databases {
        output::line(format!(
            "{}: {} at seq {}, {} -> {}",
            d.db,
            count(d.records, "record"),
            d.seq,
            output::human_bytes(d.bytes),
            out.dir.join(&d.file).display()
        ))?;
    }
    output::line(format!(
        "manifest {} ({} ms)",
        out.dir.join(syncdb_core::backup::MANIFEST).display(),
        out.ms
    ))?;
    output::flush()
}

pub fn restore(ctx: &Ctx, src: &Path, db: Option<&str>, force: bool) -> Result<()> {
    let p = RestoreParams {
        folder: ctx.folder()?,
        src: absolute(src)?,
        db: db.map(|d| Name::parse_as("database", d)).transpose()?,
        force,
    };
    let out = ctx.client()?.call::<Restore>(&p)?;
    if ctx.global.json {
        return output::json(&out);
    }
    if let Some(from) = &out.from_folder {
        output::note(
            &ctx.global,
            format!("the backup is of another folder ({from}); its databases join this one"),
        );
    }
    for d in &out.databases {
        let mut line = format!(
            "{}: restored {} at seq {}, checked; new replica {} (copied from {})",
            d.db,
            count(d.records, "record"),
            d.seq,
            d.site,
            d.former_site
        );
        if let Some(old) = &d.replaced {
            line.push_str(&format!(
                "; the database it replaced is in {}",
                old.display()
            ));
        }
        output::line(line)?;
    }
    output::flush()
}
