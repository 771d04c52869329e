//! The daemon's side of history cleanup (`syncdb_core::history`): the
//! registry of replicas a hub serves, the horizon check that retires the
//! unseen and moves the horizon, and a client following its hub's horizon.
//!
//! A folder with remotes follows its hub: its horizon is what the hub last
//! said, and so is a database that has once synced with a hub, even after
//! its last remote is removed (`History::synced`). Any other database (on
//! a hub, or in a folder that syncs with no one) works its horizon out
//! from the replicas it serves, every
//! `history.check_ms` for the databases that are open, and when `syncdb
//! cleanup` asks. What sessions learn of a replica (`Note`s) is kept in
//! memory beside the replica and written into the database's history meta
//! at each check: a kill loses only what a later session learns again,
//! and a lower `acked` or an older `pushed_ms` only holds the horizon back.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use syncdb_core::folder::Folder;
use syncdb_core::history::{self, Admission, Rules};
use syncdb_core::sync::{Note, Standing};
use syncdb_core::{Name, SiteId};

use crate::replicas::{Replica, ReplicaError};
use crate::state::State;

/// What one horizon check did to a database.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checked {
    pub db: Name,
    /// The horizon after the check (ms since the Unix epoch; 0: none).
    pub horizon: u64,
    /// Replicas retired by this check (site ids).
    pub retired: Vec<String>,
    /// Whether this database follows a hub's horizon instead.
    pub follows_hub: bool,
}

/// The rules this daemon's config sets, at `now_ms`.
pub fn rules(state: &State) -> Rules {
    let h = state.config().history;
    Rules {
        now_ms: state.now_ms(),
        retention_ms: h.retention_ms,
        margin_ms: h.clock_margin_ms,
    }
}

/// Whether the database follows a hub's horizon: its folder has remotes,
/// or it has synced with a hub before.
pub fn follows_hub(state: &State, folder: &Folder, replica: &Replica) -> bool {
    replica.history().synced || !state.remotes_of(&folder.path).is_empty()
}

/// On a hub: a session learned something of a replica it serves. On a
/// client: the hub's feed is caught up, so a rebuilt replica is back.
pub fn note(state: &State, folder: &Folder, client: bool, note: Note) {
    let db = match &note {
        Note::Acked { db, .. }
        | Note::CaughtUp { db, .. }
        | Note::Pushed { db, .. }
        | Note::Seen { db, .. } => db.clone(),
    };
    let Ok(Some(replica)) = state.replicas.get(folder, &db, false) else {
        return;
    };
    if client {
        let history = replica.history();
        let settle = matches!(note, Note::CaughtUp { .. }) && history.rejoin.is_some();
        if history.synced && !settle {
            return;
        }
        tokio::spawn(async move {
            let marked = replica
                .run(move |db, now| {
                    db.update_history(&mut |h| h.synced = true)?;
                    settle.then(|| db.settle(now)).transpose()
                })
                .await;
            match marked {
                Ok(Some(settled)) => {
                    tracing::info!(db = %replica.name, rewritten = settled.rewritten, lost = settled.lost, "weighed the writes a rebuild kept aside against the hub's")
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(db = %replica.name, error = %e, "cannot mark a replica as synced with its hub")
                }
            }
        });
        return;
    }
    let now = state.now_ms();
    let joined = {
        let mut peers = replica.peers.lock().expect("peers");
        let before = peers.len();
        history::learn(&mut peers, &note, now);
        (peers.len() > before).then(|| peers.clone())
    };
    // A replica first heard of here (one made in this session from our
    // feed) is written down at once, as one that joins: a hub killed
    // before its next check, or another hub over the same store, must
    // not take it for one behind the horizon.
    if let Some(all) = joined {
        record_replicas(&replica, all);
    }
}

/// Writes the hub's registry of `replica`'s peers into its history before
/// the session goes on. The session waits (its worker handed over to the
/// runtime's other tasks meanwhile): the write is what tells a hub killed
/// next, or another hub over the store, that the replica is current.
fn record_replicas(replica: &Arc<Replica>, all: std::collections::BTreeMap<String, history::Peer>) {
    let write = replica.run(move |db, _| db.update_history(&mut |h| h.merge_replicas(&all)));
    let saved = match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
            tokio::task::block_in_place(|| futures_executor::block_on(write))
        }
        _ => futures_executor::block_on(write),
    };
    if let Err(e) = saved {
        tracing::warn!(db = %replica.name, error = %e, "cannot record a replica in the registry");
    }
}

