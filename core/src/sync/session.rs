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

use super::wire::{DbAd, Hello, Message, PROTOCOL_VERSION, Reject, Welcome};

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
}

impl From<&crate::config::SyncConfig> for SessionConfig {
    fn from(c: &crate::config::SyncConfig) -> Self {
        SessionConfig {
            chunk_records: c.chunk_records,
            chunk_bytes: c.chunk_bytes,
            max_in_flight: c.max_in_flight,
            max_future_ms: c.max_future_ms,
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
        }
    }
}

/// The folder's databases as the session sees them. Reads only: writes go
/// out as [`Action::Apply`] for the driver to run.
pub trait Local {
    /// The folder's databases with their replicas' site ids.
    fn databases(&mut self) -> Result<Vec<(Name, SiteId)>, String>;
    /// A database's reader, creating the database if it does not exist.
    fn open(&mut self, db: &Name) -> Result<Reader, String>;
    /// This replica's wall clock, in ms since the Unix epoch.
    fn now_ms(&self) -> u64;
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
    /// Everything of `db` that existed is across in `direction`.
    CaughtUp {
        db: Name,
        direction: Direction,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Send(Message),
    /// Merge `items` into `db` and set the checkpoint for `peer` to
    /// `end_seq`, in ONE transaction; then call [`Session::applied`].
    Apply {
        db: Name,
        peer: SiteId,
        items: Vec<Item>,
        end_seq: u64,
    },
    Event(SessionEvent),
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
}

pub struct Session {
    cfg: SessionConfig,
    phase: Phase,
    /// We may send our changes (false for a client with a read-only token).
    may_push: bool,
    /// We accept the peer's changes (false on a hub for a read-only client).
    may_pull: bool,
    out: BTreeMap<Name, Out>,
    inc: BTreeMap<Name, In>,
    /// Per database, our seqs stored exactly as the peer sent them: the
    /// peer has them, so they are not sent back (the relay case of rule 5).
    echoes: BTreeMap<Name, std::collections::BTreeSet<u64>>,
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

impl Session {
    /// A client session: returns it with the `Hello` to send.
    pub fn connect(
        cfg: SessionConfig,
        folder: &str,
        token: &str,
        local: &mut dyn Local,
    ) -> (Session, Vec<Action>) {
        let session = Session {
            cfg,
            phase: Phase::AwaitWelcome,
            may_push: true,
            may_pull: true,
            out: BTreeMap::new(),
            inc: BTreeMap::new(),
            echoes: BTreeMap::new(),
        };
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
                .map(|(name, site)| DbAd { name, site })
                .collect(),
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
        let mut s = Session {
            cfg,
            phase: Phase::Open,
            may_push: true,
            may_pull: !read_only,
            out: BTreeMap::new(),
            inc: BTreeMap::new(),
            echoes: BTreeMap::new(),
        };
        if let Err(reject) = Self::check_version(hello) {
            return (s, vec![Action::Close(reject)]);
        }
        let mut actions = Vec::new();
        let mine = match s.all_databases(local, hello.databases.iter().map(|d| &d.name)) {
            Ok(m) => m,
            Err(e) => return (s, fail(e)),
        };
        actions.push(Action::Send(Message::Welcome(Welcome {
            version: PROTOCOL_VERSION,
            databases: mine
                .iter()
                .map(|(name, site, _)| DbAd {
                    name: name.clone(),
                    site: *site,
                })
                .collect(),
            read_only,
        })));
        if s.may_pull {
            for ad in &hello.databases {
                if let Some((_, _, reader)) = mine.iter().find(|(n, _, _)| *n == ad.name) {
                    actions.extend(s.want(&ad.name, ad.site, reader));
                }
            }
        }
        actions.push(Action::Event(SessionEvent::Opened));
        (s, actions)
    }

    /// Our databases plus any the peer has, created here: (name, site, reader).
    fn all_databases<'a>(
        &self,
        local: &mut dyn Local,
        theirs: impl Iterator<Item = &'a Name>,
    ) -> Result<Vec<(Name, SiteId, Reader)>, String> {
        let mut names: Vec<Name> = local.databases()?.into_iter().map(|(n, _)| n).collect();
        for n in theirs {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let reader = local.open(&n)?;
                let site = reader.meta().map_err(|e| e.to_string())?.site;
                Ok((n, site, reader))
            })
            .collect()
    }

