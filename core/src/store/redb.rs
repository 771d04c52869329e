//! The default engine: redb, pure Rust, one file per database.
//!
//! Tables: `records` (collection NUL key → seq ‖ state), `by_seq` (seq →
//! target), `markers` (scope → seq ‖ version; "" is the database),
//! `counts` (collection → visible records), `meta`, `checkpoints`, `index`
//! (index entries, see `crate::index`).
//! Commits use redb's default `Durability::Immediate`: durable on return.

use std::ops::Bound;
use std::path::Path;
use std::sync::PoisonError;

use redb::{ReadableDatabase, ReadableTable, Table, TableDefinition};

use super::codec::{
    decode_state, decode_version, encode_state, encode_version, record_key, split_record_key,
};
use super::{
    Change, Engine, EngineKind, IndexHit, Item, Meta, Result, Space, StoreError, Stored, WriteTxn,
};
use crate::names::{Key, Name};
use crate::record::RecordState;
use crate::version::{SiteId, Version};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");
const BY_SEQ: TableDefinition<u64, &[u8]> = TableDefinition::new("by_seq");
const MARKERS: TableDefinition<&str, &[u8]> = TableDefinition::new("markers");
const COUNTS: TableDefinition<&str, u64> = TableDefinition::new("counts");
const CHECKPOINTS: TableDefinition<&[u8], u64> = TableDefinition::new("checkpoints");
const INDEX: TableDefinition<&[u8], ()> = TableDefinition::new("index");

/// redb's page cache and write buffer share this budget (its default is
/// 1 GiB). Past it, dirty pages of a large transaction spill to the file, so
/// a million-record import stays within the daemon's memory budget; measured
/// in BENCHMARKS.md.
const CACHE_BYTES: usize = 48 << 20;

/// redb refuses every operation after an I/O error (a full disk, say) until
/// the database is closed and opened again; so the handle sits behind a lock
/// and a failed write reopens it, repairing if needed, once reads are done.
/// A panic inside redb (damaged pages) is caught above (`db::guarded`); the
/// lock ignores the poisoning it leaves, as the handle is either open or
/// `None` and the next access reopens it.
pub struct RedbEngine {
    path: std::path::PathBuf,
    db: std::sync::RwLock<Option<redb::Database>>,
    /// Set by `Engine::close`: the file is not opened again.
    closed: std::sync::atomic::AtomicBool,
}

fn err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Redb(e.into())
}

/// by_seq values: which entry a seq belongs to.
fn target_record(collection: &Name, key: &Key) -> Vec<u8> {
    let mut out = vec![b'r'];
    out.extend(record_key(collection, key));
    out
}

fn target_marker(collection: Option<&Name>) -> Vec<u8> {
    match collection {
        Some(c) => [b"c", c.as_str().as_bytes()].concat(),
        None => b"d".to_vec(),
    }
}

fn scope(collection: Option<&Name>) -> &str {
    collection.map_or("", Name::as_str)
}

fn split_seq(bytes: &[u8]) -> Result<(u64, &[u8])> {
    if bytes.len() < 8 {
        return Err(StoreError::Corrupt("short entry".into()));
    }
    let (seq, rest) = bytes.split_at(8);
    Ok((u64::from_be_bytes(seq.try_into().expect("8 bytes")), rest))
}

fn with_seq(seq: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn read_u64(bytes: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("bad counter".into()))?;
    Ok(u64::from_be_bytes(arr))
}

/// A read lock on a handle known to be open.
struct Handle<'a>(std::sync::RwLockReadGuard<'a, Option<redb::Database>>);

impl std::ops::Deref for Handle<'_> {
    type Target = redb::Database;
    fn deref(&self) -> &redb::Database {
        self.0.as_ref().expect("checked open")
    }
}

fn open_file(path: &Path) -> Result<redb::Database> {
    redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        .create(path)
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                StoreError::InUse(path.display().to_string())
            }
            other => err(other),
        })
}

