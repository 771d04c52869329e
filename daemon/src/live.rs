//! A live query (`watch DB/COLL --where …`): the records of a collection
//! that meet some conditions, kept as changes commit, local or remote. It
//! starts with the current result, as `enter` events in key order, then
//! turns each change into `enter`, `change` or `leave`, or into nothing when
//! the record is neither in the result nor comes into it.
//!
//! No gap and no duplicate: the feed is opened at the seq the database had
//! before the first result was read, so it holds every change the reading
//! may have missed. A change the reading already saw is told once: one
//! older than what is stored now is skipped (a newer change follows it),
//! and one no newer than what a member was told is too.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::value::RawValue;
use syncdb_core::folder::Folder;
use syncdb_core::ipc::{ErrorCode, Event, EventOp, ResultChange, RpcError};
use syncdb_core::query::Condition;
use syncdb_core::{Key, Name};

use crate::feed::{Feed, Scope, Since};
use crate::ipc::errors::{bad_input, replica_error};
use crate::replicas::Replica;
use crate::state::State;

/// Records read at a time for the first result.
const SCAN_PAGE: usize = 1024;

pub struct Live {
    conditions: Vec<Condition>,
    replica: Arc<Replica>,
    collection: Name,
    /// The result now: each member's key and the version it was told at.
    members: BTreeMap<Key, String>,
    /// The database's seq once the first result was read: changes up to it
    /// may have been seen by the reading.
    read_to: u64,
    feed: Feed,
}

impl Live {
    /// Reads the first result and opens the feed behind it. Blocking.
    pub fn open(
        state: &State,
        folder: Folder,
        db: Name,
        collection: Name,
        conditions: &[String],
    ) -> Result<(Live, Vec<Event>), RpcError> {
        let conditions = Condition::parse_all(conditions).map_err(bad_input)?;
        let replica = crate::ipc::handlers::replica(state, &folder, &db)?;
        let start = replica.high_seq();
        let mut first = Vec::new();
        let mut members = BTreeMap::new();
        let mut after: Option<Key> = None;
        loop {
            let (page, last) = replica
                .reader
                .scan_visible(&collection, after.as_ref(), SCAN_PAGE)
                .map_err(|e| replica_error(replica.store_error(e)))?;
            for (key, text, version) in page {
                if !meets(&conditions, Some(&text)) {
                    continue;
                }
                let version = version.to_string();
                members.insert(key.clone(), version.clone());
                first.push(Event {
                    op: EventOp::Put,
                    db: db.clone(),
                    collection: Some(collection.clone()),
                    key: Some(key),
                    doc: RawValue::from_string(text).ok(),
                    seq: start,
                    version,
                    result: Some(ResultChange::Enter),
                });
            }
            match last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        let read_to = replica.high_seq();
        let scope = Scope {
            db: Some(db.clone()),
            collection: Some(collection.clone()),
            key: None,
        };
        let feed = Feed::open(state, folder, scope, Since::Seqs([(db, start)].into()))?;
        let live = Live {
            conditions,
            replica,
            collection,
            members,
            read_to,
            feed,
        };
        Ok((live, first))
    }

    /// The next changes to the result, waiting for commits if none.
    pub async fn next(&mut self, max: usize) -> Result<Vec<Event>, RpcError> {
        loop {
            let events = self.feed.next(max).await?;
            let out: Vec<Event> = events.into_iter().flat_map(|e| self.apply(e)).collect();
            if !out.is_empty() {
                return Ok(out);
            }
        }
    }

    fn apply(&mut self, event: Event) -> Vec<Event> {
        let Some(key) = event.key.clone() else {
            // A drop of the collection or the database: every member leaves.
            return std::mem::take(&mut self.members)
                .into_keys()
                .map(|key| Event {
                    key: Some(key),
                    collection: Some(self.collection.clone()),
                    doc: None,
                    result: Some(ResultChange::Leave),
                    ..event.clone()
                })
                .collect();
        };
        if event.seq <= self.read_to && self.superseded(&key, &event.version) {
            return Vec::new();
        }
        let told = self.members.get(&key);
        if told.is_some_and(|v| *v >= event.version) {
            return Vec::new();
        }
        let meets = meets(&self.conditions, event.doc.as_deref().map(RawValue::get));
        let result = match (told.is_some(), meets) {
            (false, false) => return Vec::new(),
            (false, true) => ResultChange::Enter,
            (true, true) => ResultChange::Change,
            (true, false) => ResultChange::Leave,
        };
        match result {
            ResultChange::Leave => self.members.remove(&key),
            _ => self.members.insert(key, event.version.clone()),
        };
        vec![Event {
            result: Some(result),
            ..event
        }]
    }

    /// Whether the record is stored at a newer version than `version` now:
    /// the reading of the first result may have seen that one, and its own
    /// change is still to come.
    fn superseded(&self, key: &Key, version: &str) -> bool {
        match self.replica.reader.get(&self.collection, key) {
            Ok(Some(now)) => now.version.to_string().as_str() > version,
            _ => false,
        }
    }
}

/// Whether a document (none: deleted) meets every condition.
fn meets(conditions: &[Condition], doc: Option<&str>) -> bool {
    let Some(doc) = doc.and_then(syncdb_core::query::doc_from_text) else {
        return false;
    };
    conditions.iter().all(|c| c.matches(&doc))
}

/// What a stream sends: the feed, or a live query's result over it (its
/// first result comes out first).
pub enum Source {
    Feed(Box<Feed>),
    Live(Box<Live>, Vec<Event>),
}

impl Source {
    /// A live query of `collection`, its first result read off the async
    /// workers.
    pub async fn live(
        state: &Arc<State>,
        folder: Folder,
        db: Name,
        collection: Name,
        conditions: Vec<String>,
    ) -> Result<Source, RpcError> {
        let state = state.clone();
        let (live, first) = tokio::task::spawn_blocking(move || {
            Live::open(&state, folder, db, collection, &conditions)
        })
        .await
        .map_err(|e| RpcError::new(ErrorCode::Internal, e.to_string()))??;
        Ok(Source::Live(Box::new(live), first))
    }

    pub async fn next(&mut self, max: usize) -> Result<Vec<Event>, RpcError> {
        let events = self.next_marked(max, false).await?;
        Ok(events.into_iter().map(|(e, _)| e).collect())
    }

    /// As [`Feed::next_marked`]; a live query's events have no cursor (a
    /// live query starts again from its current result).
    pub async fn next_marked(
        &mut self,
        max: usize,
        marked: bool,
    ) -> Result<Vec<(Event, String)>, RpcError> {
        let events = match self {
            Source::Feed(feed) => return feed.next_marked(max, marked).await,
            Source::Live(_, first) if !first.is_empty() => {
                let rest = first.split_off(first.len().min(max));
                std::mem::replace(first, rest)
            }
            Source::Live(live, _) => live.next(max).await?,
        };
        Ok(events.into_iter().map(|e| (e, String::new())).collect())
    }
}
