//! `watch`: replay the feed from a seq, then stream commits live, with no gap
//! and no duplicate.
//!
//! The stream subscribes to commit notes *before* reading where each database
//! stands, and keeps one cursor (the last seq sent) per database. A note that
//! carries its changes and starts at or before the cursor is sent from memory;
//! anything else (a large commit, a watcher that fell behind and lagged the
//! broadcast) is read back from the change feed, which holds every key at its
//! latest seq. Only seqs above the cursor are ever sent.

use std::collections::HashMap;

use serde_json::Value;
use syncdb_core::ipc::*;
use syncdb_core::store::{Change, Item};
use syncdb_core::{Key, Name, Reader};
use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast::error::RecvError;

use super::connection::Connection;
use super::errors::{bad_input, replica_error};

/// Feed entries read per page when catching up.
const PAGE: usize = 1024;

struct Filter {
    db: Option<Name>,
    collection: Option<Name>,
    key: Option<Key>,
}

impl Filter {
    fn wants(&self, item: &Item) -> bool {
        match item {
            Item::Record {
                collection, key, ..
            } => {
                self.collection.as_ref().is_none_or(|c| c == collection)
                    && self.key.as_ref().is_none_or(|k| k == key)
            }
            Item::DropCollection { collection, .. } => {
                self.collection.as_ref().is_none_or(|c| c == collection)
            }
            Item::DropDatabase { .. } => true,
        }
    }
}

struct Cursor {
    seq: u64,
    reader: Reader,
}

impl Connection {
    pub(super) async fn watch(&mut self, id: &Value, p: WatchParams) -> std::io::Result<()> {
        let state = self.state.clone();
        let folder = match state.resolve(&p.folder) {
            Ok(f) => f,
            Err(e) => return self.reply::<()>(id, Err(e)).await,
        };
        if p.since.is_some() && p.db.is_none() {
            let err = bad_input("--since needs a database (DB): seqs are numbered per database");
            return self.reply::<()>(id, Err(err)).await;
        }
        let filter = Filter {
            db: p.db.clone(),
            collection: p.collection.clone(),
            key: p.key.clone(),
        };
        let mut notes = state.replicas.subscribe();

        let mut cursors: HashMap<Name, Cursor> = HashMap::new();
        let names = match &p.db {
            Some(db) => vec![db.clone()],
            None => match folder.databases() {
                Ok(dbs) => dbs.into_iter().map(|(n, _)| n).collect(),
                Err(e) => {
                    let err = RpcError::new(ErrorCode::Storage, e.to_string());
                    return self.reply::<()>(id, Err(err)).await;
                }
            },
        };
        for name in names {
            // Reads never create a database: a missing one is "not found"
            // (a typo must not leave a file). Watching the whole folder
            // sees a database appear with its first write.
            let replica = match state.replicas.get(&folder, &name, false) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let err = super::handlers::no_database(&name, &folder);
                    return self.reply::<()>(id, Err(err)).await;
                }
                Err(e) => return self.reply::<()>(id, Err(replica_error(e))).await,
            };
            let seq = p.since.unwrap_or_else(|| replica.high_seq());
            cursors.insert(
                name,
                Cursor {
                    seq,
                    reader: replica.reader.clone(),
                },
            );
        }
        if p.since.is_some() {
            for (name, cursor) in cursors.iter_mut() {
                self.catch_up(id, name, cursor, &filter).await?;
            }
        }

        let reason = loop {
            tokio::select! {
                note = notes.recv() => match note {
                    Ok(note) => {
                        if note.folder != folder.path
                            || filter.db.as_ref().is_some_and(|d| *d != note.db)
                        {
                            continue;
                        }
                        let cursor = cursors.entry(note.db.clone()).or_insert_with(|| Cursor {
                            seq: 0,
                            reader: note.reader.clone(),
                        });
                        if note.high_seq <= cursor.seq {
                            continue;
                        }
                        match &note.changes {
                            Some(changes) if cursor.seq >= note.prev_high => {
                                let from = cursor.seq;
                                for c in changes.iter().filter(|c| c.seq > from) {
                                    self.send_event(id, &note.db, c, &filter).await?;
                                }
                                cursor.seq = note.high_seq;
                            }
                            _ => self.catch_up(id, &note.db, cursor, &filter).await?,
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        for (name, cursor) in cursors.iter_mut() {
                            self.catch_up(id, name, cursor, &filter).await?;
                        }
                    }
                    Err(RecvError::Closed) => break "daemon shutting down",
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

    /// Sends every feed entry above the cursor, page by page.
    async fn catch_up(
        &mut self,
        id: &Value,
        db: &Name,
        cursor: &mut Cursor,
        filter: &Filter,
    ) -> std::io::Result<()> {
        loop {
            let page = match cursor.reader.changes_since(cursor.seq, PAGE) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(db = %db, error = %e, "watch cannot read the feed");
                    return Err(std::io::Error::other(e));
                }
            };
            for c in &page {
                self.send_event(id, db, c, filter).await?;
                cursor.seq = c.seq;
            }
            if page.len() < PAGE {
                return Ok(());
            }
        }
    }

    async fn send_event(
        &mut self,
        id: &Value,
        db: &Name,
        change: &Change,
        filter: &Filter,
    ) -> std::io::Result<()> {
        if !filter.wants(&change.item) {
            return Ok(());
        }
        let event = Event::from_change(db, change);
        let line = notification_line(WATCH_EVENT, id, &EventParams { event });
        (&self.stream).write_all(&line).await
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
