//! `cleanup`, `replica ls | rm` and `compact`: a database's history and
//! its file's space. Cleanup and compaction run on the database's writer:
//! cleanup a step at a time between writes (as it runs by itself every
//! `history.check_ms`), compaction in one go, with writes waiting.

use std::time::{Duration, Instant};

use syncdb_core::ipc::*;

use super::errors::{bad_input, not_found, replica_error};
use super::handlers::{one_or_all, replica};
use crate::history;
use crate::replicas::Replica;
use crate::state::State;

/// Works the horizon out now, and waits for the cleanup behind it.
pub async fn cleanup(state: &State, p: DbScopeParams) -> Result<CleanupOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let mut databases = Vec::new();
    let mut skipped = Skipped::default();
    for db in one_or_all(state, &folder, p.db.as_ref())? {
        let Some(replica) = skipped.open(state, &folder, &db, p.db.is_some())? else {
            continue;
        };
        let started = Instant::now();
        let before = replica.history().removed;
        let checked = history::check(state, &folder, &replica, true)
            .await
            .map_err(replica_error)?;
        // The writer cleans up between other work; wait for it.
        while replica.history().cleaning() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = replica.history();
        databases.push(CleanupInfo {
            db,
            horizon: checked.horizon,
            follows_hub: checked.follows_hub,
            removed: after.removed - before,
            removed_total: after.removed,
            retired: checked.retired,
            ms: started.elapsed().as_millis() as u64,
        });
    }
    skipped.end("cleaned up")?;
    Ok(CleanupOutput { databases })
}

/// Over every database of a folder, one that cannot be opened (a damaged
/// file) does not stop the others: it is named once they are done.
#[derive(Default)]
struct Skipped(Vec<String>);

impl Skipped {
    fn open(
        &mut self,
        state: &State,
        folder: &syncdb_core::folder::Folder,
        db: &syncdb_core::Name,
        named: bool,
    ) -> Result<Option<std::sync::Arc<Replica>>, RpcError> {
        match replica(state, folder, db) {
            Ok(r) => Ok(Some(r)),
            Err(e) if !named => {
                self.0.push(format!("{db}: {}", e.message));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn end(self, done: &str) -> Result<(), RpcError> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(RpcError::new(
            ErrorCode::Storage,
            format!(
                "the other databases were {done}, not these: {}",
                self.0.join("; ")
            ),
        ))
    }
}

pub async fn ls(state: &State, p: DbScopeParams) -> Result<ReplicaListOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let mut databases = Vec::new();
    for db in one_or_all(state, &folder, p.db.as_ref())? {
        let replica = replica(state, &folder, &db)?;
        let h = replica.history();
        let site = replica
            .reader
            .meta()
            .map_err(|e| replica_error(replica.store_error(e)))?
            .site;
        let replicas = replicas(&replica);
        databases.push(ReplicaDbInfo {
            db,
            site: site.to_hex(),
            horizon: h.horizon,
            follows_hub: history::follows_hub(state, &folder, &replica),
            rejoin: h.rejoin,
            former: h.former,
            replicas,
        });
    }
    Ok(ReplicaListOutput { databases })
}

/// The replicas a hub serves `replica`'s database to, as sessions last
/// saw them.
pub fn replicas(replica: &Replica) -> Vec<ReplicaInfo> {
    let mut peers = replica.history().replicas;
    peers.extend(replica.peers.lock().expect("peers").clone());
    peers
        .into_iter()
        .map(|(site, p)| ReplicaInfo {
            acked: p.acked,
            last_seen_ms: p.last_seen_ms,
            state: if p.retired { "retired" } else { "live" }.into(),
            site,
        })
        .collect()
}

pub async fn rm(state: &State, p: ReplicaRmParams) -> Result<Empty, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    let prefix = p.site.to_ascii_lowercase();
    if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad_input(format!(
            "replica {:?}: give its site id, or at least 4 hex digits of it (`syncdb replica ls {}`)",
            p.site, p.db
        )));
    }
    let mut known: Vec<String> = replica.history().replicas.keys().cloned().collect();
    known.extend(replica.peers.lock().expect("peers").keys().cloned());
    known.sort();
    known.dedup();
    let matching: Vec<&String> = known.iter().filter(|s| s.starts_with(&prefix)).collect();
    let site = match matching.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(not_found(format!(
                "database {} has no replica {prefix} here (`syncdb replica ls {}` lists them)",
                p.db, p.db
            )));
        }
        _ => {
            return Err(bad_input(format!(
                "{prefix} is the start of {} replicas' site ids; give more of it",
                matching.len()
            )));
        }
    };
    history::retire(&replica, &site)
        .await
        .map_err(replica_error)?;
    tracing::info!(db = %p.db, site = %site, "replica retired by hand");
    Ok(Empty {})
}

pub async fn compact(state: &State, p: DbScopeParams) -> Result<CompactOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    super::errors::files_only(&folder, "compact")?;
    let mut databases = Vec::new();
    let mut skipped = Skipped::default();
    for db in one_or_all(state, &folder, p.db.as_ref())? {
        let Some(replica) = skipped.open(state, &folder, &db, p.db.is_some())? else {
            continue;
        };
        let (before, after, ms) = replica
            .run(|db, _| {
                let before = db.space()?.file_bytes;
                let started = Instant::now();
                db.compact()?;
                let ms = started.elapsed().as_millis() as u64;
                Ok((before, db.space()?.file_bytes, ms))
            })
            .await
            .map_err(replica_error)?;
        tracing::info!(db = %db, before, after, ms, "compacted");
        databases.push(CompactInfo {
            db,
            bytes_before: before,
            bytes_after: after,
            ms,
        });
    }
    skipped.end("compacted")?;
    Ok(CompactOutput { databases })
}
