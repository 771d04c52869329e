//! The storage trait and the two engines behind it.
//!
//! Engines are deliberately dumb: they keep records, drop markers, the by-seq
//! index, counters and checkpoints, and commit a closure's writes atomically
//! and durably. Every rule about *what* to write (merge, seq allocation,
//! markers) lives once, in `crate::db`, above this trait; both engines pass the
//! same conformance suite (`tests/conformance.rs` in this crate).

use std::ops::Bound;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::names::{Key, Name};
use crate::record::RecordState;
use crate::version::{SiteId, Version};

pub mod codec;
pub mod redb;
pub mod sqlite;

/// Which engine a database file uses.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    #[default]
    Redb,
    Sqlite,
    /// Tables in a PostgreSQL server (the `syncdb-pg` crate), for hubs
    /// that share their folders: no file, so not among [`Self::ALL`], and
    /// not an engine a folder or the config can name (`serve.store` says
    /// where a hub's are). Shown as `postgres` in listings.
    Postgres,
}

impl EngineKind {
    /// The engines that keep a database in a file of a folder.
    pub const ALL: [EngineKind; 2] = [EngineKind::Redb, EngineKind::Sqlite];

    /// The file extension, which is also how a database's engine is recognised.
    pub fn extension(self) -> &'static str {
        match self {
            EngineKind::Redb => "redb",
            EngineKind::Sqlite => "sqlite",
            EngineKind::Postgres => "postgres",
        }
    }

    /// Refuses an engine that keeps no file, where a file engine is asked.
    pub fn check_file_engine(self) -> Result<(), String> {
        match self {
            EngineKind::Postgres => Err(
                "engine \"postgres\" keeps no files: a folder's engine is redb or sqlite (a hub keeps its folders in PostgreSQL with `syncdb serve --store`)".into(),
            ),
            _ => Ok(()),
        }
    }

    pub fn from_extension(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.extension() == ext)
    }

    pub fn as_str(self) -> &'static str {
        self.extension()
    }

    /// Runs the engine's own integrity check on a closed file.
    pub fn check_file(self, path: &Path) -> Result<(), StoreError> {
        match self {
            EngineKind::Redb => redb::RedbEngine::check_file(path),
            EngineKind::Sqlite => sqlite::SqliteEngine::check_file(path),
            EngineKind::Postgres => Err(no_file()),
        }
    }

    /// Opens (creating if needed) a database file with this engine.
    pub fn open(self, path: &Path) -> Result<Box<dyn Engine>, StoreError> {
        Ok(match self {
            EngineKind::Redb => Box::new(redb::RedbEngine::open(path)?),
            EngineKind::Sqlite => Box::new(sqlite::SqliteEngine::open(path)?),
            EngineKind::Postgres => return Err(no_file()),
        })
    }
}

fn no_file() -> StoreError {
    StoreError::Io(std::io::Error::other(
        "a database kept in PostgreSQL has no file",
    ))
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_extension(s)
            .ok_or_else(|| format!("unknown engine {s:?}; allowed: redb, sqlite"))
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One end of an index range as an SQL comparison: operator and bytes.
pub type SqlEnd<'a> = (&'static str, &'a [u8]);

/// An index range as SQL comparisons on the entry: the low end (the empty
/// entry when unbounded: every entry is at or above it), and the high end
/// unless it is unbounded.
pub fn sql_range<'a>(
    range: &(Bound<&'a [u8]>, Bound<&'a [u8]>),
) -> (SqlEnd<'a>, Option<SqlEnd<'a>>) {
    let lo = match range.0 {
        Bound::Included(b) => (">=", b),
        Bound::Excluded(b) => (">", b),
        Bound::Unbounded => (">=", &b""[..]),
    };
    let hi = match range.1 {
        Bound::Included(b) => Some(("<=", b)),
        Bound::Excluded(b) => Some(("<", b)),
        Bound::Unbounded => None,
    };
    (lo, hi)
}

/// One entry of the change feed: a record or a drop marker, at its latest seq.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    pub item: Item,
}

/// What a feed entry holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    Record {
        collection: Name,
        key: Key,
        state: RecordState,
    },
    /// Every record of the collection older than `version` is gone.
    DropCollection { collection: Name, version: Version },
    /// Every record of the database older than `version` is gone.
    DropDatabase { version: Version },
}

/// Per-replica metadata, written in the same transaction as the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub site: SiteId,
    /// The seq the next change gets. Seqs are never reused, even when the
    /// entry that had the last one is removed.
    pub next_seq: u64,
    /// The largest HLC this replica has issued or seen.
    pub hlc: u64,
}

