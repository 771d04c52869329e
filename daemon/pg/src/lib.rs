//! syncdb's PostgreSQL store: the databases of a hub's folders kept in
//! tables of one PostgreSQL database, so that several hub processes can
//! serve the same folders (`schema.sql` is the layout).
//!
//! [`PgEngine`] is one syncdb database behind the same [`Engine`] trait as
//! the file engines, and passes the same conformance suite
//! (`tests/conformance.rs`). The trait is blocking; the client is
//! tokio-postgres, whose connections run as tasks on this store's own small
//! runtime while each call blocks its caller (a writer thread, or a reader
//! anywhere, as a redb read blocks) on the client's future. No caller needs
//! to be inside, or outside, a tokio runtime.
//!
//! **Seqs without gaps a reader could skip.** A write transaction first
//! locks its database's row in `syncdb.databases` (`SELECT … FOR UPDATE`)
//! and takes its seqs from that row, so two writers to one database — on
//! one hub or on two — commit one after the other, and the later one's
//! seqs are all higher. A reader reads the feed from one snapshot, so it
//! sees a transaction's entries all or none, and never seq N+1 without N.
//!
//! This crate depends on syncdb-core, never the other way (core stays free
//! of async and of PostgreSQL).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use syncdb_core::record::RecordState;
use syncdb_core::store::codec::{
    decode_state_beside, decode_version, decode_visible_beside, encode_state_beside, encode_version,
};
use syncdb_core::store::{
    Change, Engine, EngineKind, IndexHit, Item, Meta, Space, StoreError, Stored, WriteTxn,
};
use syncdb_core::{Key, Name, SiteId, Version};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

pub mod access;
pub mod cluster;
pub mod listen;

type Result<T, E = StoreError> = std::result::Result<T, E>;

const SCHEMA: &str = include_str!("schema.sql");
/// Held while the tables are created, so that hubs starting together do not
/// race on `CREATE … IF NOT EXISTS` (which is not safe concurrently).
const SCHEMA_LOCK: i64 = 0x7379_6e63_6462; // "syncdb"

/// A connection string that says where the tables are, and a pool of
/// connections to them. Cheap to clone; every clone shares the pool.
#[derive(Clone)]
pub struct PgStore {
    shared: Arc<Shared>,
}

struct Shared {
    config: tokio_postgres::Config,
    /// Runs the connections' tasks.
    runtime: tokio::runtime::Handle,
    /// Shut down without waiting when the last clone goes, which may be
    /// inside a caller's runtime (where waiting is not allowed).
    owner: Option<tokio::runtime::Runtime>,
    idle: Mutex<Vec<PgClient>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(runtime) = self.owner.take() {
            runtime.shutdown_background();
        }
    }
}

/// The option that names a file holding the password, so the password is
/// in no config file or command line (libpq has `passfile`, in its own
/// format; this is the password alone, as the first line of the file).
const PASSWORD_FILE: &str = "password_file";

/// Parses a connection string, `key=value …` or a `postgres://` URL, that
/// may name a [`PASSWORD_FILE`]. No error repeats the string: it may hold
/// a password.
fn config_of(url: &str) -> Result<tokio_postgres::Config> {
    let mut file = None;
    let mut keep = |part: &&str| match part
        .strip_prefix(PASSWORD_FILE)
        .and_then(|v| v.strip_prefix('='))
    {
        Some(path) => {
            file = Some(path.to_owned());
            false
        }
        None => true,
    };
    let rest = match url.split_once('?') {
        Some((base, query)) if url.contains("://") => {
            let kept: Vec<&str> = query.split('&').filter(&mut keep).collect();
            match kept.is_empty() {
                true => base.to_owned(),
                false => format!("{base}?{}", kept.join("&")),
            }
        }
        _ if url.contains("://") => url.to_owned(),
        _ => {
            let kept: Vec<&str> = url.split_whitespace().filter(&mut keep).collect();
            kept.join(" ")
        }
    };
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e: tokio_postgres::Error| {
        StoreError::Server(format!(
            "bad connection string: {e} (give `host=… user=… dbname=…` or postgres://user@host/db; {PASSWORD_FILE}=PATH names a file with the password)"
        ))
    })?;
    // A server that does not answer must not hold a caller (a hub's
    // session, a command) for the system's TCP timeout of minutes.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(5));
    }
    if let Some(path) = file {
        // As with token files: a password others can read is no secret.
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(&path)
            && std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o077 != 0
        {
            return Err(StoreError::Server(format!(
                "bad connection string: the password file {path} is readable by others; run `chmod 600 {path}`"
            )));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            StoreError::Server(format!("cannot read the password file {path}: {e}"))
        })?;
        let password = text.lines().next().unwrap_or("");
        config.password(password);
    }
    Ok(config)
}