impl RedbEngine {
    pub fn open(path: &Path) -> Result<Self> {
        let engine = RedbEngine {
            path: path.to_owned(),
            db: std::sync::RwLock::new(Some(open_file(path)?)),
            closed: Default::default(),
        };
        engine.init()?;
        Ok(engine)
    }

    /// The open handle; reopens first if a failed write left it closed.
    fn db(&self) -> Result<Handle<'_>> {
        for _ in 0..2 {
            let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
            if guard.is_some() {
                return Ok(Handle(guard));
            }
            drop(guard);
            if self.closed.load(std::sync::atomic::Ordering::Acquire) {
                return Err(StoreError::Closed);
            }
            self.reopen()?;
        }
        Err(StoreError::Io(std::io::Error::other(
            "database file could not be reopened",
        )))
    }

    /// Closes and reopens the file (redb repairs it on open if needed).
    fn reopen(&self) -> Result<()> {
        let mut guard = self.db.write().unwrap_or_else(PoisonError::into_inner);
        *guard = None; // close first: a file is open once per process
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        *guard = Some(open_file(&self.path)?);
        Ok(())
    }

    /// Creates the tables and the replica's identity on first open.
    fn init(&self) -> Result<()> {
        let db = self.db()?;
        let txn = db.begin_write().map_err(err)?;
        {
            let mut meta = txn.open_table(META).map_err(err)?;
            if meta.get("site").map_err(err)?.is_none() {
                meta.insert("site", &SiteId::random().0[..]).map_err(err)?;
                meta.insert("next_seq", &1u64.to_be_bytes()[..])
                    .map_err(err)?;
                meta.insert("hlc", &0u64.to_be_bytes()[..]).map_err(err)?;
            }
            txn.open_table(RECORDS).map_err(err)?;
            txn.open_table(BY_SEQ).map_err(err)?;
            txn.open_table(MARKERS).map_err(err)?;
            txn.open_table(COUNTS).map_err(err)?;
            txn.open_table(CHECKPOINTS).map_err(err)?;
            txn.open_table(INDEX).map_err(err)?;
        }
        txn.commit().map_err(err)
    }

    /// Opens a closed file and runs redb's integrity check (repairing if needed).
    pub fn check_file(path: &Path) -> Result<()> {
        let mut db = redb::Database::open(path).map_err(err)?;
        db.check_integrity().map_err(err)?;
        Ok(())
    }
}

