//! One sync connection as a state machine: messages and local events in,
//! messages and storage actions out. No sockets, no async, no clock.
//!
//! Per database, each side keeps an outgoing stream (its feed, sent to the
//! peer from the seq the peer asked for) and an incoming one (the peer's
//! feed, applied here). The protocol:
//!
//! 1. client → `Hello` (version, folder, token, its databases); the hub's
//!    driver checks version, folder and token, then [`Session::accept`]
//!    answers `Welcome` (its databases, creating the client's).
//! 2. each side sends `Want{db, site, since}` per database: `since` is its
//!    checkpoint for the peer's replica of `db`.
//! 3. the other side streams `Chunk`s (at most `max_in_flight` unacked),
//!    then `CaughtUp`, and afterwards pushes new commits as they happen.
//! 4. the receiver applies each chunk *and* moves its checkpoint in one
//!    transaction ([`Action::Apply`]), then acks; a kill at any point loses
//!    nothing and resumes at the next chunk.
//! 5. a record whose versions all came from the receiver is not sent back.

use std::collections::{BTreeMap, VecDeque};

use crate::names::Name;
use crate::record::RecordState;
use crate::store::Item;
use crate::version::SiteId;
use crate::{Reader, Version};

use super::wire::{
    Behind, DbAd, Hello, Message, PROTOCOL_VERSION, Pulled, Reject, SchemaAd, Welcome,
};
use crate::schema;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Most records in one chunk.
    pub chunk_records: usize,
    /// A chunk ends once its records reach about this many bytes.
    pub chunk_bytes: usize,
    /// Chunks sent and not yet acknowledged, per database.
    pub max_in_flight: usize,
    /// Versions further than this ahead of our clock are refused.
    pub max_future_ms: u64,
    /// Largest record (sum of its values) accepted from the peer, as for
    /// local writes.
    pub max_doc_bytes: usize,
    /// Most databases a peer may list in its `Hello` or `Welcome`.
    pub max_databases: usize,
}

impl From<&crate::config::Config> for SessionConfig {
    fn from(c: &crate::config::Config) -> Self {
        SessionConfig {
            chunk_records: c.sync.chunk_records,
            chunk_bytes: c.sync.chunk_bytes,
            max_in_flight: c.sync.max_in_flight,
            max_future_ms: c.sync.max_future_ms,
            max_doc_bytes: c.daemon.max_document_bytes,
            max_databases: c.sync.max_databases,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            chunk_records: 1024,
            chunk_bytes: 1 << 20,
            max_in_flight: 4,
            max_future_ms: 3_600_000,
            max_doc_bytes: crate::doc::DEFAULT_MAX_DOC_BYTES,
            max_databases: 1000,
        }
    }
}

/// The folder's databases as the session sees them. Reads only: writes go
/// out as [`Action::Apply`] for the driver to run. A session never creates
/// a database: one comes into being only when the driver applies data for
/// it, so a peer that merely names databases makes nothing.
pub trait Local {
    /// The folder's databases with their replicas' site ids.
    fn databases(&mut self) -> Result<Vec<(Name, SiteId)>, String>;
    /// A database's reader; `None` when it does not exist here. An error
    /// means it exists and cannot be used (a damaged file): the session
    /// leaves that database alone, neither asking for it nor serving it, and
    /// the folder's other databases go on syncing.
    fn open(&mut self, db: &Name) -> Result<Option<Reader>, String>;
    /// This replica's wall clock, in ms since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// The newest schema of `db` here (none: no schema, or no database).
    fn schema(&mut self, db: &Name) -> Option<SchemaAd> {
        self.open(db).ok().flatten()?.schema().ok()?.ad()
    }
    /// The peer says it is replica `site` of `db`, whose changes it will
    /// send and whose checkpoint we keep. A hub binds a replica to the
    /// credential that first claimed it and refuses anyone else.
    fn claim(&mut self, _db: &Name, _site: SiteId) -> Result<(), Reject> {
        Ok(())
    }
    /// Before a chunk from replica `peer` of `db` is applied: a hub takes
    /// out of `items` the writes of *other* known replicas (or its own)
    /// that it does not hold, so no one can push a write in another
    /// replica's name. An honest peer relays such writes only when the hub
    /// lost them (restored, repaired): their writer brings them back, or,
    /// once that writer's token is revoked, the peer does, as the
    /// checkpoint for the peer stays before the chunk (see `In::hold`).
    /// Says whether anything was left out.
    fn vouch(&mut self, _db: &Name, _peer: SiteId, _items: &mut Vec<Item>) -> Result<bool, Reject> {
        Ok(false)
    }
    /// On a hub: whether replica `site` of `db` may sync from its
    /// checkpoints, or is behind the horizon and must rebuild first
    /// (`rejoin`: it says it rebuilt at that horizon; `fresh`: it was made
    /// in this session from our feed, read from the start).
    fn standing(
        &mut self,
        _db: &Name,
        _site: SiteId,
        _rejoin: Option<u64>,
        _fresh: bool,
    ) -> Standing {
        Standing::Current
    }
    /// On a hub: the horizon of `db` to tell its replicas (0: none).
    fn horizon(&mut self, _db: &Name) -> u64 {
        0
    }
    /// On a client: the horizon `db` was rebuilt at, while it has not yet
    /// caught up with the hub since.
    fn rejoin(&mut self, _db: &Name) -> Option<u64> {
        None
    }
}

/// A hub's answer to [`Local::standing`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    Current,
    /// Behind `horizon`: the hub's checkpoints of the replicas it knows go
    /// with the answer (see [`Message::Outdated`]).
    Outdated {
        horizon: u64,
        pulled: Vec<Pulled>,
    },
}

