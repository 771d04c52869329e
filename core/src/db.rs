//! A database replica: the merge rules applied over any engine.
//!
//! `Database` is the single writer: it allocates seqs, ticks the HLC, merges
//! operations and remote changes into record states, and keeps drop markers
//! and visible-record counts, all inside one engine transaction per commit.
//! `Reader` is a cheap handle for concurrent reads of the last commit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::doc::Document;
use crate::index::{BuildProgress, IndexDef, IndexList, IndexState};
use crate::migrate::{Step, StepPlan};
use crate::names::{Key, Name};
use crate::query::FieldPath;
use crate::record::RecordState;
use crate::schema::{self, Head, Schema};
use crate::store::{
    Change, Engine, EngineKind, Item, Meta, Precondition, Refusal, Result, StoreError, WriteTxn,
};
use crate::version::{Hlc, SiteId, Version};

/// Commits with more changes than this do not carry them in `Commit::changes`;
/// watchers read them from the feed instead, so a million-record import does
/// not hold a million changes in memory.
pub const MAX_CHANGES_IN_COMMIT: usize = 4096;

/// One local operation.
#[derive(Clone, Debug)]
pub enum WriteOp {
    Put {
        collection: Name,
        key: Key,
        doc: Document,
    },
    Patch {
        collection: Name,
        key: Key,
        part: Document,
    },
    Delete {
        collection: Name,
        key: Key,
    },
    DropCollection {
        collection: Name,
    },
    DropDatabase,
    /// Stores a new schema version; the steps it carries run in the same
    /// transaction. Refused when the database has this version or a newer
    /// one (unless it is the same schema: then nothing is written), or when
    /// a step would lose data and `allow_data_loss` is false.
    SetSchema {
        schema: Arc<Schema>,
        allow_data_loss: bool,
    },
    /// Writes nothing: fails the whole transaction with
    /// [`StoreError::Precondition`] unless the record is as `expected`.
    /// Put before the write it guards, in the same transaction, it makes
    /// that write conditional (HTTP's `If-Match`, `If-None-Match: *`).
    Expect {
        collection: Name,
        key: Key,
        expected: Expected,
    },
}

/// What [`WriteOp::Expect`] asks of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// It does not exist (never written, or deleted).
    Absent,
    /// It exists, whatever its version.
    Present,
    /// Its newest version is one of these.
    Version(Vec<Version>),
}

/// What one operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpOutcome {
    Written {
        seq: u64,
        version: Version,
    },
    /// Patch or delete of a record that does not exist: nothing written.
    NotFound,
    /// A precondition that held ([`WriteOp::Expect`]).
    Unchanged,
}

impl WriteOp {
    /// The collection a record or collection operation writes to.
    pub fn collection(&self) -> Option<&Name> {
        match self {
            WriteOp::Put { collection, .. }
            | WriteOp::Patch { collection, .. }
            | WriteOp::Delete { collection, .. }
            | WriteOp::Expect { collection, .. }
            | WriteOp::DropCollection { collection } => Some(collection),
            WriteOp::DropDatabase | WriteOp::SetSchema { .. } => None,
        }
    }

    /// The key of a record operation.
    pub fn key(&self) -> Option<&Key> {
        match self {
            WriteOp::Put { key, .. }
            | WriteOp::Patch { key, .. }
            | WriteOp::Delete { key, .. }
            | WriteOp::Expect { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The result of one transaction.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    /// The last seq this commit used (unchanged when it wrote nothing).
    pub high_seq: u64,
    /// The changes, unless there were more than `MAX_CHANGES_IN_COMMIT`.
    pub changes: Option<Vec<Change>>,
}

#[derive(Clone)]
pub(crate) struct WriterState {
    pub(crate) meta: Meta,
    clock: Hlc,
    /// Drop markers by scope (`None` = the database); few, so cached.
    pub(crate) markers: BTreeMap<Option<Name>, Version>,
    /// The newest schema version, which local writes must keep.
    schema: Head,
    indexes: Arc<Indexes>,
    /// The horizon, the cleanup under way and (on a hub) the replicas.
    pub(crate) history: crate::history::History,
}

/// The database's indexes with their field paths parsed once.
#[derive(Clone, Debug, Default)]
struct Indexes {
    list: IndexList,
    paths: Vec<Vec<FieldPath>>,
    /// Per indexed collection: its indexes (positions in `list`) and the
    /// top-level fields they read, worked out once for every write.
    on: BTreeMap<Name, (Vec<usize>, Vec<String>)>,
}

impl Indexes {
    fn new(list: IndexList) -> Self {
        let paths: Vec<Vec<FieldPath>> = list.indexes.iter().map(IndexDef::paths).collect();
        let mut on: BTreeMap<Name, (Vec<usize>, Vec<String>)> = BTreeMap::new();
        for (i, def) in list.indexes.iter().enumerate() {
            let entry = on.entry(def.collection.clone()).or_default();
            entry.0.push(i);
            entry.1.extend(paths[i].iter().map(|p| p.top().to_owned()));
            entry.1.sort_unstable();
            entry.1.dedup();
        }
        Indexes { list, paths, on }
    }
}

/// Records an index build reads in one transaction: small enough that a
/// write waiting behind a step waits briefly (BENCHMARKS.md).
pub const BUILD_STEP: usize = 2048;

pub struct Database {
    pub(crate) engine: Arc<dyn Engine>,
    pub(crate) state: WriterState,
    listed: Arc<crate::find::ListCache>,
}

/// A read handle; clones share the engine.
#[derive(Clone)]
pub struct Reader {
    pub(crate) engine: Arc<dyn Engine>,
    /// The list of indexes as last read, shared with the writer, which
    /// marks it stale when a commit changes it.
    pub(crate) listed: Arc<crate::find::ListCache>,
}

impl Reader {
    /// How many handles share this database's engine (the writer's and
    /// every reader's): while others hold one, the file stays open.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.engine)
    }
}

/// Runs an engine call so that a panic inside it (redb panics on some
/// damaged pages) becomes an error about this database instead of
/// unwinding through the caller's locks and tasks, which serve every other
/// database too.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(StoreError::Corrupt(format!(
            "the storage engine failed on it ({what})"
        )))
    })
}

