//! `sync`: streams progress from the folder's remote links; with `once`,
//! ends when every selected remote is caught up both ways, or fails when a
//! remote cannot be reached or refuses us.

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
use crate::sync::link::Link;

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
        let mut targets: BTreeMap<Name, u64> = BTreeMap::new();
        if let Ok(dbs) = folder.databases() {
            for (name, _) in dbs {
                if let Ok(Some(r)) = state.replicas.get(&folder, &name, false) {
                    targets.insert(name, r.high_seq());
                }
            }
        }
        let start_attempts: Vec<u64> = links.iter().map(|l| l.status().attempts).collect();
        let (tx, mut rx) = mpsc::channel(256);
        let mut forwarders = Vec::new();
        for link in &links {
            let mut sub = link.progress.subscribe();
            let tx = tx.clone();
            forwarders.push(tokio::spawn(async move {
                while let Ok(p) = sub.recv().await {
                    if tx.send(p).await.is_err() {
                        return;
                    }
                }
            }));
            link.kick.notify_one();
        }
        let mut tick = tokio::time::interval(Duration::from_millis(25));
        let outcome = loop {
            tokio::select! {
                Some(p) = rx.recv() => {
                    let progress = SyncProgress {
                        remote: p.remote,
                        db: p.db,
                        direction: p.direction,
                        done: p.done,
                        total: p.total,
                        caught_up: p.caught_up,
                    };
                    let line = notification_line(SYNC_PROGRESS, id, &progress);
                    if (&self.stream).write_all(&line).await.is_err() {
                        break None;
                    }
                }
                _ = tick.tick() => {
                    if !p.once {
                        continue;
                    }
                    match check(&links, &start_attempts, &targets) {
                        Some(Ok(())) => break Some(Ok(())),
                        Some(Err(e)) => break Some(Err(e)),
                        None => {}
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
        for f in forwarders {
            f.abort();
        }
        match outcome {
            None => Ok(()),
            Some(result) => {
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

/// `Some(Ok)` when every link is caught up with every target, `Some(Err)`
/// when one failed a fresh attempt, `None` to keep waiting.
fn check(
    links: &[Arc<Link>],
    start_attempts: &[u64],
    targets: &BTreeMap<Name, u64>,
) -> Option<Result<(), RpcError>> {
    let mut all_done = true;
    for (link, &started) in links.iter().zip(start_attempts) {
        let s = link.status();
        if !s.connected {
            // Only a failure of an attempt begun after the request counts.
            if s.error_attempt > started && s.error.is_some() {
                let why = s.error.unwrap_or_default();
                return Some(Err(RpcError::new(
                    ErrorCode::Remote,
                    format!("remote {}: {why}", link.name),
                )));
            }
            all_done = false;
            continue;
        }
        let pushed = !s.pushes
            || targets
                .iter()
                .all(|(db, &seq)| seq == 0 || s.acked.get(db).is_some_and(|&a| a >= seq));
        if !(s.pull_caught_up && pushed) {
            all_done = false;
        }
    }
    all_done.then_some(Ok(()))
}
