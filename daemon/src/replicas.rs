//! The open replicas and their writers: the one place where tokio meets the
//! blocking storage engines.
//!
//! Each database gets one writer thread that owns its `Database`. Write jobs
//! queue on a channel; the writer drains what is waiting (up to
//! `group_commit_max_ops`) into ONE transaction, so many concurrent clients
//! share one fsync (group commit). A job is answered only after its commit is
//! durable. Every commit is announced on one broadcast channel, which feeds
//! `watch` streams. Reads go straight to the engine through a `Reader`.
//! While an index is building, the writer runs a build step (one short
//! transaction) whenever no job waits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdb_core::db::{Commit, OpOutcome, WriteOp};
use syncdb_core::folder::{Folder, FolderError};
use syncdb_core::history::{History, Peer};
use syncdb_core::index::IndexDef;
use syncdb_core::schema::Head;
use syncdb_core::store::{Change, EngineKind, Item, StoreError};
use syncdb_core::sync::wire::SchemaAd;
use syncdb_core::version::SiteId;
use syncdb_core::{Database, Name, Reader};
use tokio::sync::{broadcast, mpsc, oneshot};

/// An import waits this long for its next chunk before giving up.
const IMPORT_IDLE: Duration = Duration::from_secs(120);
/// Commit notes buffered per watcher before it must catch up from the feed.
const NOTE_BUFFER: usize = 1024;

/// What a commit changed, for watchers.
#[derive(Debug)]
pub struct CommitNote {
    pub folder: PathBuf,
    pub db: Name,
    pub reader: Reader,
    /// The high seq before this commit: a watcher at or past it misses nothing.
    pub prev_high: u64,
    pub high_seq: u64,
    /// The changes, unless the commit was too large to carry them.
    pub changes: Option<Vec<Change>>,
}

/// Resolves to the number of records once an import's transaction is durable.
pub type ImportDone = oneshot::Receiver<Result<u64, StoreError>>;

/// Sent by an import to its writer; dropping the sender aborts the import.
pub enum ImportMsg {
    /// Puts, with the input line of each; `checked` is the hash of the
    /// schema the documents were checked against beside the writer (the
    /// writer checks again only if another schema is in force by then).
    Ops {
        ops: Vec<WriteOp>,
        lines: Vec<u64>,
        checked: Option<String>,
    },
    End,
}

/// Work run on a database's writer, with the wall clock then.
type WriterFn = Box<dyn FnOnce(&mut Database, u64) + Send>;

enum Job {
    Ops {
        ops: Vec<WriteOp>,
        reply: oneshot::Sender<Result<Vec<OpOutcome>, StoreError>>,
    },
    Import {
        chunks: mpsc::Receiver<ImportMsg>,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    /// Adds or removes an index.
    Index {
        change: IndexChange,
        reply: oneshot::Sender<Result<Option<(IndexDef, bool)>, StoreError>>,
    },
    /// Anything else a writer does to its database (history, rebuild,
    /// compaction, backup): the closure answers through its own channel.
    Run(WriterFn),
    /// Reads the database's state again: another hub committed to it.
    Refresh,
    /// A sync chunk: merged with its checkpoint in one transaction.
    Chunk {
        peer: SiteId,
        items: Vec<Item>,
        end_seq: u64,
        /// What the session knows the peer holds of the schema.
        peer_schema: Option<SchemaAd>,
        reply: oneshot::Sender<Result<Vec<u64>, StoreError>>,
    },
}

/// What `index create` and `index drop` ask of a writer.
#[derive(Debug)]
pub enum IndexChange {
    Create {
        collection: Name,
        fields: Vec<String>,
    },
    Drop {
        collection: Name,
        fields: Vec<String>,
    },
}

pub struct Replica {
    /// The database file, for messages (`NAME.postgres` for one kept in
    /// the hub's store: no such file exists).
    pub file: PathBuf,
    /// The folder's id when the database is kept in the hub's store, where
    /// other hubs may write to it too.
    pub stored_as: Option<String>,
    pub folder: PathBuf,
    pub name: Name,
    pub reader: Reader,
    jobs: mpsc::UnboundedSender<Job>,
    high_seq: Arc<AtomicU64>,
    /// The schema as of the last commit, kept by the writer.
    schema: Arc<Mutex<Head>>,
    /// The last violation count: (high seq, schema hash, count).
    violations: Mutex<Option<(u64, String, u64)>>,
    /// The history meta as of the writer's last change to it.
    history: Arc<Mutex<History>>,
    /// On a hub: what sessions learn of the replicas it serves, newer than
    /// `history.replicas` until the next horizon check writes it there.
    pub peers: Mutex<std::collections::BTreeMap<String, Peer>>,
    /// Until when the horizon rests after the last cleanup pass, set by the
    /// writer (see [`PASS_REST`]).
    rest_until: Arc<Mutex<Option<std::time::Instant>>>,
    /// A [`Job::Refresh`] waits on the writer: more need not be queued.
    refreshing: Arc<std::sync::atomic::AtomicBool>,
}

/// A cleanup pass reads the whole feed, however few tombstones it finds:
/// the next automatic one waits this many times as long as the last took,
/// so cleanup takes at most a tenth of a writer's time, whatever the
/// retention and `history.check_ms`.
pub const PASS_REST: u32 = 9;

#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("{}", store_message(path, source))]
    Store { path: PathBuf, source: StoreError },
    #[error("the database writer has stopped (daemon shutting down)")]
    Stopped,
    /// The hub's store could not list a stored folder's databases.
    #[error("the hub's store: {0}")]
    Shared(StoreError),
}