/// Refuses what cannot be a database file before an engine sees it: a
/// symlink (we never write through one), a directory, or an empty file
/// (both engines would silently start a new, empty replica in it).
fn check_file_kind(path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()), // created
        Err(e) => return Err(StoreError::Io(e)),
    };
    let problem = if meta.file_type().is_symlink() {
        "it is a symbolic link, and syncdb never opens a database through one"
    } else if meta.is_dir() {
        "it is a directory, not a database file"
    } else if !meta.is_file() {
        "it is not a regular file"
    } else if meta.len() == 0 {
        "it is empty (0 bytes)"
    } else {
        return Ok(());
    };
    Err(StoreError::Corrupt(problem.to_owned()))
}

impl Database {
    /// Opens (creating if missing) a database file. Damage, including an
    /// engine that panics on the file, is an error (`is_damage`).
    pub fn open(kind: EngineKind, path: &Path) -> Result<Self> {
        check_file_kind(path)?;
        guarded(|| Self::from_engine(Arc::from(kind.open(path)?)))
    }

    pub fn from_engine(engine: Arc<dyn Engine>) -> Result<Self> {
        let state = Self::load_state(engine.as_ref())?;
        Ok(Database {
            engine,
            state,
            listed: Arc::default(),
        })
    }

    fn load_state(engine: &dyn Engine) -> Result<WriterState> {
        let meta = engine.meta()?;
        let schema = engine.scan(&schema::collection(), "", None, usize::MAX)?;
        let indexes = IndexList::decode(engine.meta_blob(crate::index::META_NAME)?.as_deref())
            .map_err(StoreError::Corrupt)?;
        let history = crate::history::History::decode(
            engine.meta_blob(crate::history::META_NAME)?.as_deref(),
        )
        .map_err(StoreError::Corrupt)?;
        Ok(WriterState {
            history,
            indexes: Arc::new(Indexes::new(indexes)),
            meta,
            clock: Hlc::resume(meta.hlc),
            markers: engine.markers()?.into_iter().collect(),
            schema: Head::of(
                schema
                    .into_iter()
                    .filter_map(|(k, state)| Some((k, state.visible_json()?))),
            ),
        })
    }

    pub fn reader(&self) -> Reader {
        Reader {
            engine: self.engine.clone(),
            listed: self.listed.clone(),
        }
    }

    pub fn site(&self) -> SiteId {
        self.state.meta.site
    }

    /// The database's schema as of the last commit.
    pub fn schema(&self) -> &Head {
        &self.state.schema
    }

    /// The version of the whole-database drop marker, if it was ever dropped.
    pub fn drop_marker(&self) -> Option<Version> {
        self.state.markers.get(&None).copied()
    }

    /// Shrinks the file to what it holds (after a drop removed records).
    pub fn compact(&mut self) -> Result<()> {
        let engine = self.engine.clone();
        guarded(|| engine.compact())
    }

    /// The file's size and free space (what a compaction gives back).
    pub fn space(&self) -> Result<crate::store::Space> {
        let engine = self.engine.clone();
        guarded(|| engine.space())
    }

    /// The database's indexes as of the last commit.
    pub fn indexes(&self) -> &[IndexDef] {
        &self.state.indexes.list.indexes
    }

    /// Whether an index is still being built (the writer runs
    /// [`Database::build_indexes`] between other work until none is).
    pub fn building(&self) -> bool {
        self.state.indexes.list.building()
    }

    /// Adds an index on `fields` of `collection`, to be built; returns it,
    /// and whether it is new (an index on the same fields is returned as
    /// it is).
    pub fn create_index(
        &mut self,
        collection: &Name,
        fields: Vec<String>,
    ) -> Result<(IndexDef, bool)> {
        if let Some(def) = self.state.indexes.list.find(collection, &fields).cloned() {
            if def.by_hand {
                return Ok((def, false));
            }
            // Declared by a schema until now: made by hand too, it stays
            // when the schema no longer declares it.
            self.transact(0, &mut |batch| {
                batch.update_index(def.id, |d| d.by_hand = true)
            })?;
            let def = self.state.indexes.list.find(collection, &fields).cloned();
            return Ok((def.expect("still there"), false));
        }
        let mut created = None;
        self.transact(0, &mut |batch| {
            created = Some(batch.add_index(collection, fields.clone(), None)?);
            Ok(())
        })?;
        Ok((created.expect("added"), true))
    }

    /// Removes an index and its entries; `None` when there is none.
    pub fn drop_index(&mut self, collection: &Name, fields: &[String]) -> Result<Option<IndexDef>> {
        let Some(def) = self.state.indexes.list.find(collection, fields).cloned() else {
            return Ok(None);
        };
        self.transact(0, &mut |batch| batch.remove_index(def.id))?;
        Ok(Some(def))
    }

    /// One step of the first index still building: entries for up to
    /// `records` more records, in one transaction. Returns whether any
    /// index is still building after it.
    pub fn build_indexes(&mut self, records: usize) -> Result<bool> {
        if !self.building() {
            return Ok(false);
        }
        self.transact(0, &mut |batch| batch.build_step(records))?;
        Ok(self.building())
    }

    /// Reads the database's state again if another process committed to
    /// it since (a store several hubs share); whether it had.
    pub fn refresh(&mut self) -> Result<bool> {
        let engine = self.engine.clone();
        let meta = guarded(|| engine.meta())?;
        if meta == self.state.meta {
            return Ok(false);
        }
        self.state = guarded(|| Self::load_state(engine.as_ref()))?;
        Ok(true)
    }

    /// The last seq committed.
    pub fn high_seq(&self) -> u64 {
        self.state.meta.next_seq - 1
    }