/// What a session learns of the peer's replica of a database, for the
/// horizon (`crate::history`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The peer applied our feed of `db` through `seq`.
    Acked { db: Name, site: SiteId, seq: u64 },
    /// Everything the peer had of `db` when it said so is applied here.
    CaughtUp { db: Name, site: SiteId },
    /// The peer's own writes up to `newest` are applied here.
    Pushed {
        db: Name,
        site: SiteId,
        newest: Version,
    },
    /// The session with the peer is open now; (`caught_up`) all it had
    /// sent when it last said so is applied here; and it holds our feed
    /// through `acked` (what it acknowledged, and what it wrote itself).
    Seen {
        db: Name,
        site: SiteId,
        caught_up: bool,
        acked: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Our changes to the peer.
    Push,
    /// The peer's changes to us.
    Pull,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    Opened,
    /// Records of `db` moved in `direction`: `done` of about `total`.
    Progress {
        db: Name,
        direction: Direction,
        done: u64,
        total: u64,
    },
    /// Everything of `db` that existed is across in `direction`; `done`
    /// records moved this session (exact: what the last `Progress` said
    /// may have been an estimate of the total).
    CaughtUp {
        db: Name,
        direction: Direction,
        done: u64,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Send(Message),
    /// Merge `items` into `db` and set the checkpoint for `peer` to
    /// `checkpoint`, in ONE transaction; then call [`Session::applied`]
    /// with `end_seq`. The checkpoint is `end_seq` unless writes were left
    /// out of this session's chunks: then it stays where they began.
    Apply {
        db: Name,
        peer: SiteId,
        items: Vec<Item>,
        end_seq: u64,
        checkpoint: u64,
    },
    Event(SessionEvent),
    /// For the replica registry (a hub) or the rejoin flag (a client).
    Note(Note),
    /// The hub says: forget tombstones of `db` at or before `ms`.
    Horizon {
        db: Name,
        ms: u64,
    },
    /// The hub says our replicas of these databases are outdated: rebuild
    /// each (`Database::rebuild`), then connect again.
    Rebuild(Vec<Behind>),
    /// Send `Reject` and close: we end the session.
    Close(Reject),
    /// The peer ended the session.
    Closed(Reject),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitWelcome,
    Open,
    Closed,
}

/// Our feed of one database, going to the peer.
struct Out {
    reader: Reader,
    peer_site: SiteId,
    /// The last seq considered (sent or skipped).
    sent: u64,
    in_flight: VecDeque<u64>,
    /// Entries after `since` when the peer asked, for progress.
    backlog: u64,
    considered: u64,
    done: u64,
    /// The seq of the last `CaughtUp` sent.
    caught_up_at: Option<u64>,
    /// The last seq the peer acknowledged.
    acked: u64,
    /// Chunks in flight that carry schema records: (end seq, the newest).
    schema_sent: VecDeque<(u64, SchemaAd)>,
    /// Entries all of the peer's own are skipped (rule 5); not for a
    /// replica that rebuilt and holds none of them any more.
    skip_own: bool,
}

/// The peer's feed of one database, coming to us.
struct In {
    site: SiteId,
    /// The last chunk end handed to the driver to apply.
    queued: u64,
    /// The last chunk end applied durably.
    applied: u64,
    done: u64,
    /// Records the peer said remain after its last chunk.
    remaining: u64,
    caught_up_at: Option<u64>,
    /// Our `Want` said we have no replica of this database yet; once we do,
    /// we name it (see [`Session::local_commit`]).
    announced_default: bool,
    /// Chunks queued and not yet applied: (end seq, the newest version of
    /// the peer's own in it).
    newest: VecDeque<(u64, Version)>,
    /// Where the checkpoint stays once a chunk had writes left out (see
    /// [`Local::vouch`]): the next session sends them again, to be taken
    /// when their writer is no longer known as another replica's.
    hold: Option<u64>,
}

impl In {
    /// How far the peer's feed is applied here: every entry through this
    /// seq is merged durably (or was never sent because it came from us).
    fn through(&self) -> u64 {
        if self.applied == self.queued {
            self.applied.max(self.caught_up_at.unwrap_or(0))
        } else {
            self.applied
        }
    }
}

pub struct Session {
    cfg: SessionConfig,
    phase: Phase,
    /// We connected (the peer is a hub, whose horizon we follow).
    client: bool,
    /// On a hub: databases whose replica here was checked against the
    /// horizon, and the horizon last told the peer.
    admitted: BTreeMap<Name, u64>,
    /// On a hub: databases the peer rebuilt and syncs again from the start.
    rejoining: std::collections::BTreeSet<Name>,
    /// On a hub: databases the peer had no replica of when it first asked.
    fresh: std::collections::BTreeSet<Name>,
    /// We may send our changes (false for a client with a read-only token).
    may_push: bool,
    /// We accept the peer's changes (false on a hub for a read-only client).
    may_pull: bool,
    out: BTreeMap<Name, Out>,
    inc: BTreeMap<Name, In>,
    /// Per database, our seqs stored exactly as the peer sent them: the
    /// peer has them, so they are not sent back (the relay case of rule 5).
    echoes: BTreeMap<Name, std::collections::BTreeSet<u64>>,
    /// The peer's `Want`s for databases we do not have yet: (its site, since).
    /// Served once the database exists here.
    wanted: BTreeMap<Name, (SiteId, u64)>,
    /// A barrier to send once the session opens.
    barrier_pending: Option<u64>,
    /// The latest barrier answer: its id and the peer's heads.
    barrier: Option<(u64, Vec<(Name, u64)>)>,
    /// Databases this session leaves alone because they cannot be read or
    /// written here (a damaged file), with why; the others go on.
    broken: BTreeMap<Name, String>,
    /// On a hub: databases left alone that the peer is not told of yet.
    untold: Vec<Name>,
    /// The peer's schema of each database it named in the handshake.
    peer_schemas: BTreeMap<Name, SchemaAd>,
    /// The newest schema format the peer's binary reads.
    peer_reads: u32,
    /// Databases left alone over their schema, with our schema then: once
    /// ours changes, the session ends so a new handshake decides again.
    schema_blocked: BTreeMap<Name, Option<SchemaAd>>,
}

fn fail(e: String) -> Vec<Action> {
    vec![Action::Close(Reject::Internal(e))]
}

/// About how many bytes a feed entry takes in a frame.
fn approx_bytes(item: &Item) -> usize {
    match item {
        Item::Record {
            collection,
            key,
            state,
        } => {
            let fields: usize = state
                .fields
                .iter()
                .map(|(n, f)| n.len() + f.value.as_ref().map_or(0, |v| v.len()) + 26)
                .sum();
            collection.as_str().len() + key.as_str().len() + fields + 30
        }
        _ => 64,
    }
}

/// True when every version in the entry was written by `site`: the entry
/// came from there and need not go back.
fn all_from(item: &Item, site: SiteId) -> bool {
    let only = |v: Version| v.site == site;
    match item {
        Item::Record { state, .. } => all_versions(state, only),
        Item::DropCollection { version, .. } | Item::DropDatabase { version } => only(*version),
    }
}

/// The newest version in a feed entry.
fn newest(item: &Item) -> Option<Version> {
    match item {
        Item::Record { state, .. } => state.max_version(),
        Item::DropCollection { version, .. } | Item::DropDatabase { version } => Some(*version),
    }
}

fn all_versions(state: &RecordState, f: impl Fn(Version) -> bool) -> bool {
    state.versions().all(f)
}

/// The usable databases here: (name, site, reader).
fn existing(local: &mut dyn Local) -> Result<Vec<(Name, SiteId, Reader)>, String> {
    let mut out = Vec::new();
    for (name, site) in local.databases()? {
        if let Ok(Some(reader)) = local.open(&name) {
            out.push((name, site, reader));
        }
    }
    Ok(out)
}

/// Our reader of a database the peer named: `Ok(None)` when we do not
/// have it, an error when we have it and cannot use it (left alone).
fn usable(
    local: &mut dyn Local,
    mine: &[(Name, SiteId, Reader)],
    db: &Name,
) -> Result<Option<Reader>, String> {
    if let Some((_, _, reader)) = mine.iter().find(|(n, _, _)| n == db) {
        return Ok(Some(reader.clone()));
    }
    local.open(db)
}

/// Our last committed seq of each usable database, for a barrier answer.
fn heads(local: &mut dyn Local) -> Result<Vec<(Name, u64)>, String> {
    Ok(existing(local)?
        .into_iter()
        .filter_map(|(name, _, reader)| {
            let meta = reader.meta().ok()?;
            Some((name, meta.next_seq.saturating_sub(1)))
        })
        .collect())
}

/// Checks records from the peer as local input is checked: every value one
/// minified JSON value within the depth limit, every record within the
/// size limit.
fn check_items(db: &Name, items: &[Item], max_doc_bytes: usize) -> Result<(), String> {
    for item in items {
        let Item::Record {
            collection,
            key,
            state,
        } = item
        else {
            continue;
        };
        let mut size = 0usize;
        for (field, f) in &state.fields {
            let Some(value) = &f.value else { continue };
            size += field.len() + value.len();
            if let Err(e) = crate::doc::check_value(value) {
                return Err(format!(
                    "record {db}/{collection}/{key}: field {field:?} is not a valid JSON value ({e})"
                ));
            }
        }
        if size > max_doc_bytes {
            return Err(format!(
                "record {db}/{collection}/{key} is {size} bytes, over the {max_doc_bytes}-byte limit"
            ));
        }
    }
    Ok(())
}

impl Session {
    fn new(cfg: SessionConfig, phase: Phase, may_pull: bool) -> Session {
        Session {
            cfg,
            phase,
            client: phase == Phase::AwaitWelcome,
            admitted: BTreeMap::new(),
            rejoining: Default::default(),
            fresh: Default::default(),
            may_push: true,
            may_pull,
            out: BTreeMap::new(),
            inc: BTreeMap::new(),
            echoes: BTreeMap::new(),
            wanted: BTreeMap::new(),
            barrier_pending: None,
            barrier: None,
            broken: BTreeMap::new(),
            untold: Vec::new(),
            peer_schemas: BTreeMap::new(),
            peer_reads: schema::FORMAT,
            schema_blocked: BTreeMap::new(),
        }
    }

    /// Whether `db` may sync given both sides' schemas: not when one side's
    /// binary cannot read the other's schema, nor when both hold the same
    /// version with different content (two people edited it apart); then
    /// it stops here, with the reason, until a higher version is set.
    fn schema_gate(&mut self, db: &Name, theirs: Option<&SchemaAd>, local: &mut dyn Local) -> bool {
        if let Some(t) = theirs {
            self.peer_schemas.insert(db.clone(), t.clone());
        }
        let ours = local.schema(db);
        let why = match (ours.as_ref(), theirs) {
            (_, Some(t)) if t.format > schema::FORMAT => format!(
                "the peer's schema version {} of {db} needs schema format {}, and this syncdb reads format {}: upgrade syncdb here to sync {db}",
                t.version,
                t.format,
                schema::FORMAT
            ),
            (Some(o), _) if o.format > self.peer_reads => format!(
                "schema version {} of {db} here needs schema format {}, and the peer's syncdb reads format {}: upgrade syncdb there to sync {db}",
                o.version, o.format, self.peer_reads
            ),
            (Some(o), Some(t)) if o.version == t.version && o.hash != t.hash => {
                schema::conflict_reason(db, o.version, &o.hash, &t.hash)
            }
            _ => return true,
        };
        self.leave_alone(db, why);
        self.schema_blocked.insert(db.clone(), ours);
        false
    }

    /// The peer holds schema `ad` of `db` now (it sent it, or stored ours
    /// without a clash): what later chunks are judged against.
    fn peer_holds(&mut self, db: &Name, ad: SchemaAd) {
        let newer = self
            .peer_schemas
            .get(db)
            .is_none_or(|known| ad.version >= known.version);
        if newer {
            self.peer_schemas.insert(db.clone(), ad);
        }
    }

    /// A chunk that brings our schema version with other content (set on
    /// both sides while this session was open): the reason to end the
    /// session, so the next handshake stops that database on both sides.
    /// Versions older than either side's newest merge as any record.
    fn schema_clash(&self, db: &Name, items: &[Item], local: &mut dyn Local) -> Option<String> {
        let (version, ours, theirs) =
            schema::clash(local.schema(db).as_ref(), self.peer_schemas.get(db), items)?;
        Some(schema::conflict_reason(db, version, &ours, &theirs))
    }

    /// What this session knows the peer holds of `db`'s schema, for the
    /// writer's own check of a chunk (see [`schema::clash`]).
    pub fn peer_schema(&self, db: &Name) -> Option<&SchemaAd> {
        self.peer_schemas.get(db)
    }

    /// Stops syncing `db` in this session (it cannot be used here), keeping
    /// the reason for `broken`; the folder's other databases go on.
    pub fn unusable(&mut self, db: &Name, why: String) {
        // The peer cannot know of a failure of our storage: a hub says so.
        if !self.client && !self.broken.contains_key(db) {
            self.untold.push(db.clone());
        }
        self.leave_alone(db, why);
    }

    /// As [`Self::unusable`], for what the peer knows or finds out itself
    /// (a schema conflict, a replica behind the horizon, its own word).
    fn leave_alone(&mut self, db: &Name, why: String) {
        self.leave(db);
        self.broken.insert(db.clone(), why);
    }

    /// On a hub: tells the peer of the databases this session left alone
    /// since last asked, so that its `sync --once` says so instead of
    /// waiting. The reason stays in the hub's log: it may name the hub's
    /// files.
    pub fn tell_unusable(&mut self) -> Vec<Action> {
        if self.phase != Phase::Open {
            return Vec::new();
        }
        std::mem::take(&mut self.untold)
            .into_iter()
            .map(|db| {
                let why = format!(
                    "the hub cannot sync its copy of database {db} (its log says why; if the file is damaged, `syncdb repair {db}` there)"
                );
                Action::Send(Message::Unusable { db, why })
            })
            .collect()
    }

    /// Stops syncing `db` in this session, without it counting as broken.
    fn leave(&mut self, db: &Name) {
        self.inc.remove(db);
        self.out.remove(db);
        self.wanted.remove(db);
        self.echoes.remove(db);
    }

    /// Whether we connected (the peer is a hub).
    pub fn is_client(&self) -> bool {
        self.client
    }

    /// On a hub: the peer's replicas this session follows, as notes that
    /// they are here now (the driver sends them now and then, so a quiet
    /// peer is not taken for a gone one).
    pub fn seen(&self) -> Vec<Note> {
        if self.client || self.phase != Phase::Open {
            return Vec::new();
        }
        self.admitted
            .keys()
            .filter_map(|db| {
                let inc = self.inc.get(db);
                let site = inc
                    .map(|i| i.site)
                    .or_else(|| self.out.get(db).map(|o| o.peer_site))
                    .filter(|s| *s != SiteId::default())?;
                // A read-only peer pushes nothing: nothing of it to wait for.
                let caught_up = !self.may_pull
                    || inc.is_some_and(|i| i.caught_up_at.is_some() && i.applied == i.queued);
                Some(Note::Seen {
                    db: db.clone(),
                    site,
                    caught_up,
                    acked: self.push_acked(db),
                })
            })
            .collect()
    }

    /// The databases left alone, with why.
    pub fn broken(&self) -> &BTreeMap<Name, String> {
        &self.broken
    }

    /// A client session: returns it with the `Hello` to send.
    pub fn connect(
        cfg: SessionConfig,
        folder: &str,
        token: &str,
        local: &mut dyn Local,
    ) -> (Session, Vec<Action>) {
        let session = Session::new(cfg, Phase::AwaitWelcome, true);
        let databases = match local.databases() {
            Ok(dbs) => dbs,
            Err(e) => return (session, fail(e)),
        };
        let hello = Hello {
            version: PROTOCOL_VERSION,
            folder: folder.to_owned(),
            token: token.to_owned(),
            databases: databases
                .into_iter()
                .map(|(name, site)| {
                    let schema = local.schema(&name);
                    let rejoin = local.rejoin(&name);
                    DbAd {
                        name,
                        site,
                        schema,
                        rejoin,
                    }
                })
                .collect(),
            schema_format: schema::FORMAT,
        };
        (session, vec![Action::Send(Message::Hello(hello))])
    }

    /// Checks a client's protocol version before anything else is read.
    pub fn check_version(hello: &Hello) -> Result<(), Reject> {
        if hello.version == PROTOCOL_VERSION {
            Ok(())
        } else {
            Err(Reject::Version {
                ours: PROTOCOL_VERSION,
                theirs: hello.version,
            })
        }
    }

    /// A hub session for an authorized `hello`: welcomes the client and asks
    /// for its changes (unless its token is read-only).
    pub fn accept(
        cfg: SessionConfig,
        hello: &Hello,
        read_only: bool,
        local: &mut dyn Local,
    ) -> (Session, Vec<Action>) {
        let mut s = Session::new(cfg, Phase::Open, !read_only);
        if let Err(reject) = Self::check_version(hello) {
            return (s, vec![Action::Close(reject)]);
        }
        if let Err(reject) = s.check_count(hello.databases.len(), "Hello") {
            return (s, vec![Action::Close(reject)]);
        }
        if s.may_pull {
            for ad in &hello.databases {
                if let Err(reject) = local.claim(&ad.name, ad.site) {
                    return (s, vec![Action::Close(reject)]);
                }
            }
        }
        let mine = match existing(local) {
            Ok(m) => m,
            Err(e) => return (s, fail(e)),
        };
        let databases = mine
            .iter()
            .map(|(name, site, _)| DbAd {
                name: name.clone(),
                site: *site,
                schema: local.schema(name),
                rejoin: None,
            })
            .collect();
        let mut actions = vec![Action::Send(Message::Welcome(Welcome {
            version: PROTOCOL_VERSION,
            databases,
            read_only,
            schema_format: schema::FORMAT,
        }))];
        s.peer_reads = hello.schema_format;
        for ad in &hello.databases {
            if s.schema_gate(&ad.name, ad.schema.as_ref(), local) {
                let admit = s.admit(&ad.name, ad.site, ad.rejoin, local);
                actions.extend(admit);
                if ad.rejoin.is_some() {
                    s.rejoining.insert(ad.name.clone());
                }
            }
        }
        // Every database behind the horizon in one message: the client
        // rebuilds them all before it connects again.
        let mut behind = Vec::new();
        actions.retain_mut(|a| match a {
            Action::Send(Message::Outdated(b)) => {
                behind.append(b);
                false
            }
            _ => true,
        });
        if !behind.is_empty() {
            actions.push(Action::Send(Message::Outdated(behind)));
        }
        if s.may_pull {
            for ad in &hello.databases {
                if s.broken.contains_key(&ad.name) {
                    continue;
                }
                match usable(local, &mine, &ad.name) {
                    Ok(reader) => actions.extend(s.want(&ad.name, ad.site, reader.as_ref())),
                    Err(why) => s.unusable(&ad.name, why),
                }
            }
        }
        actions.push(Action::Event(SessionEvent::Opened));
        (s, actions)
    }

    /// On a hub: checks the peer's replica `site` of `db` against the
    /// horizon. A current one is told the horizon; an outdated one is told
    /// to rebuild, and this session leaves the database alone.
    fn admit(
        &mut self,
        db: &Name,
        site: SiteId,
        rejoin: Option<u64>,
        local: &mut dyn Local,
    ) -> Vec<Action> {
        if self.client || self.admitted.contains_key(db) {
            return Vec::new();
        }
        if site == SiteId::default() {
            self.fresh.insert(db.clone());
            return Vec::new();
        }
        match local.standing(db, site, rejoin, self.fresh.contains(db)) {
            Standing::Current => {
                self.admitted.insert(db.clone(), 0);
                self.tell_horizon(db, local)
            }
            Standing::Outdated { horizon, pulled } => {
                let hub = match local.open(db) {
                    Ok(Some(reader)) => match reader.meta() {
                        Ok(m) => m.site,
                        Err(e) => return fail(e.to_string()),
                    },
                    _ => SiteId::default(),
                };
                self.leave_alone(
                    db,
                    format!("the peer's replica of {db} is behind the horizon and is rebuilding"),
                );
                vec![Action::Send(Message::Outdated(vec![Behind {
                    db: db.clone(),
                    site: hub,
                    horizon,
                    pulled,
                }]))]
            }
        }
    }

    /// On a hub: tells the peer the horizon of `db` if it moved since.
    fn tell_horizon(&mut self, db: &Name, local: &mut dyn Local) -> Vec<Action> {
        let Some(told) = self.admitted.get_mut(db) else {
            return Vec::new();
        };
        let ms = local.horizon(db);
        if ms <= *told {
            return Vec::new();
        }
        *told = ms;
        vec![Action::Send(Message::Horizon { db: db.clone(), ms })]
    }

    /// A peer listing more databases than a folder may hold is refused
    /// before anything is opened for it.
    fn check_count(&self, n: usize, what: &str) -> Result<(), Reject> {
        if n > self.cfg.max_databases {
            return Err(Reject::Forbidden(format!(
                "the {what} lists {n} databases; a folder holds at most {} (sync.max_databases)",
                self.cfg.max_databases
            )));
        }
        Ok(())
    }

    /// Asks the peer for its changes of `db` (replica `peer_site`) after our
    /// checkpoint; from the start when we do not have `db` yet.
    ///
    /// The default site means "no replica": a checkpoint is never kept
    /// under it, since every replica that lacked a database would share it.
    fn want(&mut self, db: &Name, peer_site: SiteId, reader: Option<&Reader>) -> Vec<Action> {
        let (since, site) = match reader {
            None => (0, SiteId::default()),
            Some(reader) => {
                let since = match peer_site == SiteId::default() {
                    true => Ok(0),
                    false => reader.checkpoint(peer_site),
                };
                match (since, reader.meta()) {
                    (Ok(c), Ok(m)) => (c, m.site),
                    (Err(e), _) | (_, Err(e)) => {
                        self.unusable(db, e.to_string());
                        return Vec::new();
                    }
                }
            }
        };
        // Asking again (to name our replica) keeps what is already under
        // way: chunks queued and not yet applied still count as not here.
        let prev = self.inc.get(db);
        let inc = In {
            site: peer_site,
            queued: prev.map_or(since, |p| p.queued.max(since)),
            applied: prev.map_or(since, |p| p.applied.max(since)),
            done: prev.map_or(0, |p| p.done),
            remaining: prev.map_or(0, |p| p.remaining),
            caught_up_at: prev.and_then(|p| p.caught_up_at),
            announced_default: reader.is_none(),
            newest: prev.map(|p| p.newest.clone()).unwrap_or_default(),
            hold: prev.and_then(|p| p.hold),
        };
        self.inc.insert(db.clone(), inc);
        vec![Action::Send(Message::Want {
            db: db.clone(),
            site,
            since,
        })]
    }

    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// True when, for every database, the peer's backlog is applied here and
    /// ours has been acknowledged there.
    pub fn caught_up(&self) -> bool {
        self.pull_caught_up()
            && self.out.values().all(|o| {
                o.in_flight.is_empty()
                    && o.reader
                        .meta()
                        .is_ok_and(|m| o.sent >= m.next_seq.saturating_sub(1))
            })
    }

    /// True when the peer's backlog of every database is applied here.
    pub fn pull_caught_up(&self) -> bool {
        self.phase == Phase::Open
            && self
                .inc
                .values()
                .all(|i| i.caught_up_at.is_some() && i.applied == i.queued)
    }

    /// How far the peer has acknowledged our feed of `db` (None: not sending it).
    pub fn push_acked(&self, db: &Name) -> Option<u64> {
        let out = self.out.get(db)?;
        Some(match out.in_flight.front() {
            None => out.sent,
            Some(_) => out.acked,
        })
    }

    /// True when we push at all (false with a read-only token).
    pub fn pushes(&self) -> bool {
        self.may_push
    }

    /// Asks the peer how far its feeds reach (now, or once the session
    /// opens). [`Session::barrier_reached`] tells when we have all of it.
    pub fn barrier(&mut self, id: u64) -> Vec<Action> {
        if self.phase != Phase::Open {
            self.barrier_pending = Some(id);
            return Vec::new();
        }
        vec![Action::Send(Message::Barrier { id })]
    }

    /// The id of the latest barrier whose answer is applied here: everything
    /// the peer had committed when it answered is merged durably here.
    pub fn barrier_reached(&self) -> Option<u64> {
        let (id, heads) = self.barrier.as_ref()?;
        // What this session leaves alone is not waited for (`broken`).
        let all = heads.iter().all(|(db, head)| {
            *head == 0
                || self.broken.contains_key(db)
                || self.inc.get(db).is_some_and(|i| i.through() >= *head)
        });
        (self.phase == Phase::Open && all).then_some(*id)
    }

    /// The latest barrier answer: its id and the peer's heads then.
    pub fn barrier_answer(&self) -> Option<(u64, &[(Name, u64)])> {
        self.barrier
            .as_ref()
            .map(|(id, heads)| (*id, heads.as_slice()))
    }

    /// Records of the peer announced but not yet received, summed over
    /// databases (for `status`).
    pub fn behind(&self) -> u64 {
        self.inc.values().map(|i| i.remaining).sum()
    }

    /// The databases this session follows.
    pub fn databases(&self) -> Vec<Name> {
        let mut all: Vec<Name> = self.inc.keys().chain(self.out.keys()).cloned().collect();
        all.sort();
        all.dedup();
        all
    }

    pub fn on_message(&mut self, msg: Message, local: &mut dyn Local) -> Vec<Action> {
        if self.phase == Phase::Closed {
            return Vec::new();
        }
        let protocol = |what: &str| vec![Action::Close(Reject::Protocol(what.to_owned()))];
        match (self.phase, msg) {
            (_, Message::Reject(r)) => {
                self.phase = Phase::Closed;
                vec![Action::Closed(r)]
            }
            (Phase::AwaitWelcome, Message::Welcome(w)) => self.welcomed(w, local),
            (Phase::AwaitWelcome, _) => protocol("expected Welcome first"),
            (Phase::Open, Message::Hello(_) | Message::Welcome(_)) => {
                protocol("a second handshake on an open session")
            }
            (Phase::Open, Message::Want { db, site, since }) => {
                self.on_want(db, site, since, local)
            }
            (Phase::Open, Message::Unusable { db, why }) => {
                // Our own reason, if we have one, says more.
                if !self.broken.contains_key(&db) {
                    self.leave_alone(&db, why);
                }
                Vec::new()
            }
            (
                Phase::Open,
                Message::Chunk {
                    db,
                    items,
                    end_seq,
                    remaining,
                },
            ) => self.on_chunk(db, items, end_seq, remaining, local),
            (Phase::Open, Message::CaughtUp { db, seq }) => {
                let Some(inc) = self.inc.get_mut(&db) else {
                    return protocol("CaughtUp for a database not asked for");
                };
                inc.caught_up_at = Some(seq);
                inc.remaining = 0;
                let done = inc.done;
                let mut actions = Vec::new();
                if inc.applied == inc.queued {
                    let site = inc.site;
                    actions.push(Action::Note(Note::CaughtUp {
                        db: db.clone(),
                        site,
                    }));
                }
                actions.push(Action::Event(SessionEvent::CaughtUp {
                    db,
                    direction: Direction::Pull,
                    done,
                }));
                actions
            }
            (Phase::Open, Message::Ack { db, seq }) => {
                let Some(out) = self.out.get_mut(&db) else {
                    return protocol("Ack for a database not sent");
                };
                while out.in_flight.front().is_some_and(|&s| s <= seq) {
                    out.in_flight.pop_front();
                }
                out.acked = out.acked.max(seq);
                let mut held = None;
                while out.schema_sent.front().is_some_and(|(s, _)| *s <= seq) {
                    held = out.schema_sent.pop_front().map(|(_, ad)| ad);
                }
                let site = out.peer_site;
                if let Some(ad) = held {
                    self.peer_holds(&db, ad);
                }
                // What was skipped as the peer's own counts as held there.
                let seq = self.push_acked(&db).unwrap_or(seq);
                let mut actions = vec![Action::Note(Note::Acked {
                    db: db.clone(),
                    site,
                    seq,
                })];
                actions.extend(self.pump(&db));
                actions
            }
            (Phase::Open, Message::Barrier { id }) => match heads(local) {
                Ok(mut heads) => {
                    // What we cannot read we cannot send: not promised.
                    heads.retain(|(db, _)| !self.broken.contains_key(db));
                    vec![Action::Send(Message::BarrierAt { id, heads })]
                }
                Err(e) => fail(e),
            },
            (Phase::Open, Message::Horizon { db, ms }) => match self.client {
                true => vec![Action::Horizon { db, ms }],
                false => protocol("Horizon from a client"),
            },
            (Phase::Open, Message::Outdated(behind)) => {
                if !self.client {
                    return protocol("Outdated from a client");
                }
                let listed = behind.iter().map(|b| b.pulled.len()).max();
                if let Err(reject) = self
                    .check_count(behind.len(), "Outdated message")
                    .and_then(|()| self.check_count(listed.unwrap_or(0), "Outdated message"))
                {
                    return vec![Action::Close(reject)];
                }
                // Not broken: the session ends once the rebuild is done.
                for b in &behind {
                    self.leave(&b.db);
                }
                vec![Action::Rebuild(behind)]
            }
            (Phase::Open, Message::BarrierAt { id, heads }) => {
                if let Err(reject) = self.check_count(heads.len(), "barrier answer") {
                    return vec![Action::Close(reject)];
                }
                self.barrier = Some((id, heads));
                Vec::new()
            }
            (Phase::Closed, _) => Vec::new(),
        }
    }

    fn welcomed(&mut self, w: Welcome, local: &mut dyn Local) -> Vec<Action> {
        if w.version != PROTOCOL_VERSION {
            return vec![Action::Close(Reject::Version {
                ours: PROTOCOL_VERSION,
                theirs: w.version,
            })];
        }
        // A hub cannot make us create databases by naming them: the count is
        // capped, and one is created only when data for it arrives.
        if let Err(reject) = self.check_count(w.databases.len(), "Welcome") {
            return vec![Action::Close(reject)];
        }
        self.phase = Phase::Open;
        self.may_push = !w.read_only;
        let mine = match existing(local) {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        let mut actions = vec![Action::Event(SessionEvent::Opened)];
        self.peer_reads = w.schema_format;
        for ad in &w.databases {
            if !self.schema_gate(&ad.name, ad.schema.as_ref(), local) {
                continue;
            }
            match usable(local, &mine, &ad.name) {
                Ok(reader) => actions.extend(self.want(&ad.name, ad.site, reader.as_ref())),
                Err(why) => self.unusable(&ad.name, why),
            }
        }
        // A database the hub lacks (or made here after the Hello went out):
        // offer it as `local_commit` would.
        if self.may_push {
            for (name, _, reader) in &mine {
                if !self.inc.contains_key(name) && !self.broken.contains_key(name) {
                    actions.extend(self.want(name, SiteId::default(), Some(reader)));
                }
            }
        }
        if let Some(id) = self.barrier_pending.take() {
            actions.extend(self.barrier(id));
        }
        actions
    }

    fn on_want(
        &mut self,
        db: Name,
        site: SiteId,
        since: u64,
        local: &mut dyn Local,
    ) -> Vec<Action> {
        // The default site is "no replica here yet": nothing to claim.
        if self.may_pull
            && site != SiteId::default()
            && let Err(reject) = local.claim(&db, site)
        {
            return vec![Action::Close(reject)];
        }
        let mut actions = self.admit(&db, site, None, local);
        if self.broken.contains_key(&db) {
            return actions;
        }
        let reader = match local.open(&db) {
            Ok(reader) => reader,
            Err(why) => {
                self.unusable(&db, why);
                return actions;
            }
        };
        if let Some(inc) = self.inc.get_mut(&db)
            && inc.site == SiteId::default()
        {
            // We offered this database before knowing the peer's replica.
            inc.site = site;
        }
        // A database the peer just made: ask for its side too (a peer with
        // no replica yet has nothing to send; it names its site once it has).
        if self.may_pull && site != SiteId::default() && !self.inc.contains_key(&db) {
            actions.extend(self.want(&db, site, reader.as_ref()));
        }
        // A read-only peer's hub offers a new database by a `Want` too: we
        // ask for its side above, and send nothing of ours.
        if !self.may_push {
            return actions;
        }
        // A `Want` that names no replica (sent before the peer had one, or
        // delivered late) must not hide the site we know: records all of
        // the peer's own are never sent back to it.
        let known = self.inc.get(&db).map_or(SiteId::default(), |i| i.site);
        let site = if site == SiteId::default() {
            known
        } else {
            site
        };
        let Some(reader) = reader else {
            // Nothing here yet: nothing after `since`. Served once it exists.
            self.wanted.insert(db.clone(), (site, since));
            actions.push(Action::Send(Message::CaughtUp { db, seq: since }));
            return actions;
        };
        // We told the peer we had no replica, and one was made since (by
        // another session's push): name it before any chunk of it, as
        // `local_commit` does.
        if let Some(inc) = self.inc.get(&db)
            && inc.announced_default
        {
            let named = inc.site;
            actions.extend(self.want(&db, named, Some(&reader)));
        }
        actions.extend(self.start_out(db, site, since, reader));
        actions
    }

    /// Starts streaming our feed of `db` to the peer from `since`.
    fn start_out(&mut self, db: Name, site: SiteId, since: u64, reader: Reader) -> Vec<Action> {
        let backlog = match reader.count_since(since) {
            Ok(n) => n,
            Err(e) => {
                self.unusable(&db, e.to_string());
                return Vec::new();
            }
        };
        self.out.insert(
            db.clone(),
            Out {
                reader,
                peer_site: site,
                sent: since,
                in_flight: VecDeque::new(),
                backlog,
                considered: 0,
                done: 0,
                caught_up_at: None,
                acked: since,
                schema_sent: VecDeque::new(),
                skip_own: !self.rejoining.contains(&db),
            },
        );
        self.pump(&db)
    }

    /// Whether writes were left out of this session's chunks (the
    /// checkpoints of their databases stay before them).
    pub fn holds_back(&self) -> bool {
        self.inc.values().any(|i| i.hold.is_some())
    }

    fn on_chunk(
        &mut self,
        db: Name,
        mut items: Vec<Item>,
        end_seq: u64,
        remaining: u64,
        local: &mut dyn Local,
    ) -> Vec<Action> {
        let now_ms = local.now_ms();
        if !self.may_pull {
            return vec![Action::Close(Reject::Forbidden(
                "this token is read-only: it may pull, never push".into(),
            ))];
        }
        let Some(inc) = self.inc.get_mut(&db) else {
            return vec![Action::Close(Reject::Protocol(format!(
                "Chunk for database {db}, which was not asked for"
            )))];
        };
        if inc.site == SiteId::default() {
            return vec![Action::Close(Reject::Protocol(format!(
                "Chunk for database {db} before the peer named its replica"
            )))];
        }
        // What the network sends passes the rules local writes pass, so no
        // reader ever meets a value it cannot print or frame.
        if let Err(e) = check_items(&db, &items, self.cfg.max_doc_bytes) {
            return vec![Action::Close(Reject::Protocol(e))];
        }
        let peer = inc.site;
        let left_out = match local.vouch(&db, peer, &mut items) {
            Ok(left_out) => left_out,
            Err(reject) => return vec![Action::Close(reject)],
        };
        if let Some(why) = self.schema_clash(&db, &items, local) {
            return vec![Action::Close(Reject::Schema(why))];
        }
        if let Some(top) = schema::top(&items) {
            self.peer_holds(&db, top);
        }
        let Some(inc) = self.inc.get_mut(&db) else {
            return Vec::new();
        };
        // A clock far ahead would win every later write: refuse, with a reason.
        let bound = now_ms.saturating_add(self.cfg.max_future_ms);
        let too_new = items
            .iter()
            .filter_map(newest)
            .map(|v| v.millis())
            .find(|&ms| ms > bound);
        if let Some(ms) = too_new {
            return vec![Action::Close(Reject::FromTheFuture {
                ahead_ms: ms - now_ms,
                bound_ms: self.cfg.max_future_ms,
            })];
        }
        if end_seq <= inc.queued {
            // A chunk we already have (a replay): acknowledge, apply nothing.
            return vec![Action::Send(Message::Ack {
                db,
                seq: inc.applied,
            })];
        }
        if left_out && inc.hold.is_none() {
            inc.hold = Some(inc.queued);
        }
        inc.queued = end_seq;
        let own = items
            .iter()
            .flat_map(crate::history::item_versions)
            .filter(|v| v.site == inc.site)
            .max();
        if let Some(v) = own {
            inc.newest.push_back((end_seq, v));
        }
        inc.done += items.len() as u64;
        inc.remaining = remaining;
        let progress = SessionEvent::Progress {
            db: db.clone(),
            direction: Direction::Pull,
            done: inc.done,
            total: inc.done + remaining,
        };
        vec![
            Action::Apply {
                db,
                peer: inc.site,
                items,
                end_seq,
                checkpoint: inc.hold.unwrap_or(end_seq),
            },
            Action::Event(progress),
        ]
    }

    /// The driver applied a chunk of `db` through `end_seq` durably;
    /// `echoes` are our new seqs that hold exactly what the peer sent.
    pub fn applied(&mut self, db: &Name, end_seq: u64, echoes: Vec<u64>) -> Vec<Action> {
        let Some(inc) = self.inc.get_mut(db) else {
            return Vec::new();
        };
        inc.applied = inc.applied.max(end_seq);
        let mut pushed = None;
        while inc.newest.front().is_some_and(|(s, _)| *s <= end_seq) {
            pushed = inc.newest.pop_front().map(|(_, v)| v);
        }
        let pushed = pushed.map(|newest| Note::Pushed {
            db: db.clone(),
            site: inc.site,
            newest,
        });
        let caught_up =
            (inc.caught_up_at.is_some() && inc.applied == inc.queued).then_some(inc.site);
        if self.may_push {
            let sent = self.out.get(db).map_or(0, |o| o.sent);
            self.echoes
                .entry(db.clone())
                .or_default()
                .extend(echoes.into_iter().filter(|&s| s > sent));
        }
        if self.phase != Phase::Open {
            return Vec::new();
        }
        let mut actions = vec![Action::Send(Message::Ack {
            db: db.clone(),
            seq: end_seq,
        })];
        actions.extend(pushed.map(Action::Note));
        if let Some(site) = caught_up {
            actions.push(Action::Note(Note::CaughtUp {
                db: db.clone(),
                site,
            }));
        }
        actions
    }

    /// `db` committed locally: push what is new, if the peer follows it.
    pub fn local_commit(&mut self, db: &Name, local: &mut dyn Local) -> Vec<Action> {
        if self.phase != Phase::Open {
            return Vec::new();
        }
        if let Some(then) = self.schema_blocked.get(db) {
            let now = local.schema(db);
            if now != *then {
                let version = now.map_or(0, |a| a.version);
                return vec![Action::Close(Reject::Schema(format!(
                    "the schema of {db} changed on this side (now version {version}); connecting again to sync it"
                )))];
            }
            return Vec::new();
        }
        if self.broken.contains_key(db) {
            return Vec::new();
        }
        let mut actions = self.tell_horizon(db, local);
        let announced_default = self.inc.get(db).is_some_and(|i| i.announced_default);
        if !announced_default && self.out.contains_key(db) {
            actions.extend(self.pump(db));
            return actions;
        }
        let Ok(Some(reader)) = local.open(db) else {
            return Vec::new();
        };
        // We told the peer we had no replica of `db`, and now we have one
        // (its data made it): name our site, so the peer keys its checkpoint
        // of us by it and asks for our side. It goes before any chunk of ours.
        if announced_default {
            let site = self.inc[db].site;
            actions.extend(self.want(db, site, Some(&reader)));
        }
        if self.out.contains_key(db) {
            actions.extend(self.pump(db));
            return actions;
        }
        if let Some((site, since)) = self.wanted.remove(db) {
            actions.extend(self.start_out(db.clone(), site, since, reader));
            return actions;
        }
        if self.inc.contains_key(db) || !self.may_push {
            return actions;
        }
        // A database created here after the handshake: offer it by asking
        // for the peer's side, which makes the peer ask for ours. To a
        // read-only peer we only announce it: it sends nothing back.
        if !self.may_pull {
            let site = match reader.meta() {
                Ok(m) => m.site,
                Err(e) => return fail(e.to_string()),
            };
            return vec![Action::Send(Message::Want {
                db: db.clone(),
                site,
                since: 0,
            })];
        }
        self.want(db, SiteId::default(), Some(&reader))
    }
    /// Sends chunks of `db` while the window allows and there is something new.
    fn pump(&mut self, db: &Name) -> Vec<Action> {
        let cfg = self.cfg;
        let Some(out) = self.out.get_mut(db) else {
            return Vec::new();
        };
        let echoes = self.echoes.entry(db.clone()).or_default();
        let mut actions = Vec::new();
        let mut unreadable = None;
        while out.in_flight.len() < cfg.max_in_flight {
            // Runs of echoes (what the peer just sent us) are skipped unread.
            // The peer's checkpoint does not move past them, so after a
            // reconnect such a trailing run is sent once more and merges as a
            // no-op: cheaper than a durable checkpoint write per live batch.
            while echoes.first() == Some(&(out.sent + 1)) {
                echoes.pop_first();
                out.sent += 1;
                out.considered += 1;
            }
            // The head first: when nothing follows `sent`, every seq up to
            // it was removed (cleanup, a rebuild) or is an echo, and the
            // stream is across up to it.
            let head = match out.reader.meta() {
                Ok(m) => m.next_seq.saturating_sub(1),
                Err(e) => {
                    unreadable = Some(e.to_string());
                    break;
                }
            };
            let page = match out.reader.changes_since(out.sent, cfg.chunk_records) {
                Ok(p) => p,
                Err(e) => {
                    unreadable = Some(e.to_string());
                    break;
                }
            };
            let Some(last) = page.last().map(|c| c.seq) else {
                out.sent = out.sent.max(head);
                if out.caught_up_at != Some(out.sent) {
                    out.caught_up_at = Some(out.sent);
                    actions.push(Action::Send(Message::CaughtUp {
                        db: db.clone(),
                        seq: out.sent,
                    }));
                    actions.push(Action::Event(SessionEvent::CaughtUp {
                        db: db.clone(),
                        direction: Direction::Push,
                        done: out.done,
                    }));
                }
                break;
            };
            let mut items = Vec::new();
            let mut bytes = 0;
            let mut end_seq = last;
            // Skipped echoes that only this session knows of (see `applied`).
            let mut known_echoes = false;
            for change in page {
                if bytes >= cfg.chunk_bytes {
                    break;
                }
                end_seq = change.seq;
                out.considered += 1;
                if out.skip_own && all_from(&change.item, out.peer_site) {
                    continue;
                }
                if echoes.remove(&change.seq) {
                    known_echoes = true;
                    continue;
                }
                bytes += approx_bytes(&change.item);
                items.push(change.item);
            }
            out.sent = end_seq;
            *echoes = echoes.split_off(&(end_seq + 1));
            // Only echoes: move on, unless the next session could not tell
            // them by their versions; then an empty chunk moves the peer's
            // checkpoint past them, or every reconnect would send them again.
            if items.is_empty() && !known_echoes {
                continue;
            }
            out.done += items.len() as u64;
            let remaining = out.backlog.saturating_sub(out.considered);
            actions.push(Action::Event(SessionEvent::Progress {
                db: db.clone(),
                direction: Direction::Push,
                done: out.done,
                total: out.done + remaining,
            }));
            if let Some(top) = schema::top(&items) {
                out.schema_sent.push_back((end_seq, top));
            }
            out.in_flight.push_back(end_seq);
            actions.push(Action::Send(Message::Chunk {
                db: db.clone(),
                items,
                end_seq,
                remaining,
            }));
        }
        if let Some(why) = unreadable {
            self.unusable(db, why);
        }
        actions
    }
}