impl ReplicaError {
    /// The file is damaged (not full, not stopping): it is refused alone.
    pub fn is_damage(&self) -> bool {
        matches!(self, ReplicaError::Store { source, .. } if source.is_damage())
    }
}

/// A storage error names the file; a damaged one also says what to do,
/// wherever it surfaces (a command, a sync session's reason, the log).
fn store_message(path: &std::path::Path, source: &StoreError) -> String {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let StoreError::Refused(r) = source {
        return r.describe(&name);
    }
    if path
        .extension()
        .is_some_and(|e| e == EngineKind::Postgres.extension())
    {
        return format!("database {name} (in the hub's store): {source}");
    }
    if !source.is_damage() {
        return format!("{}: {source}", path.display());
    }
    let detail = match source {
        StoreError::Corrupt(detail) => detail.clone(),
        other => other.to_string(),
    };
    format!(
        "database file {} is damaged ({detail}); it is refused, the folder's other databases are not affected. Run `syncdb repair {name}` to move it aside (and pull it again from the folder's remote, if it has one)",
        path.display()
    )
}

impl Replica {
    /// The database's schema as of the last commit.
    pub fn schema(&self) -> Head {
        lock(&self.schema).clone()
    }

    /// How many records break the schema in force. Checking reads every
    /// record the schema checks, so the count is kept until the next commit.
    pub fn violations(&self) -> Result<u64, StoreError> {
        let head = self.schema();
        let Some(schema) = head.schema() else {
            return Ok(0);
        };
        let seq = self.high_seq();
        if let Some((at, hash, n)) = &*lock(&self.violations)
            && *at == seq
            && hash == schema.hash()
        {
            return Ok(*n);
        }
        let (n, _) = self.reader.violations(schema, 0)?;
        *lock(&self.violations) = Some((seq, schema.hash().to_owned(), n));
        Ok(n)
    }

    /// The last committed seq.
    pub fn high_seq(&self) -> u64 {
        self.high_seq.load(Ordering::Acquire)
    }

    /// Commits `ops` (with whatever else is queued) and returns their outcomes
    /// once durable.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>, ReplicaError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job::Ops { ops, reply })
            .map_err(|_| ReplicaError::Stopped)?;
        let outcome = rx.await.map_err(|_| ReplicaError::Stopped)?;
        outcome.map_err(|source| self.store_error(source))
    }

    /// Applies a chunk received from replica `peer` together with its
    /// checkpoint, durably. Returns the new seqs that hold exactly what the
    /// peer sent (they need not go back to it).
    pub async fn apply_chunk(
        &self,
        peer: SiteId,
        items: Vec<Item>,
        end_seq: u64,
        peer_schema: Option<SchemaAd>,
    ) -> Result<Vec<u64>, ReplicaError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job::Chunk {
                peer,
                items,
                end_seq,
                peer_schema,
                reply,
            })
            .map_err(|_| ReplicaError::Stopped)?;
        let outcome = rx.await.map_err(|_| ReplicaError::Stopped)?;
        outcome.map_err(|source| self.store_error(source))
    }

    /// Creates an index (returned with whether it is new; the writer builds
    /// it from then on), or drops one (returned; `None` if there was none).
    pub async fn index(
        &self,
        change: IndexChange,
    ) -> Result<Option<(IndexDef, bool)>, ReplicaError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job::Index { change, reply })
            .map_err(|_| ReplicaError::Stopped)?;
        let outcome = rx.await.map_err(|_| ReplicaError::Stopped)?;
        outcome.map_err(|source| self.store_error(source))
    }

    /// Runs `f` on the writer, between other jobs; its outcome once done.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Database, u64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ReplicaError> {
        let (reply, rx) = oneshot::channel();
        let job = Job::Run(Box::new(move |db, now| {
            let _ = reply.send(f(db, now));
        }));
        self.jobs.send(job).map_err(|_| ReplicaError::Stopped)?;
        let outcome = rx.await.map_err(|_| ReplicaError::Stopped)?;
        outcome.map_err(|source| self.store_error(source))
    }

    /// Has the writer read the database's state again (another hub
    /// committed to it), and tell watchers and sessions what is new. Does
    /// not wait: one queued refresh stands for any number asked.
    pub fn refresh(&self) {
        if !self.refreshing.swap(true, Ordering::AcqRel) {
            let _ = self.jobs.send(Job::Refresh);
        }
    }

    /// The history meta as of the last change to it.
    pub fn history(&self) -> History {
        lock(&self.history).clone()
    }

    /// Whether the last cleanup pass ended too recently for another to
    /// start by itself ([`PASS_REST`]).
    pub fn resting(&self) -> bool {
        lock(&self.rest_until).is_some_and(|t| std::time::Instant::now() < t)
    }

    /// Starts an atomic import: send chunks, then `End`; the returned receiver
    /// gives the number of records once the one transaction is durable.
    pub fn import(&self) -> Result<(mpsc::Sender<ImportMsg>, ImportDone), ReplicaError> {
        let (tx, chunks) = mpsc::channel(2);
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job::Import { chunks, reply })
            .map_err(|_| ReplicaError::Stopped)?;
        Ok((tx, rx))
    }

    pub fn store_error(&self, source: StoreError) -> ReplicaError {
        ReplicaError::Store {
            path: self.file.clone(),
            source,
        }
    }
}

pub type DbKey = (PathBuf, Name);

/// A database just opened: its handle, engine, file and whether it is new.
type Opened = (Database, EngineKind, PathBuf, bool);