/// How a server error reads: the server's own message when it sent one.
fn server(e: tokio_postgres::Error) -> StoreError {
    let text = match e.as_db_error() {
        Some(db) => db.to_string(),
        None => match std::error::Error::source(&e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    };
    StoreError::Server(text)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn wait<T>(f: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>) -> Result<T> {
    futures_executor::block_on(f).map_err(server)
}

impl PgStore {
    /// Connects to the server `url` names (`postgres://user@host:port/db`
    /// or `host=… dbname=…`) and creates syncdb's tables there if missing.
    pub fn connect(url: &str) -> Result<Self> {
        let config = config_of(url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("syncdb-pg")
            .enable_all()
            .build()
            .map_err(StoreError::Io)?;
        let store = PgStore {
            shared: Arc::new(Shared {
                config,
                runtime: runtime.handle().clone(),
                owner: Some(runtime),
                idle: Mutex::new(Vec::new()),
            }),
        };
        {
            let mut conn = store.conn()?;
            let txn = conn.client().begin()?;
            txn.exec("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            wait(txn.txn.batch_execute(SCHEMA))?;
            txn.commit()?;
        }
        Ok(store)
    }

    /// A connection from the pool, or a new one; back in the pool when
    /// dropped, unless it broke.
    fn conn(&self) -> Result<Conn<'_>> {
        let pooled = self
            .shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let client = match pooled.filter(|c| !c.client.is_closed()) {
            Some(client) => client,
            None => {
                let config = self.shared.config.clone();
                let task = self.shared.runtime.spawn(async move {
                    let (client, connection) = config.connect(NoTls).await?;
                    tokio::spawn(async move {
                        // Ends when the client is dropped or the server goes.
                        let _ = connection.await;
                    });
                    Ok::<_, tokio_postgres::Error>(client)
                });
                let client = futures_executor::block_on(task)
                    .map_err(|e| StoreError::Server(format!("connecting: {e}")))?
                    .map_err(server)?;
                PgClient {
                    client,
                    prepared: RefCell::default(),
                }
            }
        };
        Ok(Conn {
            store: self,
            client: Some(client),
        })
    }

    /// Opens the database `name` of `folder`, creating it (empty, with a
    /// new site id) if there is none.
    pub fn open(&self, folder: &str, name: &str) -> Result<PgEngine> {
        let mut conn = self.conn()?;
        let site = SiteId::random();
        conn.client().exec(
            "INSERT INTO syncdb.databases (folder, name, site, next_seq, hlc)
             VALUES ($1, $2, $3, 1, 0) ON CONFLICT (folder, name) DO NOTHING",
            &[&folder, &name, &&site.0[..]],
        )?;
        drop(conn);
        self.find(folder, name)?
            .ok_or_else(|| corrupt("the database was removed as it was opened"))
    }

    /// Opens the database `name` of `folder` if there is one.
    pub fn find(&self, folder: &str, name: &str) -> Result<Option<PgEngine>> {
        let mut conn = self.conn()?;
        let rows = conn.client().rows(
            "SELECT id FROM syncdb.databases WHERE folder = $1 AND name = $2",
            &[&folder, &name],
        )?;
        Ok(rows.first().map(|row| PgEngine {
            store: self.clone(),
            db: row.get(0),
            wake: format!("{folder}\t{name}"),
            open: AtomicBool::new(true),
            calls: AtomicUsize::new(0),
        }))
    }

    /// Records that the hubs serve `folder`; whether it is new.
    pub fn folder_create(&self, folder: &str, now_ms: u64) -> Result<bool> {
        let mut conn = self.conn()?;
        let made = conn.client().exec(
            "INSERT INTO syncdb.folders (id, created_ms) VALUES ($1, $2)
             ON CONFLICT (id) DO NOTHING",
            &[&folder, &(now_ms as i64)],
        )?;
        Ok(made > 0)
    }

    /// The folders the hubs serve, by id.
    pub fn folders(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let rows = conn
            .client()
            .rows("SELECT id FROM syncdb.folders ORDER BY id", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The names of the databases of `folder`, in order.
    pub fn databases(&self, folder: &str) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let rows = conn.client().rows(
            "SELECT name FROM syncdb.databases WHERE folder = $1 ORDER BY name",
            &[&folder],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Removes a database that nothing was ever committed to (one a write
    /// made moments ago, on any hub); whether it did.
    pub fn remove_empty(&self, folder: &str, name: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let n = conn.client().exec(
            "DELETE FROM syncdb.databases WHERE folder = $1 AND name = $2 AND next_seq = 1",
            &[&folder, &name],
        )?;
        Ok(n > 0)
    }

    /// Removes a database and everything in it; whether there was one.
    pub fn remove(&self, folder: &str, name: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let n = conn.client().exec(
            "DELETE FROM syncdb.databases WHERE folder = $1 AND name = $2",
            &[&folder, &name],
        )?;
        Ok(n > 0)
    }
}

/// A connection and the statements prepared on it: each statement is
/// parsed once per connection, so a query is one round trip, not two.
struct PgClient {
    client: Client,
    prepared: Statements,
}

type Statements = RefCell<HashMap<String, Statement>>;

/// The statement for `sql` on the connection `g` runs on.
fn prepared<G: GenericClient>(g: &G, cache: &Statements, sql: &str) -> Result<Statement> {
    if let Some(statement) = cache.borrow().get(sql) {
        return Ok(statement.clone());
    }
    let statement = wait(g.prepare(sql))?;
    cache.borrow_mut().insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

impl PgClient {
    fn begin(&mut self) -> Result<Tx<'_>> {
        Ok(Tx {
            txn: wait(self.client.transaction())?,
            prepared: &self.prepared,
        })
    }

    /// A read-only transaction that reads one snapshot throughout.
    fn snapshot(&mut self) -> Result<Tx<'_>> {
        let txn = self
            .client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start();
        Ok(Tx {
            txn: wait(txn)?,
            prepared: &self.prepared,
        })
    }
}

/// A transaction on a [`PgClient`].
struct Tx<'c> {
    txn: Transaction<'c>,
    prepared: &'c Statements,
}

impl Tx<'_> {
    fn commit(self) -> Result<()> {
        wait(self.txn.commit())
    }

    fn rollback(self) -> Result<()> {
        wait(self.txn.rollback())
    }
}

/// A pooled connection.
struct Conn<'s> {
    store: &'s PgStore,
    client: Option<PgClient>,
}

impl Conn<'_> {
    fn client(&mut self) -> &mut PgClient {
        self.client.as_mut().expect("held until dropped")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take().filter(|c| !c.client.is_closed()) {
            self.store
                .shared
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
        }
    }
}

/// One syncdb database kept in the store's tables.
pub struct PgEngine {
    store: PgStore,
    db: i64,
    /// What a commit's notification says: `FOLDER\tNAME`.
    wake: String,
    /// False once closed.
    open: AtomicBool,
    /// Calls in progress, which `close` waits for. Not a lock: a write
    /// reads through the engine again while it runs (a writer whose state
    /// another hub made stale), and a lock taken twice could deadlock.
    calls: AtomicUsize,
}

/// Counts a call in progress for as long as it runs.
struct Call<'e>(&'e AtomicUsize);

impl Drop for Call<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PgEngine {
    /// Runs a read on a pooled connection, unless the engine was closed.
    fn read<T>(&self, f: impl FnOnce(&mut PgClient, i64) -> Result<T>) -> Result<T> {
        // Counted before `open` is looked at, so `close` either sees this
        // call and waits for it, or this call sees the engine closed.
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _call = Call(&self.calls);
        if !self.open.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let mut conn = self.store.conn()?;
        f(conn.client(), self.db)
    }
}

fn name_of(s: String) -> Result<Name> {
    Name::parse_as("collection", &s).map_err(|_| corrupt("bad collection name"))
}

fn key_of(s: String) -> Result<Key> {
    Key::parse(&s).map_err(|_| corrupt("bad key"))
}

fn seq_of(v: i64) -> u64 {
    v as u64
}

/// A seq as the server keeps it; seqs past `i64::MAX` are never made, so a
/// larger bound is the largest one (it must not wrap).
fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The least string above every string that starts with `prefix` (`None`:
/// there is none), so a prefix scan is a range in byte order: UTF-8 keeps
/// code point order, so the prefix with its last char moved up one does.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn stored_of(seq: i64, state: &[u8], doc: Option<&str>) -> Result<Stored> {
    Ok(Stored {
        seq: seq_of(seq),
        state: decode_state_beside(state, doc)?,
    })
}

fn change_of(row: &Row) -> Result<Change> {
    let seq: i64 = row.get(0);
    let collection: String = row.get(1);
    let key: Option<String> = row.get(2);
    let blob: Vec<u8> = row.get(3);
    let doc: Option<String> = row.get(4);
    let item = match key {
        Some(key) => Item::Record {
            collection: name_of(collection)?,
            key: key_of(key)?,
            state: decode_state_beside(&blob, doc.as_deref())?,
        },
        None if collection.is_empty() => Item::DropDatabase {
            version: decode_version(&blob)?,
        },
        None => Item::DropCollection {
            collection: name_of(collection)?,
            version: decode_version(&blob)?,
        },
    };
    Ok(Change {
        seq: seq_of(seq),
        item,
    })
}

fn meta_of(row: &Row) -> Result<Meta> {
    let site: Vec<u8> = row.get(0);
    Ok(Meta {
        site: SiteId(site.try_into().map_err(|_| corrupt("bad site id"))?),
        next_seq: seq_of(row.get(1)),
        hlc: row.get::<_, i64>(2) as u64,
    })
}

const GET: &str = "SELECT seq, state, doc FROM syncdb.records
                   WHERE db = $1 AND collection = $2 AND key = $3";
const META_BLOB: &str = "SELECT value FROM syncdb.meta WHERE db = $1 AND name = $2";

/// Runs one query on anything that queries (a client or a transaction).
trait Query {
    fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>>;
    fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64>;
}

impl Query for PgClient {
    fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = prepared(&self.client, &self.prepared, sql)?;
        wait(self.client.query(&statement, params))
    }
    fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = prepared(&self.client, &self.prepared, sql)?;
        wait(self.client.execute(&statement, params))
    }
}