    /// Runs `f` in one transaction. `now_ms` is wall-clock time for the HLC.
    /// If `f` or the commit fails, nothing is written and the writer's state
    /// is as before.
    pub fn transact(
        &mut self,
        now_ms: u64,
        f: &mut dyn FnMut(&mut Batch<'_>) -> Result<()>,
    ) -> Result<Commit> {
        let mut state = self.state.clone();
        let mut changes = Some(Vec::new());
        let mut reloaded = false;
        let engine = self.engine.clone();
        guarded(|| {
            engine.write(&mut |txn| {
                // A store other processes write too: one committed since
                // our state was read. Under this transaction's lock no one
                // else commits, so the state read again now stays true.
                if let Some(committed) = txn.committed_meta()?
                    && committed != state.meta
                {
                    state = Self::load_state(engine.as_ref())?;
                    reloaded = true;
                }
                let mut batch = Batch {
                    txn,
                    state: &mut state,
                    now_ms,
                    changes: &mut changes,
                    counts: BTreeMap::new(),
                    echo: false,
                    schema_touched: false,
                };
                f(&mut batch)?;
                batch.settle_schema()?;
                for (collection, delta) in std::mem::take(&mut batch.counts) {
                    batch.txn.add_count(&collection, delta)?;
                }
                let meta = batch.state.meta;
                let meta = Meta {
                    hlc: batch.state.clock.last(),
                    ..meta
                };
                batch.txn.set_meta(&meta)
            })
        })?;
        state.meta.hlc = state.clock.last();
        let indexes_changed = !Arc::ptr_eq(&state.indexes, &self.state.indexes);
        self.state = state;
        if indexes_changed || reloaded {
            self.listed.stale();
        }
        Ok(Commit {
            high_seq: self.high_seq(),
            changes,
        })
    }

    /// Applies a chunk received from replica `peer` and moves the checkpoint
    /// for it to `end_seq`, in ONE transaction: a crash either keeps both or
    /// neither, so a resumed sync asks again from the right place.
    ///
    /// Also returns the seqs of entries now stored exactly as the peer sent
    /// them: the peer has those, so they need not go back to it.
    pub fn apply_chunk(
        &mut self,
        now_ms: u64,
        peer: SiteId,
        items: &[crate::store::Item],
        end_seq: u64,
    ) -> Result<(Commit, Vec<u64>)> {
        self.merge_chunk(now_ms, peer, items, end_seq)
    }

    /// As [`Database::apply_chunk`], first refusing a chunk that brings
    /// the newest schema version here with other content
    /// ([`schema::clash`]; `peer_schema` is what the session knows the
    /// peer holds). Checked here, by the one writer, so two sessions cannot
    /// both pass the check and both merge.
    pub fn apply_chunk_from(
        &mut self,
        now_ms: u64,
        peer: SiteId,
        items: &[crate::store::Item],
        end_seq: u64,
        peer_schema: Option<&crate::sync::wire::SchemaAd>,
    ) -> Result<(Commit, Vec<u64>)> {
        if let Some((version, ours, theirs)) =
            schema::clash(self.state.schema.ad().as_ref(), peer_schema, items)
        {
            return Err(StoreError::SchemaConflict {
                version,
                ours,
                theirs,
            });
        }
        self.merge_chunk(now_ms, peer, items, end_seq)
    }

    /// Chunks from several peers merged in ONE transaction, each with its
    /// checkpoint (what a hub's writer does with the chunks its sessions
    /// bring at once: one commit, where each alone would wait for the one
    /// before). The echoes of each chunk, in order. Chunks that touch the
    /// schema are not grouped: see [`Database::groupable`].
    pub fn apply_chunks(
        &mut self,
        now_ms: u64,
        chunks: &[(SiteId, &[crate::store::Item], u64)],
    ) -> Result<(Commit, Vec<Vec<u64>>)> {
        let mut echoes = Vec::new();
        let commit = self.transact(now_ms, &mut |batch| {
            echoes = vec![Vec::new(); chunks.len()];
            batch.txn.prefetch(
                &mut chunks
                    .iter()
                    .flat_map(|(_, items, _)| items.iter())
                    .filter_map(|item| match item {
                        crate::store::Item::Record {
                            collection, key, ..
                        } => Some((collection, key)),
                        _ => None,
                    }),
            )?;
            for ((peer, items, end_seq), echoes) in chunks.iter().zip(&mut echoes) {
                for item in *items {
                    if let Some(seq) = batch.merge_item(item)?
                        && batch.echo
                    {
                        echoes.push(seq);
                    }
                }
                batch.set_checkpoint(*peer, *end_seq)?;
            }
            Ok(())
        })?;
        Ok((commit, echoes))
    }

    /// Whether a chunk may share a transaction with others' chunks: not
    /// when it carries schema versions, which are checked against the
    /// schema as it is before the chunk.
    pub fn groupable(items: &[crate::store::Item]) -> bool {
        let schema = schema::collection();
        !items.iter().any(
            |item| matches!(item, crate::store::Item::Record { collection, .. } if *collection == schema),
        )
    }

    fn merge_chunk(
        &mut self,
        now_ms: u64,
        peer: SiteId,
        items: &[crate::store::Item],
        end_seq: u64,
    ) -> Result<(Commit, Vec<u64>)> {
        let (commit, mut echoes) = self.apply_chunks(now_ms, &[(peer, items, end_seq)])?;
        Ok((commit, echoes.pop().unwrap_or_default()))
    }

    /// Applies `ops` in one transaction; one outcome per op, in order.
    pub fn commit(&mut self, ops: &[WriteOp], now_ms: u64) -> Result<(Commit, Vec<OpOutcome>)> {
        let mut outcomes = Vec::with_capacity(ops.len());
        let commit = self.transact(now_ms, &mut |batch| {
            outcomes.clear();
            batch.txn.prefetch(
                &mut ops
                    .iter()
                    .filter_map(|op| Some((op.collection()?, op.key()?))),
            )?;
            for op in ops {
                outcomes.push(batch.apply(op)?);
            }
            Ok(())
        })?;
        Ok((commit, outcomes))
    }
}

/// The writes of one transaction in progress.
pub struct Batch<'a> {
    pub(crate) txn: &'a mut dyn WriteTxn,
    pub(crate) state: &'a mut WriterState,
    now_ms: u64,
    changes: &'a mut Option<Vec<Change>>,
    /// Visible-record count changes, written once at the end.
    counts: BTreeMap<Name, i64>,
    /// Whether the last merged item is now stored exactly as it came.
    echo: bool,
    /// A schema record (or a drop over one) was written: the newest
    /// version is read again, and migrated to, before the commit.
    schema_touched: bool,
}

