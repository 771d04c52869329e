//! Layer C of RELIABILITY.md §5: replicas converge through the real sync
//! protocol under random schedules.
//!
//! A small deterministic simulator in the FoundationDB manner. A hub and 2–4
//! clients form a star: each client has one connection to the hub. Every node
//! has its own folder of real `Database`s (redb or SQLite, drawn per node) and
//! its own virtual clock (an offset of up to ±10 minutes, moved by hand). A
//! connection is a pair of real `Session`s whose messages travel as encoded
//! frames (`wire::encode`/`decode`) through two FIFO queues. No tokio, no
//! sockets, no wall clock: proptest draws the knobs (engines, clocks, chunk
//! sizes, window) and the schedule (writes, deliveries, deferred applies,
//! connects, cuts mid-chunk, replayed frames, restarts, clock steps), so one
//! input fully determines a run and a failure shrinks to a short script. Site
//! ids are pinned from the knobs, so even version tie-breaks replay.
//!
//! After the schedule every disconnected client connects (live sessions stay
//! up, so live pushes are tested too) and the world runs until quiescent, with
//! a step bound (liveness). Then:
//!
//! 1. every node holds the same databases, with equal digests and listings,
//!    and every session reports `caught_up()`;
//! 2. the listings equal an oracle: a pure fold of every local write by version
//!    (DESIGN.md "Versions and merging"), independent of `RecordState`;
//! 3. one more full round (disconnect all, reconnect all, quiesce) changes no
//!    digest and no high seq, and a round after it sends no record at all;
//! 4. no record is ever sent to the replica that wrote all of its versions.
//!
//! Hand-written regressions follow for bugs other systems shipped: a cut
//! between apply and ack (PouchDB #1240), a relay (cr-sqlite's proxy test), a
//! replica offline across a delete (Syncthing #1075), a re-insert delivered
//! after later updates (cr-sqlite's Corrosion report).
//!
//! The property runs 32 cases by default; `PROPTEST_CASES` overrides that.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use syncdb_core::history::{self, Admission};
use syncdb_core::record::RecordState;
use syncdb_core::sync::session::{Action, Local, Note, Session, SessionConfig, Standing};
use syncdb_core::sync::wire::{self, Message};
use syncdb_core::{
    Database, Document, EngineKind, Item, Key, Name, OpOutcome, Reader, SiteId, Version, WriteOp,
};

// ---------------------------------------------------------------------------
// The operation language: a tiny key space, so writes collide
// ---------------------------------------------------------------------------

/// Clocks here are at most ±10 minutes apart: well inside the bound.
const FUTURE_BOUND_MS: u64 = 3_600_000;

/// A wall-clock reading in milliseconds; virtual clocks start here.
const T0: u64 = 1_700_000_000_000;
const FOLDER: &str = "shared";
const DBS: [&str; 2] = ["crm", "notes"];
const COLLS: [&str; 2] = ["person", "task"];
/// Byte-ordered, as `Reader::list` returns them.
const KEYS: [&str; 4] = ["1", "10", "2", "b"];
const FIELDS: [&str; 3] = ["a", "b", "c"];
/// Node 0 is the hub; clients are 1..=n.
const HUB: usize = 0;
/// Frames delivered plus applies run before "not quiescent" is a failure.
const MAX_QUIESCE_STEPS: usize = 50_000;

fn name(s: &str) -> Name {
    Name::parse_as("name", s).unwrap()
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Fields set to small integers.
    Put {
        c: usize,
        k: usize,
        fields: [Option<u8>; 3],
    },
    /// `Some(None)` is `null` (remove the field); `None` leaves it out.
    Patch {
        c: usize,
        k: usize,
        fields: [Option<Option<u8>>; 3],
    },
    Delete {
        c: usize,
        k: usize,
    },
    DropCollection {
        c: usize,
    },
    DropDatabase,
}

fn put(c: usize, k: usize, fields: [Option<u8>; 3]) -> Op {
    Op::Put { c, k, fields }
}

fn object(fields: impl Iterator<Item = (usize, String)>) -> String {
    let parts: Vec<String> = fields
        .map(|(i, v)| format!("\"{}\":{v}", FIELDS[i]))
        .collect();
    format!("{{{}}}", parts.join(","))
}

impl Op {
    fn json(&self) -> String {
        match self {
            Op::Put { fields, .. } => {
                object((0..3).filter_map(|i| fields[i].map(|v| (i, v.to_string()))))
            }
            Op::Patch { fields, .. } => object((0..3).filter_map(|i| {
                fields[i].map(|v| (i, v.map_or("null".into(), |n| n.to_string())))
            })),
            _ => String::new(),
        }
    }

    fn write_op(&self) -> WriteOp {
        let doc = || Document::parse(&self.json(), usize::MAX).unwrap();
        match *self {
            Op::Put { c, k, .. } => WriteOp::Put {
                collection: name(COLLS[c]),
                key: key(KEYS[k]),
                doc: doc(),
            },
            Op::Patch { c, k, .. } => WriteOp::Patch {
                collection: name(COLLS[c]),
                key: key(KEYS[k]),
                part: doc(),
            },
            Op::Delete { c, k } => WriteOp::Delete {
                collection: name(COLLS[c]),
                key: key(KEYS[k]),
            },
            Op::DropCollection { c } => WriteOp::DropCollection {
                collection: name(COLLS[c]),
            },
            Op::DropDatabase => WriteOp::DropDatabase,
        }
    }

    /// Patch and delete write only over an existing record.
    fn needs_record(&self) -> bool {
        matches!(self, Op::Patch { .. } | Op::Delete { .. })
    }
}

impl std::fmt::Debug for Op {
    /// Shrunk failures print as a script: `put person/1 {"a":1}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Op::Put { c, k, .. } => write!(f, "put {}/{} {}", COLLS[c], KEYS[k], self.json()),
            Op::Patch { c, k, .. } => write!(f, "patch {}/{} {}", COLLS[c], KEYS[k], self.json()),
            Op::Delete { c, k } => write!(f, "delete {}/{}", COLLS[c], KEYS[k]),
            Op::DropCollection { c } => write!(f, "drop {}", COLLS[c]),
            Op::DropDatabase => write!(f, "drop database"),
        }
    }
}

// ---------------------------------------------------------------------------
// The oracle: every logged write folded by version, as DESIGN.md defines it
// ---------------------------------------------------------------------------

/// A local write that happened, with the version it was given.
#[derive(Clone, Debug)]
struct Logged {
    db: usize,
    op: Op,
    version: Version,
}

/// Visible documents: database → collection → [(key, JSON)] in key order.
type Listing = BTreeMap<String, BTreeMap<String, Vec<(String, String)>>>;

#[derive(Default)]
struct FoldedRecord {
    /// The newest whole-record write: (version, is a put).
    whole: Option<(Version, bool)>,
    /// Per field index, the newest write: (version, value or tombstone).
    fields: BTreeMap<usize, (Version, Option<u8>)>,
}

impl FoldedRecord {
    fn whole(&mut self, v: Version, is_put: bool) {
        if self.whole.is_none_or(|(w, _)| v > w) {
            self.whole = Some((v, is_put));
        }
    }

    fn field(&mut self, i: usize, v: Version, value: Option<u8>) {
        if self.fields.get(&i).is_none_or(|(w, _)| v > *w) {
            self.fields.insert(i, (v, value));
        }
    }

    /// The visible document: fields at or above the whole write that are not
    /// tombstones; the record exists if the whole write is a put, or if a
    /// field is newer than a delete.
    fn visible(&self) -> Option<String> {
        let floor = self.whole.map(|(v, _)| v);
        let live: Vec<(usize, String)> = self
            .fields
            .iter()
            .filter(|(_, (v, _))| floor.is_none_or(|w| *v >= w))
            .filter_map(|(i, (_, value))| value.map(|n| (*i, n.to_string())))
            .collect();
        let exists = match self.whole {
            Some((_, true)) => true,
            Some((w, false)) => self
                .fields
                .values()
                .any(|(v, value)| value.is_some() && *v > w),
            None => !live.is_empty(),
        };
        exists.then(|| object(live.into_iter()))
    }
}

/// Folded records by (database, collection, key).
type Records = BTreeMap<(usize, usize, usize), FoldedRecord>;
/// Drop markers by (database, collection; `None`: the database).
type Markers = BTreeMap<(usize, Option<usize>), Version>;

fn oracle(log: &[Logged]) -> Listing {
    let (mut records, markers, dbs) = fold(log);
    listing(&mut records, &markers, &dbs)
}

/// Every logged write folded by version.
fn fold(log: &[Logged]) -> (Records, Markers, BTreeSet<usize>) {
    let mut records = Records::new();
    let mut markers = Markers::new();
    let mut dbs = BTreeSet::new();
    for Logged { db, op, version: v } in log.iter().cloned() {
        dbs.insert(db);
        let mut marker = |scope| {
            let m = markers.entry((db, scope)).or_insert(v);
            *m = (*m).max(v);
        };
        match op {
            Op::Put { c, k, fields } => {
                let r = records.entry((db, c, k)).or_default();
                r.whole(v, true);
                for (i, value) in fields.iter().enumerate() {
                    if let Some(n) = value {
                        r.field(i, v, Some(*n));
                    }
                }
            }
            Op::Patch { c, k, fields } => {
                let r = records.entry((db, c, k)).or_default();
                for (i, value) in fields.iter().enumerate() {
                    if let Some(value) = value {
                        r.field(i, v, *value);
                    }
                }
            }
            Op::Delete { c, k } => records.entry((db, c, k)).or_default().whole(v, false),
            Op::DropCollection { c } => marker(Some(c)),
            Op::DropDatabase => marker(None),
        }
    }
    (records, markers, dbs)
}