impl Query for Tx<'_> {
    fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = prepared(&self.txn, self.prepared, sql)?;
        wait(self.txn.query(&statement, params))
    }
    fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = prepared(&self.txn, self.prepared, sql)?;
        wait(self.txn.execute(&statement, params))
    }
}

fn get_record(q: &dyn Query, db: i64, collection: &Name, key: &Key) -> Result<Option<Stored>> {
    let rows = q.rows(GET, &[&db, &collection.as_str(), &key.as_str()])?;
    rows.first()
        .map(|r| stored_of(r.get(0), r.get(1), r.get(2)))
        .transpose()
}

fn meta_blob(q: &dyn Query, db: i64, name: &str) -> Result<Option<Vec<u8>>> {
    let rows = q.rows(META_BLOB, &[&db, &name])?;
    Ok(rows.first().map(|r| r.get(0)))
}

impl Engine for PgEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Postgres
    }

    fn meta(&self) -> Result<Meta> {
        self.read(|c, db| {
            let rows = c.rows(
                "SELECT site, next_seq, hlc FROM syncdb.databases WHERE id = $1",
                &[&db],
            )?;
            meta_of(
                rows.first()
                    .ok_or_else(|| corrupt("the database was removed"))?,
            )
        })
    }

    fn get(&self, collection: &Name, key: &Key) -> Result<Option<Stored>> {
        self.read(|c, db| get_record(c, db, collection, key))
    }

    fn scan(
        &self,
        collection: &Name,
        prefix: &str,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, RecordState)>> {
        let (op, start) = match after {
            Some(a) if a.as_str() >= prefix => (">", a.as_str()),
            _ => (">=", prefix),
        };
        let end = prefix_end(prefix);
        let sql = format!(
            "SELECT key, state, doc FROM syncdb.records
             WHERE db = $1 AND collection = $2 AND key {op} $3 AND ($4::text IS NULL OR key < $4)
             ORDER BY key LIMIT $5"
        );
        self.read(|c, db| {
            let rows = c.rows(
                &sql,
                &[&db, &collection.as_str(), &start, &end, &limit_param(limit)],
            )?;
            rows.iter()
                .map(|r| Ok((key_of(r.get(0))?, decode_state_beside(r.get(1), r.get(2))?)))
                .collect()
        })
    }

    fn collections(&self) -> Result<Vec<(Name, u64)>> {
        self.read(|c, db| {
            let rows = c.rows(
                "SELECT name, records FROM syncdb.collections WHERE db = $1 ORDER BY name",
                &[&db],
            )?;
            rows.iter()
                .map(|r| Ok((name_of(r.get(0))?, r.get::<_, i64>(1) as u64)))
                .collect()
        })
    }

    fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Change>> {
        self.read(|c, db| {
            // Each side ordered and limited on its own, so each is a walk
            // of its (db, seq) index: limited only as a whole, the planner
            // scans and sorts every entry after `since` (170 ms a page at
            // a million records, against under 1 ms).
            let rows = c.rows(
                "(SELECT seq, collection, key, state, doc FROM syncdb.records
                  WHERE db = $1 AND seq > $2 ORDER BY seq LIMIT $3)
                 UNION ALL
                 (SELECT seq, scope, NULL, version, NULL FROM syncdb.markers
                  WHERE db = $1 AND seq > $2 ORDER BY seq LIMIT $3)
                 ORDER BY 1 LIMIT $3",
                &[&db, &seq_param(since), &limit_param(limit)],
            )?;
            rows.iter().map(change_of).collect()
        })
    }

    fn count_since(&self, since: u64) -> Result<u64> {
        self.read(|c, db| {
            let rows = c.rows(
                "SELECT (SELECT count(*) FROM syncdb.records WHERE db = $1 AND seq > $2)
                      + (SELECT count(*) FROM syncdb.markers WHERE db = $1 AND seq > $2)",
                &[&db, &seq_param(since)],
            )?;
            Ok(rows[0].get::<_, i64>(0) as u64)
        })
    }

    fn visit_records(&self, f: &mut dyn FnMut(&Name, &Key, &RecordState)) -> Result<()> {
        // One snapshot, read a page at a time (a database can be larger
        // than memory).
        self.read(|c, db| {
            let txn = c.snapshot()?;
            let mut after: Option<(String, String)> = None;
            loop {
                let (coll, key) = after.clone().unwrap_or_default();
                let rows = txn.rows(
                    "SELECT collection, key, state, doc FROM syncdb.records
                     WHERE db = $1 AND ($2 OR (collection, key) > ($3, $4))
                     ORDER BY collection, key LIMIT 1000",
                    &[&db, &after.is_none(), &coll, &key],
                )?;
                for r in &rows {
                    let state = decode_state_beside(r.get(2), r.get(3))?;
                    f(&name_of(r.get(0))?, &key_of(r.get(1))?, &state);
                }
                match rows.last() {
                    Some(last) if rows.len() == 1000 => after = Some((last.get(0), last.get(1))),
                    _ => break,
                }
            }
            txn.commit()
        })
    }

    fn markers(&self) -> Result<Vec<(Option<Name>, Version)>> {
        self.read(|c, db| {
            let rows = c.rows(
                "SELECT scope, version FROM syncdb.markers WHERE db = $1",
                &[&db],
            )?;
            rows.iter()
                .map(|r| {
                    let scope: String = r.get(0);
                    let scope = (!scope.is_empty()).then(|| name_of(scope)).transpose()?;
                    Ok((scope, decode_version(r.get(1))?))
                })
                .collect()
        })
    }

    fn checkpoint(&self, peer: SiteId) -> Result<u64> {
        self.read(|c, db| {
            let rows = c.rows(
                "SELECT seq FROM syncdb.checkpoints WHERE db = $1 AND peer = $2",
                &[&db, &&peer.0[..]],
            )?;
            Ok(rows.first().map_or(0, |r| seq_of(r.get(0))))
        })
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTxn) -> Result<()>) -> Result<()> {
        self.read(|c, db| {
            let txn = c.begin()?;
            // Writers to this database, on every hub, queue here (see the
            // crate's doc); the row is there unless the database was removed.
            let locked = txn.rows(
                "SELECT site, next_seq, hlc FROM syncdb.databases WHERE id = $1 FOR UPDATE",
                &[&db],
            )?;
            let Some(row) = locked.first() else {
                return Err(corrupt("the database was removed"));
            };
            let committed = meta_of(row)?;
            let mut writes = PgTxn::new(&txn, db, committed);
            let outcome = f(&mut writes).and_then(|()| writes.flush());
            // Delivered to every listening hub when (and only if) this
            // transaction commits.
            let outcome = outcome.and_then(|()| {
                txn.exec("SELECT pg_notify($1, $2)", &[&listen::CHANNEL, &self.wake])
                    .map(drop)
            });
            match outcome {
                // Durable when it returns: the server's commit waits for its
                // WAL to be flushed (`synchronous_commit`, on by default).
                Ok(()) => txn.commit(),
                Err(e) => {
                    // The first error is the one worth reporting.
                    let _ = txn.rollback();
                    Err(e)
                }
            }
        })
    }

    /// The server gives the space of removed rows back by itself
    /// (autovacuum); `VACUUM FULL` of tables every database shares is the
    /// operator's call, not a hub's.
    fn compact(&self) -> Result<()> {
        self.read(|_, _| Ok(()))
    }

    /// No file: nothing for the daemon to compact by itself.
    fn space(&self) -> Result<Space> {
        self.read(|_, _| Ok(Space::default()))
    }

    fn backup_to(&self, _dest: &Path) -> Result<()> {
        Err(StoreError::Io(std::io::Error::other(
            "a database kept in PostgreSQL is backed up with the server's tools (pg_dump)",
        )))
    }

    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        while self.calls.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    fn meta_blob(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c, db| meta_blob(c, db, name))
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
        let ((lo_op, lo), hi_end) = syncdb_core::store::sql_range(&range);
        let (hi_op, hi) = (hi_end.map_or("<", |h| h.0), hi_end.map(|h| h.1));
        let sql = format!(
            "SELECT entry FROM syncdb.index_entries
             WHERE db = $1 AND entry {lo_op} $2 AND ($3::bytea IS NULL OR entry {hi_op} $3)
             ORDER BY entry {} LIMIT $4",
            if rev { "DESC" } else { "ASC" }
        );
        self.read(|c, db| {
            // One snapshot: the entries and the records they name come from
            // the same commit.
            let txn = c.snapshot()?;
            let stored = meta_blob(&txn, db, syncdb_core::index::META_NAME)?;
            if stored.as_deref() != Some(list) {
                return Ok(None);
            }
            if syncdb_core::store::is_empty_range(&range) {
                return Ok(Some(Vec::new()));
            }
            let entries = txn.rows(&sql, &[&db, &lo, &hi, &limit_param(limit)])?;
            let mut out = Vec::with_capacity(entries.len());
            for row in entries {
                let entry: Vec<u8> = row.get(0);
                let key = key_of(&entry).ok_or_else(|| corrupt("bad index entry"))?;
                let rows = txn.rows(
                    "SELECT state, doc FROM syncdb.records
                     WHERE db = $1 AND collection = $2 AND key = $3",
                    &[&db, &collection.as_str(), &key.as_str()],
                )?;
                let visible = match rows.first() {
                    Some(r) => decode_visible_beside(r.get(0), r.get(1))?,
                    None => None,
                };
                out.push((entry, key, visible));
            }
            txn.commit()?;
            Ok(Some(out))
        })
    }
}

