//! `reset DB`: discards this replica of a database and pulls it again from
//! the folder's remotes. The command first runs a sync so local writes
//! reach a remote; what no remote has acknowledged by then is counted, and
//! the reset is refused unless `--force` says to lose it.
//!
//! Like `repair`, the file goes under the database's own lock, and then the
//! remotes connect again: a fresh session finds the database missing here
//! and present there, creates it (with a new site id) and pulls it all.

use std::sync::Arc;

use syncdb_core::ipc::{ErrorCode, ResetOutput, ResetParams, RpcError};
use syncdb_core::{Name, Reader, SiteId};

use super::errors::{bad_input, replica_error};
use super::handlers::no_database;
use crate::replicas::remove_database_files;
use crate::state::State;

/// Local writes after `acked` in `reader`'s feed: entries holding a version
/// this replica wrote (the rest came from elsewhere and are there already).
fn own_after(reader: &Reader, site: SiteId, acked: u64) -> syncdb_core::store::Result<u64> {
    let mut count = 0;
    let mut since = acked;
    loop {
        let page = reader.changes_since(since, 1024)?;
        let Some(last) = page.last() else {
            return Ok(count);
        };
        since = last.seq;
        count += page
            .iter()
            .filter(|c| match &c.item {
                syncdb_core::Item::Record { state, .. } => state.versions().any(|v| v.site == site),
                syncdb_core::Item::DropCollection { version, .. }
                | syncdb_core::Item::DropDatabase { version } => version.site == site,
            })
            .count() as u64;
    }
}

pub async fn reset(state: &Arc<State>, p: ResetParams) -> Result<ResetOutput, RpcError> {
    // A read-only replica may be reset: it has nothing of its own to lose.
    let folder = state.resolve(&p.folder)?;
    super::errors::files_only(&folder, "reset")?;
    let remotes = state.remotes_of(&folder.path);
    if remotes.is_empty() {
        return Err(bad_input(format!(
            "folder {} has no remote to pull {} from again: a reset would only lose it (to remove it, `syncdb drop {}`)",
            folder.path.display(),
            p.db,
            p.db
        )));
    }
    let Some((_, file)) = folder
        .database_file(&p.db)
        .map_err(|e| RpcError::new(ErrorCode::Storage, e.to_string()))?
    else {
        return Err(no_database(&p.db, &folder));
    };
    let replica = state
        .replicas
        .get(&folder, &p.db, false)
        .map_err(replica_error)?
        .ok_or_else(|| no_database(&p.db, &folder))?;
    // What the best-placed remote has acknowledged of our feed.
    let links = state.sync.links(&folder.path);
    let acked = links
        .iter()
        .filter_map(|l| l.status().acked.get(&p.db).copied())
        .max()
        .unwrap_or(0);
    let site = replica
        .reader
        .meta()
        .map_err(|e| replica_error(replica.store_error(e)))?
        .site;
    let reader = replica.reader.clone();
    let unpushed = tokio::task::spawn_blocking(move || own_after(&reader, site, acked))
        .await
        .map_err(|e| RpcError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| replica_error(replica.store_error(e)))?;
    if unpushed > 0 && !p.force {
        return Err(RpcError::new(
            ErrorCode::Remote,
            format!(
                "{} to {} made here {} not on a remote yet: a reset would lose {}; sync them first if the remote can take them (`syncdb sync --once`), or reset with --force to discard {}",
                syncdb_core::words::count(unpushed, "write"),
                p.db,
                if unpushed == 1 { "is" } else { "are" },
                if unpushed == 1 { "it" } else { "them" },
                if unpushed == 1 { "it" } else { "them" },
            ),
        ));
    }
    drop(replica);
    let name: Name = p.db.clone();
    let st = state.clone();
    let f = folder.clone();
    tokio::task::spawn_blocking(move || {
        st.replicas
            .with_closed(&f, &name, || remove_database_files(&file))
    })
    .await
    .map_err(|e| RpcError::new(ErrorCode::Internal, e.to_string()))?
    .map_err(|e| RpcError::new(ErrorCode::Storage, format!("cannot remove {}: {e}", p.db)))?;
    tracing::warn!(db = %p.db, discarded = unpushed, "database reset; pulling it again");
    for remote in &remotes {
        state
            .sync
            .start_remote(state, folder.clone(), remote.clone());
    }
    Ok(ResetOutput {
        db: p.db,
        discarded: unpushed,
        remotes: remotes.into_iter().map(|r| r.name).collect(),
    })
}