/// On a hub: whether replica `site` of `db` may sync from its checkpoints.
pub fn standing(
    state: &State,
    folder: &Folder,
    db: &Name,
    site: SiteId,
    rejoin: Option<u64>,
    fresh: bool,
) -> Standing {
    let Ok(Some(replica)) = state.replicas.get(folder, db, false) else {
        return Standing::Current;
    };
    let mut history = replica.history();
    // Another hub on the shared store may have registered it, retired it,
    // moved the horizon or cleaned up, with no record written (so nothing
    // had this hub read the history again): the store's is read now.
    if replica.stored_as.is_some()
        && let Ok(stored) = replica.reader.history()
    {
        if let Some(peer) = stored.replicas.get(&site.to_hex()) {
            let mut peers = replica.peers.lock().expect("peers");
            peers.entry(site.to_hex()).or_default().merge(peer);
        }
        if stored.horizon >= history.horizon {
            history = stored;
        }
    }
    // A replica can miss a delete only once a tombstone was forgotten: a
    // stranger to a hub's database that never forgot one (a hub killed
    // before it wrote the replica down) syncs from its checkpoints. One
    // that synced with a hub itself may hold less than it was sent.
    let forgot = history.removed > 0 || history.pass.is_some() || history.synced;
    let horizon = if forgot { history.horizon } else { 0 };
    let mut peers = replica.peers.lock().expect("peers");
    match history::admit(&mut peers, horizon, site, rejoin, fresh, state.now_ms()) {
        Admission::Current { joined: false } => Standing::Current,
        Admission::Current { joined: true } => {
            // It holds the horizon back from now on: written down before
            // it is sent anything, so that a hub killed right after (or
            // another hub over the same store) knows it as current.
            let all = peers.clone();
            drop(peers);
            tracing::info!(db = %db, site = %site.to_hex(), "a replica joined");
            record_replicas(&replica, all);
            Standing::Current
        }
        Admission::Outdated => {
            let pulled = history::pulled(&replica.reader, &peers, site);
            drop(peers);
            tracing::info!(db = %db, site = %site.to_hex(), horizon, "a replica behind the horizon must rebuild");
            Standing::Outdated { horizon, pulled }
        }
    }
}

/// On a hub: the horizon its sessions tell their peers (none while the
/// folder follows a hub of its own).
pub fn horizon_for_peers(state: &State, folder: &Folder, db: &Name) -> u64 {
    match state.replicas.get(folder, db, false) {
        Ok(Some(replica)) if !follows_hub(state, folder, &replica) => replica.history().horizon,
        _ => 0,
    }
}