/// The writes of one transaction.
struct PgTxn<'t, 'c> {
    txn: &'t Tx<'c>,
    db: i64,
    /// The database's counters as committed, read when its row was locked.
    committed: Meta,
    /// Records as this transaction sees them, read ahead (`prefetch`) or
    /// written here: `get` answers these without a round trip.
    known: HashMap<(String, String), Option<Stored>>,
    /// Record rows not sent yet: to write (`Some`) or delete (`None`). They
    /// go in one statement each (`flush`) before anything reads the table
    /// as a whole, and before the commit.
    pending: BTreeMap<(String, String), Option<PendingRow>>,
}

/// A record row to write: seq, visible document, state beside it.
type PendingRow = (i64, Option<String>, Vec<u8>);

impl PgTxn<'_, '_> {
    fn new<'t, 'c>(txn: &'t Tx<'c>, db: i64, committed: Meta) -> PgTxn<'t, 'c> {
        PgTxn {
            txn,
            db,
            committed,
            known: HashMap::new(),
            pending: BTreeMap::new(),
        }
    }

    /// Sends the pending record rows: every write in one `INSERT … ON
    /// CONFLICT`, every delete in one `DELETE`.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (written, removed): (Vec<_>, Vec<_>) =
            self.pending.iter().partition(|(_, row)| row.is_some());
        if !removed.is_empty() {
            let collections: Vec<&str> = removed.iter().map(|((c, _), _)| c.as_str()).collect();
            let keys: Vec<&str> = removed.iter().map(|((_, k), _)| k.as_str()).collect();
            self.txn.exec(
                "DELETE FROM syncdb.records r USING UNNEST($2::text[], $3::text[]) AS g(collection, key)
                 WHERE r.db = $1 AND r.collection = g.collection AND r.key = g.key",
                &[&self.db, &collections, &keys],
            )?;
        }
        if !written.is_empty() {
            let rows: Vec<(&str, &str, &PendingRow)> = written
                .iter()
                .filter_map(|((c, k), row)| Some((c.as_str(), k.as_str(), row.as_ref()?)))
                .collect();
            let collections: Vec<&str> = rows.iter().map(|r| r.0).collect();
            let keys: Vec<&str> = rows.iter().map(|r| r.1).collect();
            let seqs: Vec<i64> = rows.iter().map(|r| r.2.0).collect();
            let docs: Vec<Option<&str>> = rows.iter().map(|r| r.2.1.as_deref()).collect();
            let states: Vec<&[u8]> = rows.iter().map(|r| r.2.2.as_slice()).collect();
            self.txn.exec(
                "INSERT INTO syncdb.records (db, collection, key, seq, doc, state)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::text[], $6::bytea[])
                 ON CONFLICT (db, collection, key) DO UPDATE
                 SET seq = excluded.seq, doc = excluded.doc, state = excluded.state",
                &[&self.db, &collections, &keys, &seqs, &docs, &states],
            )?;
        }
        self.pending.clear();
        Ok(())
    }
}