impl Batch<'_> {
    pub(crate) fn next_version(&mut self) -> Version {
        Version {
            hlc: self.state.clock.tick(self.now_ms),
            site: self.state.meta.site,
        }
    }

    fn next_seq(&mut self) -> u64 {
        let seq = self.state.meta.next_seq;
        self.state.meta.next_seq += 1;
        seq
    }

    fn record_change(&mut self, change: Change) {
        if let Some(list) = self.changes {
            if list.len() < MAX_CHANGES_IN_COMMIT {
                list.push(change);
            } else {
                *self.changes = None;
            }
        }
    }

    pub(crate) fn count(&mut self, collection: &Name, delta: i64) {
        if delta != 0 {
            *self.counts.entry(collection.clone()).or_default() += delta;
        }
    }

    /// The newest drop marker covering `collection`.
    fn cover(&self, collection: &Name) -> Option<Version> {
        let db = self.state.markers.get(&None).copied();
        let coll = self.state.markers.get(&Some(collection.clone())).copied();
        db.max(coll)
    }

    /// Applies one local operation, which the schema must allow.
    pub fn apply(&mut self, op: &WriteOp) -> Result<OpOutcome> {
        self.apply_checked(op, None)
    }

    /// As [`Batch::apply`]; a put whose document was already checked
    /// against the schema with hash `checked` (an import checks its lines
    /// as they arrive, beside this writer) is not checked again while that
    /// schema is still the one in force.
    pub fn apply_checked(&mut self, op: &WriteOp, checked: Option<&str>) -> Result<OpOutcome> {
        if let Some(collection) = op.collection() {
            self.writable(collection, op.key())?;
        }
        match op {
            WriteOp::Put {
                collection,
                key,
                doc,
            } => {
                if checked.is_none() || checked != self.state.schema.hash() {
                    self.check_doc(collection, key, doc)?;
                }
                let v = self.next_version();
                let seq = self.merge_record(collection, key, &RecordState::put(doc, v))?;
                Ok(OpOutcome::Written {
                    seq: seq.expect("a fresh version always changes the record"),
                    version: v,
                })
            }
            WriteOp::Patch {
                collection,
                key,
                part,
            } => {
                let outcome = self.if_exists(collection, key, |v| RecordState::patch(part, v))?;
                if self.state.schema.schema().is_some() && outcome != OpOutcome::NotFound {
                    self.check_stored(collection, key)?;
                }
                Ok(outcome)
            }
            WriteOp::Delete { collection, key } => {
                self.if_exists(collection, key, RecordState::delete)
            }
            WriteOp::DropCollection { collection } => {
                let v = self.next_version();
                let seq = self.merge_marker(Some(collection), v)?;
                Ok(OpOutcome::Written {
                    seq: seq.expect("a fresh version always moves the marker"),
                    version: v,
                })
            }
            WriteOp::DropDatabase => {
                let v = self.next_version();
                let seq = self.merge_marker(None, v)?;
                Ok(OpOutcome::Written {
                    seq: seq.expect("a fresh version always moves the marker"),
                    version: v,
                })
            }
            WriteOp::SetSchema {
                schema,
                allow_data_loss,
            } => self.set_schema(schema, *allow_data_loss),
            WriteOp::Expect {
                collection,
                key,
                expected,
            } => {
                let current = self
                    .txn
                    .get(collection, key)?
                    .filter(|s| s.state.exists())
                    .map(|s| s.state.max_version().unwrap_or_default());
                let holds = match (expected, current) {
                    (Expected::Absent, current) => current.is_none(),
                    (Expected::Present, current) => current.is_some(),
                    (Expected::Version(any), Some(v)) => any.contains(&v),
                    (Expected::Version(_), None) => false,
                };
                match holds {
                    true => Ok(OpOutcome::Unchanged),
                    false => Err(StoreError::Precondition(Precondition {
                        collection: collection.clone(),
                        key: key.clone(),
                        current,
                    })),
                }
            }
        }
    }

    /// Refuses a local write to the schema's own collection, and any write
    /// while the schema cannot be read here.
    fn writable(&self, collection: &Name, key: Option<&Key>) -> Result<()> {
        let refuse = |message: String| {
            Err(StoreError::Refused(Refusal {
                collection: collection.clone(),
                key: key.cloned(),
                line: None,
                message,
            }))
        };
        if collection.as_str() == schema::COLLECTION {
            return refuse(format!(
                "collection {} holds the database's schema; change it with `syncdb schema set`",
                schema::COLLECTION
            ));
        }
        if let Head::Unreadable {
            version, reason, ..
        } = &self.state.schema
        {
            return refuse(format!(
                "the database's schema version {version} cannot be read by this syncdb ({reason}), so writes to it cannot be checked"
            ));
        }
        Ok(())
    }

    /// Whether the schema allows `doc` at `collection`/`key`.
    fn check_doc(&self, collection: &Name, key: &Key, doc: &Document) -> Result<()> {
        let Some(schema) = self.state.schema.schema() else {
            return Ok(());
        };
        let checked = schema
            .check(collection, doc)
            .and_then(|()| schema.check_key(collection, key, doc));
        checked.map_err(|violation| {
            StoreError::Refused(Refusal {
                collection: collection.clone(),
                key: Some(key.clone()),
                line: None,
                message: format!(
                    "breaks schema {} v{}: {violation}",
                    schema.name, schema.version
                ),
            })
        })
    }

    /// Checks the record as it now stands (a patch's merged result).
    fn check_stored(&mut self, collection: &Name, key: &Key) -> Result<()> {
        let Some(json) = self
            .txn
            .get(collection, key)?
            .and_then(|s| s.state.visible_json())
        else {
            return Ok(());
        };
        let doc = Document::parse(&json, usize::MAX)?;
        self.check_doc(collection, key, &doc)
    }

    fn set_schema(&mut self, new: &Arc<Schema>, allow_data_loss: bool) -> Result<OpOutcome> {
        let coll = schema::collection();
        let refuse = |message: String| {
            Err(StoreError::Refused(Refusal {
                collection: coll.clone(),
                key: Some(schema::record_key(new.version)),
                line: None,
                message,
            }))
        };
        let current = &self.state.schema;
        let (have, have_hash) = (current.version(), current.hash().map(str::to_owned));
        if new.version < have {
            return refuse(format!(
                "the database is at schema version {have}; version {} is older: give the new schema a version above {have}",
                new.version
            ));
        }
        if new.version == have {
            if have_hash.as_deref() == Some(new.hash()) {
                let key = schema::record_key(have);
                let stored = self.txn.get(&coll, &key)?.expect("the head is stored");
                return Ok(OpOutcome::Written {
                    seq: stored.seq,
                    version: stored.state.max_version().unwrap_or_default(),
                });
            }
            return refuse(format!(
                "the database has schema version {have} already, with other content (hash {}); give the new schema version {}",
                have_hash.as_deref().map_or("", |h| &h[..12]),
                have + 1
            ));
        }
        if !allow_data_loss {
            let lost: Vec<String> = self
                .plan(&new.migrate)?
                .into_iter()
                .filter(|p| p.lost > 0)
                .map(|p| {
                    format!(
                        "{} ({})",
                        p.step.describe(),
                        crate::words::count(p.lost, "record")
                    )
                })
                .collect();
            if !lost.is_empty() {
                return refuse(format!(
                    "its steps would lose data: {}; see `syncdb schema diff`, then set it again with --allow-data-loss",
                    lost.join("; ")
                ));
            }
        }
        let v = self.next_version();
        let state = RecordState::put(&new.to_document(), v);
        let seq = self.merge_record(&coll, &schema::record_key(new.version), &state)?;
        Ok(OpOutcome::Written {
            seq: seq.expect("a fresh version always changes the record"),
            version: v,
        })
    }

    /// What `steps` would do to the data as it stands in this transaction.
    pub fn plan(&mut self, steps: &[Step]) -> Result<Vec<StepPlan>> {
        let txn = std::cell::RefCell::new(&mut *self.txn);
        crate::migrate::plan(
            steps,
            &mut |c| {
                let records = txn.borrow_mut().records(Some(c))?;
                Ok(records.into_iter().map(|(_, k, s)| (k, s.state)).collect())
            },
            &mut |c, k| {
                let stored = txn.borrow_mut().get(c, k)?;
                Ok(stored.is_some_and(|s| s.state.exists()))
            },
        )
    }

    /// After the transaction's own writes: if they moved the newest schema
    /// version up, the steps of every version passed run now, in the same
    /// transaction, so a replica never holds a version without its data.
    fn settle_schema(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.schema_touched) {
            return Ok(());
        }
        let records: Vec<(Key, String)> = self
            .txn
            .records(Some(&schema::collection()))?
            .into_iter()
            .filter_map(|(_, k, s)| Some((k, s.state.visible_json()?)))
            .collect();
        let new = Head::of(records.iter().cloned());
        let from = self.state.schema.version();
        if new.version() > from {
            let mut passed: Vec<Arc<Schema>> = records
                .iter()
                .filter(|(k, _)| {
                    schema::key_version(k).is_some_and(|v| v > from && v <= new.version())
                })
                .filter_map(|(k, json)| Schema::from_record(k, json).ok().map(Arc::new))
                .collect();
            passed.sort_by_key(|s| s.version);
            for version in passed {
                for step in &version.migrate {
                    self.run_step(step)?;
                }
            }
        }
        self.state.schema = new;
        self.declare_indexes()
    }

    /// Adds a new index to the list (building from the first record).
    fn add_index(
        &mut self,
        collection: &Name,
        fields: Vec<String>,
        declared: Option<u64>,
    ) -> Result<IndexDef> {
        let mut list = self.state.indexes.list.clone();
        let def = IndexDef {
            id: list.next_id,
            collection: collection.clone(),
            fields,
            state: IndexState::Building,
            declared,
            by_hand: declared.is_none(),
        };
        list.next_id = list
            .next_id
            .checked_add(1)
            .ok_or_else(|| StoreError::Aborted("no index ids are left in this database".into()))?;
        list.indexes.push(def.clone());
        self.set_indexes(list)?;
        Ok(def)
    }

    fn remove_index(&mut self, id: u32) -> Result<()> {
        let mut list = self.state.indexes.list.clone();
        let Some(i) = list.indexes.iter().position(|d| d.id == id) else {
            return Ok(());
        };
        let def = list.indexes.remove(i);
        let (lo, hi) = def.all();
        self.txn.index_remove_range(&lo, &hi)?;
        self.txn.set_meta_blob(&def.progress_name(), None)?;
        self.set_indexes(list)
    }

    /// Changes one index of the list (nothing when it is gone).
    fn update_index(&mut self, id: u32, change: impl FnOnce(&mut IndexDef)) -> Result<()> {
        let mut list = self.state.indexes.list.clone();
        match list.indexes.iter_mut().find(|d| d.id == id) {
            Some(def) => change(def),
            None => return Ok(()),
        }
        self.set_indexes(list)
    }

    fn set_indexes(&mut self, list: IndexList) -> Result<()> {
        self.txn
            .set_meta_blob(crate::index::META_NAME, Some(&list.encode()))?;
        self.state.indexes = Arc::new(Indexes::new(list));
        Ok(())
    }

    fn build_step(&mut self, records: usize) -> Result<()> {
        let indexes = self.state.indexes.clone();
        let Some(i) = indexes.list.indexes.iter().position(|d| !d.is_ready()) else {
            return Ok(());
        };
        let (def, paths) = (&indexes.list.indexes[i], &indexes.paths[i]);
        let progress_name = def.progress_name();
        let progress = BuildProgress::decode(self.txn.meta_blob(&progress_name)?.as_deref())
            .map_err(StoreError::Corrupt)?;
        let page = self
            .txn
            .scan_records(&def.collection, progress.after.as_ref(), records)?;
        let fields: Vec<String> = paths.iter().map(|p| p.top().to_owned()).collect();
        for (key, stored) in &page {
            if let Some(doc) = indexed_doc(Some(&stored.state), &fields) {
                self.txn.index_insert(&def.entry(paths, key, &doc))?;
            }
        }
        match page.last() {
            Some((last, _)) if page.len() == records => {
                let progress = BuildProgress {
                    after: Some(last.clone()),
                    done: progress.done + page.len() as u64,
                };
                self.txn
                    .set_meta_blob(&progress_name, Some(&progress.encode()))
            }
            _ => {
                self.txn.set_meta_blob(&progress_name, None)?;
                self.update_index(def.id, |d| d.state = IndexState::Ready)
            }
        }
    }

    /// Keeps the indexes a readable schema declares: adds the missing ones
    /// (to be built), and removes those an earlier version declared and
    /// this one does not.
    fn declare_indexes(&mut self) -> Result<()> {
        let Some(schema) = self.state.schema.schema().cloned() else {
            return Ok(());
        };
        let declared: Vec<(Name, Vec<String>)> = schema
            .collections
            .iter()
            .flat_map(|(c, coll)| coll.indexes.iter().map(|f| (c.clone(), f.clone())))
            .collect();
        let list = self.state.indexes.list.clone();
        for def in &list.indexes {
            let still = declared
                .iter()
                .any(|(c, f)| c == &def.collection && f == &def.fields);
            match (def.declared, still, def.by_hand) {
                (Some(_), false, false) => self.remove_index(def.id)?,
                (Some(_), false, true) => self.update_index(def.id, |d| d.declared = None)?,
                _ => {}
            }
        }
        for (collection, fields) in declared {
            let found = self.state.indexes.list.find(&collection, &fields);
            match found.map(|d| (d.id, d.declared)) {
                Some((_, v)) if v == Some(schema.version) => {}
                Some((id, _)) => self.update_index(id, |d| d.declared = Some(schema.version))?,
                None => {
                    self.add_index(&collection, fields, Some(schema.version))?;
                }
            }
        }
        Ok(())
    }

    /// Moves the entries of every index on `collection` from the record's
    /// `old` state to its `new` one (`None`: no longer stored).
    pub(crate) fn reindex(
        &mut self,
        collection: &Name,
        key: &Key,
        old: Option<&RecordState>,
        new: Option<&RecordState>,
    ) -> Result<()> {
        let indexes = self.state.indexes.clone();
        let Some((on, fields)) = indexes.on.get(collection) else {
            return Ok(());
        };
        let (old, new) = (indexed_doc(old, fields), indexed_doc(new, fields));
        for &i in on {
            let (def, paths) = (&indexes.list.indexes[i], &indexes.paths[i]);
            let before = old.as_ref().map(|d| def.entry(paths, key, d));
            let after = new.as_ref().map(|d| def.entry(paths, key, d));
            if before == after {
                continue;
            }
            if let Some(e) = before {
                self.txn.index_remove(&e)?;
            }
            if let Some(e) = after {
                self.txn.index_insert(&e)?;
            }
        }
        Ok(())
    }

    /// Runs one step over the records it reads, as merges.
    fn run_step(&mut self, step: &Step) -> Result<()> {
        if let Step::RemoveCollection { collection } = step {
            let v = self.next_version();
            self.merge_marker(Some(collection), v)?;
            return Ok(());
        }
        let me = self.state.meta.site;
        for (_, key, stored) in self.txn.records(Some(step.source()))? {
            for edit in step.edits(&key, &stored.state, me) {
                self.merge_record(&edit.collection, &edit.key, &edit.state)?;
            }
        }
        Ok(())
    }

    fn if_exists(
        &mut self,
        collection: &Name,
        key: &Key,
        make: impl FnOnce(Version) -> RecordState,
    ) -> Result<OpOutcome> {
        let existing = self.txn.get(collection, key)?;
        let Some(stored) = existing.filter(|s| s.state.exists()) else {
            return Ok(OpOutcome::NotFound);
        };
        let v = self.next_version();
        Ok(match self.merge_record(collection, key, &make(v))? {
            Some(seq) => OpOutcome::Written { seq, version: v },
            // An empty patch (`{}`) changes nothing: report the record as it is.
            None => OpOutcome::Written {
                seq: stored.seq,
                version: stored.state.max_version().unwrap_or_default(),
            },
        })
    }

    /// Merges a change received from another replica. Idempotent: an item
    /// already merged changes nothing and uses no seq.
    pub fn merge_item(&mut self, item: &Item) -> Result<Option<u64>> {
        match item {
            Item::Record {
                collection,
                key,
                state,
            } => {
                if let Some(max) = state.max_version() {
                    self.state.clock.observe(max.hlc);
                }
                self.merge_record(collection, key, state)
            }
            Item::DropCollection {
                collection,
                version,
            } => {
                self.state.clock.observe(version.hlc);
                self.merge_marker(Some(collection), *version)
            }
            Item::DropDatabase { version } => {
                self.state.clock.observe(version.hlc);
                self.merge_marker(None, *version)
            }
        }
    }

    /// Records that this replica has applied `peer`'s feed up to `seq`.
    pub fn set_checkpoint(&mut self, peer: SiteId, seq: u64) -> Result<()> {
        self.txn.set_checkpoint(peer, seq)
    }

    /// Joins `incoming` into the stored record; returns the new seq if the
    /// record changed.
    fn merge_record(
        &mut self,
        collection: &Name,
        key: &Key,
        incoming: &RecordState,
    ) -> Result<Option<u64>> {
        if collection.as_str() == schema::COLLECTION {
            self.schema_touched = true;
        }
        let existing = self.txn.get(collection, key)?;
        let was_visible = existing.as_ref().is_some_and(|s| s.state.exists());
        let mut state = existing
            .as_ref()
            .map(|s| s.state.clone())
            .unwrap_or_default();
        state.merge(incoming);
        if let Some(marker) = self.cover(collection) {
            let cover = RecordState::delete(marker);
            state.merge(&cover);
            if existing.is_none() && state == cover {
                return Ok(None); // entirely older than a drop: nothing to keep
            }
        }
        if existing.as_ref().is_some_and(|s| s.state == state) {
            return Ok(None);
        }
        let seq = self.next_seq();
        self.txn.put(collection, key, &state, seq)?;
        self.reindex(
            collection,
            key,
            existing.as_ref().map(|s| &s.state),
            Some(&state),
        )?;
        self.count(
            collection,
            i64::from(state.exists()) - i64::from(was_visible),
        );
        self.echo = state == *incoming;
        self.record_change(Change {
            seq,
            item: Item::Record {
                collection: collection.clone(),
                key: key.clone(),
                state,
            },
        });
        Ok(Some(seq))
    }

    /// Moves a drop marker forward and applies it to the records it covers.
    fn merge_marker(&mut self, collection: Option<&Name>, version: Version) -> Result<Option<u64>> {
        let scope = collection.cloned();
        if self
            .state
            .markers
            .get(&scope)
            .is_some_and(|&m| m >= version)
        {
            return Ok(None);
        }
        if collection.is_none_or(|c| c.as_str() == schema::COLLECTION) {
            self.schema_touched = true;
        }
        let seq = self.next_seq();
        self.echo = true; // the marker is now exactly `version`
        self.txn.set_marker(collection, version, seq)?;
        self.state.markers.insert(scope, version);
        let cover = RecordState::delete(version);
        for (coll, key, stored) in self.txn.records(collection)? {
            let mut state = stored.state.clone();
            state.merge(&cover);
            if state == stored.state {
                continue;
            }
            self.count(
                &coll,
                i64::from(state.exists()) - i64::from(stored.state.exists()),
            );
            if state == cover {
                self.txn.remove(&coll, &key)?;
                self.reindex(&coll, &key, Some(&stored.state), None)?;
            } else {
                // Same seq: the marker's own feed entry tells peers about it.
                self.txn.put(&coll, &key, &state, stored.seq)?;
                self.reindex(&coll, &key, Some(&stored.state), Some(&state))?;
            }
        }
        let item = match collection {
            Some(c) => Item::DropCollection {
                collection: c.clone(),
                version,
            },
            None => Item::DropDatabase { version },
        };
        self.record_change(Change { seq, item });
        Ok(Some(seq))
    }
}

