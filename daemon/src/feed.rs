//! The change feed of a folder, a database, a collection or a key, from a
//! cursor, then live: what `watch` and the HTTP API's change routes both
//! read, with no gap and no duplicate.
//!
//! A feed subscribes to commit notes *before* reading where each database
//! stands, and keeps one cursor (the last seq seen) per database. A note that
//! carries its changes and starts at or before the cursor is read from
//! memory; anything else (a large commit, a reader that fell behind and
//! lagged the broadcast) is read back from the store's feed, which holds
//! every key at its latest seq. Only seqs above the cursor are ever given, so
//! a client that resumes from the cursor of the last event it got misses
//! nothing and sees nothing twice.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use syncdb_core::folder::Folder;
use syncdb_core::ipc::{ErrorCode, Event, RpcError};
use syncdb_core::store::{Change, Item};
use syncdb_core::{Key, Name, Reader};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::ipc::errors::{bad_input, replica_error};
use crate::replicas::CommitNote;
use crate::state::State;

/// Feed entries read per page when catching up, at most.
const PAGE: usize = 1024;
/// Bytes of documents a feed holds ready, and hands out in one take, at
/// most (past the first event): pages of large documents stay small, and
/// so does a feed reading them. Pages read are sized by what the last held.
const READY_BYTES: usize = 8 << 20;

fn doc_bytes(event: &Event) -> usize {
    event.doc.as_ref().map_or(0, |d| d.get().len())
}

/// What a feed is of.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub db: Option<Name>,
    pub collection: Option<Name>,
    pub key: Option<Key>,
}

impl Scope {
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

/// Where a feed starts, per database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Since {
    /// After what each database holds now: only new commits.
    Now,
    /// After these seqs; a database not named starts from its beginning.
    Seqs(BTreeMap<Name, u64>),
}

impl Since {
    /// Reads a cursor as [`Feed::cursor`] writes it: `SEQ` for a feed of
    /// one database, `DB:SEQ,DB:SEQ` for a folder's (where `0` is the
    /// beginning of every database).
    pub fn parse(text: &str, db: Option<&Name>) -> Result<Since, RpcError> {
        let seq = |s: &str| {
            s.parse::<u64>().map_err(|_| {
                bad_input(format!(
                    "invalid cursor {text:?}: {s:?} is not a seq (a whole number from 0)"
                ))
            })
        };
        let mut seqs = BTreeMap::new();
        match db {
            Some(db) => {
                seqs.insert(db.clone(), seq(text)?);
            }
            None if text == "0" => {}
            None => {
                for part in text.split(',').filter(|p| !p.is_empty()) {
                    let Some((name, n)) = part.split_once(':') else {
                        return Err(bad_input(format!(
                            "invalid cursor {text:?}: a folder's cursor is DB:SEQ,DB:SEQ (as the last event's id)"
                        )));
                    };
                    let name = Name::parse_as("database", name)
                        .map_err(|e| bad_input(format!("invalid cursor {text:?}: {e}")))?;
                    if seqs.insert(name.clone(), seq(n)?).is_some() {
                        return Err(bad_input(format!(
                            "invalid cursor {text:?}: it names {name} twice (a feed gives each database once)"
                        )));
                    }
                }
            }
        }
        Ok(Since::Seqs(seqs))
    }
}

struct Cursor {
    /// Seqs up to this one are read (into `ready`, or found out of scope).
    read: u64,
    /// Seqs up to this one are given to the client: what `cursor` says.
    given: u64,
    reader: Reader,
}

/// A read entry waiting to be taken: an event, or only a position (changes
/// out of scope, merged into one entry per run).
struct Ready {
    db: Name,
    seq: u64,
    event: Option<Event>,
}

pub struct Feed {
    folder: Folder,
    scope: Scope,
    notes: broadcast::Receiver<Arc<CommitNote>>,
    cursors: BTreeMap<Name, Cursor>,
    ready: VecDeque<Ready>,
    /// Events in `ready`, and the bytes of their documents.
    events: usize,
    ready_bytes: usize,
    /// Entries to read in the next page of the stored feed.
    page: usize,
    /// Databases whose stored feed may hold entries above `read`.
    behind: BTreeSet<Name>,
}