impl WriteTxn for PgTxn<'_, '_> {
    fn get(&mut self, collection: &Name, key: &Key) -> Result<Option<Stored>> {
        let id = (collection.as_str().to_owned(), key.as_str().to_owned());
        if let Some(known) = self.known.get(&id) {
            return Ok(known.clone());
        }
        let stored = get_record(self.txn, self.db, collection, key)?;
        self.known.insert(id, stored.clone());
        Ok(stored)
    }

    fn prefetch(&mut self, records: &mut dyn Iterator<Item = (&Name, &Key)>) -> Result<()> {
        let wanted: Vec<(&str, &str)> = records
            .map(|(c, k)| (c.as_str(), k.as_str()))
            .filter(|(c, k)| !self.known.contains_key(&((*c).to_owned(), (*k).to_owned())))
            .collect();
        if wanted.len() < 2 {
            return Ok(());
        }
        let (collections, keys): (Vec<&str>, Vec<&str>) = wanted.iter().copied().unzip();
        let rows = self.txn.rows(
            "SELECT r.collection, r.key, r.seq, r.state, r.doc
             FROM UNNEST($2::text[], $3::text[]) AS w(collection, key)
             JOIN syncdb.records r ON r.db = $1 AND r.collection = w.collection AND r.key = w.key",
            &[&self.db, &collections, &keys],
        )?;
        for (c, k) in wanted {
            self.known.insert((c.to_owned(), k.to_owned()), None);
        }
        for r in &rows {
            let stored = stored_of(r.get(2), r.get(3), r.get(4))?;
            self.known.insert((r.get(0), r.get(1)), Some(stored));
        }
        Ok(())
    }

