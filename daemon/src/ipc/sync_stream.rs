//! `sync`: streams progress from the folder's remote links; with `once`,
//! ends when every selected remote is caught up both ways, or fails when a
//! remote cannot be reached or refuses us (or the timeout passes).
//!
//! "Caught up" is a barrier, asked of the remote rather than read from a
//! flag: each link sends `Barrier` and the remote answers with how far each
//! of its feeds reaches; we are done once all of that is applied here and
//! every local write made before the request is acknowledged there (which
//! the remote does only after its commit is durable).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use syncdb_core::Name;
use syncdb_core::ipc::*;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::connection::Connection;
use super::sync_handlers::remote_statuses;
use crate::sync::link::{Link, LinkStatus};

impl Connection {
    pub(super) async fn sync(&mut self, id: &Value, p: SyncParams) -> std::io::Result<()> {
        let state = self.state.clone();
        let folder = match state.resolve(&p.folder) {
            Ok(f) => f,
            Err(e) => return self.reply::<()>(id, Err(e)).await,
        };
        let links: Vec<Arc<Link>> = state
            .sync
            .links(&folder.path)
            .into_iter()
            .filter(|l| p.remote.as_ref().is_none_or(|r| *r == l.name))
            .collect();
        if links.is_empty() {
            let err = match &p.remote {
                Some(r) => RpcError::new(ErrorCode::NotFound, format!("no remote named {r}")),
                None => RpcError::new(
                    ErrorCode::NotFound,
                    "this folder has no remote; add one with `syncdb remote add NAME URL`",
                ),
            };
            return self.reply::<()>(id, Err(err)).await;
        }
        // What must reach each remote: every local write made before now.
        // A database that cannot be opened cannot be synced: say so now
        // rather than wait for what will never come.
        let mut targets: BTreeMap<Name, u64> = BTreeMap::new();
        if let Ok(dbs) = state.replicas.databases(&folder) {
            for (name, _) in dbs {
                match state.replicas.get(&folder, &name, false) {
                    Ok(Some(r)) => {
                        targets.insert(name, r.high_seq());
                    }
                    Ok(None) => {}
                    Err(e) if p.once => {
                        let why = format!("database {name} cannot be synced: {e}");
                        return self
                            .reply::<()>(id, Err(RpcError::new(ErrorCode::Storage, why)))
                            .await;
                    }
                    Err(_) => {}
                }
            }
        }
        let start: Vec<Start> = links
            .iter()
            .map(|l| {
                let s = l.status();
                Start {
                    attempts: s.attempts,
                    stale_error: s.failed.as_ref().is_some_and(|(a, _)| *a == s.attempts),
                    barrier: l.request_barrier(),
                }
            })
            .collect();
        // A deadline too far to represent is no deadline.
        let deadline = p
            .timeout_secs
            .and_then(|s| tokio::time::Instant::now().checked_add(Duration::from_secs(s)));
        let (tx, mut rx) = mpsc::channel(256);
        // Set once the outcome is known: each forwarder then passes on what
        // its link had already reported, and ends.
        let (drain, drained) = tokio::sync::watch::channel(false);
        let mut forwarders = Vec::new();
        for link in &links {
            let sub = link.progress.subscribe();
            forwarders.push(tokio::spawn(forward(sub, tx.clone(), drained.clone())));
            link.kick.notify_one();
        }
        drop(tx);
        // Per stream, the last progress sent, to close open ones at the end.
        let mut last: BTreeMap<(String, Name, String), crate::sync::driver::Progress> =
            BTreeMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(25));
        let outcome = loop {
            tokio::select! {
                Some(p) = rx.recv() => {
                    if (&self.stream).write_all(&progress_line(id, p, &mut last)).await.is_err() {
                        break None;
                    }
                }
                _ = tick.tick() => {
                    if !p.once {
                        continue;
                    }
                    match check(&links, &start, &targets) {
                        Some(Ok(())) => break Some(Ok(())),
                        Some(Err(e)) => break Some(Err(e)),
                        None => {}
                    }
                    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                        let secs = p.timeout_secs.unwrap_or_default();
                        break Some(Err(timed_out(&links, &start, &targets, secs)));
                    }
                }
                read = self.read_more() => match read {
                    Ok(true) => {}
                    _ => break None, // the command went away
                },
                _ = state.stopped() => {
                    break Some(Err(RpcError::new(ErrorCode::Unavailable, "daemon shutting down")));
                }
            }
        };
        match outcome {
            None => {
                for f in forwarders {
                    f.abort();
                }
                Ok(())
            }
            Some(result) => {
                // The last figures before the answer: the progress reported
                // before the remote was found caught up, so the command's
                // final state is exact.
                let _ = drain.send(true);
                let mut closing = Vec::new();
                while let Some(p) = rx.recv().await {
                    closing.extend(progress_line(id, p, &mut last));
                }
                // Caught up: a stream whose own "caught up" is still on its
                // way (the remote's answer came first) ends at its count,
                // which is exact, since all that was received is applied.
                if result.is_ok() {
                    let open: Vec<_> = last.values().filter(|p| !p.caught_up).cloned().collect();
                    for mut p in open {
                        p.caught_up = true;
                        p.total = p.done;
                        closing.extend(progress_line(id, p, &mut last));
                    }
                }
                if (&self.stream).write_all(&closing).await.is_err() {
                    return Ok(());
                }
                let out = result.map(|()| SyncOutput {
                    remotes: remote_statuses(&state, &folder)
                        .into_iter()
                        .filter(|r| links.iter().any(|l| l.name == r.name))
                        .collect(),
                });
                self.reply(id, out).await
            }
        }
    }
}