impl Engine for RedbEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Redb
    }

    fn meta(&self) -> Result<Meta> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(META).map_err(err)?;
        let get = |name: &str| -> Result<Vec<u8>> {
            t.get(name)
                .map_err(err)?
                .map(|g| g.value().to_vec())
                .ok_or_else(|| StoreError::Corrupt(format!("meta {name} missing")))
        };
        let site: [u8; 16] = get("site")?
            .try_into()
            .map_err(|_| StoreError::Corrupt("bad site id".into()))?;
        Ok(Meta {
            site: SiteId(site),
            next_seq: read_u64(&get("next_seq")?)?,
            hlc: read_u64(&get("hlc")?)?,
        })
    }

    fn get(&self, collection: &Name, key: &Key) -> Result<Option<Stored>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(RECORDS).map_err(err)?;
        let found = t.get(record_key(collection, key).as_slice()).map_err(err)?;
        found.map(|g| decode_stored(g.value())).transpose()
    }

    fn scan(
        &self,
        collection: &Name,
        prefix: &str,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, RecordState)>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(RECORDS).map_err(err)?;
        let mut start = collection.as_str().as_bytes().to_vec();
        start.push(0);
        let coll_len = start.len();
        start.extend_from_slice(prefix.as_bytes());
        let after_key = after.map(|k| record_key(collection, k));
        let lower = match &after_key {
            Some(a) if a.as_slice() >= start.as_slice() => Bound::Excluded(a.as_slice()),
            _ => Bound::Included(start.as_slice()),
        };
        let mut out = Vec::new();
        for entry in t.range::<&[u8]>((lower, Bound::Unbounded)).map_err(err)? {
            let (k, v) = entry.map_err(err)?;
            let k = k.value();
            if out.len() >= limit || !k.starts_with(&start) {
                break;
            }
            let key = std::str::from_utf8(&k[coll_len..])
                .ok()
                .and_then(|s| Key::parse(s).ok())
                .ok_or_else(|| StoreError::Corrupt("bad key".into()))?;
            out.push((key, decode_stored(v.value())?.state));
        }
        Ok(out)
    }

    fn collections(&self) -> Result<Vec<(Name, u64)>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(COUNTS).map_err(err)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(err)? {
            let (k, v) = entry.map_err(err)?;
            let name = Name::parse_as("collection", k.value())
                .map_err(|_| StoreError::Corrupt("bad collection name".into()))?;
            out.push((name, v.value()));
        }
        Ok(out)
    }

    fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Change>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let by_seq = txn.open_table(BY_SEQ).map_err(err)?;
        let records = txn.open_table(RECORDS).map_err(err)?;
        let markers = txn.open_table(MARKERS).map_err(err)?;
        let mut out = Vec::new();
        for entry in by_seq
            .range(since.saturating_add(1)..)
            .map_err(err)?
            .take(limit)
        {
            let (seq, target) = entry.map_err(err)?;
            let seq = seq.value();
            let target = target.value();
            let missing = || StoreError::Corrupt(format!("by_seq {seq} points nowhere"));
            let item = match target.split_first() {
                Some((b'r', rk)) => {
                    let (collection, key) = split_record_key(rk)?;
                    let v = records.get(rk).map_err(err)?.ok_or_else(missing)?;
                    let state = decode_stored(v.value())?.state;
                    Item::Record {
                        collection,
                        key,
                        state,
                    }
                }
                Some((b'c', coll)) => {
                    let name = std::str::from_utf8(coll).map_err(|_| missing())?;
                    let v = markers.get(name).map_err(err)?.ok_or_else(missing)?;
                    Item::DropCollection {
                        collection: Name::parse_as("collection", name).map_err(|_| missing())?,
                        version: decode_version(split_seq(v.value())?.1)?,
                    }
                }
                Some((b'd', _)) => {
                    let v = markers.get("").map_err(err)?.ok_or_else(missing)?;
                    Item::DropDatabase {
                        version: decode_version(split_seq(v.value())?.1)?,
                    }
                }
                _ => return Err(missing()),
            };
            out.push(Change { seq, item });
        }
        Ok(out)
    }

    fn count_since(&self, since: u64) -> Result<u64> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let by_seq = txn.open_table(BY_SEQ).map_err(err)?;
        let mut n = 0;
        for entry in by_seq.range(since.saturating_add(1)..).map_err(err)? {
            entry.map_err(err)?;
            n += 1;
        }
        Ok(n)
    }

    fn visit_records(&self, f: &mut dyn FnMut(&Name, &Key, &RecordState)) -> Result<()> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(RECORDS).map_err(err)?;
        for entry in t.iter().map_err(err)? {
            let (k, v) = entry.map_err(err)?;
            let (c, key) = split_record_key(k.value())?;
            f(&c, &key, &decode_stored(v.value())?.state);
        }
        Ok(())
    }

    fn markers(&self) -> Result<Vec<(Option<Name>, Version)>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(MARKERS).map_err(err)?;
        let mut out = Vec::new();
        for entry in t.iter().map_err(err)? {
            let (k, v) = entry.map_err(err)?;
            let scope = match k.value() {
                "" => None,
                name => Some(
                    Name::parse_as("collection", name)
                        .map_err(|_| StoreError::Corrupt("bad marker scope".into()))?,
                ),
            };
            out.push((scope, decode_version(split_seq(v.value())?.1)?));
        }
        Ok(out)
    }

    fn checkpoint(&self, peer: SiteId) -> Result<u64> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(CHECKPOINTS).map_err(err)?;
        Ok(t.get(&peer.0[..]).map_err(err)?.map_or(0, |g| g.value()))
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTxn) -> Result<()>) -> Result<()> {
        let outcome = self.write_once(f);
        if let Err(e) = &outcome
            && !matches!(e, StoreError::Aborted(_))
        {
            // After an I/O error redb works again only once reopened. If that
            // fails too (the disk is still full), the next call tries again.
            let _ = self.reopen();
        }
        outcome
    }

    fn compact(&self) -> Result<()> {
        // The write lock waits out every read (each holds the read lock for
        // its transaction), which redb's compaction requires.
        let mut guard = self.db.write().unwrap_or_else(PoisonError::into_inner);
        let Some(db) = guard.as_mut() else {
            return Ok(());
        };
        // Each pass moves pages toward the start and trims the end.
        for _ in 0..8 {
            if !db.compact().map_err(err)? {
                break;
            }
        }
        Ok(())
    }

    fn space(&self) -> Result<Space> {
        let db = self.db()?;
        let txn = db.begin_write().map_err(err)?;
        let stats = txn.stats().map_err(err)?;
        txn.abort().map_err(err)?;
        let file_bytes = std::fs::metadata(&self.path)?.len();
        let used = stats.allocated_pages() * stats.page_size() as u64;
        Ok(Space {
            file_bytes,
            free_bytes: file_bytes.saturating_sub(used) + stats.fragmented_bytes(),
        })
    }

    fn close(&self) {
        // Waits for calls in progress (they hold the lock for reading).
        let mut guard = self.db.write().unwrap_or_else(PoisonError::into_inner);
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        *guard = None;
    }

    fn backup_to(&self, dest: &Path) -> Result<()> {
        let db = self.db()?;
        let src = db.begin_read().map_err(err)?;
        let copy = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(dest)
            .map_err(err)?;
        let txn = copy.begin_write().map_err(err)?;
        copy_table(&src, &txn, META)?;
        copy_table(&src, &txn, RECORDS)?;
        copy_table(&src, &txn, BY_SEQ)?;
        copy_table(&src, &txn, MARKERS)?;
        copy_table(&src, &txn, COUNTS)?;
        copy_table(&src, &txn, CHECKPOINTS)?;
        copy_table(&src, &txn, INDEX)?;
        txn.commit().map_err(err)
    }

    fn meta_blob(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(META).map_err(err)?;
        Ok(t.get(name).map_err(err)?.map(|g| g.value().to_vec()))
    }

    fn index_scan(
        &self,
        list: &[u8],
        collection: &Name,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        rev: bool,
        limit: usize,
        key_of: &dyn Fn(&[u8]) -> Option<Key>,
    ) -> Result<Option<Vec<IndexHit>>> {
        let db = self.db()?;
        let txn = db.begin_read().map_err(err)?;
        let meta = txn.open_table(META).map_err(err)?;
        let same = meta
            .get(crate::index::META_NAME)
            .map_err(err)?
            .is_some_and(|g| g.value() == list);
        if !same {
            return Ok(None);
        }
        if super::is_empty_range(&range) {
            return Ok(Some(Vec::new()));
        }
        let index = txn.open_table(INDEX).map_err(err)?;
        let records = txn.open_table(RECORDS).map_err(err)?;
        let entries = index.range::<&[u8]>(range).map_err(err)?;
        let entries: Box<dyn Iterator<Item = _>> = if rev {
            Box::new(entries.rev())
        } else {
            Box::new(entries)
        };
        let mut out = Vec::new();
        for entry in entries.take(limit) {
            let entry = entry.map_err(err)?.0.value().to_vec();
            let key =
                key_of(&entry).ok_or_else(|| StoreError::Corrupt("bad index entry".into()))?;
            let visible = match records
                .get(record_key(collection, &key).as_slice())
                .map_err(err)?
            {
                Some(g) => super::codec::decode_visible(split_seq(g.value())?.1)?,
                None => None,
            };
            out.push((entry, key, visible));
        }
        Ok(Some(out))
    }
}

