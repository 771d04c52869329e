//! `syncdb folder ls | rm | mv`: the folders registered with the daemon, so
//! a moved, deleted or half-cloned folder can be re-pointed or forgotten.

use syncdb_core::ipc::{Empty, FolderLs, FolderMv, FolderMvParams, FolderRm, FolderRmParams};

use super::{Ctx, absolute, confirm};
use crate::args::FolderCommand;
use crate::exit::Result;
use crate::output;

pub fn run(ctx: &Ctx, cmd: FolderCommand) -> Result<()> {
    match cmd {
        FolderCommand::Ls => ls(ctx),
        FolderCommand::Rm {
            folder,
            delete_files,
            yes,
        } => rm(ctx, &folder, delete_files, yes),
        FolderCommand::Mv { old, new } => mv(ctx, &old, &new),
    }
}

fn ls(ctx: &Ctx) -> Result<()> {
    let list = ctx.client()?.call::<FolderLs>(&Empty {})?;
    for f in &list.folders {
        if ctx.global.json {
            output::json(f)?;
            continue;
        }
        let engine = f.engine.map_or("-".to_owned(), |e| e.to_string());
        let remotes: Vec<_> = f
            .remotes
            .iter()
            .map(|r| format!("{} {}", r.name, r.url))
            .collect();
        let remotes = match remotes.is_empty() {
            true => "no remotes".to_owned(),
            false => remotes.join(", "),
        };
        let state = if f.exists { "ok" } else { "MISSING" };
        output::line(format!(
            "{}  {:<7} {:<7} {}  ({remotes})",
            f.id,
            state,
            engine,
            f.path.display()
        ))?;
        if let Some(err) = f.error.as_deref().filter(|_| !f.exists) {
            output::line(format!("  {err}"))?;
        }
    }
    if list.folders.is_empty() && !ctx.global.json {
        output::note(&ctx.global, "no folders registered");
    }
    output::flush()
}

/// A folder argument: an id as is, a path made absolute.
fn folder_arg(which: &str) -> Result<String> {
    let looks_like_id =
        which.len() == 36 && which.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if looks_like_id {
        return Ok(which.to_owned());
    }
    Ok(absolute(std::path::Path::new(which))?
        .to_string_lossy()
        .into_owned())
}

fn rm(ctx: &Ctx, folder: &str, delete_files: bool, yes: bool) -> Result<()> {
    let folder = folder_arg(folder)?;
    if delete_files && !yes {
        confirm(&format!(
            "delete the databases and .syncdb/ of folder {folder} on this machine (other replicas keep theirs)"
        ))?;
    }
    let out = ctx.client()?.call::<FolderRm>(&FolderRmParams {
        folder,
        delete_files,
        keep_dir: false,
    })?;
    if ctx.global.json {
        return output::json(&out);
    }
    let files = match (delete_files, out.deleted.len()) {
        (false, _) => "its files were kept".to_owned(),
        (true, n) => format!("deleted: {n} paths"),
    };
    output::note(
        &ctx.global,
        format!(
            "forgot folder {} at {} ({files})",
            out.id,
            out.path.display()
        ),
    );
    Ok(())
}

fn mv(ctx: &Ctx, old: &str, new: &std::path::Path) -> Result<()> {
    let params = FolderMvParams {
        from: folder_arg(old)?,
        to: absolute(new)?,
    };
    let info = ctx.client()?.call::<FolderMv>(&params)?;
    if ctx.global.json {
        return output::json(&info);
    }
    output::note(
        &ctx.global,
        format!("folder {} is now at {}", info.id, info.path.display()),
    );
    Ok(())
}