/// One `sync.progress` notification, as the command reads it; remembered
/// in `last`.
fn progress_line(
    id: &Value,
    p: crate::sync::driver::Progress,
    last: &mut BTreeMap<(String, Name, String), crate::sync::driver::Progress>,
) -> Vec<u8> {
    let key = (p.remote.clone(), p.db.clone(), p.direction.clone());
    last.insert(key, p.clone());
    let progress = SyncProgress {
        remote: p.remote,
        db: p.db,
        direction: p.direction,
        done: p.done,
        total: p.total,
        caught_up: p.caught_up,
    };
    notification_line(SYNC_PROGRESS, id, &progress)
}

/// Passes a link's progress on to the stream until told to drain, then
/// passes on what is already reported and ends.
async fn forward(
    mut sub: tokio::sync::broadcast::Receiver<crate::sync::driver::Progress>,
    tx: mpsc::Sender<crate::sync::driver::Progress>,
    mut drain: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    loop {
        let p = tokio::select! {
            got = sub.recv() => match got {
                Ok(p) => p,
                // Behind a slow reader: skip to the newest; a later
                // event (the caught-up one last) carries the count.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            _ = drain.changed() => break,
        };
        if tx.send(p).await.is_err() {
            return;
        }
    }
    loop {
        match sub.try_recv() {
            Ok(p) => {
                if tx.send(p).await.is_err() {
                    return;
                }
            }
            Err(TryRecvError::Lagged(_)) => {}
            Err(_) => return,
        }
    }
}

/// A link as the request found it.
struct Start {
    attempts: u64,
    /// The attempt under way had already failed when the request came.
    stale_error: bool,
    /// The barrier this request waits for.
    barrier: u64,
}

/// What is still missing on one link, or `None` when it is caught up.
fn missing(s: &LinkStatus, start: &Start, targets: &BTreeMap<Name, u64>) -> Option<String> {
    if !s.connected {
        return Some(match &s.error {
            Some(e) => format!("not connected ({e})"),
            None => "not connected yet".into(),
        });
    }
    if s.barrier_done < start.barrier {
        return Some(format!(
            "waiting for the remote's changes ({} announced and not here yet)",
            syncdb_core::words::count(s.behind, "record")
        ));
    }
    let unacked: Vec<&str> = targets
        .iter()
        .filter(|(db, seq)| {
            // A database the session leaves alone is reported, not awaited.
            **seq > 0 && !s.broken.contains_key(*db) && s.acked.get(*db).is_none_or(|a| a < *seq)
        })
        .map(|(db, _)| db.as_str())
        .collect();
    if s.pushes && !unacked.is_empty() {
        return Some(format!(
            "waiting for the remote to store our writes to {}",
            unacked.join(", ")
        ));
    }
    None
}

/// `Some(Ok)` when every link is caught up with every target, `Some(Err)`
/// when one failed, `None` to keep waiting.
fn check(
    links: &[Arc<Link>],
    start: &[Start],
    targets: &BTreeMap<Name, u64>,
) -> Option<Result<(), RpcError>> {
    let mut all_done = true;
    let mut stopped = None;
    for (link, start) in links.iter().zip(start) {
        let s = link.status();
        // A database left alone fails the request, once the others are
        // across: a script learns both that they are and that it is not.
        if stopped.is_none()
            && let Some((db, why)) = s.broken.first_key_value()
        {
            stopped = Some(RpcError::new(
                ErrorCode::Storage,
                format!("database {db} cannot be synced with {}: {why}", link.name),
            ));
        }
        // A failure counts if it ended the attempt under way when the
        // request came, or one begun after it; an older one does not.
        if let Some((attempt, why)) = &s.failed
            && (*attempt > start.attempts || (*attempt == start.attempts && !start.stale_error))
        {
            return Some(Err(RpcError::new(
                ErrorCode::Remote,
                format!("remote {}: {why}", link.name),
            )));
        }
        if missing(&s, start, targets).is_some() {
            all_done = false;
        }
    }
    all_done.then(|| stopped.map_or(Ok(()), Err))
}

fn timed_out(
    links: &[Arc<Link>],
    start: &[Start],
    targets: &BTreeMap<Name, u64>,
    secs: u64,
) -> RpcError {
    let why: Vec<String> = links
        .iter()
        .zip(start)
        .filter_map(|(l, st)| missing(&l.status(), st, targets).map(|m| format!("{}: {m}", l.name)))
        .collect();
    RpcError::new(
        ErrorCode::Remote,
        format!("not caught up within {secs}s; {}", why.join("; ")),
    )
}