/// The document an index sees in a record state, as a query sees it
/// (`query::doc_from_fields`), with only the top-level fields in `wanted`;
/// `None` when the record does not exist.
fn indexed_doc(state: Option<&RecordState>, wanted: &[String]) -> Option<serde_json::Value> {
    let state = state.filter(|s| s.exists())?;
    Some(crate::query::doc_from_fields(
        state
            .visible_fields()
            .filter(|(n, _)| wanted.iter().any(|w| w == n)),
    ))
}

/// A record that breaks the schema: where, and why.
pub type Violating = (Name, Key, schema::Violation);

/// A page of [`Reader::scan_visible`]: records with their newest version,
/// and the last key read when the page was full (the next page's `after`).
pub type ScanPage = (Vec<(Key, String, Version)>, Option<Key>);

/// A visible record as reads return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisibleRecord {
    pub key: Key,
    /// The visible document as JSON text.
    pub doc: String,
    pub seq: u64,
    /// The newest version among the record's writes.
    pub version: Version,
}

impl Reader {
    /// The history meta as the store holds it now (which another process
    /// may have written since this database's writer read it).
    pub fn history(&self) -> Result<crate::history::History> {
        let blob = self.engine.meta_blob(crate::history::META_NAME)?;
        crate::history::History::decode(blob.as_deref()).map_err(StoreError::Corrupt)
    }