/// Locks a mutex whether or not a panic poisoned it. What these guard (maps
/// of handles, a list of threads) is valid after any panic, and a poisoned
/// lock must not turn one failure into the failure of every database.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every open replica of this daemon.
pub struct Replicas {
    open: Mutex<HashMap<DbKey, Arc<Replica>>>,
    /// One lock per database, held while it is opened or moved aside
    /// (`repair`): opening is slow and may fail, so it happens outside the
    /// map lock, yet a file must be opened once (redb allows one handle per
    /// process) and never while it is being moved.
    opening: Mutex<HashMap<DbKey, Arc<Mutex<()>>>>,
    commits: broadcast::Sender<Arc<CommitNote>>,
    group_commit_max_ops: usize,
    clock_offset_ms: i64,
    threads: Mutex<Vec<(DbKey, std::thread::JoinHandle<()>)>>,
    /// Writers of databases closed for being idle, by database: one is
    /// joined before its file is opened again (redb allows one handle).
    idle_closed: Mutex<HashMap<DbKey, std::thread::JoinHandle<()>>>,
    /// Open databases beyond this are closed once nothing uses them, so
    /// descriptors stay bounded however many databases exist.
    max_open: usize,
    /// Set by `close_all`: no database is opened again after it.
    closing: std::sync::atomic::AtomicBool,
    /// When a writer compacts its file by itself.
    compaction: Compaction,
    /// Databases whose horizon moved, for the sessions that tell peers.
    horizons: broadcast::Sender<DbKey>,
    /// Where the databases of stored folders are (`serve.store`).
    pub store: Arc<crate::store::Store>,
}

/// `history.compact_free_percent` and `compact_min_bytes`.
#[derive(Clone, Copy, Debug)]
pub struct Compaction {
    pub free_percent: u64,
    pub min_bytes: u64,
}

impl Compaction {
    /// Whether a file with this much free space is worth compacting.
    pub fn due(&self, space: syncdb_core::store::Space) -> bool {
        space.file_bytes >= self.min_bytes
            && space.free_bytes.saturating_mul(100) >= self.free_percent * space.file_bytes
    }
}

impl Replicas {
    pub fn new(
        group_commit_max_ops: usize,
        max_open: usize,
        clock_offset_ms: i64,
        compaction: Compaction,
        store: Arc<crate::store::Store>,
    ) -> Self {
        Replicas {
            store,
            compaction,
            horizons: broadcast::channel(NOTE_BUFFER).0,
            idle_closed: Mutex::new(HashMap::new()),
            max_open,
            open: Mutex::new(HashMap::new()),
            opening: Mutex::new(HashMap::new()),
            commits: broadcast::channel(NOTE_BUFFER).0,
            group_commit_max_ops,
            clock_offset_ms,
            threads: Mutex::new(Vec::new()),
            closing: Default::default(),
        }
    }

    pub fn now_ms(&self) -> u64 {
        syncdb_core::version::wall_clock_ms().saturating_add_signed(self.clock_offset_ms)
    }

    /// Announces that the horizon of a database moved.
    pub fn horizon_moved(&self, folder: &std::path::Path, db: &Name) {
        let _ = self.horizons.send((folder.to_owned(), db.clone()));
    }

    pub fn subscribe_horizons(&self) -> broadcast::Receiver<DbKey> {
        self.horizons.subscribe()
    }