impl RedbEngine {
    fn write_once(&self, f: &mut dyn FnMut(&mut dyn WriteTxn) -> Result<()>) -> Result<()> {
        let db = self.db()?;
        let mut txn = db.begin_write().map_err(err)?;
        txn.set_quick_repair(true);
        let outcome = {
            let mut w = RedbTxn {
                meta: txn.open_table(META).map_err(err)?,
                records: txn.open_table(RECORDS).map_err(err)?,
                by_seq: txn.open_table(BY_SEQ).map_err(err)?,
                markers: txn.open_table(MARKERS).map_err(err)?,
                counts: txn.open_table(COUNTS).map_err(err)?,
                checkpoints: txn.open_table(CHECKPOINTS).map_err(err)?,
                index: txn.open_table(INDEX).map_err(err)?,
            };
            f(&mut w)
        };
        match outcome {
            Ok(()) => txn.commit().map_err(err),
            Err(e) => {
                // The first error is the one worth reporting (after an I/O
                // error, aborting fails too, with a vaguer one).
                let _ = txn.abort();
                Err(e)
            }
        }
    }
}

fn decode_stored(bytes: &[u8]) -> Result<Stored> {
    let (seq, state) = split_seq(bytes)?;
    Ok(Stored {
        seq,
        state: decode_state(state)?,
    })
}