/// Works out the horizon of one open database, retires replicas unseen for
/// longer than the retention, and writes what sessions learned; the writer
/// then cleans up behind the new horizon. Sessions are told when it moved.
/// Unless `forced` (`syncdb cleanup`), the horizon moves only in steps of a
/// thirtieth of the retention (at least `check_ms`), and not while the last
/// pass rests (`replicas::PASS_REST`): a cleanup pass reads the whole feed,
/// so it runs about daily with the default retention.
pub async fn check(
    state: &State,
    folder: &Folder,
    replica: &Arc<Replica>,
    forced: bool,
) -> Result<Checked, ReplicaError> {
    if follows_hub(state, folder, replica) {
        return Ok(Checked {
            db: replica.name.clone(),
            horizon: replica.history().horizon,
            retired: Vec::new(),
            follows_hub: true,
        });
    }
    let rules = rules(state);
    let config = state.config().history;
    let step = if forced {
        0
    } else {
        (config.retention_ms / 30).max(config.check_ms)
    };
    let resting = !forced && replica.resting();
    let peers = replica.peers.lock().expect("peers").clone();
    let shared = replica.stored_as.is_some();
    let (moved, checked) = replica
        .run(move |db, _| {
            // The registry with what this hub's sessions learned merged in.
            // Over a shared store, as the store holds it now: another hub's
            // replicas must hold the horizon back here too (else this hub
            // would retire them and forget tombstones they lack).
            let mut next = match shared {
                true => db.reader().history()?,
                false => db.history().clone(),
            };
            next.merge_replicas(&peers);
            let advance = history::compute_horizon(&db.reader(), &next, rules)?;
            for site in &advance.retire {
                if let Some(p) = next.replicas.get_mut(site) {
                    p.retired = true;
                }
            }
            let before = next.horizon;
            if advance.horizon >= before.saturating_add(step) && !resting {
                next.horizon = advance.horizon;
            }
            let mut horizon = next.horizon;
            // Merged into what the store holds as the write reads it, not
            // written over it: other hubs on a shared store register
            // replicas too, and move the horizon.
            db.update_history(&mut |h| {
                h.merge_replicas(&next.replicas);
                h.horizon = h.horizon.max(next.horizon);
                horizon = h.horizon;
            })?;
            Ok((horizon > before, (horizon, advance.retire, next.replicas)))
        })
        .await?;
    let (horizon, retired, registry) = checked;
    {
        let mut peers = replica.peers.lock().expect("peers");
        for (site, peer) in &registry {
            peers.entry(site.clone()).or_default().merge(peer);
        }
        for site in &retired {
            if let Some(p) = peers.get_mut(site) {
                p.retired = true;
            }
            tracing::info!(db = %replica.name, site = %site, "retired a replica unseen for longer than the retention");
        }
    }
    if moved {
        state.replicas.horizon_moved(&folder.path, &replica.name);
    }
    Ok(Checked {
        db: replica.name.clone(),
        horizon,
        retired,
        follows_hub: false,
    })
}

/// Retires replica `site` of `db` by hand: it no longer holds the horizon
/// back, and rebuilds if it comes back after a cleanup. False when the hub
/// does not know it.
pub async fn retire(replica: &Arc<Replica>, site: &str) -> Result<bool, ReplicaError> {
    let known = {
        let mut peers = replica.peers.lock().expect("peers");
        match peers.get_mut(site) {
            Some(p) => {
                p.retired = true;
                true
            }
            None => replica.history().replicas.contains_key(site),
        }
    };
    if !known {
        return Ok(false);
    }
    let site = site.to_owned();
    replica
        .run(move |db, _| {
            db.update_history(&mut |h| {
                if let Some(p) = h.replicas.get_mut(&site) {
                    p.retired = true;
                }
            })
        })
        .await?;
    Ok(true)
}

/// Checks every open database now and then, while the daemon runs.
pub async fn run_checks(state: Arc<State>) {
    loop {
        let every = Duration::from_millis(state.config().history.check_ms);
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = state.stopped() => return,
        }
        // Held weakly between checks: a database that a failed import made
        // goes only while nothing else holds it.
        let open: Vec<std::sync::Weak<Replica>> = state
            .replicas
            .open_replicas()
            .iter()
            .map(Arc::downgrade)
            .collect();
        for replica in open {
            // Nothing was ever written to it: nothing to clean up.
            let Some(replica) = replica.upgrade().filter(|r| r.high_seq() > 0) else {
                continue;
            };
            let Some(folder) = state
                .config()
                .folders
                .iter()
                .find(|f| f.path == replica.folder)
                .and_then(|entry| crate::state::open_registered(entry).ok())
            else {
                continue;
            };
            if let Err(e) = check(&state, &folder, &replica, false).await {
                tracing::warn!(db = %replica.name, error = %e, "horizon check failed");
            }
        }
    }
}

/// A client told by its hub: forget tombstones at or before `ms`.
pub async fn follow(state: &State, folder: &Folder, db: &Name, ms: u64) {
    let Ok(Some(replica)) = state.replicas.get(folder, db, false) else {
        return;
    };
    if replica.history().horizon >= ms {
        return;
    }
    if let Err(e) = replica.run(move |db, _| db.raise_horizon(ms)).await {
        tracing::warn!(db = %db, error = %e, "cannot keep the hub's horizon");
    }
}