/// The visible documents, drops applied.
fn listing(records: &mut Records, markers: &Markers, dbs: &BTreeSet<usize>) -> Listing {
    let mut out = Listing::new();
    for &db in dbs {
        let colls = out.entry(DBS[db].to_owned()).or_default();
        for (c, coll) in COLLS.iter().enumerate() {
            let cover = markers
                .get(&(db, None))
                .max(markers.get(&(db, Some(c))))
                .copied();
            let mut docs = Vec::new();
            for (k, key) in KEYS.iter().enumerate() {
                let Some(r) = records.get_mut(&(db, c, k)) else {
                    continue;
                };
                // A drop at V deletes every record at V: older writes vanish.
                if let Some(m) = cover {
                    r.whole(m, false);
                    r.fields.retain(|_, (v, _)| *v > m);
                }
                if let Some(doc) = r.visible() {
                    docs.push((key.to_string(), doc));
                }
            }
            colls.insert(coll.to_string(), docs);
        }
    }
    out
}

/// True when every version in the entry was written by replica `site`.
fn written_only_by(item: &Item, site: SiteId) -> bool {
    match item {
        Item::Record { state, .. } => state.versions().all(|v| v.site == site),
        Item::DropCollection { version, .. } | Item::DropDatabase { version } => {
            version.site == site
        }
    }
}

// ---------------------------------------------------------------------------
// Nodes: a folder of databases with a virtual clock
// ---------------------------------------------------------------------------

/// Creates a replica whose site id is `site`, so tie-breaks between equal
/// HLCs replay exactly. Engines draw site ids at random on first open; this
/// rewrites the fresh file's id (SQLite's documented `meta` table, redb's
/// `meta` table) and checks that the reopened replica reports it.
fn create_replica(kind: EngineKind, path: &Path, site: SiteId) -> Database {
    drop(Database::open(kind, path).expect("create a replica"));
    match kind {
        EngineKind::Sqlite => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let sql = "UPDATE meta SET value = ?1 WHERE name = 'site'";
            conn.execute(sql, [&site.0[..]]).unwrap();
        }
        EngineKind::Postgres => panic!("the simulator runs on the file engines"),
        EngineKind::Redb => {
            const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
            let db = redb::Database::open(path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("site", &site.0[..])
                .unwrap();
            txn.commit().unwrap();
        }
    }
    let db = Database::open(kind, path).expect("reopen a replica");
    assert_eq!(
        db.site(),
        site,
        "pinning the site id failed: layout changed?"
    );
    db
}

struct Node {
    index: usize,
    kind: EngineKind,
    dir: PathBuf,
    /// First byte of this node's site ids: varies their order across cases.
    salt: u8,
    dbs: BTreeMap<Name, Database>,
    /// Virtual milliseconds since `T0`, moved only by the schedule.
    clock: u64,
    offset: i64,
}

impl Node {
    fn now(&self) -> u64 {
        T0.checked_add_signed(self.offset).unwrap() + self.clock
    }

    fn site_for(&self, db: &Name) -> SiteId {
        let i = DBS.iter().position(|d| *d == db.as_str()).unwrap_or(99);
        let mut site = [0u8; 16];
        (site[0], site[1], site[2]) = (self.salt, self.index as u8 + 1, i as u8 + 1);
        SiteId(site)
    }

    fn path(&self, db: &Name) -> PathBuf {
        self.dir.join(format!("{db}.{}", self.kind.extension()))
    }

    /// The database, created on first use.
    fn db(&mut self, db: &Name) -> &mut Database {
        if !self.dbs.contains_key(db) {
            let replica = create_replica(self.kind, &self.path(db), self.site_for(db));
            self.dbs.insert(db.clone(), replica);
        }
        self.dbs.get_mut(db).unwrap()
    }

    /// Loses all in-memory state: closes every database and opens it again.
    fn restart(&mut self) {
        let names: Vec<Name> = self.dbs.keys().cloned().collect();
        self.dbs.clear();
        for n in names {
            let db = Database::open(self.kind, &self.path(&n)).expect("reopen");
            self.dbs.insert(n, db);
        }
    }
}

impl Local for Node {
    fn databases(&mut self) -> Result<Vec<(Name, SiteId)>, String> {
        Ok(self
            .dbs
            .iter()
            .map(|(n, d)| (n.clone(), d.site()))
            .collect())
    }

    fn open(&mut self, db: &Name) -> Result<Option<Reader>, String> {
        Ok(self.dbs.get(db).map(Database::reader))
    }

    fn now_ms(&self) -> u64 {
        self.now()
    }

    fn standing(&mut self, db: &Name, site: SiteId, rejoin: Option<u64>, fresh: bool) -> Standing {
        let now = self.now();
        let Some(d) = self.dbs.get_mut(db) else {
            return Standing::Current;
        };
        let horizon = d.history().horizon;
        let mut peers = d.history().replicas.clone();
        match history::admit(&mut peers, horizon, site, rejoin, fresh, now) {
            Admission::Current { .. } => {
                d.update_history(&mut |h| h.replicas = peers.clone())
                    .unwrap();
                Standing::Current
            }
            Admission::Outdated => Standing::Outdated {
                horizon,
                pulled: history::pulled(&d.reader(), &peers, site),
            },
        }
    }

    fn horizon(&mut self, db: &Name) -> u64 {
        self.dbs.get(db).map_or(0, |d| d.history().horizon)
    }

    fn rejoin(&mut self, db: &Name) -> Option<u64> {
        self.dbs.get(db)?.history().rejoin
    }
}

// ---------------------------------------------------------------------------
// Connections and the world
// ---------------------------------------------------------------------------

/// One end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Hub = 0,
    Client = 1,
}

impl Side {
    fn i(self) -> usize {
        self as usize
    }

    fn peer(self) -> Side {
        match self {
            Side::Hub => Side::Client,
            Side::Client => Side::Hub,
        }
    }
}

/// An `Action::Apply` received and not yet run.
struct Pending {
    db: Name,
    peer: SiteId,
    items: Vec<Item>,
    end_seq: u64,
    checkpoint: u64,
}

/// Client `c` ↔ hub. Dropping it is a cut: both sessions, every frame on
/// the wire and every apply not yet run are lost, as a kill would lose them.
struct Conn {
    /// Tells this connection from an earlier one of the same client.
    epoch: u64,
    client: Session,
    /// Made by `Session::accept` when the hub receives the `Hello`.
    hub: Option<Session>,
    /// Frames on the wire, by receiving side.
    queues: [VecDeque<Vec<u8>>; 2],
    /// Frames already delivered, by receiving side (for replays).
    delivered: [Vec<Vec<u8>>; 2],
    /// Applies not yet run, by side; run in order.
    pending: [VecDeque<Pending>; 2],
}

impl Conn {
    fn session(&mut self, side: Side) -> Option<&mut Session> {
        match side {
            Side::Hub => self.hub.as_mut(),
            Side::Client => Some(&mut self.client),
        }
    }
}

/// An action of one side of one connection, still to carry out.
struct Work {
    client: usize,
    side: Side,
    epoch: u64,
    action: Action,
}

fn work(client: usize, side: Side, epoch: u64, actions: Vec<Action>) -> Vec<Work> {
    actions
        .into_iter()
        .map(|action| Work {
            client,
            side,
            epoch,
            action,
        })
        .collect()
}

#[derive(Default, Debug)]
struct Stats {
    /// Rebuilds of outdated replicas: (client, what was kept).
    rebuilt: Vec<(usize, history::Rebuilt)>,
    settled: Vec<(usize, history::Settled)>,
    /// Records (and markers) carried by delivered chunks.
    items: u64,
    /// Of those, entries sent to the replica that wrote all their versions.
    echoes: u64,
    applies: u64,
    /// Sessions ended by either side, with the reason.
    closes: Vec<String>,
    /// Barriers reached and checked, and any that were reached too early.
    barriers: u64,
    early_barriers: Vec<String>,
}

/// Per seed: how many clients, and how each node and session behaves.
#[derive(Clone, Debug)]
struct Knobs {
    clients: usize,
    kinds: [EngineKind; 5],
    offsets: [i64; 5],
    salts: [u8; 5],
    cfg: SessionConfig,
}

impl Knobs {
    /// For the hand-written cases: engines alternate, one-record chunks.
    fn fixed(clients: usize) -> Knobs {
        Knobs {
            clients,
            kinds: [0, 1, 2, 3, 4].map(|i| EngineKind::ALL[i % 2]),
            offsets: [0; 5],
            salts: [0; 5],
            cfg: SessionConfig {
                chunk_records: 1,
                chunk_bytes: 64,
                max_in_flight: 1,
                max_future_ms: FUTURE_BOUND_MS,
                ..SessionConfig::default()
            },
        }
    }
}

struct World {
    _tmp: tempfile::TempDir,
    cfg: SessionConfig,
    nodes: Vec<Node>,
    /// `conns[c - 1]` links client `c` to the hub.
    conns: Vec<Option<Conn>>,
    epochs: u64,
    log: Vec<Logged>,
    /// What every replica must list instead of the fold of `log`, once a
    /// rebuilt replica settled ([`settled_oracle`]).
    expected: Option<Listing>,
    stats: Stats,
    /// Per client: the barrier it waits for, as (connection epoch, id).
    barriers: Vec<Option<(u64, u64)>>,
}