    fn put(&mut self, collection: &Name, key: &Key, state: &RecordState, seq: u64) -> Result<()> {
        let id = (collection.as_str().to_owned(), key.as_str().to_owned());
        let (doc, bytes) = encode_state_beside(state);
        self.pending
            .insert(id.clone(), Some((seq_param(seq), doc, bytes)));
        let stored = Stored {
            seq,
            state: state.clone(),
        };
        self.known.insert(id, Some(stored));
        Ok(())
    }

    fn remove(&mut self, collection: &Name, key: &Key) -> Result<()> {
        let id = (collection.as_str().to_owned(), key.as_str().to_owned());
        self.pending.insert(id.clone(), None);
        self.known.insert(id, None);
        Ok(())
    }

    fn records(&mut self, collection: Option<&Name>) -> Result<Vec<(Name, Key, Stored)>> {
        self.flush()?;
        let rows = self.txn.rows(
            "SELECT collection, key, seq, state, doc FROM syncdb.records
             WHERE db = $1 AND ($2::text IS NULL OR collection = $2)
             ORDER BY collection, key",
            &[&self.db, &collection.map(Name::as_str)],
        )?;
        rows.iter()
            .map(|r| {
                let stored = stored_of(r.get(2), r.get(3), r.get(4))?;
                Ok((name_of(r.get(0))?, key_of(r.get(1))?, stored))
            })
            .collect()
    }