impl Feed {
    /// Opens the feed of `scope` in `folder`. Reading never creates a
    /// database: a missing one named in `scope` is "not found".
    pub fn open(
        state: &State,
        folder: Folder,
        scope: Scope,
        since: Since,
    ) -> Result<Feed, RpcError> {
        let notes = state.replicas.subscribe();
        let names = match &scope.db {
            Some(db) => vec![db.clone()],
            None => state
                .replicas
                .databases(&folder)
                .map_err(crate::ipc::errors::replica_error)?
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
        };
        if let (None, Since::Seqs(seqs)) = (&scope.db, &since)
            && let Some(unknown) = seqs.keys().find(|n| !names.contains(n))
        {
            return Err(bad_input(format!(
                "the cursor names database {unknown}, which this folder does not have; resume from a cursor the feed gave, 0 or now"
            )));
        }
        let mut cursors = BTreeMap::new();
        let mut behind = BTreeSet::new();
        for name in names {
            let replica = match state.replicas.get(&folder, &name, false) {
                Ok(Some(r)) => r,
                Ok(None) => return Err(crate::ipc::handlers::no_database(&name, &folder)),
                Err(e) => return Err(replica_error(e)),
            };
            let seq = match &since {
                Since::Now => replica.high_seq(),
                Since::Seqs(seqs) => seqs.get(&name).copied().unwrap_or(0),
            };
            // Not a cursor this feed gave: it would skip every change
            // until the feed caught up with it.
            if seq > replica.high_seq() {
                return Err(bad_input(format!(
                    "cursor {seq} is past the end of {name}'s change feed (its last seq is {}); resume from a cursor the feed gave, 0 or now",
                    replica.high_seq()
                )));
            }
            if seq < replica.high_seq() {
                behind.insert(name.clone());
            }
            let reader = replica.reader.clone();
            cursors.insert(
                name,
                Cursor {
                    read: seq,
                    given: seq,
                    reader,
                },
            );
        }
        Ok(Feed {
            folder,
            scope,
            notes,
            cursors,
            ready: VecDeque::new(),
            events: 0,
            ready_bytes: 0,
            page: 64,
            behind,
        })
    }