    pub fn kind(&self) -> EngineKind {
        self.engine.kind()
    }

    pub fn meta(&self) -> Result<Meta> {
        guarded(|| self.engine.meta())
    }

    pub fn get(&self, collection: &Name, key: &Key) -> Result<Option<VisibleRecord>> {
        let Some(stored) = guarded(|| self.engine.get(collection, key))? else {
            return Ok(None);
        };
        Ok(stored.state.visible_json().map(|doc| VisibleRecord {
            key: key.clone(),
            doc,
            seq: stored.seq,
            version: stored.state.max_version().unwrap_or_default(),
        }))
    }

    /// Visible records of `collection` in key order after `after`, with keys
    /// starting with `prefix`, at most `limit`.
    pub fn list(
        &self,
        collection: &Name,
        prefix: &str,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, String)>> {
        self.list_within(collection, prefix, after, limit, usize::MAX)
    }

    /// As [`Reader::list`], stopping once the documents add up to `max_bytes`
    /// (past the first one, so a page always moves on). The store is read
    /// in steps sized by the documents seen so far, so a page of large
    /// ones holds little more than `max_bytes` in memory.
    pub fn list_within(
        &self,
        collection: &Name,
        prefix: &str,
        after: Option<&Key>,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<(Key, String)>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut cursor = after.cloned();
        while out.len() < limit && (out.is_empty() || bytes < max_bytes) {
            let left = limit - out.len();
            let want = match (max_bytes, out.len()) {
                (usize::MAX, _) => left.max(64),
                (_, 0) => left.min(16),
                (_, n) => ((max_bytes - bytes) / (bytes / n).max(1))
                    .clamp(1, 1024)
                    .min(left),
            };
            let page = guarded(|| self.engine.scan(collection, prefix, cursor.as_ref(), want))?;
            let Some((last, _)) = page.last() else { break };
            cursor = Some(last.clone());
            let full = page.len();
            for (key, state) in page {
                if out.len() >= limit || (!out.is_empty() && bytes >= max_bytes) {
                    break;
                }
                if let Some(doc) = state.visible_json() {
                    bytes += doc.len();
                    out.push((key, doc));
                }
            }
            if full < want {
                break;
            }
        }
        Ok(out)
    }