/// Where replicas live: tmpfs when there is one (commits fsync, and this
/// test makes thousands), else the system's temporary directory.
fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

impl World {
    fn new(k: &Knobs) -> World {
        let tmp = tempdir();
        let nodes = (0..=k.clients)
            .map(|i| {
                let dir = tmp.path().join(format!("node{i}"));
                std::fs::create_dir(&dir).unwrap();
                Node {
                    index: i,
                    kind: k.kinds[i],
                    dir,
                    salt: k.salts[i],
                    dbs: BTreeMap::new(),
                    clock: 0,
                    offset: k.offsets[i],
                }
            })
            .collect();
        World {
            _tmp: tmp,
            cfg: k.cfg,
            nodes,
            conns: (0..k.clients).map(|_| None).collect(),
            epochs: 0,
            log: Vec::new(),
            expected: None,
            stats: Stats::default(),
            barriers: vec![None; k.clients + 1],
        }
    }

    fn clients(&self) -> std::ops::RangeInclusive<usize> {
        1..=self.nodes.len() - 1
    }

    fn node_of(client: usize, side: Side) -> usize {
        match side {
            Side::Hub => HUB,
            Side::Client => client,
        }
    }

    fn conn(&mut self, client: usize) -> Option<&mut Conn> {
        self.conns[client - 1].as_mut()
    }

    fn connected(&self, client: usize) -> bool {
        self.conns[client - 1].is_some()
    }

    // ---- the driver: what a daemon does with a session's actions ----

    /// A local write on `node`; returns its version unless it wrote nothing.
    fn write(&mut self, node: usize, db: usize, op: Op) -> Option<Version> {
        let db_name = name(DBS[db]);
        let n = &mut self.nodes[node];
        if op.needs_record() && !n.dbs.contains_key(&db_name) {
            return None;
        }
        let now = n.now();
        let (_, outcomes) = n.db(&db_name).commit(&[op.write_op()], now).unwrap();
        let OpOutcome::Written { version, .. } = outcomes[0] else {
            return None;
        };
        self.log.push(Logged { db, op, version });
        let hooks = self.local_commit(node, &db_name);
        self.run(hooks, false);
        Some(version)
    }

    /// Tells every open session of `node` that `db` committed.
    fn local_commit(&mut self, node: usize, db: &Name) -> Vec<Work> {
        let mut out = Vec::new();
        for c in 1..self.nodes.len() {
            let side = match node {
                HUB => Side::Hub,
                n if n == c => Side::Client,
                _ => continue,
            };
            let Some(conn) = self.conns[c - 1].as_mut() else {
                continue;
            };
            let epoch = conn.epoch;
            if let Some(session) = conn.session(side) {
                let actions = session.local_commit(db, &mut self.nodes[node]);
                out.extend(work(c, side, epoch, actions));
            }
        }
        out
    }

    /// Carries out actions depth-first, in the order sessions emitted them.
    /// With `defer`, applies wait for the schedule (or the final phase).
    fn run(&mut self, todo: Vec<Work>, defer: bool) {
        let mut todo: VecDeque<Work> = todo.into();
        while let Some(Work {
            client: c,
            side,
            epoch,
            action,
        }) = todo.pop_front()
        {
            let Some(conn) = self.conns[c - 1].as_mut().filter(|x| x.epoch == epoch) else {
                continue; // the connection was cut meanwhile
            };
            match action {
                Action::Send(msg) => {
                    let frame = wire::encode(&msg).expect("every message encodes");
                    conn.queues[side.peer().i()].push_back(frame);
                }
                Action::Apply {
                    db,
                    peer,
                    items,
                    end_seq,
                    checkpoint,
                } => {
                    let p = Pending {
                        db,
                        peer,
                        items,
                        end_seq,
                        checkpoint,
                    };
                    let queue = &mut conn.pending[side.i()];
                    if defer || !queue.is_empty() {
                        queue.push_back(p);
                    } else {
                        for w in self.apply(c, side, p).into_iter().rev() {
                            todo.push_front(w);
                        }
                    }
                }
                Action::Event(_) => {}
                Action::Note(note) => {
                    let node = Self::node_of(c, side);
                    let n = &mut self.nodes[node];
                    let now = n.now();
                    let db = match &note {
                        Note::Acked { db, .. }
                        | Note::CaughtUp { db, .. }
                        | Note::Pushed { db, .. }
                        | Note::Seen { db, .. } => db.clone(),
                    };
                    let Some(d) = n.dbs.get_mut(&db) else {
                        continue;
                    };
                    match side {
                        Side::Hub => d
                            .update_history(&mut |h| history::learn(&mut h.replicas, &note, now))
                            .unwrap(),
                        Side::Client
                            if matches!(note, Note::CaughtUp { .. })
                                && d.history().rejoin.is_some() =>
                        {
                            let settled = d.settle(now).unwrap();
                            self.stats.settled.push((c, settled));
                            // What it wrote again goes out as any local write.
                            for w in self.local_commit(node, &db).into_iter().rev() {
                                todo.push_front(w);
                            }
                        }
                        Side::Client => {}
                    }
                }
                Action::Horizon { db, ms } => {
                    let n = &mut self.nodes[Self::node_of(c, side)];
                    if let Some(d) = n.dbs.get_mut(&db) {
                        d.raise_horizon(ms).unwrap();
                        while d.cleaning() {
                            d.cleanup_step(3).unwrap();
                        }
                    }
                }
                Action::Rebuild(behind) => {
                    let n = &mut self.nodes[Self::node_of(c, side)];
                    let now = n.now();
                    for b in behind {
                        let db = n.db(&b.db);
                        let rebuilt = db.rebuild(now, b.site, b.horizon, &b.pulled).unwrap();
                        self.stats.rebuilt.push((c, rebuilt));
                    }
                    // The session ends; the next one syncs from the start.
                    self.conns[c - 1] = None;
                }
                Action::Close(reason) => {
                    let node = Self::node_of(c, side);
                    let msg = format!("node {node} ended client {c}'s session: {reason}");
                    self.stats.closes.push(msg);
                    self.conns[c - 1] = None;
                }
                Action::Closed(reason) => {
                    let node = Self::node_of(c, side);
                    let msg = format!("node {node} was told by its peer (client {c}): {reason}");
                    self.stats.closes.push(msg);
                    self.conns[c - 1] = None;
                }
            }
        }
    }

    /// Runs one apply: chunk and checkpoint in one transaction, then the ack,
    /// then the commit hook (which relays it to the node's other sessions).
    fn apply(&mut self, c: usize, side: Side, p: Pending) -> Vec<Work> {
        let node = Self::node_of(c, side);
        let n = &mut self.nodes[node];
        let now = n.now();
        // Data arriving for a database is what creates it (sessions never do).
        let db = n.db(&p.db);
        let (_, echoes) = db.apply_chunk(now, p.peer, &p.items, p.checkpoint).unwrap();
        self.stats.applies += 1;
        let conn = self.conns[c - 1].as_mut().unwrap();
        let epoch = conn.epoch;
        let session = conn.session(side).unwrap();
        let acked = session.applied(&p.db, p.end_seq, echoes);
        let mut out = work(c, side, epoch, acked);
        out.extend(self.local_commit(node, &p.db));
        out
    }

    fn apply_pending(&mut self, c: usize, side: Side) -> bool {
        let Some(p) = self.conn(c).and_then(|x| x.pending[side.i()].pop_front()) else {
            return false;
        };
        let more = self.apply(c, side, p);
        self.run(more, false);
        true
    }

    fn connect(&mut self, c: usize) {
        if self.connected(c) {
            return;
        }
        self.epochs += 1;
        let (client, actions) = Session::connect(self.cfg, FOLDER, "token", &mut self.nodes[c]);
        self.conns[c - 1] = Some(Conn {
            epoch: self.epochs,
            client,
            hub: None,
            queues: Default::default(),
            delivered: Default::default(),
            pending: Default::default(),
        });
        self.run(work(c, Side::Client, self.epochs, actions), false);
    }

    fn disconnect(&mut self, c: usize) {
        self.conns[c - 1] = None;
    }

    /// Delivers the next frame travelling to `to`; false if there is none.
    fn deliver(&mut self, c: usize, to: Side, defer: bool) -> bool {
        let Some(conn) = self.conn(c) else {
            return false;
        };
        let Some(frame) = conn.queues[to.i()].pop_front() else {
            return false;
        };
        conn.delivered[to.i()].push(frame.clone());
        self.receive(c, to, &frame, defer);
        true
    }

    fn receive(&mut self, c: usize, to: Side, frame: &[u8], defer: bool) {
        let msg = wire::decode(frame).expect("every frame decodes");
        let node = Self::node_of(c, to);
        if let Message::Chunk { db, items, .. } = &msg {
            self.stats.items += items.len() as u64;
            if let Some(site) = self.nodes[node].dbs.get(db).map(Database::site) {
                let echoes = items.iter().filter(|i| written_only_by(i, site)).count();
                self.stats.echoes += echoes as u64;
            }
        }
        let cfg = self.cfg;
        let conn = self.conns[c - 1].as_mut().unwrap();
        let local = &mut self.nodes[node];
        let actions = match (to, &mut conn.hub) {
            (Side::Hub, hub @ None) => {
                // The hub's driver would check version, folder and token here.
                let Message::Hello(hello) = msg else {
                    panic!("the first frame to the hub is not a Hello: {msg:?}");
                };
                let (session, actions) = Session::accept(cfg, &hello, false, local);
                *hub = Some(session);
                actions
            }
            (Side::Hub, Some(session)) => session.on_message(msg, local),
            (Side::Client, _) => conn.client.on_message(msg, local),
        };
        let epoch = conn.epoch;
        self.run(work(c, to, epoch, actions), defer);
    }

