//! `watch`: the change feed ([`crate::feed`]) as JSON-RPC notifications on
//! the connection, until the client goes or the daemon stops.

use serde_json::Value;
use syncdb_core::ipc::*;
use tokio::io::AsyncWriteExt;

use std::sync::Arc;

use syncdb_core::folder::Folder;

use super::connection::Connection;
use super::errors::bad_input;
use crate::feed::{Feed, Scope, Since};
use crate::live::Source;
use crate::state::State;

/// Events sent per wake-up.
const BATCH: usize = 1024;

async fn open(state: &Arc<State>, folder: Folder, p: WatchParams) -> Result<Source, RpcError> {
    if !p.conditions.is_empty() {
        let (Some(db), Some(collection), None, None) = (p.db, p.collection, &p.key, p.since) else {
            return Err(bad_input(
                "a live query (--where) watches one collection, DB/COLL, from its current result: no KEY, no --since",
            ));
        };
        return Source::live(state, folder, db, collection, p.conditions).await;
    }
    let since = match (p.since, &p.db) {
        (None, _) => Since::Now,
        (Some(seq), Some(db)) => Since::Seqs([(db.clone(), seq)].into()),
        (Some(_), None) => {
            return Err(bad_input(
                "--since needs a database (DB): seqs are numbered per database",
            ));
        }
    };
    let scope = Scope {
        db: p.db,
        collection: p.collection,
        key: p.key,
    };
    Ok(Source::Feed(Box::new(Feed::open(
        state, folder, scope, since,
    )?)))
}

impl Connection {
    pub(super) async fn watch(&mut self, id: &Value, p: WatchParams) -> std::io::Result<()> {
        let state = self.state.clone();
        let folder = match state.resolve(&p.folder) {
            Ok(f) => f,
            Err(e) => return self.reply::<()>(id, Err(e)).await,
        };
        let mut source = match open(&state, folder, p).await {
            Ok(s) => s,
            Err(e) => return self.reply::<()>(id, Err(e)).await,
        };
        let reason = loop {
            tokio::select! {
                events = source.next(BATCH) => match events {
                    Ok(events) => {
                        for event in events {
                            let line = notification_line(WATCH_EVENT, id, &EventParams { event });
                            (&self.stream).write_all(&line).await?;
                        }
                    }
                    Err(e) if e.code == ErrorCode::Unavailable => break "daemon shutting down",
                    Err(e) => return Err(std::io::Error::other(e)),
                },
                read = self.read_more() => match read {
                    Ok(true) => {}
                    Ok(false) | Err(_) => return Ok(()), // client gone
                },
                _ = state.stopped() => break "daemon shutting down",
            }
        };
        self.reply(
            id,
            Ok(WatchEnd {
                reason: reason.into(),
            }),
        )
        .await
    }

    /// Reads whatever the client sends while streaming (kept for after the
    /// stream); false when it has closed the connection.
    pub(super) async fn read_more(&mut self) -> std::io::Result<bool> {
        use tokio::io::AsyncReadExt;
        let n = (&self.stream).read(&mut self.chunk).await?;
        self.lines.push(&self.chunk[..n]);
        if self.lines.pending() > self.max_line {
            // Unbounded otherwise: nothing pops lines while streaming.
            return Err(std::io::Error::other(LineTooLong(self.max_line)));
        }
        Ok(n > 0)
    }
}

#[derive(serde::Serialize)]
struct EventParams {
    event: Event,
}