    fn set_marker(&mut self, collection: Option<&Name>, version: Version, seq: u64) -> Result<()> {
        self.txn.exec(
            "INSERT INTO syncdb.markers (db, scope, seq, version) VALUES ($1, $2, $3, $4)
             ON CONFLICT (db, scope) DO UPDATE SET seq = excluded.seq, version = excluded.version",
            &[
                &self.db,
                &collection.map_or("", Name::as_str),
                &seq_param(seq),
                &encode_version(&version),
            ],
        )?;
        Ok(())
    }

    fn remove_marker(&mut self, collection: Option<&Name>) -> Result<()> {
        self.txn.exec(
            "DELETE FROM syncdb.markers WHERE db = $1 AND scope = $2",
            &[&self.db, &collection.map_or("", Name::as_str)],
        )?;
        Ok(())
    }

    fn add_count(&mut self, collection: &Name, delta: i64) -> Result<()> {
        if delta == 0 {
            return Ok(());
        }
        self.txn.exec(
            "INSERT INTO syncdb.collections (db, name, records) VALUES ($1, $2, $3)
             ON CONFLICT (db, name) DO UPDATE
             SET records = syncdb.collections.records + excluded.records",
            &[&self.db, &collection.as_str(), &delta],
        )?;
        self.txn.exec(
            "DELETE FROM syncdb.collections WHERE db = $1 AND name = $2 AND records <= 0",
            &[&self.db, &collection.as_str()],
        )?;
        Ok(())
    }

    fn committed_meta(&mut self) -> Result<Option<Meta>> {
        Ok(Some(self.committed))
    }