    /// Delivers up to `k` frames to `to` (their applies left pending), then
    /// cuts the connection: a cut in the middle of a chunk stream.
    fn cut(&mut self, c: usize, to: Side, k: usize) {
        for _ in 0..k {
            if !self.deliver(c, to, true) {
                break;
            }
        }
        self.disconnect(c);
    }

    /// Delivers again a frame already delivered on this connection: mostly a
    /// chunk, else any but the handshake (a second one is a protocol error
    /// by design).
    fn replay(&mut self, c: usize, to: Side, pick: usize) {
        let Some(conn) = self.conn(c) else { return };
        let delivered = &conn.delivered[to.i()];
        let decoded = || delivered.iter().map(|f| (f, wire::decode(f).unwrap()));
        let chunks: Vec<&Vec<u8>> = decoded()
            .filter(|(_, m)| matches!(m, Message::Chunk { .. }))
            .map(|(f, _)| f)
            .collect();
        let others: Vec<&Vec<u8>> = decoded()
            .filter(|(_, m)| !matches!(m, Message::Hello(_) | Message::Welcome(_)))
            .map(|(f, _)| f)
            .collect();
        let from = if chunks.is_empty() || pick.is_multiple_of(4) {
            others
        } else {
            chunks
        };
        if from.is_empty() {
            return;
        }
        let frame = from[pick / 4 % from.len()].clone();
        self.receive(c, to, &frame, false);
    }

    fn restart(&mut self, node: usize) {
        if node == HUB {
            for c in self.clients() {
                self.disconnect(c);
            }
        } else {
            self.disconnect(node);
        }
        self.nodes[node].restart();
    }

    fn step(&mut self, step: &Step) {
        match *step {
            Step::Write { node, db, op } => {
                self.write(node, db, op);
            }
            Step::Deliver { c, to, k, defer } => {
                for _ in 0..k {
                    self.deliver(c, to, defer);
                }
            }
            Step::ApplyPending { c, at, n } => {
                for _ in 0..n {
                    self.apply_pending(c, at);
                }
            }
            Step::Connect { c } => self.connect(c),
            Step::Cut { c, to, k } => self.cut(c, to, k),
            Step::Replay { c, to, pick } => self.replay(c, to, pick),
            Step::Restart { node } => self.restart(node),
            Step::Advance { node, ms } => self.nodes[node].clock += ms,
            Step::Barrier { c } => self.barrier(c),
        }
        self.check_barriers();
    }

    /// Client `c` asks the hub how far its feeds reach (`sync --once`).
    fn barrier(&mut self, c: usize) {
        let id = self.epochs * 1000 + self.stats.barriers + 1;
        let Some(conn) = self.conn(c) else { return };
        let epoch = conn.epoch;
        let actions = conn.client.barrier(id);
        self.barriers[c] = Some((epoch, id));
        self.run(work(c, Side::Client, epoch, actions), false);
    }

    /// A barrier reached must mean what `sync --once` promises: every entry
    /// of the hub's feed up to the heads it answered is merged into the
    /// client (a record's state there absorbs the hub's; a drop marker is
    /// there at least as new).
    fn check_barriers(&mut self) {
        for c in self.clients() {
            let Some((epoch, id)) = self.barriers[c] else {
                continue;
            };
            let Some(conn) = self.conns[c - 1].as_ref().filter(|x| x.epoch == epoch) else {
                self.barriers[c] = None; // the connection went; so did the request
                continue;
            };
            if conn.client.barrier_reached() != Some(id) {
                continue;
            }
            let (_, heads) = conn.client.barrier_answer().expect("answered");
            let heads = heads.to_vec();
            self.barriers[c] = None;
            self.stats.barriers += 1;
            for (db, head) in heads {
                if let Err(e) = self.subsumed(c, &db, head) {
                    self.stats
                        .early_barriers
                        .push(format!("client {c} {db}: {e}"));
                }
            }
        }
    }

    fn subsumed(&self, c: usize, db: &Name, head: u64) -> Result<(), String> {
        let feed = |node: usize| -> Vec<syncdb_core::Change> {
            self.nodes[node].dbs.get(db).map_or(Vec::new(), |d| {
                d.reader().changes_since(0, usize::MAX).unwrap()
            })
        };
        let mine: Vec<Item> = feed(c).into_iter().map(|ch| ch.item).collect();
        let hub_feed = feed(HUB);
        // A drop rewrites the records it covers in place (same seq; its own
        // entry tells peers), so an entry at or below the head may already
        // include a later drop: compare with the hub's drops applied here too.
        let hub_markers: Vec<(Option<&Name>, Version)> = hub_feed
            .iter()
            .filter_map(|ch| match &ch.item {
                Item::DropCollection {
                    collection,
                    version,
                } => Some((Some(collection), *version)),
                Item::DropDatabase { version } => Some((None, *version)),
                Item::Record { .. } => None,
            })
            .collect();
        for change in hub_feed.iter().filter(|ch| ch.seq <= head) {
            let ok = match &change.item {
                Item::Record {
                    collection,
                    key,
                    state,
                } => {
                    let here = mine.iter().find_map(|m| match m {
                        Item::Record {
                            collection: mc,
                            key: mk,
                            state: ms,
                        } if mc == collection && mk == key => Some(ms.clone()),
                        _ => None,
                    });
                    let mut with_drops = here.unwrap_or_default();
                    for (scope, v) in &hub_markers {
                        if scope.is_none_or(|s| s == collection) {
                            with_drops.merge(&RecordState::delete(*v));
                        }
                    }
                    let mut merged = with_drops.clone();
                    merged.merge(state);
                    merged == with_drops || dropped_over(&mine, collection, state)
                }
                marker => mine.iter().any(|m| marker_covers(m, marker)),
            };
            if !ok {
                return Err(format!(
                    "hub seq {} ({:?}) is not here",
                    change.seq, change.item
                ));
            }
        }
        Ok(())
    }

    // ---- the final phase and its checks ----

    /// Delivers every frame and runs every apply, round-robin, until nothing
    /// moves; fails past the step bound.
    fn quiesce(&mut self) -> Result<(), String> {
        let mut steps = 0;
        loop {
            let mut moved = false;
            for c in self.clients() {
                for side in [Side::Hub, Side::Client] {
                    while self.apply_pending(c, side) {
                        (moved, steps) = (true, steps + 1);
                    }
                    if self.deliver(c, side, false) {
                        (moved, steps) = (true, steps + 1);
                    }
                }
            }
            if !moved {
                return Ok(());
            }
            if steps > MAX_QUIESCE_STEPS {
                return Err(format!(
                    "liveness: not quiescent after {steps} steps; {:?}",
                    self.stats
                ));
            }
        }
    }

    /// Connects every disconnected client (live ones stay up) and runs until
    /// quiescent; then every session must be open and caught up.
    fn settle(&mut self) -> Result<(), String> {
        for c in self.clients() {
            self.connect(c);
        }
        self.quiesce()?;
        if !self.stats.closes.is_empty() {
            return Err(format!("sessions were ended: {:?}", self.stats.closes));
        }
        for c in self.clients() {
            let conn = self
                .conn(c)
                .ok_or_else(|| format!("client {c} is not connected"))?;
            let client = conn.client.caught_up();
            let hub = conn.hub.as_ref().is_some_and(Session::caught_up);
            if !(client && hub) {
                return Err(format!(
                    "quiescent but not caught up: client {c} {client}, hub side {hub}"
                ));
            }
        }
        Ok(())
    }

    fn listing(&self, node: usize) -> Listing {
        let mut out = Listing::new();
        for (db_name, db) in &self.nodes[node].dbs {
            let colls = out.entry(db_name.to_string()).or_default();
            for coll in COLLS {
                let page = db.reader().list(&name(coll), "", None, usize::MAX);
                let page = page.unwrap().into_iter();
                let docs = page.map(|(k, d)| (k.as_str().to_owned(), d)).collect();
                colls.insert(coll.to_owned(), docs);
            }
        }
        out
    }