/// Copies every entry of one table from a snapshot into a new file's
/// transaction (in key order, which redb appends fastest).
fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    src: &redb::ReadTransaction,
    dest: &redb::WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<()>
where
    for<'a> K::SelfType<'a>: std::borrow::Borrow<K::SelfType<'a>>,
    for<'a> V::SelfType<'a>: std::borrow::Borrow<V::SelfType<'a>>,
{
    let from = src.open_table(def).map_err(err)?;
    let mut to = dest.open_table(def).map_err(err)?;
    for entry in from.iter().map_err(err)? {
        let (k, v) = entry.map_err(err)?;
        to.insert(k.value(), v.value()).map_err(err)?;
    }
    Ok(())
}

struct RedbTxn<'t> {
    meta: Table<'t, &'static str, &'static [u8]>,
    records: Table<'t, &'static [u8], &'static [u8]>,
    by_seq: Table<'t, u64, &'static [u8]>,
    markers: Table<'t, &'static str, &'static [u8]>,
    counts: Table<'t, &'static str, u64>,
    checkpoints: Table<'t, &'static [u8], u64>,
    index: Table<'t, &'static [u8], ()>,
}

impl WriteTxn for RedbTxn<'_> {
    fn get(&mut self, collection: &Name, key: &Key) -> Result<Option<Stored>> {
        let found = self
            .records
            .get(record_key(collection, key).as_slice())
            .map_err(err)?;
        found.map(|g| decode_stored(g.value())).transpose()
    }

    fn put(&mut self, collection: &Name, key: &Key, state: &RecordState, seq: u64) -> Result<()> {
        let rk = record_key(collection, key);
        let value = with_seq(seq, &encode_state(state));
        let old_seq = match self
            .records
            .insert(rk.as_slice(), value.as_slice())
            .map_err(err)?
        {
            Some(old) => Some(split_seq(old.value())?.0),
            None => None,
        };
        if old_seq != Some(seq) {
            if let Some(old) = old_seq {
                self.by_seq.remove(old).map_err(err)?;
            }
            let target = target_record(collection, key);
            self.by_seq.insert(seq, target.as_slice()).map_err(err)?;
        }
        Ok(())
    }

    fn remove(&mut self, collection: &Name, key: &Key) -> Result<()> {
        let rk = record_key(collection, key);
        let old = match self.records.remove(rk.as_slice()).map_err(err)? {
            Some(old) => Some(split_seq(old.value())?.0),
            None => None,
        };
        if let Some(seq) = old {
            self.by_seq.remove(seq).map_err(err)?;
        }
        Ok(())
    }

    fn records(&mut self, collection: Option<&Name>) -> Result<Vec<(Name, Key, Stored)>> {
        let mut out = Vec::new();
        let prefix = collection.map(|c| [c.as_str().as_bytes(), b"\0"].concat());
        let lower = prefix.as_deref().unwrap_or(b"");
        for entry in self.records.range::<&[u8]>(lower..).map_err(err)? {
            let (k, v) = entry.map_err(err)?;
            if !k.value().starts_with(lower) {
                break;
            }
            let (c, key) = split_record_key(k.value())?;
            out.push((c, key, decode_stored(v.value())?));
        }
        Ok(out)
    }

    fn set_marker(&mut self, collection: Option<&Name>, version: Version, seq: u64) -> Result<()> {
        let value = with_seq(seq, &encode_version(&version));
        let old_seq = match self
            .markers
            .insert(scope(collection), value.as_slice())
            .map_err(err)?
        {
            Some(old) => Some(split_seq(old.value())?.0),
            None => None,
        };
        if old_seq != Some(seq) {
            if let Some(old) = old_seq {
                self.by_seq.remove(old).map_err(err)?;
            }
            let target = target_marker(collection);
            self.by_seq.insert(seq, target.as_slice()).map_err(err)?;
        }
        Ok(())
    }

    fn remove_marker(&mut self, collection: Option<&Name>) -> Result<()> {
        let old = match self.markers.remove(scope(collection)).map_err(err)? {
            Some(old) => Some(split_seq(old.value())?.0),
            None => None,
        };
        if let Some(seq) = old {
            self.by_seq.remove(seq).map_err(err)?;
        }
        Ok(())
    }

    fn add_count(&mut self, collection: &Name, delta: i64) -> Result<()> {
        if delta == 0 {
            return Ok(());
        }
        let old = self
            .counts
            .get(collection.as_str())
            .map_err(err)?
            .map_or(0, |g| g.value());
        let new = old.saturating_add_signed(delta);
        if new == 0 {
            self.counts.remove(collection.as_str()).map_err(err)?;
        } else {
            self.counts.insert(collection.as_str(), new).map_err(err)?;
        }
        Ok(())
    }

    fn set_meta(&mut self, meta: &Meta) -> Result<()> {
        self.meta
            .insert("next_seq", &meta.next_seq.to_be_bytes()[..])
            .map_err(err)?;
        self.meta
            .insert("hlc", &meta.hlc.to_be_bytes()[..])
            .map_err(err)?;
        Ok(())
    }

    fn set_checkpoint(&mut self, peer: SiteId, seq: u64) -> Result<()> {
        self.checkpoints.insert(&peer.0[..], seq).map_err(err)?;
        Ok(())
    }

    fn meta_blob(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .meta
            .get(name)
            .map_err(err)?
            .map(|g| g.value().to_vec()))
    }

    fn set_meta_blob(&mut self, name: &str, value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(v) => self.meta.insert(name, v).map_err(err)?,
            None => self.meta.remove(name).map_err(err)?,
        };
        Ok(())
    }

    fn scan_records(
        &mut self,
        collection: &Name,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Stored)>> {
        let start = [collection.as_str().as_bytes(), b"\0"].concat();
        let after = after.map(|k| record_key(collection, k));
        let lower = match &after {
            Some(a) => Bound::Excluded(a.as_slice()),
            None => Bound::Included(start.as_slice()),
        };
        let mut out = Vec::new();
        for entry in self
            .records
            .range::<&[u8]>((lower, Bound::Unbounded))
            .map_err(err)?
        {
            let (k, v) = entry.map_err(err)?;
            if out.len() >= limit || !k.value().starts_with(&start) {
                break;
            }
            let (_, key) = split_record_key(k.value())?;
            out.push((key, decode_stored(v.value())?));
        }
        Ok(out)
    }

    fn index_insert(&mut self, entry: &[u8]) -> Result<()> {
        self.index.insert(entry, ()).map_err(err)?;
        Ok(())
    }

    fn index_remove(&mut self, entry: &[u8]) -> Result<()> {
        self.index.remove(entry).map_err(err)?;
        Ok(())
    }

    fn index_remove_range(&mut self, lo: &[u8], hi: &[u8]) -> Result<()> {
        self.index
            .retain_in::<&[u8], _>(lo..hi, |_, _| false)
            .map_err(err)?;
        Ok(())
    }
}