    /// Visible records of `collection` in key order after `after`, at most
    /// `limit` read from the store (tombstones among them are skipped), each
    /// with its newest version: what a query scans.
    pub fn scan_visible(
        &self,
        collection: &Name,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<ScanPage> {
        let page = guarded(|| self.engine.scan(collection, "", after, limit))?;
        let last = (page.len() == limit)
            .then(|| page.last().map(|(k, _)| k.clone()))
            .flatten();
        let out = page
            .into_iter()
            .filter_map(|(key, state)| {
                let version = state.max_version().unwrap_or_default();
                state.visible_json().map(|doc| (key, doc, version))
            })
            .collect();
        Ok((out, last))
    }

    /// The database's collections with their visible-record counts; the
    /// schema's own collection is not one of them (`schema show` reads it).
    pub fn collections(&self) -> Result<Vec<(Name, u64)>> {
        let mut all = guarded(|| self.engine.collections())?;
        all.retain(|(c, _)| c.as_str() != schema::COLLECTION);
        Ok(all)
    }

    /// A record's merged state, tombstones included.
    pub fn state(&self, collection: &Name, key: &Key) -> Result<Option<RecordState>> {
        Ok(guarded(|| self.engine.get(collection, key))?.map(|s| s.state))
    }

    /// Writes a consistent copy of the database, as of one snapshot, to a
    /// new file at `dest`; writers go on meanwhile.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        guarded(|| self.engine.backup_to(dest))
    }