    /// (node, database) → (digest, high seq).
    fn replicas(&self) -> BTreeMap<(usize, String), (String, u64)> {
        let mut out = BTreeMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for (n, db) in &node.dbs {
                let digest = db.reader().digest().unwrap();
                out.insert((i, n.to_string()), (digest, db.high_seq()));
            }
        }
        out
    }

    /// Asserts 1, 2 and 4, and that every checkpoint is at most its peer's
    /// high seq.
    fn check_converged(&self) -> Result<(), String> {
        // After a cleanup, a database left holding nothing at all (its
        // drops forgotten) is not sent to a replica that rebuilds: to a
        // reader, an empty database and none are the same.
        let seen = |mut l: Listing| {
            if self.expected.is_some() {
                l.retain(|_, colls| colls.values().any(|docs| !docs.is_empty()));
            }
            l
        };
        let expected = seen(self.expected.clone().unwrap_or_else(|| oracle(&self.log)));
        let hub_listing = self.listing(HUB);
        let replicas = self.replicas();
        for (i, node) in self.nodes.iter().enumerate() {
            let listing = seen(self.listing(i));
            if listing != expected {
                return Err(format!(
                    "node {i} differs from the oracle\n  node:   {listing:?}\n  oracle: {expected:?}\n  hub:    {hub_listing:?}"
                ));
            }
            for n in node.dbs.keys() {
                let digest = &replicas[&(i, n.to_string())].0;
                let hub_digest = &replicas[&(HUB, n.to_string())].0;
                if digest != hub_digest {
                    return Err(format!("node {i} {n}: digest differs from the hub's"));
                }
                if i == HUB {
                    continue;
                }
                let (mine, hub) = (&node.dbs[n], &self.nodes[HUB].dbs[n]);
                for (from, to) in [(mine, hub), (hub, mine)] {
                    let cp = to.reader().checkpoint(from.site()).unwrap();
                    if cp > from.high_seq() {
                        return Err(format!(
                            "node {i} {n}: checkpoint {cp} beyond the peer's high seq {}",
                            from.high_seq()
                        ));
                    }
                }
            }
        }
        if self.stats.echoes != 0 {
            return Err(format!(
                "{} records were sent back to the replica that wrote them",
                self.stats.echoes
            ));
        }
        Ok(())
    }

    /// Disconnects every client, reconnects it and quiesces; returns how many
    /// records that round sent.
    fn round(&mut self) -> Result<u64, String> {
        let items = self.stats.items;
        for c in self.clients() {
            self.disconnect(c);
        }
        self.settle()?;
        Ok(self.stats.items - items)
    }

    /// Asserts 3: another full round changes no digest and no high seq.
    ///
    /// It may re-send records the peer already has, once: a session skips
    /// what the peer just sent it (provenance) without moving the peer's
    /// checkpoint past a trailing run of such echoes, so the next session
    /// sends that run again (a no-op there, which moves the checkpoint). A
    /// second round must then send nothing at all: re-sends never repeat.
    fn check_idempotent(&mut self) -> Result<(), String> {
        let before = self.replicas();
        let resent = self.round()?;
        let after = self.replicas();
        if after != before {
            return Err(format!(
                "(3) another round changed replicas\n  before: {before:?}\n  after:  {after:?}"
            ));
        }
        let again = self.round()?;
        if again != 0 || self.replicas() != before {
            return Err(format!(
                "(3) re-sends repeat: a first extra round sent {resent} records, a second {again}"
            ));
        }
        self.check_converged()
    }

    /// Every check of the final phase.
    fn finish(&mut self) -> Result<(), String> {
        if !self.stats.early_barriers.is_empty() {
            return Err(format!(
                "barriers reached early: {:?}",
                self.stats.early_barriers
            ));
        }
        self.settle()?;
        self.check_converged()?;
        self.check_idempotent()
    }

    // ---- helpers for the hand-written cases ----

    fn queued(&mut self, c: usize, to: Side) -> Vec<Message> {
        let conn = self.conn(c).expect("connected");
        let frames = conn.queues[to.i()].iter();
        frames.map(|f| wire::decode(f).unwrap()).collect()
    }

    fn get(&self, node: usize, db: usize, c: usize, k: usize) -> Option<String> {
        let db = self.nodes[node].dbs.get(&name(DBS[db]))?;
        let found = db.reader().get(&name(COLLS[c]), &key(KEYS[k])).unwrap();
        found.map(|r| r.doc)
    }

    fn site(&self, node: usize, db: usize) -> SiteId {
        self.nodes[node].dbs[&name(DBS[db])].site()
    }

    fn high_seq(&self, node: usize, db: usize) -> u64 {
        self.nodes[node].dbs[&name(DBS[db])].high_seq()
    }
}

/// A record the hub has that a newer drop marker here has removed.
fn dropped_over(mine: &[Item], collection: &Name, state: &RecordState) -> bool {
    let newest = state.max_version();
    mine.iter().any(|m| match m {
        Item::DropCollection {
            collection: mc,
            version,
        } => mc == collection && newest.is_none_or(|v| v < *version),
        Item::DropDatabase { version } => newest.is_none_or(|v| v < *version),
        Item::Record { .. } => false,
    })
}

/// A drop marker here at least as new as the hub's.
fn marker_covers(mine: &Item, hub: &Item) -> bool {
    match (mine, hub) {
        (
            Item::DropCollection {
                collection: a,
                version: va,
            },
            Item::DropCollection {
                collection: b,
                version: vb,
            },
        ) => a == b && va >= vb,
        (Item::DropDatabase { version: va }, Item::DropDatabase { version: vb }) => va >= vb,
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Property: random schedules converge
// ---------------------------------------------------------------------------

#[derive(Clone)]
enum Step {
    /// A local write; patch and delete of a missing record write nothing.
    Write {
        node: usize,
        db: usize,
        op: Op,
    },
    /// The next `k` frames to `to`; with `defer` their applies wait.
    Deliver {
        c: usize,
        to: Side,
        k: usize,
        defer: bool,
    },
    ApplyPending {
        c: usize,
        at: Side,
        n: usize,
    },
    Connect {
        c: usize,
    },
    /// Deliver up to `k` frames to `to` without applying them, then cut.
    Cut {
        c: usize,
        to: Side,
        k: usize,
    },
    /// The client asks for a barrier (what `sync --once` does).
    Barrier {
        c: usize,
    },
    /// Deliver a frame to `to` again (any but the handshake).
    Replay {
        c: usize,
        to: Side,
        pick: usize,
    },
    Restart {
        node: usize,
    },
    Advance {
        node: usize,
        ms: u64,
    },
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dir = |c: usize, to: Side| match to {
            Side::Hub => format!("c{c}→hub"),
            Side::Client => format!("hub→c{c}"),
        };
        match *self {
            Step::Write { node, db, op } => write!(f, "n{node} {}: {op:?}", DBS[db]),
            Step::Deliver { c, to, k, defer } => {
                let later = if defer { ", apply later" } else { "" };
                write!(f, "deliver {k} {}{later}", dir(c, to))
            }
            Step::ApplyPending { c, at, n } => write!(f, "apply {n} pending at {at:?} of c{c}"),
            Step::Connect { c } => write!(f, "connect c{c}"),
            Step::Cut { c, to, k } => write!(f, "cut c{c} after {k} {}", dir(c, to)),
            Step::Replay { c, to, pick } => write!(f, "replay #{pick} {}", dir(c, to)),
            Step::Restart { node } => write!(f, "restart n{node}"),
            Step::Advance { node, ms } => write!(f, "n{node} clock +{ms}ms"),
            Step::Barrier { c } => write!(f, "barrier c{c}"),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let c = || 0..COLLS.len();
    let k = || 0..KEYS.len();
    let value = || 0u8..4;
    prop_oneof![
        5 => (c(), k(), prop::array::uniform3(prop::option::of(value())))
            .prop_map(|(c, k, fields)| Op::Put { c, k, fields }),
        4 => (
            c(),
            k(),
            prop::array::uniform3(prop::option::of(prop::option::of(value())))
        )
            .prop_map(|(c, k, fields)| Op::Patch { c, k, fields }),
        3 => (c(), k()).prop_map(|(c, k)| Op::Delete { c, k }),
        1 => c().prop_map(|c| Op::DropCollection { c }),
        1 => Just(Op::DropDatabase),
    ]
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Hub), Just(Side::Client)]
}

fn step(clients: usize) -> impl Strategy<Value = Step> {
    let node = move || 0..=clients;
    let c = move || 1..=clients;
    prop_oneof![
        12 => (node(), 0..DBS.len(), op()).prop_map(|(node, db, op)| Step::Write { node, db, op }),
        10 => (c(), side(), 1usize..=6, prop::bool::weighted(0.3))
            .prop_map(|(c, to, k, defer)| Step::Deliver { c, to, k, defer }),
        2 => (c(), side(), 1usize..=3).prop_map(|(c, at, n)| Step::ApplyPending { c, at, n }),
        3 => c().prop_map(|c| Step::Connect { c }),
        1 => (c(), side(), 0usize..=4).prop_map(|(c, to, k)| Step::Cut { c, to, k }),
        2 => (c(), side(), 0usize..256).prop_map(|(c, to, pick)| Step::Replay { c, to, pick }),
        1 => node().prop_map(|node| Step::Restart { node }),
        2 => c().prop_map(|c| Step::Barrier { c }),
        1 => (node(), prop::sample::select(vec![1u64, 20, 60_000]))
            .prop_map(|(node, ms)| Step::Advance { node, ms }),
    ]
}

/// Clock offsets: often equal (so HLCs tie and site ids decide), sometimes
/// a few ms apart, sometimes minutes.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![2 => Just(0i64), 1 => -3i64..=3, 1 => -600_000i64..=600_000]
}

fn knobs() -> impl Strategy<Value = Knobs> {
    let cfg =
        (1usize..=5, 64usize..400, 1usize..=4).prop_map(|(records, bytes, window)| SessionConfig {
            chunk_records: records,
            chunk_bytes: bytes,
            max_in_flight: window,
            max_future_ms: FUTURE_BOUND_MS,
            ..SessionConfig::default()
        });
    (
        2usize..=4,
        prop::array::uniform5(prop::sample::select(EngineKind::ALL.to_vec())),
        prop::array::uniform5(offset()),
        prop::array::uniform5(any::<u8>()),
        cfg,
    )
        .prop_map(|(clients, kinds, offsets, salts, cfg)| Knobs {
            clients,
            kinds,
            offsets,
            salts,
            cfg,
        })
}