    /// Asks the peer for its changes of `db` (replica `peer_site`) after our checkpoint.
    fn want(&mut self, db: &Name, peer_site: SiteId, reader: &Reader) -> Vec<Action> {
        let (since, site) = match (reader.checkpoint(peer_site), reader.meta()) {
            (Ok(c), Ok(m)) => (c, m.site),
            (Err(e), _) | (_, Err(e)) => return fail(e.to_string()),
        };
        self.inc.insert(
            db.clone(),
            In {
                site: peer_site,
                queued: since,
                applied: since,
                done: 0,
                remaining: 0,
                caught_up_at: None,
            },
        );
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
            (
                Phase::Open,
                Message::Chunk {
                    db,
                    items,
                    end_seq,
                    remaining,
                },
            ) => self.on_chunk(db, items, end_seq, remaining, local.now_ms()),
            (Phase::Open, Message::CaughtUp { db, seq }) => {
                let Some(inc) = self.inc.get_mut(&db) else {
                    return protocol("CaughtUp for a database not asked for");
                };
                inc.caught_up_at = Some(seq);
                inc.remaining = 0;
                vec![Action::Event(SessionEvent::CaughtUp {
                    db,
                    direction: Direction::Pull,
                })]
            }
            (Phase::Open, Message::Ack { db, seq }) => {
                let Some(out) = self.out.get_mut(&db) else {
                    return protocol("Ack for a database not sent");
                };
                while out.in_flight.front().is_some_and(|&s| s <= seq) {
                    out.in_flight.pop_front();
                }
                out.acked = out.acked.max(seq);
                self.pump(&db)
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
        self.phase = Phase::Open;
        self.may_push = !w.read_only;
        let mine = match self.all_databases(local, w.databases.iter().map(|d| &d.name)) {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        let mut actions = vec![Action::Event(SessionEvent::Opened)];
        for ad in &w.databases {
            if let Some((_, _, reader)) = mine.iter().find(|(n, _, _)| *n == ad.name) {
                actions.extend(self.want(&ad.name, ad.site, reader));
            }
        }
        // A database made here after the Hello went out: its commit found
        // the session not yet open, so offer it now as `local_commit` would.
        if self.may_push {
            for (name, _, reader) in &mine {
                if !self.inc.contains_key(name) {
                    actions.extend(self.want(name, SiteId::default(), reader));
                }
            }
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
        if !self.may_push {
            return vec![Action::Close(Reject::Protocol(
                "Want from a hub that granted a read-only token".into(),
            ))];
        }
        let reader = match local.open(&db) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let backlog = match reader.count_since(since) {
            Ok(n) => n,
            Err(e) => return fail(e.to_string()),
        };
        let mut actions = Vec::new();
        if let Some(inc) = self.inc.get_mut(&db)
            && inc.site == SiteId::default()
        {
            // We offered this database before knowing the peer's replica.
            inc.site = site;
        }
        // A database the peer just made: ask for its side too.
        if self.may_pull && !self.inc.contains_key(&db) {
            actions.extend(self.want(&db, site, &reader));
        }
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
            },
        );
        actions.extend(self.pump(&db));
        actions
    }

    fn on_chunk(
        &mut self,
        db: Name,
        items: Vec<Item>,
        end_seq: u64,
        remaining: u64,
        now_ms: u64,
    ) -> Vec<Action> {
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
        inc.queued = end_seq;
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
        vec![Action::Send(Message::Ack {
            db: db.clone(),
            seq: end_seq,
        })]
    }

    /// `db` committed locally: push what is new, if the peer follows it.
    pub fn local_commit(&mut self, db: &Name, local: &mut dyn Local) -> Vec<Action> {
        if self.phase != Phase::Open {
            return Vec::new();
        }
        if self.out.contains_key(db) {
            return self.pump(db);
        }
        if self.inc.contains_key(db) || !self.may_push {
            return Vec::new();
        }
        // A database created here after the handshake: offer it by asking
        // for the peer's side, which makes the peer ask for ours.
        match local.open(db) {
            Ok(reader) => self.want(db, SiteId::default(), &reader),
            Err(e) => fail(e),
        }
    }

    /// Sends chunks of `db` while the window allows and there is something new.
    fn pump(&mut self, db: &Name) -> Vec<Action> {
        let cfg = self.cfg;
        let Some(out) = self.out.get_mut(db) else {
            return Vec::new();
        };
        let echoes = self.echoes.entry(db.clone()).or_default();
        let mut actions = Vec::new();
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
            let page = match out.reader.changes_since(out.sent, cfg.chunk_records) {
                Ok(p) => p,
                Err(e) => return fail(e.to_string()),
            };
            let Some(last) = page.last().map(|c| c.seq) else {
                if out.caught_up_at != Some(out.sent) {
                    out.caught_up_at = Some(out.sent);
                    actions.push(Action::Send(Message::CaughtUp {
                        db: db.clone(),
                        seq: out.sent,
                    }));
                    actions.push(Action::Event(SessionEvent::CaughtUp {
                        db: db.clone(),
                        direction: Direction::Push,
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
                if all_from(&change.item, out.peer_site) {
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
            out.in_flight.push_back(end_seq);
            actions.push(Action::Send(Message::Chunk {
                db: db.clone(),
                items,
                end_seq,
                remaining,
            }));
        }
        actions
    }
}
