//! `repair`: the way back from a damaged database file. The file (and
//! SQLite's -wal/-shm) is moved aside, never deleted, under the database's
//! own lock so nothing reopens it half-moved; then, if the folder has
//! remotes, they connect again, and a fresh session finds the
//! database missing here and present there, creates it (with a new site id:
//! the old one's history lives on only in the moved file) and pulls it all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use syncdb_core::ipc::{ErrorCode, RepairOutput, RepairParams, RpcError};
use syncdb_core::store::EngineKind;

use super::errors::{not_found, replica_error};
use crate::replicas::ReplicaError;
use crate::state::State;

/// Blocking: opens and reads the whole database. Run it off the async workers.
pub fn repair(state: &Arc<State>, p: RepairParams) -> Result<RepairOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    super::errors::files_only(&folder, "repair")?;
    let Some((kind, path)) = folder
        .database_file(&p.db)
        .map_err(|e| RpcError::new(ErrorCode::Storage, e.to_string()))?
    else {
        return Err(not_found(format!(
            "no database {} in {}",
            p.db,
            folder.path.display()
        )));
    };
    // Only a damaged database is moved: a healthy one would lose nothing
    // here, but would start over for no reason.
    match state.replicas.get(&folder, &p.db, false) {
        Ok(Some(replica)) => match replica.reader.digest() {
            Ok(_) => {
                return Err(RpcError::new(
                    ErrorCode::BadInput,
                    format!(
                        "database {} ({}) is not damaged: it opens and every record reads; nothing was moved",
                        p.db,
                        path.display()
                    ),
                ));
            }
            Err(e) if !e.is_damage() => return Err(replica_error(replica.store_error(e))),
            Err(_) => {}
        },
        Ok(None) => {}
        Err(ReplicaError::Store { source, .. }) if source.is_damage() => {}
        Err(e) => return Err(replica_error(e)),
    }
    let stamp = utc_stamp(syncdb_core::version::wall_clock_ms() / 1000);
    let moved = state
        .replicas
        .with_closed(&folder, &p.db, || {
            move_aside(&path, kind, &format!("damaged-{stamp}"))
        })
        .map_err(|e| {
            RpcError::new(
                ErrorCode::Storage,
                format!("cannot move {} aside: {e}", path.display()),
            )
        })?;
    tracing::warn!(db = %path.display(), to = %moved[0].1.display(), "damaged database moved aside");
    let remotes = reconnect(state, &folder, &[&p.db]);
    Ok(RepairOutput {
        db: p.db,
        moved,
        remotes,
    })
}

/// Starts the folder's sessions afresh after a database file was replaced
/// (moved aside, restored): a new session lists the folder again, finds the
/// database as it is now, and syncs it. A link waiting to reconnect is
/// kicked; a live session would go on with what it knew of the old file,
/// so it is replaced; so is every session this hub serves for the folder,
/// whose peers then say hello again. Returns the remotes' names.
pub fn reconnect(
    state: &Arc<State>,
    folder: &syncdb_core::folder::Folder,
    replaced: &[&syncdb_core::Name],
) -> Vec<String> {
    for db in replaced {
        // No receiver: no session is served now.
        let _ = state
            .sync
            .replaced
            .send((folder.path.clone(), db.to_string()));
    }
    let remotes = state.remotes_of(&folder.path);
    let links = state.sync.links(&folder.path);
    for remote in &remotes {
        match links.iter().find(|l| l.name == remote.name) {
            Some(link) if !link.status().connected => link.kick.notify_one(),
            _ => state
                .sync
                .start_remote(state, folder.clone(), remote.clone()),
        }
    }
    remotes.into_iter().map(|r| r.name).collect()
}

/// Renames the database file to `NAME.EXT.TAG` (`damaged-STAMP`) and
/// SQLite's side files to `NAME.EXT.TAG-wal`/`-shm`, where SQLite looks
/// for them, so the moved copy still opens with everything it had.
pub fn move_aside(
    path: &Path,
    kind: EngineKind,
    tag: &str,
) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut base = path.as_os_str().to_owned();
    base.push(format!(".{tag}"));
    let mut target = PathBuf::from(&base);
    for n in 2.. {
        if std::fs::symlink_metadata(&target).is_err() {
            break;
        }
        let mut again = base.clone();
        again.push(format!("-{n}"));
        target = PathBuf::from(again);
    }
    std::fs::rename(path, &target)?;
    let mut moved = vec![(path.to_owned(), target.clone())];
    if kind == EngineKind::Sqlite {
        for side in ["-wal", "-shm"] {
            let mut from = path.as_os_str().to_owned();
            from.push(side);
            let mut to = target.as_os_str().to_owned();
            to.push(side);
            let (from, to) = (PathBuf::from(from), PathBuf::from(to));
            if std::fs::symlink_metadata(&from).is_ok() {
                std::fs::rename(&from, &to)?;
                moved.push((from, to));
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(moved)
}

/// `20261202T044350Z` for seconds since the Unix epoch (UTC).
pub fn utc_stamp(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = syncdb_core::words::civil(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(super::utc_stamp(0), "19700101T000000Z");
        assert_eq!(super::utc_stamp(1_709_210_096), "20240229T123456Z");
    }
}