/// Property case count: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Steps are drawn for 4 clients (so they shrink independently of the
/// knobs); here they are mapped onto the clients the world has.
fn resolve(step: &Step, clients: usize) -> Step {
    let node = |n: usize| n % (clients + 1);
    let c = |c: usize| (c - 1) % clients + 1;
    let mut s = step.clone();
    match &mut s {
        Step::Write { node: n, .. } | Step::Restart { node: n } | Step::Advance { node: n, .. } => {
            *n = node(*n)
        }
        Step::Deliver { c: x, .. }
        | Step::ApplyPending { c: x, .. }
        | Step::Connect { c: x }
        | Step::Barrier { c: x }
        | Step::Cut { c: x, .. }
        | Step::Replay { c: x, .. } => *x = c(*x),
    }
    s
}

fn run_schedule(knobs: &Knobs, steps: &[Step]) -> Result<(), String> {
    let script: Vec<Step> = steps.iter().map(|s| resolve(s, knobs.clients)).collect();
    let mut world = World::new(knobs);
    for step in &script {
        world.step(step);
    }
    world
        .finish()
        .map_err(|e| format!("{e}\n  knobs: {knobs:?}\n  script: {script:#?}"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(32),
        max_shrink_iters: 8192,
        max_shrink_time: 180_000,
        ..ProptestConfig::default()
    })]

    /// Layer C: a hub and 2–4 clients under a random schedule of writes and
    /// faults converge to the oracle, idempotently, without echoes.
    #[test]
    fn replicas_converge_under_random_schedules(
        knobs in knobs(),
        steps in prop::collection::vec(step(4), 10..=150),
    ) {
        run_schedule(&knobs, &steps).map_err(TestCaseError::fail)?;
    }
}

// ---------------------------------------------------------------------------
// Hand-written regressions
// ---------------------------------------------------------------------------

const CRM: usize = 0;
const PERSON: usize = 0;
const TASK: usize = 1;
const A: usize = 1;
const B: usize = 2;
const C: usize = 3;

/// Delivers everything queued on one direction, applies included.
fn drain(w: &mut World, c: usize, to: Side) {
    while w.deliver(c, to, false) {}
}

