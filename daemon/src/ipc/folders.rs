//! `syncdb folder ls | rm | mv`: the registrations themselves. A folder that
//! was moved or deleted by hand, or a clone that never synced, stays in the
//! config until it is re-pointed or forgotten here — never by editing
//! config.toml by hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use syncdb_core::config::{Config, FolderEntry};
use syncdb_core::folder::{Folder, MARKER_DIR};
use syncdb_core::ipc::*;

use super::errors::{bad_input, not_found};
use crate::replicas::remove_database_files;
use crate::state::{State, open_registered};

/// How long a folder's databases may take to close before a move or a
/// removal gives up (requests in progress finish first).
const CLOSE_WITHIN: Duration = Duration::from_secs(10);

pub fn ls(state: &State) -> Result<FolderList, RpcError> {
    let folders = state
        .config()
        .folders
        .iter()
        .map(|entry| {
            let opened = open_registered(entry);
            RegisteredFolder {
                id: entry.id.clone(),
                path: entry.path.clone(),
                engine: Folder::open(&entry.path).ok().map(|f| f.engine()),
                remotes: entry
                    .remotes
                    .iter()
                    .map(|r| RemoteRef {
                        name: r.name.clone(),
                        url: r.url.clone(),
                    })
                    .collect(),
                exists: opened.is_ok(),
                error: opened.err().map(|e| e.message),
            }
        })
        .collect();
    Ok(FolderList { folders })
}

/// The registered folder named by `which`: its id, or its path (as given,
/// or canonical when it still exists).
fn find(config: &Config, which: &str) -> Result<FolderEntry, RpcError> {
    let by_id: Vec<_> = config.folders.iter().filter(|f| f.id == which).collect();
    match by_id.as_slice() {
        [one] => return Ok((*one).clone()),
        [] => {}
        many => {
            let paths: Vec<_> = many.iter().map(|f| f.path.display().to_string()).collect();
            return Err(bad_input(format!(
                "folder id {which} is registered at several paths ({}); name one by its path",
                paths.join(", ")
            )));
        }
    }
    let given = PathBuf::from(which);
    let canonical = std::fs::canonicalize(&given).ok();
    config
        .folders
        .iter()
        .find(|f| f.path == given || Some(&f.path) == canonical.as_ref())
        .cloned()
        .ok_or_else(|| {
            not_found(format!(
                "no registered folder {which} (by id or path); `syncdb folder ls` lists them"
            ))
        })
}

/// Stops syncing the folder and closes its databases, so its files can be
/// moved or deleted.
fn quiesce(state: &State, entry: &FolderEntry) -> Result<(), RpcError> {
    for remote in &entry.remotes {
        state.sync.stop_remote(&entry.path, &remote.name);
    }
    if state.replicas.close_folder(&entry.path, CLOSE_WITHIN) {
        return Ok(());
    }
    Err(RpcError::new(
        ErrorCode::Storage,
        format!(
            "the databases of {} are still in use after {}s (a long import or sync?); nothing was changed, try again",
            entry.path.display(),
            CLOSE_WITHIN.as_secs()
        ),
    ))
}

/// Starts the folder's remotes again (after a move, or a failed one).
fn resume(state: &Arc<State>, entry: &FolderEntry) {
    if let Ok(folder) = open_registered(entry) {
        for remote in &entry.remotes {
            state
                .sync
                .start_remote(state, folder.clone(), remote.clone());
        }
    }
}

/// Blocking: waits for the folder's databases to close, deletes files.
pub fn rm(state: &Arc<State>, p: FolderRmParams) -> Result<FolderRmOutput, RpcError> {
    let entry = find(&state.config(), &p.folder)?;
    // Only files of this very folder are deleted: a directory that now
    // holds another folder (or none) is left alone.
    let folder = match open_registered(&entry) {
        Ok(f) => Some(f),
        Err(e) if p.delete_files && entry.path.exists() => {
            return Err(bad_input(format!(
                "{}; its files were not deleted and it is still registered (without --delete-files it is only forgotten)",
                e.message
            )));
        }
        Err(_) => None,
    };
    if p.delete_files
        && let Some(folder) = &folder
    {
        super::errors::files_only(folder, "folder rm --delete-files")?;
    }
    // Unregistered first, so nothing resolves it (and reopens its
    // databases) while they close.
    state.update_config(|c| {
        c.folders
            .retain(|f| !(f.path == entry.path && f.id == entry.id));
        Ok(())
    })?;
    tracing::info!(folder = %entry.path.display(), id = %entry.id, "folder forgotten");
    if let Err(e) = quiesce(state, &entry) {
        // Forgotten all the same; a database still open is closed once
        // the request using it ends (its files may then be deleted).
        tracing::warn!(folder = %entry.path.display(), error = %e.message, "forgot a folder whose databases are still open");
    }
    let mut deleted = Vec::new();
    if p.delete_files
        && let Some(folder) = folder
    {
        delete_files(&folder, p.keep_dir, &mut deleted).map_err(|e| {
            RpcError::new(
                ErrorCode::Storage,
                format!(
                    "folder {} is no longer registered, but deleting its files failed: {e}",
                    entry.path.display()
                ),
            )
        })?;
    }
    Ok(FolderRmOutput {
        id: entry.id,
        path: entry.path,
        deleted,
    })
}