    fn set_meta(&mut self, meta: &Meta) -> Result<()> {
        self.txn.exec(
            "UPDATE syncdb.databases SET next_seq = $2, hlc = $3 WHERE id = $1",
            &[&self.db, &seq_param(meta.next_seq), &(meta.hlc as i64)],
        )?;
        Ok(())
    }

    fn set_checkpoint(&mut self, peer: SiteId, seq: u64) -> Result<()> {
        self.txn.exec(
            "INSERT INTO syncdb.checkpoints (db, peer, seq) VALUES ($1, $2, $3)
             ON CONFLICT (db, peer) DO UPDATE SET seq = excluded.seq",
            &[&self.db, &&peer.0[..], &seq_param(seq)],
        )?;
        Ok(())
    }

    fn meta_blob(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        meta_blob(self.txn, self.db, name)
    }

    fn set_meta_blob(&mut self, name: &str, value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(value) => self.txn.exec(
                "INSERT INTO syncdb.meta (db, name, value) VALUES ($1, $2, $3)
                 ON CONFLICT (db, name) DO UPDATE SET value = excluded.value",
                &[&self.db, &name, &value],
            )?,
            None => self.txn.exec(
                "DELETE FROM syncdb.meta WHERE db = $1 AND name = $2",
                &[&self.db, &name],
            )?,
        };
        Ok(())
    }

    fn scan_records(
        &mut self,
        collection: &Name,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Stored)>> {
        self.flush()?;
        let rows = self.txn.rows(
            "SELECT key, seq, state, doc FROM syncdb.records
             WHERE db = $1 AND collection = $2 AND ($3::text IS NULL OR key > $3)
             ORDER BY key LIMIT $4",
            &[
                &self.db,
                &collection.as_str(),
                &after.map(Key::as_str),
                &limit_param(limit),
            ],
        )?;
        rows.iter()
            .map(|r| Ok((key_of(r.get(0))?, stored_of(r.get(1), r.get(2), r.get(3))?)))
            .collect()
    }

    fn index_insert(&mut self, entry: &[u8]) -> Result<()> {
        self.txn.exec(
            "INSERT INTO syncdb.index_entries (db, entry) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&self.db, &entry],
        )?;
        Ok(())
    }

    fn index_remove(&mut self, entry: &[u8]) -> Result<()> {
        self.txn.exec(
            "DELETE FROM syncdb.index_entries WHERE db = $1 AND entry = $2",
            &[&self.db, &entry],
        )?;
        Ok(())
    }

    fn index_remove_range(&mut self, lo: &[u8], hi: &[u8]) -> Result<()> {
        self.txn.exec(
            "DELETE FROM syncdb.index_entries WHERE db = $1 AND entry >= $2 AND entry < $3",
            &[&self.db, &lo, &hi],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{PASSWORD_FILE, config_of, prefix_end};

    #[test]
    fn a_password_file_gives_the_password_and_no_error_repeats_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        let mode = |m| std::os::unix::fs::PermissionsExt::from_mode(m);
        std::fs::set_permissions(&file, mode(0o644)).unwrap();
        let path = file.display();
        let loose = config_of(&format!("host=h {PASSWORD_FILE}={path}"));
        let err = loose.err().unwrap().to_string();
        assert!(err.contains("readable by others"), "{err}");
        std::fs::set_permissions(&file, mode(0o600)).unwrap();
        for url in [
            format!("host=localhost user=u {PASSWORD_FILE}={path} dbname=d"),
            format!("postgres://u@localhost/d?{PASSWORD_FILE}={path}"),
            format!("postgres://u@localhost/d?connect_timeout=5&{PASSWORD_FILE}={path}"),
        ] {
            let config = config_of(&url).unwrap();
            assert_eq!(config.get_password(), Some(&b"s3cret"[..]), "{url}");
            assert_eq!(config.get_dbname(), Some("d"), "{url}");
        }
        let missing = format!("host=h {PASSWORD_FILE}=/nonexistent/pw");
        let err = config_of(&missing).err().unwrap().to_string();
        assert!(err.contains("/nonexistent/pw"), "{err}");
        let bad = "host=h password=hunter2 port=notaport";
        let err = config_of(bad).err().unwrap().to_string();
        assert!(
            err.contains("bad connection string") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn a_prefix_ends_where_no_key_starts_with_it() {
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        for (prefix, key) in [
            ("ab", "ab\u{10FFFF}zz"),
            ("a\u{10FFFF}", "a\u{10FFFF}\u{10FFFF}"),
        ] {
            assert!(key < prefix_end(prefix).unwrap().as_str());
        }
    }
}