    /// Where the feed stands: given back as `Since`, it resumes after the
    /// last event taken.
    pub fn cursor(&self) -> String {
        match &self.scope.db {
            Some(db) => self.cursors.get(db).map_or(0, |c| c.given).to_string(),
            None => self
                .cursors
                .iter()
                .map(|(name, c)| format!("{name}:{}", c.given))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Up to `max` events already committed above the cursors, without
    /// waiting. Blocking: it may read the stored feed.
    pub fn backlog(&mut self, max: usize) -> Result<Vec<Event>, RpcError> {
        Ok(self
            .backlog_marked(max, false)?
            .into_iter()
            .map(|(e, _)| e)
            .collect())
    }

    /// As [`Feed::backlog`], each event with the cursor just after it when
    /// `marked` (else an empty one).
    fn backlog_marked(
        &mut self,
        max: usize,
        marked: bool,
    ) -> Result<Vec<(Event, String)>, RpcError> {
        self.drain_notes();
        while self.events < max
            && self.ready_bytes < READY_BYTES
            && let Some(name) = self.behind.pop_first()
        {
            self.read_stored(&name, max)?;
        }
        Ok(self.take(max, marked))
    }

    /// The next events, waiting for a commit if there are none. Cancel-safe:
    /// an event is only taken when it is returned.
    pub async fn next(&mut self, max: usize) -> Result<Vec<Event>, RpcError> {
        let events = self.next_marked(max, false).await?;
        Ok(events.into_iter().map(|(e, _)| e).collect())
    }

    /// As [`Feed::next`], each event with the cursor just after it when
    /// `marked`: what a client that got it resumes from.
    pub async fn next_marked(
        &mut self,
        max: usize,
        marked: bool,
    ) -> Result<Vec<(Event, String)>, RpcError> {
        loop {
            let events = self.backlog_marked(max, marked)?;
            if !events.is_empty() {
                return Ok(events);
            }
            match self.notes.recv().await {
                Ok(note) => self.note(&note),
                Err(RecvError::Lagged(_)) => self.lagged(),
                Err(RecvError::Closed) => {
                    return Err(RpcError::new(
                        ErrorCode::Unavailable,
                        "the daemon is shutting down",
                    ));
                }
            }
        }
    }

    /// Takes the notes that arrived, without waiting.
    fn drain_notes(&mut self) {
        loop {
            match self.notes.try_recv() {
                Ok(note) => self.note(&note),
                Err(broadcast::error::TryRecvError::Lagged(_)) => self.lagged(),
                Err(_) => return,
            }
        }
    }

    /// Missed notes: every database may have more than we know.
    fn lagged(&mut self) {
        self.behind = self.cursors.keys().cloned().collect();
    }

    fn note(&mut self, note: &CommitNote) {
        if note.folder != self.folder.path || self.scope.db.as_ref().is_some_and(|d| *d != note.db)
        {
            return;
        }
        // A database that appears while a folder is fed starts at its first
        // seq: all of it is new to this feed.
        let cursor = self
            .cursors
            .entry(note.db.clone())
            .or_insert_with(|| Cursor {
                read: 0,
                given: 0,
                reader: note.reader.clone(),
            });
        if note.high_seq <= cursor.read {
            return;
        }
        match &note.changes {
            Some(changes) if cursor.read >= note.prev_high => {
                let from = cursor.read;
                cursor.read = note.high_seq;
                for c in changes.iter().filter(|c| c.seq > from) {
                    self.push(&note.db, c.seq, Some(c));
                }
                self.push(&note.db, note.high_seq, None);
            }
            _ => {
                self.behind.insert(note.db.clone());
            }
        }
    }

    /// Reads the stored feed of `name` above what is read, a page at a
    /// time, until `max` events are ready or it is read to the end.
    fn read_stored(&mut self, name: &Name, max: usize) -> Result<(), RpcError> {
        loop {
            let want = self.page;
            let cursor = self.cursors.get_mut(name).expect("a cursor per database");
            let page = cursor
                .reader
                .changes_since(cursor.read, want)
                .map_err(|e| {
                    tracing::warn!(db = %name, error = %e, "cannot read the change feed");
                    RpcError::new(
                        ErrorCode::Storage,
                        format!("reading the feed of {name}: {e}"),
                    )
                })?;
            if let Some(last) = page.last() {
                cursor.read = last.seq;
            }
            let held = self.ready_bytes;
            for c in &page {
                self.push(name, c.seq, Some(c));
            }
            // An entry's state is about its document's size, or more.
            let per_entry = (self.ready_bytes - held) / page.len().max(1) + 64;
            self.page = (READY_BYTES / per_entry).clamp(1, PAGE);
            if page.len() < want {
                return Ok(());
            }
            if self.events >= max || self.ready_bytes >= READY_BYTES {
                // Not read to the end: come back to it.
                self.behind.insert(name.clone());
                return Ok(());
            }
        }
    }

    fn push(&mut self, db: &Name, seq: u64, change: Option<&Change>) {
        let event = change
            .filter(|c| self.scope.wants(&c.item))
            .map(|c| Event::from_change(db, c));
        if event.is_none()
            && let Some(last) = self.ready.back_mut()
            && last.event.is_none()
            && &last.db == db
        {
            last.seq = last.seq.max(seq);
            return;
        }
        self.events += usize::from(event.is_some());
        self.ready_bytes += event.as_ref().map_or(0, doc_bytes);
        self.ready.push_back(Ready {
            db: db.clone(),
            seq,
            event,
        });
    }

    /// Takes up to `max` events (and [`READY_BYTES`] of documents past
    /// the first), and the positions around them.
    fn take(&mut self, max: usize, marked: bool) -> Vec<(Event, String)> {
        let mut out = Vec::with_capacity(self.events.min(max));
        let mut bytes = 0;
        while let Some(front) = self.ready.front() {
            if front.event.is_some() && (out.len() >= max || bytes >= READY_BYTES) {
                break;
            }
            let r = self.ready.pop_front().expect("front");
            if let Some(c) = self.cursors.get_mut(&r.db) {
                c.given = c.given.max(r.seq);
            }
            if let Some(event) = r.event {
                self.events -= 1;
                self.ready_bytes -= doc_bytes(&event);
                bytes += doc_bytes(&event);
                let cursor = if marked { self.cursor() } else { String::new() };
                out.push((event, cursor));
            }
        }
        out
    }
}