/// Deletes what syncdb keeps in a folder: each database file (with
/// SQLite's side files) and `.syncdb/`; then the directory, if that left
/// it empty. Anything else in it stays.
fn delete_files(
    folder: &Folder,
    keep_dir: bool,
    deleted: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let databases = folder.databases().map_err(std::io::Error::other)?;
    for (name, kind) in databases {
        let file = folder.path.join(format!("{name}.{}", kind.extension()));
        remove_database_files(&file)?;
        deleted.push(file);
    }
    let marker = folder.path.join(MARKER_DIR);
    std::fs::remove_dir_all(&marker)?;
    deleted.push(marker);
    if !keep_dir && std::fs::remove_dir(&folder.path).is_ok() {
        deleted.push(folder.path.clone());
    }
    Ok(())
}

/// Blocking: waits for the folder's databases to close, renames.
pub fn mv(state: &Arc<State>, p: FolderMvParams) -> Result<FolderInfo, RpcError> {
    if !p.to.is_absolute() {
        return Err(bad_input(format!(
            "new path {} must be absolute",
            p.to.display()
        )));
    }
    let config = state.config();
    let entry = find(&config, &p.from)?;
    let from = entry.path.clone();
    let moved_by_hand = !from.exists();
    if moved_by_hand {
        // Only re-point: the directory must already be this folder.
        check_same_folder(&p.to, &entry)?;
        quiesce(state, &entry)?;
    } else {
        if std::fs::symlink_metadata(&p.to).is_ok() {
            return Err(bad_input(format!(
                "{} already exists; nothing was moved (to re-point a folder moved by hand, its old path must be gone)",
                p.to.display()
            )));
        }
        open_registered(&entry)?;
        quiesce(state, &entry)?;
        if let Err(e) = std::fs::rename(&from, &p.to) {
            resume(state, &entry);
            let hint = if e.raw_os_error() == Some(libc::EXDEV) {
                format!(
                    "; across file systems, move it yourself (`mv {} {}`) and then run `syncdb folder mv {} {}` to re-point it",
                    from.display(),
                    p.to.display(),
                    from.display(),
                    p.to.display()
                )
            } else {
                String::new()
            };
            return Err(RpcError::new(
                ErrorCode::Storage,
                format!(
                    "cannot move {} to {}: {e}{hint}; nothing was moved",
                    from.display(),
                    p.to.display()
                ),
            ));
        }
        if let Some(parent) = p.to.parent()
            && let Ok(dir) = std::fs::File::open(parent)
        {
            let _ = dir.sync_all();
        }
    }
    let folder =
        Folder::open(&p.to).map_err(|e| RpcError::new(ErrorCode::Storage, e.to_string()))?;
    let moved = FolderEntry {
        path: folder.path.clone(),
        ..entry.clone()
    };
    let repointed = state.update_config(|c| {
        // An `init` at the new path may have registered it again: that
        // entry (same id, no remotes of its own worth keeping) is merged.
        if let Some(other) = c
            .folders
            .iter()
            .find(|f| f.path == moved.path && f.path != from)
            && (other.id != moved.id || !other.remotes.is_empty())
        {
            return Err(bad_input(format!(
                "{} is already registered as another folder entry; `syncdb folder rm` one of them first",
                moved.path.display()
            )));
        }
        c.folders.retain(|f| f.path != moved.path);
        let at = c
            .folders
            .iter()
            .position(|f| f.path == from && f.id == entry.id)
            .ok_or_else(|| not_found("the folder was forgotten meanwhile"))?;
        c.folders[at] = moved.clone();
        Ok(())
    });
    if let Err(e) = repointed {
        resume(state, &entry);
        return Err(e);
    }
    resume(state, &moved);
    tracing::info!(from = %from.display(), to = %moved.path.display(), by_hand = moved_by_hand, "folder moved");
    Ok(FolderInfo {
        id: folder.settings.id,
        path: folder.path,
        engine: folder.settings.engine,
        created: false,
    })
}

/// `to` is the folder of `entry` (same id), moved there by hand.
fn check_same_folder(to: &Path, entry: &FolderEntry) -> Result<(), RpcError> {
    match Folder::open(to) {
        Ok(f) if f.settings.id == entry.id => Ok(()),
        Ok(f) => Err(bad_input(format!(
            "{} is another folder (id {}), not {} ({}); nothing was changed",
            to.display(),
            f.settings.id,
            entry.path.display(),
            entry.id
        ))),
        Err(_) => Err(bad_input(format!(
            "{} is missing and {} is not that folder (no .syncdb/ with id {}); move the directory there first, or pass its new path",
            entry.path.display(),
            to.display(),
            entry.id
        ))),
    }
}