    /// Closes the file for every handle (the writer's too), once calls in
    /// progress end; later calls fail with [`StoreError::Closed`]. Before
    /// the file is moved away.
    pub fn close(&self) {
        self.engine.close()
    }

    /// Every record, tombstones included, in (collection, key) order.
    pub fn visit(&self, f: &mut dyn FnMut(&Name, &Key, &RecordState)) -> Result<()> {
        guarded(|| self.engine.visit_records(f))
    }

    /// The drop markers: per collection (`None`: the whole database).
    pub fn markers(&self) -> Result<Vec<(Option<Name>, Version)>> {
        guarded(|| self.engine.markers())
    }

    pub fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Change>> {
        guarded(|| self.engine.changes_since(since, limit))
    }

    pub fn checkpoint(&self, peer: SiteId) -> Result<u64> {
        guarded(|| self.engine.checkpoint(peer))
    }

    pub fn count_since(&self, since: u64) -> Result<u64> {
        guarded(|| self.engine.count_since(since))
    }

    /// A hash of everything replicas must agree on: every record's merged
    /// state (tombstones included) and the drop markers — not local seqs or
    /// checkpoints. Equal on converged replicas, whatever their engines.
    pub fn digest(&self) -> Result<String> {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let mut frame = |part: &[u8]| {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        };
        guarded(|| {
            self.engine.visit_records(&mut |c, k, state| {
                frame(c.as_str().as_bytes());
                frame(k.as_str().as_bytes());
                frame(&crate::store::codec::encode_state(state));
            })
        })?;
        let mut markers = guarded(|| self.engine.markers())?;
        markers.sort();
        for (scope, v) in markers {
            frame(scope.as_ref().map_or(&b""[..], |n| n.as_str().as_bytes()));
            frame(&crate::store::codec::encode_version(&v));
        }
        Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The newest schema version stored in the database.
    pub fn schema(&self) -> Result<Head> {
        let records = guarded(|| {
            self.engine
                .scan(&schema::collection(), "", None, usize::MAX)
        })?;
        Ok(Head::of(
            records
                .into_iter()
                .filter_map(|(k, state)| Some((k, state.visible_json()?))),
        ))
    }

    /// Visible records that break `schema` (merges are never refused, so
    /// a replica may hold some): how many, and the first `limit` of them.
    pub fn violations(&self, schema: &Schema, limit: usize) -> Result<(u64, Vec<Violating>)> {
        let mut count = 0;
        let mut listed = Vec::new();
        for (collection, _) in self.collections()? {
            if !schema.strict && !schema.collections.contains_key(&collection) {
                continue;
            }
            let mut after: Option<Key> = None;
            loop {
                let page = self.list(&collection, "", after.as_ref(), 1024)?;
                let Some((last, _)) = page.last() else { break };
                after = Some(last.clone());
                for (key, json) in page {
                    let doc = Document::parse(&json, usize::MAX)?;
                    let checked = schema
                        .check(&collection, &doc)
                        .and_then(|()| schema.check_key(&collection, &key, &doc));
                    if let Err(v) = checked {
                        count += 1;
                        if listed.len() < limit {
                            listed.push((collection.clone(), key, v));
                        }
                    }
                }
            }
        }
        Ok((count, listed))
    }

    /// What `steps` would do to the data as it stands (`schema diff`).
    pub fn plan(&self, steps: &[Step]) -> Result<Vec<StepPlan>> {
        crate::migrate::plan(
            steps,
            &mut |c| guarded(|| self.engine.scan(c, "", None, usize::MAX)),
            &mut |c, k| Ok(guarded(|| self.engine.get(c, k))?.is_some_and(|s| s.state.exists())),
        )
    }

    /// Visible records in the database.
    pub fn record_count(&self) -> Result<u64> {
        Ok(self.collections()?.iter().map(|(_, n)| n).sum())
    }

    /// Dropped and not written to since: a database drop marker and no
    /// visible record. Listings hide it; the file stays, holding the marker
    /// that keeps older writes from other replicas out.
    pub fn is_dropped(&self) -> Result<bool> {
        let dropped = self.markers()?.iter().any(|(scope, _)| scope.is_none());
        // A schema set since counts as a write: the database is back.
        let all = guarded(|| self.engine.collections())?;
        Ok(dropped && all.iter().all(|(_, n)| *n == 0))
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("kind", &self.engine.kind())
            .finish()
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("kind", &self.engine.kind())
            .field("site", &self.state.meta.site)
            .finish()
    }
}

impl From<crate::doc::DocError> for StoreError {
    fn from(e: crate::doc::DocError) -> Self {
        StoreError::Aborted(e.to_string())
    }
}