    /// The replicas open now.
    pub fn open_replicas(&self) -> Vec<Arc<Replica>> {
        lock(&self.open).values().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CommitNote>> {
        self.commits.subscribe()
    }

    /// The replica of database `name` in `folder`, or `Ok(None)` if it does
    /// not exist. Never creates anything: what reads use.
    pub fn get(
        &self,
        folder: &Folder,
        name: &Name,
        create: bool,
    ) -> Result<Option<Arc<Replica>>, ReplicaError> {
        Ok(self.open(folder, name, create)?.map(|(r, _)| r))
    }

    /// The replica of database `name` in `folder`, created with the folder's
    /// engine if missing; true when this call created it (for writes, which
    /// say so: a typo in a database name is then visible).
    pub fn get_or_create(
        &self,
        folder: &Folder,
        name: &Name,
    ) -> Result<(Arc<Replica>, bool), ReplicaError> {
        Ok(self.open(folder, name, true)?.expect("created"))
    }

    /// The map lock is held only to look up and insert: the file is opened
    /// outside it (under the database's own lock), and an engine panic is an
    /// error (`Database::open`), so a damaged file fails alone.
    fn open(
        &self,
        folder: &Folder,
        name: &Name,
        create: bool,
    ) -> Result<Option<(Arc<Replica>, bool)>, ReplicaError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(ReplicaError::Stopped);
        }
        let key = (folder.path.clone(), name.clone());
        if let Some(r) = self.lookup(&key) {
            return Ok(Some((r, false)));
        }
        let gate = self.gate(&key);
        let _opening = lock(&gate);
        // Someone may have opened it while we waited for the gate.
        if let Some(r) = self.lookup(&key) {
            return Ok(Some((r, false)));
        }
        if self.closing.load(Ordering::Acquire) {
            return Err(ReplicaError::Stopped);
        }
        let opened = match folder.settings.stored {
            true => self.open_stored(folder, name, create)?,
            false => self.open_file(folder, name, create, &key)?,
        };
        let Some((db, kind, path, created)) = opened else {
            return Ok(None);
        };
        let mut open = lock(&self.open);
        // `close_all` may have begun while we opened: it clears the map under
        // this lock after setting the flag, so checking here under it means a
        // writer is never started that it would not join.
        if self.closing.load(Ordering::Acquire) {
            return Err(ReplicaError::Stopped);
        }
        let stored_as = folder.settings.stored.then(|| folder.settings.id.clone());
        let replica = Arc::new(self.spawn_writer(folder.path.clone(), name.clone(), db, stored_as));
        open.insert(key, replica.clone());
        let idle = self.idle_beyond_cap(&mut open);
        drop(open);
        self.close_idle(idle);
        tracing::info!(db = %path.display(), engine = %kind, created, "opened database");
        Ok(Some((replica, created)))
    }

    /// Opens the file of database `name`, or creates it; `None` when it
    /// does not exist and `create` is false.
    fn open_file(
        &self,
        folder: &Folder,
        name: &Name,
        create: bool,
        key: &DbKey,
    ) -> Result<Option<Opened>, ReplicaError> {
        let ((kind, path), created) = match folder.database_file(name)? {
            Some(found) => (found, false),
            None if create => (folder.new_database_file(name), true),
            None => return Ok(None),
        };
        // Closed for being idle: its writer lets go of the file first.
        if let Some(writer) = lock(&self.idle_closed).remove(key) {
            let _ = writer.join();
        }
        let db = Database::open(kind, &path).map_err(|source| {
            if source.is_damage() {
                tracing::error!(db = %path.display(), error = %source, "database file is damaged; refusing it");
            }
            ReplicaError::Store {
                path: path.clone(),
                source,
            }
        })?;
        Ok(Some((db, kind, path, created)))
    }

    /// Opens database `name` of a stored folder in the hub's store, or
    /// creates it there. Other hubs may hold it open too: the store keeps
    /// their writes apart (see `syncdb-pg`).
    fn open_stored(
        &self,
        folder: &Folder,
        name: &Name,
        create: bool,
    ) -> Result<Option<Opened>, ReplicaError> {
        let kind = EngineKind::Postgres;
        let path = folder.path.join(format!("{name}.{}", kind.extension()));
        let failed = |source| ReplicaError::Store {
            path: path.clone(),
            source,
        };
        let store = self.store.get().map_err(failed)?;
        let id = &folder.settings.id;
        let (engine, created) = match store.find(id, name.as_str()).map_err(failed)? {
            Some(engine) => (engine, false),
            None if create => (store.open(id, name.as_str()).map_err(failed)?, true),
            None => return Ok(None),
        };
        let db = Database::from_engine(Arc::new(engine)).map_err(failed)?;
        Ok(Some((db, kind, path, created)))
    }

    /// The databases of `folder`, by name: its files, or for a stored
    /// folder the store's.
    pub fn databases(&self, folder: &Folder) -> Result<Vec<(Name, EngineKind)>, ReplicaError> {
        if !folder.settings.stored {
            return Ok(folder.databases()?);
        }
        let store = self.store.get().map_err(ReplicaError::Shared)?;
        let names = (store.databases(&folder.settings.id)).map_err(ReplicaError::Shared)?;
        Ok(names
            .iter()
            .filter_map(|n| Name::parse_as("database", n).ok())
            .map(|n| (n, EngineKind::Postgres))
            .collect())
    }

    /// Removes a database that a write created moments ago and that nothing
    /// was committed to (an import that failed), file and all, so a write
    /// that wrote nothing leaves nothing behind. Does nothing (false) when
    /// anyone else holds the replica or anything was committed to it: then
    /// the database is in use and stays.
    pub fn discard_new(&self, replica: Arc<Replica>) -> bool {
        let key = (replica.folder.clone(), replica.name.clone());
        let gate = self.gate(&key);
        let _held = lock(&gate);
        {
            let mut open = lock(&self.open);
            // The map's reference and ours, no other: no request can send it
            // a write (new ones find it missing once it is out of the map).
            let ours = open.get(&key).is_some_and(|r| Arc::ptr_eq(r, &replica));
            if !ours || Arc::strong_count(&replica) != 2 || replica.high_seq() != 0 {
                return false;
            }
            open.remove(&key);
        }
        let file = replica.file.clone();
        let replica_stored = replica.stored_as.clone();
        drop(replica); // the last sender: its writer stops
        let writer = {
            let mut threads = lock(&self.threads);
            let at = threads.iter().position(|(k, _)| *k == key);
            at.map(|i| threads.swap_remove(i).1)
        };
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        let removed = match &replica_stored {
            Some(folder) => self
                .store
                .get()
                .and_then(|s| s.remove_empty(folder, key.1.as_str()))
                .map(|_| ())
                .map_err(std::io::Error::other),
            None => remove_database_files(&file),
        };
        if let Err(e) = &removed {
            tracing::warn!(db = %file.display(), error = %e, "cannot remove an empty new database");
        } else {
            tracing::info!(db = %file.display(), "removed a new database that nothing was written to");
        }
        removed.is_ok()
    }

    /// An open replica whose writer is alive.
    fn lookup(&self, key: &DbKey) -> Option<Arc<Replica>> {
        let mut open = lock(&self.open);
        match open.get(key) {
            Some(r) if !r.jobs.is_closed() => Some(r.clone()),
            Some(_) => {
                // Its writer died (a bug): reopen rather than refuse writes until restart.
                tracing::error!(db = %key.1, "database writer had stopped; reopening");
                open.remove(key);
                None
            }
            None => None,
        }
    }

    fn gate(&self, key: &DbKey) -> Arc<Mutex<()>> {
        lock(&self.opening).entry(key.clone()).or_default().clone()
    }

    /// Runs `f` with database `name` of `folder` closed here and kept closed
    /// (no one opens it meanwhile): for moving its file aside. Its writer
    /// stops once those still holding the replica let go of it.
    pub fn with_closed<T>(&self, folder: &Folder, name: &Name, f: impl FnOnce() -> T) -> T {
        let key = (folder.path.clone(), name.clone());
        let gate = self.gate(&key);
        let _held = lock(&gate);
        if let Some(replica) = lock(&self.open).remove(&key) {
            // Requests, watches and sync streams may still hold it: closing
            // the file for all of them means nothing is acknowledged from
            // now on into the file that is moved away, and no handle
            // touches the one put at its path. Its writer answers the jobs
            // still queued with `StoreError::Closed`.
            replica.reader.close();
        }
        if let Some(writer) = lock(&self.idle_closed).remove(&key) {
            let _ = writer.join();
        }
        f()
    }

    /// Closes every database of the folder at `path` (it is moved or
    /// forgotten): out of the map, then waits up to `within` for their
    /// writers to stop, which they do once requests using them let go.
    /// False if one is still running then.
    pub fn close_folder(&self, path: &std::path::Path, within: Duration) -> bool {
        lock(&self.open).retain(|(folder, _), _| folder != path);
        let deadline = std::time::Instant::now() + within;
        loop {
            let mut threads = lock(&self.threads);
            let mut idle = lock(&self.idle_closed);
            let mine = |k: &DbKey| k.0 == path;
            idle.retain(|k, _| !mine(k)); // idle writers have no senders: they end
            threads.retain(|(k, t)| !(mine(k) && t.is_finished()));
            if !threads.iter().any(|(k, _)| mine(k)) {
                return true;
            }
            drop((threads, idle));
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn spawn_writer(
        &self,
        folder: PathBuf,
        name: Name,
        db: Database,
        stored_as: Option<String>,
    ) -> Replica {
        let (jobs, rx) = mpsc::unbounded_channel();
        let high_seq = Arc::new(AtomicU64::new(db.high_seq()));
        let schema = Arc::new(Mutex::new(db.schema().clone()));
        let history = Arc::new(Mutex::new(db.history().clone()));
        let rest_until = Arc::new(Mutex::new(None));
        let refreshing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let replica = Replica {
            stored_as,
            refreshing: refreshing.clone(),
            rest_until: rest_until.clone(),
            peers: Mutex::new(db.history().replicas.clone()),
            history: history.clone(),
            file: folder.join(format!("{name}.{}", db.reader().kind().extension())),
            folder: folder.clone(),
            name: name.clone(),
            reader: db.reader(),
            jobs,
            high_seq: high_seq.clone(),
            schema: schema.clone(),
            violations: Mutex::new(None),
        };
        let writer = Writer {
            refreshing,
            db,
            folder,
            name,
            high_seq,
            schema,
            history,
            rest_until,
            compaction: self.compaction,
            commits: self.commits.clone(),
            max_ops: self.group_commit_max_ops,
            clock_offset_ms: self.clock_offset_ms,
            runtime: tokio::runtime::Handle::current(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("writer-{}", replica.name))
            .spawn(move || writer.run(rx))
            .expect("spawn writer thread");
        let mut threads = lock(&self.threads);
        // Writers of databases closed since (repaired ones) have ended.
        threads.retain(|(_, t)| !t.is_finished());
        threads.push(((replica.folder.clone(), replica.name.clone()), handle));
        replica
    }

    /// Over `max_open`: takes out of the map replicas nobody uses (no
    /// request holds one, no reader shares its engine: only the writer and
    /// the replica's own reader hold it), so their files can close.
    fn idle_beyond_cap(&self, open: &mut HashMap<DbKey, Arc<Replica>>) -> Vec<DbKey> {
        let excess = open.len().saturating_sub(self.max_open);
        if excess == 0 {
            return Vec::new();
        }
        let idle: Vec<DbKey> = open
            .iter()
            .filter(|(_, r)| Arc::strong_count(r) == 1 && r.reader.handles() <= 2)
            .map(|(k, _)| k.clone())
            .take(excess)
            .collect();
        for key in &idle {
            open.remove(key);
        }
        idle
    }

    /// Their writers stop (the map held the last sender); each is joined
    /// before its database is opened again.
    fn close_idle(&self, keys: Vec<DbKey>) {
        if keys.is_empty() {
            return;
        }
        let mut threads = lock(&self.threads);
        let mut closed = lock(&self.idle_closed);
        for key in keys {
            tracing::debug!(db = %key.1, "closed an idle database");
            if let Some(i) = threads.iter().position(|(k, _)| *k == key) {
                closed.insert(key, threads.swap_remove(i).1);
            }
        }
    }

    /// Closes every replica: writers finish what is queued, then stop.
    pub fn close_all(&self) {
        self.closing.store(true, Ordering::Release);
        lock(&self.open).clear();
        let threads = std::mem::take(&mut *lock(&self.threads));
        let idle = std::mem::take(&mut *lock(&self.idle_closed));
        for t in threads
            .into_iter()
            .map(|(_, t)| t)
            .chain(idle.into_values())
        {
            let _ = t.join();
        }
    }
}

/// Removes a database file and SQLite's side files (`-wal`, `-shm`), then
/// makes the removal durable.
pub fn remove_database_files(file: &std::path::Path) -> std::io::Result<()> {
    for side in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(side);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

struct Writer {
    refreshing: Arc<std::sync::atomic::AtomicBool>,
    db: Database,
    folder: PathBuf,
    name: Name,
    high_seq: Arc<AtomicU64>,
    schema: Arc<Mutex<Head>>,
    history: Arc<Mutex<History>>,
    rest_until: Arc<Mutex<Option<std::time::Instant>>>,
    compaction: Compaction,
    commits: broadcast::Sender<Arc<CommitNote>>,
    max_ops: usize,
    clock_offset_ms: i64,
    runtime: tokio::runtime::Handle,
}

type OpsReply = oneshot::Sender<Result<Vec<OpOutcome>, StoreError>>;
/// A sync chunk waiting on the writer: peer, items, end seq, reply.
type ChunkJob = (
    SiteId,
    Vec<Item>,
    u64,
    oneshot::Sender<Result<Vec<u64>, StoreError>>,
);

/// How long an index build that failed (a full disk, say) waits before it
/// tries again; writes go on meanwhile.
const BUILD_RETRY: Duration = Duration::from_secs(5);

/// The longest a build waits for a step while jobs keep coming: writes get
/// most of the writer, and a build over a busy database still ends.
const BUILD_EVERY: Duration = Duration::from_millis(200);

/// A writer's background task (an index build, a cleanup pass): when it
/// started, its last step and its last failure.
#[derive(Default)]
struct Task {
    started: Option<std::time::Instant>,
    last_step: Option<std::time::Instant>,
    failed: Option<std::time::Instant>,
}

impl Task {
    fn overdue(&self) -> bool {
        self.last_step.is_none_or(|t| t.elapsed() >= BUILD_EVERY)
    }

    fn may_run(&self) -> bool {
        self.failed.is_none_or(|t| t.elapsed() >= BUILD_RETRY)
    }

    /// How long to wait for a job before trying again, after a failure.
    fn retry_in(&self) -> Option<Duration> {
        self.failed.map(|t| BUILD_RETRY.saturating_sub(t.elapsed()))
    }

    /// Runs one step: `Ok(true)` while there is more to do. Returns how
    /// long the whole task took once it ends.
    fn step(
        &mut self,
        name: &Name,
        what: &str,
        f: impl FnOnce() -> Result<bool, StoreError>,
    ) -> Option<Duration> {
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        self.last_step = Some(std::time::Instant::now());
        match f() {
            Ok(true) => self.failed = None,
            Ok(false) => {
                *self = Task::default();
                return Some(started.elapsed());
            }
            Err(e) => {
                tracing::warn!(db = %name, error = %e, "{what} failed; trying again in {}s", BUILD_RETRY.as_secs());
                self.failed = Some(std::time::Instant::now());
            }
        }
        None
    }
}

/// The writer's background tasks.
#[derive(Default)]
struct Background {
    build: Task,
    clean: Task,
    /// Tombstones the cleanup pass under way has forgotten.
    removed: u64,
}

impl Writer {
    fn now_ms(&self) -> u64 {
        syncdb_core::version::wall_clock_ms().saturating_add_signed(self.clock_offset_ms)
    }

    /// Whether a background task may take a step now.
    fn background(&self, bg: &Background) -> bool {
        (self.db.building() && bg.build.may_run()) || (self.db.cleaning() && bg.clean.may_run())
    }

    /// One step of the first background task that may run.
    fn background_step(&mut self, bg: &mut Background) {
        if self.db.building() && bg.build.may_run() {
            let db = &mut self.db;
            if let Some(took) = bg.build.step(&self.name, "index build", || {
                db.build_indexes(syncdb_core::db::BUILD_STEP)
            }) {
                tracing::info!(db = %self.name, ms = took.as_millis() as u64, "indexes built");
            }
            return;
        }
        let db = &mut self.db;
        let removed = &mut bg.removed;
        let ended = bg.clean.step(&self.name, "history cleanup", || {
            let step = db.cleanup_step(syncdb_core::history::CLEANUP_STEP)?;
            *removed += step.removed;
            Ok(!step.finished)
        });
        *lock(&self.history) = self.db.history().clone();
        if let Some(took) = ended {
            *lock(&self.rest_until) = Some(std::time::Instant::now() + took * PASS_REST);
            let horizon = self.db.history().cleaned;
            let ms = took.as_millis() as u64;
            match bg.removed {
                0 => {
                    tracing::debug!(db = %self.name, horizon, ms, "history cleanup found nothing to forget")
                }
                removed => {
                    tracing::info!(db = %self.name, removed, horizon, ms, "history cleaned up")
                }
            }
            bg.removed = 0;
            self.compact_if_due();
        }
    }

    /// Compacts the file when enough of it is free space (after a cleanup
    /// pass, or a drop): writes wait meanwhile.
    fn compact_if_due(&mut self) {
        let space = match self.db.space() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(db = %self.name, error = %e, "cannot read the file's free space");
                return;
            }
        };
        if !self.compaction.due(space) {
            return;
        }
        let started = std::time::Instant::now();
        match self.db.compact() {
            Ok(()) => {
                tracing::info!(db = %self.name, before = space.file_bytes, free = space.free_bytes, ms = started.elapsed().as_millis() as u64, "compacted")
            }
            Err(e) => {
                tracing::warn!(db = %self.name, error = %e, "compaction failed; the file keeps its size")
            }
        }
    }

    fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut next = None;
        let mut bg = Background::default();
        loop {
            // Under a steady stream of jobs a background task still moves
            // on: a step at least every BUILD_EVERY.
            if next.is_none() && self.background(&bg) && (bg.build.overdue() && bg.clean.overdue())
            {
                self.background_step(&mut bg);
            }
            let job = match next.take() {
                Some(job) => job,
                // Background work goes on whenever no job waits: a job
                // waits at most one step.
                None if self.background(&bg) => match jobs.try_recv() {
                    Ok(job) => job,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        self.background_step(&mut bg);
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                },
                None => {
                    let build = bg.build.retry_in().filter(|_| self.db.building());
                    let clean = bg.clean.retry_in().filter(|_| self.db.cleaning());
                    let got = match build.into_iter().chain(clean).min() {
                        Some(wait) => {
                            let runtime = self.runtime.clone();
                            match runtime.block_on(tokio::time::timeout(wait, jobs.recv())) {
                                Ok(got) => got,
                                Err(_) => continue,
                            }
                        }
                        None => jobs.blocking_recv(),
                    };
                    match got {
                        Some(job) => job,
                        None => break,
                    }
                }
            };
            match job {
                Job::Ops { ops, reply } => {
                    let mut group = vec![(ops, reply)];
                    let mut count = group[0].0.len();
                    while count < self.max_ops {
                        match jobs.try_recv() {
                            Ok(Job::Ops { ops, reply }) => {
                                count += ops.len();
                                group.push((ops, reply));
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_group(group);
                }
                Job::Import { chunks, reply } => {
                    let outcome = self.import(chunks);
                    let _ = reply.send(outcome);
                }
                Job::Index { change, reply } => {
                    let outcome = match change {
                        IndexChange::Create { collection, fields } => {
                            self.db.create_index(&collection, fields).map(Some)
                        }
                        IndexChange::Drop { collection, fields } => self
                            .db
                            .drop_index(&collection, &fields)
                            .map(|d| d.map(|d| (d, false))),
                    };
                    bg.build = Task::default();
                    let _ = reply.send(outcome);
                }
                Job::Run(f) => {
                    let prev_high = self.db.high_seq();
                    let now = self.now_ms();
                    f(&mut self.db, now);
                    *lock(&self.history) = self.db.history().clone();
                    *lock(&self.schema) = self.db.schema().clone();
                    if self.db.high_seq() != prev_high {
                        self.high_seq.store(self.db.high_seq(), Ordering::Release);
                        let note = CommitNote {
                            folder: self.folder.clone(),
                            db: self.name.clone(),
                            reader: self.db.reader(),
                            prev_high,
                            high_seq: self.db.high_seq(),
                            changes: None,
                        };
                        let _ = self.commits.send(Arc::new(note));
                    }
                }
                Job::Refresh => {
                    self.refreshing.store(false, Ordering::Release);
                    let prev_high = self.db.high_seq();
                    match self.db.refresh() {
                        Ok(false) => {}
                        Ok(true) => {
                            *lock(&self.history) = self.db.history().clone();
                            let commit = Commit {
                                high_seq: self.db.high_seq(),
                                changes: None,
                            };
                            self.announce(prev_high, commit);
                        }
                        Err(e) => {
                            tracing::warn!(db = %self.name, error = %e, "cannot read what another hub committed; the next write reads it")
                        }
                    }
                }
                Job::Chunk {
                    peer,
                    items,
                    end_seq,
                    peer_schema,
                    reply,
                } => {
                    // The chunks other sessions brought meanwhile share the
                    // commit (a hub with many pushing replicas).
                    let mut group = vec![(peer, items, end_seq, reply)];
                    let mut count = group[0].1.len();
                    while Database::groupable(&group[0].1) && count < self.max_ops {
                        match jobs.try_recv() {
                            Ok(Job::Chunk {
                                peer,
                                items,
                                end_seq,
                                peer_schema: _,
                                reply,
                            }) if Database::groupable(&items) => {
                                count += items.len();
                                group.push((peer, items, end_seq, reply));
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if group.len() == 1 {
                        let (peer, items, end_seq, reply) = group.pop().expect("one");
                        let outcome = self.apply_chunk(peer, &items, end_seq, peer_schema.as_ref());
                        let _ = reply.send(outcome);
                    } else {
                        self.apply_chunks(group);
                    }
                }
            }
        }
        tracing::debug!(db = %self.name, "writer stopped");
    }

    fn apply_chunk(
        &mut self,
        peer: SiteId,
        items: &[Item],
        end_seq: u64,
        peer_schema: Option<&SchemaAd>,
    ) -> Result<Vec<u64>, StoreError> {
        let prev_high = self.db.high_seq();
        let dropped = self.db.drop_marker();
        let now = self.now_ms();
        let outcome = self
            .db
            .apply_chunk_from(now, peer, items, end_seq, peer_schema);
        let outcome = outcome.map(|(commit, echoes)| {
            self.announce(prev_high, commit);
            echoes
        });
        self.compact_if_dropped(dropped);
        outcome
    }

    /// Chunks of several sessions in one transaction; if it fails, each
    /// alone, so that one bad chunk fails only its own session.
    fn apply_chunks(&mut self, group: Vec<ChunkJob>) {
        let prev_high = self.db.high_seq();
        let dropped = self.db.drop_marker();
        let now = self.now_ms();
        let chunks: Vec<(SiteId, &[Item], u64)> = group
            .iter()
            .map(|(peer, items, end_seq, _)| (*peer, items.as_slice(), *end_seq))
            .collect();
        match self.db.apply_chunks(now, &chunks) {
            Ok((commit, echoes)) => {
                self.announce(prev_high, commit);
                self.compact_if_dropped(dropped);
                for ((.., reply), echoes) in group.into_iter().zip(echoes) {
                    let _ = reply.send(Ok(echoes));
                }
            }
            Err(e) => {
                tracing::debug!(db = %self.name, error = %e, chunks = group.len(), "grouped chunks failed; applying each alone");
                for (peer, items, end_seq, reply) in group {
                    let _ = reply.send(self.apply_chunk(peer, &items, end_seq, None));
                }
            }
        }
    }

    fn commit_group(&mut self, group: Vec<(Vec<WriteOp>, OpsReply)>) {
        let mut all = Vec::with_capacity(group.iter().map(|(ops, _)| ops.len()).sum());
        let mut replies = Vec::with_capacity(group.len());
        for (ops, reply) in group {
            replies.push((ops.len(), reply));
            all.extend(ops);
        }
        let prev_high = self.db.high_seq();
        let dropped = self.db.drop_marker();
        let now = self.now_ms();
        match self.db.commit(&all, now) {
            Ok((commit, outcomes)) => {
                self.announce(prev_high, commit);
                self.compact_if_dropped(dropped);
                let mut outcomes = outcomes.into_iter();
                for (n, reply) in replies {
                    let _ = reply.send(Ok(outcomes.by_ref().take(n).collect()));
                }
            }
            // One client's write the schema refuses, or whose condition no
            // longer holds, must not fail the others it was grouped with:
            // each commits on its own.
            Err(StoreError::Refused(_) | StoreError::Precondition(_)) if replies.len() > 1 => {
                let mut all = all.into_iter();
                for (n, reply) in replies {
                    let ops: Vec<WriteOp> = all.by_ref().take(n).collect();
                    self.commit_group(vec![(ops, reply)]);
                }
            }
            Err(e @ (StoreError::Refused(_) | StoreError::Precondition(_))) => {
                let _ = replies.pop().expect("one reply").1.send(Err(e));
            }
            Err(e) => {
                tracing::warn!(db = %self.name, error = %e, "commit failed; nothing written");
                let text = e.to_string();
                for (_, reply) in replies {
                    // A database closed (being replaced) or a server away
                    // is "unavailable, try again" to each of them too.
                    let e = match &e {
                        StoreError::Server(_) => StoreError::Server(text.clone()),
                        StoreError::Closed => StoreError::Closed,
                        _ => StoreError::Aborted(text.clone()),
                    };
                    let _ = reply.send(Err(e));
                }
            }
        }
    }

    fn import(&mut self, mut chunks: mpsc::Receiver<ImportMsg>) -> Result<u64, StoreError> {
        let prev_high = self.db.high_seq();
        let runtime = self.runtime.clone();
        let mut count = 0u64;
        let now = self.now_ms();
        let commit = self.db.transact(now, &mut |batch| {
            loop {
                let msg = runtime
                    .block_on(async { tokio::time::timeout(IMPORT_IDLE, chunks.recv()).await });
                match msg {
                    Ok(Some(ImportMsg::Ops {
                        ops,
                        lines,
                        checked,
                    })) => {
                        for (op, line) in ops.iter().zip(lines) {
                            batch
                                .apply_checked(op, checked.as_deref())
                                .map_err(|e| match e {
                                    StoreError::Refused(mut r) => {
                                        r.line = Some(line);
                                        StoreError::Refused(r)
                                    }
                                    other => other,
                                })?;
                        }
                        count += ops.len() as u64;
                    }
                    Ok(Some(ImportMsg::End)) => return Ok(()),
                    Ok(None) => return Err(StoreError::Aborted("import abandoned".into())),
                    Err(_) => {
                        return Err(StoreError::Aborted(format!(
                            "import idle for {}s; abandoned",
                            IMPORT_IDLE.as_secs()
                        )));
                    }
                }
            }
        })?;
        self.announce(prev_high, commit);
        Ok(count)
    }

    /// After a commit that dropped the database (here or from a peer), its
    /// removed records' space goes back to the file system: the file keeps
    /// only the marker, the replica's identity and its checkpoints. Run
    /// before answering: once `drop` returns, the space is back.
    fn compact_if_dropped(&mut self, before: Option<syncdb_core::version::Version>) {
        if self.db.drop_marker() == before {
            return;
        }
        let started = std::time::Instant::now();
        match self.db.compact() {
            Ok(()) => {
                tracing::info!(db = %self.name, ms = started.elapsed().as_millis() as u64, "compacted a dropped database")
            }
            Err(e) => {
                tracing::warn!(db = %self.name, error = %e, "cannot compact a dropped database; the file keeps its size")
            }
        }
    }

    fn announce(&self, prev_high: u64, commit: Commit) {
        if commit.high_seq == prev_high {
            return;
        }
        *lock(&self.schema) = self.db.schema().clone();
        self.high_seq.store(commit.high_seq, Ordering::Release);
        // Another hub committed before this one (the store's database was
        // read again under the commit's lock): the seqs between are in the
        // feed, not in these changes, so watchers read the feed.
        let changes = commit.changes.filter(|c| {
            c.first().map(|c| c.seq) == Some(prev_high + 1)
                && c.last().map(|c| c.seq) == Some(commit.high_seq)
        });
        let note = CommitNote {
            folder: self.folder.clone(),
            db: self.name.clone(),
            reader: self.db.reader(),
            prev_high,
            high_seq: commit.high_seq,
            changes,
        };
        let _ = self.commits.send(Arc::new(note));
    }
}