/// A stored record with the seq of its latest change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub seq: u64,
    pub state: RecordState,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Redb(#[from] ::redb::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("database file is damaged: {0}")]
    Corrupt(String),
    /// The database server a store keeps its tables in failed or could
    /// not be reached; the transaction was not committed.
    #[error("the database server: {0}")]
    Server(String),
    #[error("database file is in use by another process: {0}")]
    InUse(String),
    /// A peer's chunk brings the newest schema version here with other
    /// content (see `schema::clash`); nothing was applied.
    #[error("schema version {version} here differs from the peer's")]
    SchemaConflict {
        version: u64,
        ours: String,
        theirs: String,
    },
    /// A local write the database's schema does not allow; nothing was
    /// written. Merges from peers are never refused this way.
    #[error("{0}")]
    Refused(Refusal),
    /// A conditional write found the record at another version (or
    /// present where it was to be absent); nothing was written.
    #[error("{0}")]
    Precondition(Precondition),
    /// The caller abandoned the transaction (a bad line in an import, a
    /// client that went away); nothing was written.
    #[error("{0}")]
    Aborted(String),
    /// The file was closed to be moved away (a restore or a repair) while
    /// this call waited; nothing was written.
    #[error("the database was closed to be replaced or moved aside; try again")]
    Closed,
}

impl StoreError {
    /// True when the disk is full or a file-size limit was hit.
    pub fn is_disk_full(&self) -> bool {
        let text = self.to_string().to_ascii_lowercase();
        text.contains("no space")
            || text.contains("file too large")
            || text.contains("disk is full")
            || text.contains("database or disk is full")
    }
}

impl StoreError {
    /// True when the file itself is damaged (not a redb/SQLite file, torn,
    /// truncated, pages that do not decode, or an engine that panicked on
    /// it): moving it aside (`syncdb repair`) is the way back, unlike a full
    /// disk or a permission problem. Engines word this differently and
    /// wrap it in I/O errors, so the text decides, as for `is_disk_full`.
    pub fn is_damage(&self) -> bool {
        match self {
            StoreError::Corrupt(_) => return true,
            StoreError::Refused(_)
            | StoreError::Precondition(_)
            | StoreError::SchemaConflict { .. }
            | StoreError::Server(_)
            | StoreError::Closed => return false,
            _ => {}
        }
        let text = self.to_string().to_ascii_lowercase();
        [
            "corrupt",
            "malformed",
            "not a database",
            "not a redb database",
            "truncated",
            "magic number",
        ]
        .iter()
        .any(|needle| text.contains(needle))
    }
}

/// A conditional write that no longer matches: what the record is now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", match current {
    Some(v) => format!("record {collection}/{key} is at version {v} now"),
    None => format!("record {collection}/{key} does not exist"),
})]
pub struct Precondition {
    pub collection: Name,
    pub key: Key,
    /// Its newest version; `None` when it does not exist.
    pub current: Option<crate::version::Version>,
}

/// Why a local write was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub collection: Name,
    /// The record's key (none for a drop).
    pub key: Option<Key>,
    /// The input line, for an import.
    pub line: Option<u64>,
    pub message: String,
}