/// PouchDB #1240's shape: the hub applies a chunk (and its checkpoint) and
/// the connection dies before the ack arrives. The new session resumes after
/// that chunk, and the stale chunk, delivered again, changes nothing.
#[test]
fn a_cut_between_apply_and_ack_resumes_after_the_chunk() {
    let mut w = World::new(&Knobs::fixed(2));
    for k in 0..3 {
        w.write(A, CRM, put(PERSON, k, [Some(k as u8), None, None]));
    }
    w.connect(A);
    let a_site = w.site(A, CRM);
    let checkpoint = |w: &World| {
        let hub = w.nodes[HUB].dbs.get(&name("crm"));
        hub.map_or(0, |db| db.reader().checkpoint(a_site).unwrap())
    };
    drain(&mut w, A, Side::Hub); // Hello
    drain(&mut w, A, Side::Client); // Welcome, Want: A streams its chunks
    while checkpoint(&w) == 0 {
        assert!(
            w.deliver(A, Side::Hub, false),
            "the hub never applied a chunk"
        );
    }
    let cp = checkpoint(&w);
    let stale = w.conn(A).unwrap().delivered[Side::Hub.i()].last().cloned();
    let stale = stale.unwrap();
    assert!(
        matches!(wire::decode(&stale), Ok(Message::Chunk { end_seq, .. }) if end_seq == cp),
        "the last frame the hub got is the applied chunk"
    );
    let acks = w.queued(A, Side::Client);
    assert!(
        acks.iter()
            .any(|m| matches!(m, Message::Ack { seq, .. } if *seq == cp))
    );

    w.disconnect(A); // the ack is lost
    let (hub_high, applies) = (w.high_seq(HUB, CRM), w.stats.applies);
    w.connect(A);
    drain(&mut w, A, Side::Hub); // Hello
    let wants: Vec<u64> = w
        .queued(A, Side::Client)
        .into_iter()
        .filter_map(|m| match m {
            Message::Want { since, .. } => Some(since),
            _ => None,
        })
        .collect();
    assert_eq!(wants, [cp], "the hub asks from its durable checkpoint");

    // The stale chunk arrives on the new session: acknowledged, not applied.
    w.conn(A).unwrap().queues[Side::Hub.i()].push_back(stale.clone());
    assert!(w.deliver(A, Side::Hub, false));
    assert_eq!(w.stats.applies, applies, "a replayed chunk is not applied");
    assert_eq!(w.high_seq(HUB, CRM), hub_high);
    // And were it applied, merging it again writes nothing.
    let Ok(Message::Chunk { items, .. }) = wire::decode(&stale) else {
        unreachable!()
    };
    let now = w.nodes[HUB].now();
    let hub = w.nodes[HUB].db(&name("crm"));
    hub.apply_chunk(now, a_site, &items, cp).unwrap();
    assert_eq!(w.high_seq(HUB, CRM), hub_high, "a re-merged chunk wrote");

    w.finish().unwrap();
    assert_eq!(w.get(B, CRM, PERSON, 2).as_deref(), Some(r#"{"a":2}"#));
}

/// The other side of the same cut: a chunk received but not yet applied is
/// lost with the connection and sent again by the next session.
#[test]
fn a_chunk_lost_before_its_apply_is_sent_again() {
    let mut w = World::new(&Knobs::fixed(2));
    w.write(A, CRM, put(PERSON, 0, [Some(1), None, None]));
    w.connect(A);
    drain(&mut w, A, Side::Hub);
    drain(&mut w, A, Side::Client);
    w.cut(A, Side::Hub, 9); // Want and the chunk arrive; the apply never runs
    assert_eq!(w.stats.applies, 0);
    assert_eq!(w.get(HUB, CRM, PERSON, 0), None);
    w.finish().unwrap();
    assert_eq!(w.get(HUB, CRM, PERSON, 0).as_deref(), Some(r#"{"a":1}"#));
}

/// cr-sqlite's proxy test: A and B are never online together, so A's write
/// reaches B only through the hub, and B's answer reaches A the same way.
#[test]
fn a_write_relays_through_the_hub() {
    let mut w = World::new(&Knobs::fixed(2));
    w.write(A, CRM, put(PERSON, 0, [Some(1), None, None]));
    w.connect(A);
    w.quiesce().unwrap();
    w.disconnect(A);

    w.connect(B);
    w.quiesce().unwrap();
    assert_eq!(w.get(B, CRM, PERSON, 0).as_deref(), Some(r#"{"a":1}"#));
    let patch = Op::Patch {
        c: PERSON,
        k: 0,
        fields: [None, Some(Some(2)), None],
    };
    w.write(B, CRM, patch).unwrap();
    w.quiesce().unwrap();
    w.disconnect(B);

    w.connect(A);
    w.quiesce().unwrap();
    assert_eq!(
        w.get(A, CRM, PERSON, 0).as_deref(),
        Some(r#"{"a":1,"b":2}"#)
    );
    w.finish().unwrap();
}

/// Syncthing #1075: a replica offline across a delete and a drop elsewhere
/// must not bring the records back when it returns, even after a restart and
/// with its own (older-clocked) writes to send.
#[test]
fn a_replica_offline_across_a_delete_does_not_resurrect() {
    let mut knobs = Knobs::fixed(2);
    knobs.offsets[B] = -60_000; // B's clock is a minute behind
    let mut w = World::new(&knobs);
    w.write(A, CRM, put(PERSON, 0, [Some(1), None, None]));
    w.write(A, CRM, put(TASK, 0, [Some(1), None, None]));
    w.finish().unwrap();
    assert!(w.get(B, CRM, PERSON, 0).is_some());

    w.disconnect(B);
    w.nodes[A].clock += 10;
    w.write(A, CRM, Op::Delete { c: PERSON, k: 0 }).unwrap();
    w.write(A, CRM, Op::DropCollection { c: TASK }).unwrap();
    w.quiesce().unwrap();
    w.disconnect(A);

    // Offline, B restarts and writes to the dropped collection; its clock is
    // behind, so the write is older than the drop and goes with it.
    w.restart(B);
    w.write(B, CRM, put(TASK, 1, [Some(7), None, None]))
        .unwrap();
    w.connect(B);
    w.quiesce().unwrap();
    w.connect(A);
    w.finish().unwrap();
    for node in [HUB, A, B] {
        assert_eq!(w.get(node, CRM, PERSON, 0), None, "node {node}");
        assert!(w.listing(node)["crm"]["task"].is_empty(), "node {node}");
    }
}

/// cr-sqlite's Corrosion report: a delete and re-insert delivered after a
/// later update of the same record must not lose that update.
#[test]
fn a_reinsert_delivered_after_later_updates_converges() {
    let mut knobs = Knobs::fixed(3);
    knobs.offsets[B] = 60_000; // B's clock is a minute ahead
    let mut w = World::new(&knobs);
    w.write(A, CRM, put(PERSON, 0, [Some(1), Some(1), Some(1)]));
    w.finish().unwrap();

    w.disconnect(A);
    w.write(A, CRM, Op::Delete { c: PERSON, k: 0 }).unwrap();
    let reinsert = w.write(A, CRM, put(PERSON, 0, [Some(2), None, None]));
    // B updates the old record; by version this comes after the re-insert.
    let patch = Op::Patch {
        c: PERSON,
        k: 0,
        fields: [Some(Some(9)), Some(Some(3)), None],
    };
    let update = w.write(B, CRM, patch);
    assert!(update > reinsert);
    w.quiesce().unwrap();
    assert_eq!(
        w.get(C, CRM, PERSON, 0).as_deref(),
        Some(r#"{"a":9,"b":3,"c":1}"#)
    );

    w.connect(A); // the delete and re-insert arrive after the update
    w.finish().unwrap();
    for node in [HUB, A, B, C] {
        let got = w.get(node, CRM, PERSON, 0);
        assert_eq!(got.as_deref(), Some(r#"{"a":9,"b":3}"#), "node {node}");
    }
}

/// Found by the simulator: a database made on a client after its `Hello`
/// went out and before the `Welcome` came back was not offered to the hub
/// until its next commit (its commit hook found the session not yet open).
#[test]
fn a_database_created_during_the_handshake_is_offered() {
    let mut w = World::new(&Knobs::fixed(2));
    w.connect(B);
    w.quiesce().unwrap();
    w.connect(A);
    w.write(A, CRM, put(PERSON, 0, [Some(1), None, None]))
        .unwrap();
    w.quiesce().unwrap(); // the same sessions, no reconnect
    assert_eq!(w.get(HUB, CRM, PERSON, 0).as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(w.get(B, CRM, PERSON, 0).as_deref(), Some(r#"{"a":1}"#));
    w.finish().unwrap();
}

/// Sets `crm`'s schema on `node` as `schema set` would, and runs the
/// commit hook of its sessions.
fn set_schema(w: &mut World, node: usize, text: &str) {
    use syncdb_core::schema::{Format, Schema};
    let schema = std::sync::Arc::new(Schema::parse(text, Format::Toml).unwrap());
    let crm = name(DBS[CRM]);
    let n = &mut w.nodes[node];
    let now = n.now();
    let op = WriteOp::SetSchema {
        schema,
        allow_data_loss: false,
    };
    n.db(&crm).commit(&[op], now).unwrap();
    let hooks = w.local_commit(node, &crm);
    w.run(hooks, false);
}

fn schema_stopped(w: &mut World, c: usize) -> (Option<String>, Option<String>) {
    let crm = name(DBS[CRM]);
    let conn = w.conn(c).expect("connected");
    let client = conn.client.broken().get(&crm).cloned();
    let hub = conn
        .hub
        .as_ref()
        .and_then(|h| h.broken().get(&crm).cloned());
    (client, hub)
}

/// Two clients set version 1 of a schema with different content while both
/// are connected. The hub takes the first; the second's chunk brings the
/// same version with other content, which ends that session (merging it
/// would pick one by clock, silently); the next handshake leaves the
/// database alone on both sides with the reason, and the other database
/// syncs. A higher version from either side brings everyone back.
#[test]
fn a_schema_conflict_made_while_connected_stops_only_that_database_on_both_sides() {
    const V1: &str =
        "name = \"crm\"\nversion = 1\n[collections.person]\nschema = { minProperties = 0 }\n";
    let mut w = World::new(&Knobs::fixed(2));
    w.write(A, CRM, put(PERSON, 0, [Some(1), None, None]));
    w.finish().unwrap();

    // Both set before either hears of the other's.
    set_schema(&mut w, A, V1);
    set_schema(
        &mut w,
        B,
        &V1.replace("minProperties = 0", "minProperties = 1"),
    );
    w.quiesce().unwrap();
    assert!(
        w.stats.closes.iter().any(|c| c.contains("schema conflict")),
        "{:?}",
        w.stats.closes
    );
    w.stats.closes.clear();
    w.connect(B);
    w.quiesce().unwrap();
    assert!(
        w.stats.closes.is_empty(),
        "no reconnect loop: {:?}",
        w.stats.closes
    );
    let (client, hub) = schema_stopped(&mut w, B);
    for why in [client, hub] {
        let why = why.expect("crm is left alone on both sides");
        assert!(
            why.starts_with("schema conflict: crm has schema version 1"),
            "{why}"
        );
    }
    assert_eq!(
        schema_stopped(&mut w, A),
        (None, None),
        "A and the hub agree"
    );
    // The other database syncs meanwhile.
    w.write(B, 1, put(PERSON, 1, [Some(5), None, None]))
        .unwrap();
    w.quiesce().unwrap();
    assert_eq!(w.get(A, 1, PERSON, 1).as_deref(), Some(r#"{"a":5}"#));

    // Version 2 on B ends its session; the new handshake syncs crm again.
    set_schema(&mut w, B, &V1.replace("version = 1", "version = 2"));
    w.quiesce().unwrap();
    w.stats.closes.clear();
    w.finish().unwrap();
    for node in [HUB, A, B] {
        let head = w.nodes[node].dbs[&name(DBS[CRM])]
            .reader()
            .schema()
            .unwrap();
        assert_eq!(head.version(), 2, "node {node}");
    }
}

// ---------------------------------------------------------------------------
// History cleanup: a replica offline across a cleanup rebuilds and converges
// ---------------------------------------------------------------------------

/// The retention the cleanup cases use (the clocks jump past it).
const RETENTION_MS: u64 = 3_600_000;

/// The hub works out each database's horizon (no clock margin: the virtual
/// clocks agree within the offsets), retires replicas unseen for longer
/// than the retention, cleans up to the horizon, and tells its sessions.
/// Returns each database's horizon.
fn cleanup_hub(w: &mut World) -> BTreeMap<Name, u64> {
    let n = &mut w.nodes[HUB];
    let rules = history::Rules {
        now_ms: n.now(),
        retention_ms: RETENTION_MS,
        margin_ms: 0,
    };
    let mut horizons = BTreeMap::new();
    for (db_name, d) in n.dbs.iter_mut() {
        let mut next = d.history().clone();
        let advance = history::compute_horizon(&d.reader(), &next, rules).unwrap();
        for site in &advance.retire {
            next.replicas.get_mut(site).unwrap().retired = true;
        }
        next.horizon = next.horizon.max(advance.horizon);
        d.update_history(&mut |h| *h = next.clone()).unwrap();
        while d.cleaning() {
            d.cleanup_step(3).unwrap();
        }
        horizons.insert(db_name.clone(), d.history().horizon);
    }
    for db in horizons.keys() {
        let hooks = w.local_commit(HUB, db);
        w.run(hooks, false);
    }
    horizons
}

/// No tombstone at or before the horizon is left on `node`.
fn no_old_tombstones(w: &World, node: usize, horizons: &BTreeMap<Name, u64>) -> Result<(), String> {
    for (db_name, d) in &w.nodes[node].dbs {
        let h = horizons.get(db_name).copied().unwrap_or(0);
        let mut left = Vec::new();
        d.reader()
            .visit(&mut |coll, key, state| {
                let old = state.max_version().is_some_and(|v| v.millis() <= h);
                let dead_field = state
                    .fields
                    .values()
                    .any(|f| f.value.is_none() && f.version.millis() <= h);
                if (old && !state.exists()) || (state.exists() && dead_field) {
                    left.push(format!("{coll}/{key}"));
                }
            })
            .unwrap();
        if !left.is_empty() {
            return Err(format!(
                "node {node} {db_name} keeps old tombstones: {left:?}"
            ));
        }
    }
    Ok(())
}

/// What every replica lists once `client`, rebuilt, settled the writes it
/// made from log entry `from` on at or before their database's horizon.
/// Every other write is folded by version, then what the hub forgot goes:
/// tombstones and collection drops at or before the horizon (after their
/// drops hid what they hid). The client's old writes then fold in under
/// their own versions — where the hub had something newer, it wins; where
/// it forgot a delete, they come back.
fn settled_oracle(
    w: &World,
    client: usize,
    from: usize,
    horizons: &BTreeMap<Name, u64>,
) -> Listing {
    let horizon = |db: usize| horizons.get(&name(DBS[db])).copied().unwrap_or(0);
    let aside = |i: usize, e: &Logged| {
        let site = w.nodes[client].site_for(&name(DBS[e.db]));
        i >= from && e.version.site == site && e.version.millis() <= horizon(e.db)
    };
    let (mut mine, mut others) = (Vec::new(), Vec::new());
    for (i, e) in w.log.iter().enumerate() {
        match aside(i, e) {
            true => mine.push(e.clone()),
            false => others.push(e.clone()),
        }
    }
    let (mut records, mut markers, mut dbs) = fold(&others);
    // The drops hide what they hide; then the hub forgets.
    listing(&mut records, &markers, &dbs);
    markers.retain(|(db, scope), v| scope.is_none() || v.millis() > horizon(*db));
    records.retain(|(db, _, _), r| {
        let h = horizon(*db);
        r.fields
            .retain(|_, (v, value)| value.is_some() || v.millis() > h);
        let newest = r
            .fields
            .values()
            .map(|(v, _)| *v)
            .chain(r.whole.map(|(v, _)| v))
            .max();
        r.visible().is_some() || newest.is_some_and(|v| v.millis() > h)
    });
    let (theirs, their_markers, their_dbs) = fold(&mine);
    for (at, t) in theirs {
        let r = records.entry(at).or_default();
        if let Some((v, is_put)) = t.whole {
            r.whole(v, is_put);
        }
        for (i, (v, value)) in t.fields {
            r.field(i, v, value);
        }
    }
    for (scope, v) in their_markers {
        let m = markers.entry(scope).or_insert(v);
        *m = (*m).max(v);
    }
    dbs.extend(their_dbs);
    listing(&mut records, &markers, &dbs)
}

/// A world of a hub and clients A and B in sync; then B goes offline while
/// everyone writes and deletes (`offline`, by node); the clocks pass the
/// retention by `jump_extra_ms`; A reconnects, and the hub cleans up and
/// retires B. B comes back: it must rebuild, bring back nothing deleted,
/// keep every write it made offline, and everyone converges to the oracle
/// with B's writes older than the horizon written again last.
fn offline_across_cleanup(
    knobs: &Knobs,
    before: &[(usize, usize, Op)],
    offline: &[(usize, usize, Op)],
    jump_extra_ms: u64,
) -> Result<(), String> {
    let mut w = World::new(knobs);
    for c in w.clients() {
        w.connect(c);
    }
    w.write(HUB, CRM, put(PERSON, 0, [Some(1), None, None]));
    for &(node, db, op) in before {
        w.write(node, db, op);
        w.quiesce()?;
    }
    w.settle()?;
    w.disconnect(B);
    let from = w.log.len();
    for &(node, db, op) in offline {
        w.write(node, db, op);
        w.quiesce()?;
    }
    for node in &mut w.nodes {
        node.clock += RETENTION_MS + jump_extra_ms;
    }
    w.disconnect(A);
    w.connect(A);
    w.quiesce()?;
    let horizons = cleanup_hub(&mut w);
    w.quiesce()?;
    no_old_tombstones(&w, HUB, &horizons)?;
    no_old_tombstones(&w, A, &horizons)?;
    for (db, d) in &w.nodes[HUB].dbs {
        let b = w.nodes[B].site_for(db).to_hex();
        if d.history().replicas.get(&b).is_some_and(|p| !p.retired) {
            return Err(format!("{db}: B is not retired: {:?}", d.history()));
        }
    }
    w.connect(B);
    w.quiesce()?;
    let rebuilt = w.stats.rebuilt.clone();
    if rebuilt.is_empty() && horizons.values().any(|h| *h > 0) {
        return Err("B came back from behind the horizon and did not rebuild".into());
    }
    w.settle()?;
    // The rebuilt replica was sent its own records back, by design; from
    // now on the no-echo rule holds again (`finish` checks it).
    w.stats.echoes = 0;
    w.expected = Some(settled_oracle(&w, B, from, &horizons));
    w.check_converged()
        .map_err(|e| format!("{e}\n  horizons: {horizons:?}\n  rebuilt: {rebuilt:?}"))?;
    for (db, d) in &w.nodes[HUB].dbs {
        let b = w.nodes[B].site_for(db).to_hex();
        let has = w.nodes[B].dbs.contains_key(db);
        if has && d.history().replicas.get(&b).is_none_or(|p| p.retired) {
            return Err(format!("{db}: B did not rejoin: {:?}", d.history()));
        }
    }
    if w.nodes[B]
        .dbs
        .values()
        .any(|d| d.history().rejoin.is_some())
    {
        return Err("B still says it is rejoining after catching up".into());
    }
    w.finish()
}

fn node_op(clients: usize) -> impl Strategy<Value = (usize, usize, Op)> {
    (0..=clients, 0..DBS.len(), op())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(24),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    /// A replica offline across a cleanup, with writes and deletes on both
    /// sides, converges without resurrecting deletes or losing its writes.
    #[test]
    fn a_replica_offline_across_cleanup_rebuilds_and_converges(
        knobs in knobs(),
        before in prop::collection::vec(node_op(2), 0..=20),
        offline in prop::collection::vec(node_op(2), 1..=25),
        jump_extra_ms in prop_oneof![Just(1u64), 1u64..=1_200_000],
    ) {
        let knobs = Knobs { clients: 2, ..knobs };
        offline_across_cleanup(&knobs, &before, &offline, jump_extra_ms)
            .map_err(|e| TestCaseError::fail(format!("{e}\n  knobs: {knobs:?}")))?;
    }
}

/// The Syncthing #1075 shape, after cleanup: the hub deletes a record B
/// holds and forgets the tombstone while B is away; B deletes nothing,
/// edits another record and adds one. B must not bring the deleted record
/// back, and keeps both of its writes.
#[test]
fn a_forgotten_delete_stays_deleted_and_offline_writes_survive() {
    let mut w = World::new(&Knobs::fixed(2));
    w.connect(A);
    w.connect(B);
    for k in 0..3 {
        w.write(HUB, CRM, put(PERSON, k, [Some(k as u8), None, None]));
    }
    w.settle().unwrap();
    w.disconnect(B);
    w.write(HUB, CRM, Op::Delete { c: PERSON, k: 0 }).unwrap();
    w.quiesce().unwrap();
    w.write(B, CRM, put(PERSON, 1, [None, Some(7), None]))
        .unwrap();
    w.write(B, CRM, put(PERSON, 3, [Some(9), None, None]))
        .unwrap();
    for node in &mut w.nodes {
        node.clock += RETENTION_MS + 1;
    }
    w.disconnect(A);
    w.connect(A);
    w.quiesce().unwrap();
    let horizons = cleanup_hub(&mut w);
    w.quiesce().unwrap();
    let crm = name(DBS[CRM]);
    assert!(horizons[&crm] > 0, "{horizons:?}");
    let hub = &w.nodes[HUB].dbs[&crm];
    assert_eq!(hub.history().removed, 1, "the hub forgot the tombstone");
    assert!(
        hub.reader()
            .state(&name("person"), &key(KEYS[0]))
            .unwrap()
            .is_none(),
        "no trace of the deleted record on the hub"
    );
    w.connect(B);
    w.quiesce().unwrap();
    let (_, rebuilt) = w.stats.rebuilt[0];
    assert_eq!((rebuilt.kept, rebuilt.rewritten), (2, 2), "{rebuilt:?}");
    w.settle().unwrap();
    for node in [HUB, A, B] {
        assert_eq!(
            w.get(node, CRM, PERSON, 0),
            None,
            "node {node}: deleted stays deleted"
        );
        assert_eq!(
            w.get(node, CRM, PERSON, 1).as_deref(),
            Some(r#"{"b":7}"#),
            "node {node}"
        );
        assert_eq!(
            w.get(node, CRM, PERSON, 3).as_deref(),
            Some(r#"{"a":9}"#),
            "node {node}"
        );
        assert_eq!(
            w.get(node, CRM, PERSON, 2).as_deref(),
            Some(r#"{"a":2}"#),
            "node {node}"
        );
    }
}

/// The rebuilt replica's old writes lose to newer ones the hub holds: its
/// offline delete does not undo a later put on the hub, its offline patch
/// of a field does not undo a later patch of it, and its offline put does
/// not undo a delete the hub made after the cleanup. What nobody wrote
/// since still wins, field by field.
#[test]
fn old_offline_writes_lose_to_newer_ones_on_the_hub() {
    let mut w = World::new(&Knobs::fixed(2));
    w.connect(A);
    w.connect(B);
    for k in 0..4 {
        w.write(HUB, CRM, put(PERSON, k, [Some(k as u8), Some(0), None]));
    }
    w.settle().unwrap();
    w.disconnect(B);
    // B, offline, first.
    w.write(B, CRM, Op::Delete { c: PERSON, k: 0 }).unwrap();
    let patch = |k, fields| Op::Patch {
        c: PERSON,
        k,
        fields,
    };
    w.write(B, CRM, patch(1, [Some(Some(7)), Some(Some(7)), None]))
        .unwrap();
    w.write(B, CRM, put(PERSON, 2, [Some(9), None, None]))
        .unwrap();
    for node in &mut w.nodes {
        node.clock += 10;
    }
    // The hub, later: a put over B's delete, a patch of one of B's fields.
    w.write(HUB, CRM, put(PERSON, 0, [Some(5), None, None]))
        .unwrap();
    w.write(HUB, CRM, patch(1, [Some(Some(3)), None, None]))
        .unwrap();
    w.quiesce().unwrap();
    for node in &mut w.nodes {
        node.clock += RETENTION_MS + 1;
    }
    w.disconnect(A);
    w.connect(A);
    w.quiesce().unwrap();
    let horizons = cleanup_hub(&mut w);
    assert!(horizons[&name(DBS[CRM])] > 0, "{horizons:?}");
    // After the cleanup, newer than the horizon: the hub deletes record 2.
    w.write(HUB, CRM, Op::Delete { c: PERSON, k: 2 }).unwrap();
    w.quiesce().unwrap();
    w.connect(B);
    w.quiesce().unwrap();
    w.settle().unwrap();
    assert!(!w.stats.rebuilt.is_empty(), "B rebuilt");
    let (_, settled) = w.stats.settled[0];
    assert_eq!((settled.rewritten, settled.lost), (1, 2), "{settled:?}");
    for node in [HUB, A, B] {
        assert_eq!(
            w.get(node, CRM, PERSON, 0).as_deref(),
            Some(r#"{"a":5}"#),
            "node {node}"
        );
        assert_eq!(
            w.get(node, CRM, PERSON, 1).as_deref(),
            Some(r#"{"a":3,"b":7}"#),
            "node {node}: the hub's newer a, B's b"
        );
        assert_eq!(w.get(node, CRM, PERSON, 2), None, "node {node}");
        assert_eq!(
            w.get(node, CRM, PERSON, 3).as_deref(),
            Some(r#"{"a":3,"b":0}"#),
            "node {node}"
        );
    }
    w.finish().unwrap();
}