impl Refusal {
    /// "record DB/COLL/KEY …" (or "line N: record …"), for people.
    pub fn describe(&self, db: &str) -> String {
        let line = self.line.map(|l| format!("line {l}: ")).unwrap_or_default();
        if self.collection.as_str() == crate::schema::COLLECTION {
            return format!("{line}schema of {db}: {}", self.message);
        }
        match &self.key {
            Some(key) => format!(
                "{line}record {db}/{}/{key} {}",
                self.collection, self.message
            ),
            None => format!("{line}{db}/{}: {}", self.collection, self.message),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A storage engine: reads take `&self` and see the last commit; writes go
/// through `write`, one transaction per call, durable when it returns.
pub trait Engine: Send + Sync {
    fn kind(&self) -> EngineKind;
    fn meta(&self) -> Result<Meta>;
    fn get(&self, collection: &Name, key: &Key) -> Result<Option<Stored>>;
    /// Records (including tombstones) of `collection` in key order, starting
    /// strictly after `after`, whose keys start with `prefix`, at most `limit`.
    fn scan(
        &self,
        collection: &Name,
        prefix: &str,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, RecordState)>>;
    /// Collections with their count of visible records.
    fn collections(&self) -> Result<Vec<(Name, u64)>>;
    /// Feed entries with seq > `since`, in seq order, at most `limit`.
    fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Change>>;
    /// How many feed entries have seq > `since`.
    fn count_since(&self, since: u64) -> Result<u64>;
    /// Every record (tombstones too) in (collection, key) order, for digests.
    fn visit_records(&self, f: &mut dyn FnMut(&Name, &Key, &RecordState)) -> Result<()>;
    /// Drop markers: of a collection (`Some`) or of the database (`None`).
    fn markers(&self) -> Result<Vec<(Option<Name>, Version)>>;
    fn checkpoint(&self, peer: SiteId) -> Result<u64>;
    /// Runs `f` in one write transaction; commits durably if it returns Ok,
    /// rolls back otherwise.
    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTxn) -> Result<()>) -> Result<()>;
    /// Gives the space of removed records back to the file system (after a
    /// drop): the file shrinks to what it holds. Waits for reads in progress.
    fn compact(&self) -> Result<()>;
    /// How large the file is and how much of it holds nothing (space a
    /// compaction gives back). Call from the writer: redb reads its page
    /// statistics in a write transaction.
    fn space(&self) -> Result<Space>;
    /// Writes a consistent copy of the database, as of one snapshot, to a
    /// new file at `dest`, while writers go on (redb: every table copied
    /// from one read transaction; SQLite: `VACUUM INTO`).
    fn backup_to(&self, dest: &Path) -> Result<()>;
    /// Closes the file now, for every handle: waits for calls in progress,
    /// then every later call fails with [`StoreError::Closed`]. For moving
    /// the file away while others may still hold the engine: no connection
    /// then touches whatever is put at its path.
    fn close(&self);
    /// A value kept beside the meta by name (the list of indexes).
    fn meta_blob(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Index entries within `range`, in byte order (descending with `rev`),
    /// at most `limit`, each with the record of `collection` its key names
    /// (`key_of`), all read from one snapshot — in which the list of
    /// indexes (meta `indexes`) must still be `list`, the list the read was
    /// planned from; `None` when it is not (an index was dropped or made
    /// since: plan again).
    fn index_scan(
        &self,
        list: &[u8],
        collection: &Name,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        rev: bool,
        limit: usize,
        key_of: &dyn Fn(&[u8]) -> Option<Key>,
    ) -> Result<Option<Vec<IndexHit>>>;
}

/// A database file's size and the part of it that holds nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Space {
    pub file_bytes: u64,
    pub free_bytes: u64,
}

/// An index entry, the key it names and that record's visible document
/// and newest version (`codec::decode_visible`; `None` when no visible
/// record has the key: an index out of step).
pub type IndexHit = (Vec<u8>, Key, Option<(String, Version)>);

/// Whether a range holds nothing by its bounds alone (engines' range
/// reads refuse a start above the end).
pub fn is_empty_range(range: &(Bound<&[u8]>, Bound<&[u8]>)) -> bool {
    match range {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo) | Bound::Excluded(lo), Bound::Excluded(hi))
        | (Bound::Excluded(lo), Bound::Included(hi)) => lo >= hi,
        _ => false,
    }
}

/// The writes one transaction can make. Reads inside see earlier writes.
pub trait WriteTxn {
    fn get(&mut self, collection: &Name, key: &Key) -> Result<Option<Stored>>;
    /// Stores the record at `seq`, moving its by-seq entry. `doc` is the
    /// visible document's JSON text (the SQLite engine keeps it in a column).
    fn put(&mut self, collection: &Name, key: &Key, state: &RecordState, seq: u64) -> Result<()>;
    fn remove(&mut self, collection: &Name, key: &Key) -> Result<()>;
    /// Every record of one collection, or of all when `None` (for drops).
    fn records(&mut self, collection: Option<&Name>) -> Result<Vec<(Name, Key, Stored)>>;
    /// The drop marker of a collection (`Some`) or of the database (`None`).
    fn set_marker(&mut self, collection: Option<&Name>, version: Version, seq: u64) -> Result<()>;
    /// Forgets a drop marker and its feed entry (history cleanup).
    fn remove_marker(&mut self, collection: Option<&Name>) -> Result<()>;
    fn add_count(&mut self, collection: &Name, delta: i64) -> Result<()>;
    fn set_meta(&mut self, meta: &Meta) -> Result<()>;
    /// For a store other processes write too (several hubs over one
    /// server): the meta as committed, read under this transaction's write
    /// lock, so a writer whose cached state is behind can tell. A file,
    /// which one process owns, says `None`.
    fn committed_meta(&mut self) -> Result<Option<Meta>> {
        Ok(None)
    }
    /// The records a transaction is about to read, named at once, so a
    /// store whose every read is a round trip to a server reads them in
    /// one. A file reads each cheaply when asked: the default does nothing
    /// (and never walks `records`).
    fn prefetch(&mut self, _records: &mut dyn Iterator<Item = (&Name, &Key)>) -> Result<()> {
        Ok(())
    }
    fn set_checkpoint(&mut self, peer: SiteId, seq: u64) -> Result<()>;
    fn meta_blob(&mut self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Sets (`None`: removes) a value kept beside the meta.
    fn set_meta_blob(&mut self, name: &str, value: Option<&[u8]>) -> Result<()>;
    /// Records (tombstones too) of `collection` after `after` in key
    /// order, at most `limit` (an index build reads a page at a time).
    fn scan_records(
        &mut self,
        collection: &Name,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Stored)>>;
    fn index_insert(&mut self, entry: &[u8]) -> Result<()>;
    fn index_remove(&mut self, entry: &[u8]) -> Result<()>;
    /// Removes every index entry in `[lo, hi)`.
    fn index_remove_range(&mut self, lo: &[u8], hi: &[u8]) -> Result<()>;
}
