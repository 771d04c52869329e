//! Drives one `Session` over one WebSocket: frames in → session → actions out
//! (send, apply through the database writer, report), and local commits in
//! → live pushes. The same loop serves both ends of a connection.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use syncdb_core::folder::Folder;
use syncdb_core::schema;
use syncdb_core::sync::session::Direction;
use syncdb_core::sync::{Action, Local, Message, Reject, Session, SessionEvent, Standing, wire};
use syncdb_core::{Item, Name, Reader, SiteId, Version};
use tokio::sync::broadcast::error::RecvError;

use super::link::Link;
use crate::state::State;

/// Frames taken in one step before acting on them.
const MAX_FRAMES_PER_STEP: usize = 16;
/// A client whose `Welcome` has not come this long after its `Hello` gives up.
pub const WELCOME_DEADLINE: Duration = Duration::from_secs(10);

/// A binary-frame transport: the hub's axum socket or the client's tungstenite one.
pub trait Wire: Send {
    /// The next binary frame; `None` when the peer closed.
    fn recv(&mut self) -> impl Future<Output = Option<Result<Vec<u8>, String>>> + Send;
    fn send(&mut self, frame: Vec<u8>) -> impl Future<Output = Result<(), String>> + Send;
}

/// How a session ended.
#[derive(Debug, Clone, thiserror::Error)]
pub enum End {
    #[error("we ended the session: {0}")]
    Ours(Reject),
    #[error("the peer ended the session: {0}")]
    Theirs(Reject),
    #[error("connection lost: {0}")]
    Lost(String),
    #[error("daemon shutting down")]
    Stopping,
    /// A database was rebuilt from the hub's state: connect again at once.
    #[error("{0}")]
    Rebuilt(String),
}

/// The folder's databases, through the daemon's replicas.
pub struct FolderLocal<'a> {
    pub state: &'a State,
    pub folder: &'a Folder,
    /// On a hub: the id of the token the peer authenticated with, which its
    /// replica claims are bound to.
    pub token: Option<&'a str>,
}

impl Local for FolderLocal<'_> {
    fn databases(&mut self) -> Result<Vec<(Name, SiteId)>, String> {
        let names = (self.state.replicas)
            .databases(self.folder)
            .map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(names.len());
        for (name, _) in names {
            // A damaged database is left out; the others still sync.
            if let Ok(Some(reader)) = self.open(&name)
                && let Ok(meta) = reader.meta()
            {
                out.push((name, meta.site));
            }
        }
        Ok(out)
    }

    fn now_ms(&self) -> u64 {
        self.state.now_ms()
    }

    fn open(&mut self, db: &Name) -> Result<Option<Reader>, String> {
        match self.state.replicas.get(self.folder, db, false) {
            Ok(replica) => Ok(replica.map(|r| r.reader.clone())),
            Err(e) => {
                tracing::warn!(db = %db, error = %e, "not syncing a database that cannot be opened");
                Err(e.to_string())
            }
        }
    }

    fn vouch(&mut self, db: &Name, peer: SiteId, items: &mut Vec<Item>) -> Result<bool, Reject> {
        match self.vouch_items(db, peer, items) {
            Ok(Some(dropped)) => {
                tracing::warn!(
                    db = %db,
                    token = self.token.unwrap_or(""),
                    writes = dropped.count,
                    of = %dropped.site.to_hex(),
                    "left out writes a peer relayed in another replica's name that this hub does not hold; their writer brings them back"
                );
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => {
                tracing::warn!(db = %db, error = %e, "cannot check a chunk's writes");
                Err(Reject::Internal(e))
            }
        }
    }

    fn standing(&mut self, db: &Name, site: SiteId, rejoin: Option<u64>, fresh: bool) -> Standing {
        crate::history::standing(self.state, self.folder, db, site, rejoin, fresh)
    }

    fn horizon(&mut self, db: &Name) -> u64 {
        crate::history::horizon_for_peers(self.state, self.folder, db)
    }

    fn rejoin(&mut self, db: &Name) -> Option<u64> {
        match self.state.replicas.get(self.folder, db, false) {
            Ok(Some(replica)) => replica.history().rejoin,
            _ => None,
        }
    }

    fn claim(&mut self, db: &Name, site: SiteId) -> Result<(), Reject> {
        let Some(token) = self.token else {
            return Ok(());
        };
        // A database we cannot open is left out of the session anyway.
        if let Ok(Some(reader)) = self.open(db)
            && reader.meta().is_ok_and(|m| m.site == site)
        {
            return Err(Reject::Forbidden(format!(
                "replica {} of database {db} is this hub's own",
                site.to_hex()
            )));
        }
        match self
            .state
            .sync
            .sites
            .claim(&self.folder.settings.id, db, site, token)
        {
            Ok(()) => Ok(()),
            Err(e @ crate::sites::ClaimError::Taken { .. }) => {
                tracing::warn!(db = %db, token, error = %e, "refused a replica claim");
                Err(Reject::Forbidden(e.to_string()))
            }
            Err(e) => Err(Reject::Internal(e.to_string())),
        }
    }
}

/// Whether the hub holds a write newer than `version` (of the field, the
/// record, or a drop over it): the pushed one then loses to it anyway.
fn newer_held(version: Version, held: &[Version]) -> bool {
    held.iter().any(|v| *v > version)
}

/// Writes a hub left out of a chunk: how many, and one replica they were of.
struct Dropped {
    count: usize,
    site: SiteId,
}

impl FolderLocal<'_> {
    /// Takes out of `items` every write of another known replica (or the
    /// hub's own) that this hub does not hold, and every relayed write
    /// that ties with one it holds: the whole-record part or a field of a
    /// record, a drop marker. What the peer wrote itself stays.
    fn vouch_items(
        &mut self,
        db: &Name,
        peer: SiteId,
        items: &mut Vec<Item>,
    ) -> Result<Option<Dropped>, String> {
        let Some(token) = self.token else {
            return Ok(None);
        };
        // The common chunk holds only the peer's own writes: no file to read.
        let own = |item: &Item| match item {
            Item::Record { state, .. } => state.versions().all(|v| v.site == peer),
            Item::DropCollection { version, .. } | Item::DropDatabase { version } => {
                version.site == peer
            }
        };
        if items.iter().all(own) {
            return Ok(None);
        }
        let owners = self
            .state
            .sync
            .sites
            .owners(&self.folder.settings.id, db)
            .map_err(|e| e.to_string())?;
        let reader = self.open(db)?;
        let hub_site = match &reader {
            Some(r) => Some(r.meta().map_err(|e| e.to_string())?.site),
            None => None,
        };
        // A site this hub knows as another replica's, or its own: writes of
        // it come only from there (or from us, which we then hold).
        let foreign = |site: SiteId| {
            site != peer
                && (Some(site) == hub_site || owners.get(&site).is_some_and(|t| t != token))
        };
        let markers = match &reader {
            Some(r) => r.markers().map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        let over = |collection: Option<&Name>| -> Vec<Version> {
            markers
                .iter()
                .filter(|(c, _)| c.is_none() || c.as_ref() == collection)
                .map(|(_, v)| *v)
                .collect()
        };
        let mut dropped: Option<Dropped> = None;
        // `at_version`: what the hub holds at `v` itself, if anything —
        // the very write (true), or other content (false). A relayed write
        // that ties with one the hub holds stays out, whoever the writer:
        // it would win or lose the tie on content, and the writer, who is
        // never sent its own versions back, would keep the other for ever.
        // A foreign write goes in only when the hub holds that very write,
        // or something newer it loses to anyway.
        let mut unheld = |v: Version, at_version: Option<bool>, held: &[Version]| {
            let out = v.site != peer
                && match at_version {
                    Some(same) => !same,
                    None => foreign(v.site) && !newer_held(v, held),
                };
            if out {
                let d = dropped.get_or_insert(Dropped {
                    count: 0,
                    site: v.site,
                });
                d.count += 1;
            }
            out
        };
        let mut kept = Vec::with_capacity(items.len());
        for mut item in std::mem::take(items) {
            let keep = match &mut item {
                Item::Record {
                    collection,
                    key,
                    state,
                } => {
                    let ours = match &reader {
                        Some(r) if state.versions().any(|v| v.site != peer) => {
                            r.state(collection, key).map_err(|e| e.to_string())?
                        }
                        _ => None,
                    };
                    let ours_whole = ours.as_ref().and_then(|s| s.whole);
                    let mut base = over(Some(collection));
                    base.extend(ours_whole.map(|w| w.version));
                    if state.whole.is_some_and(|w| {
                        let at = ours_whole.filter(|o| o.version == w.version);
                        unheld(w.version, at.map(|o| o == w), &base)
                    }) {
                        state.whole = None;
                    }
                    state.fields.retain(|name, f| {
                        let held_field = ours.as_ref().and_then(|s| s.fields.get(name));
                        let mut held = base.clone();
                        held.extend(held_field.map(|o| o.version));
                        let at = held_field.filter(|o| o.version == f.version);
                        !unheld(f.version, at.map(|o| o == &*f), &held)
                    });
                    state.whole.is_some() || !state.fields.is_empty()
                }
                Item::DropCollection {
                    collection,
                    version,
                } => {
                    let held = over(Some(collection));
                    !unheld(*version, held.contains(version).then_some(true), &held)
                }
                Item::DropDatabase { version } => {
                    let held = over(None);
                    !unheld(*version, held.contains(version).then_some(true), &held)
                }
            };
            if keep {
                kept.push(item);
            }
        }
        *items = kept;
        Ok(dropped)
    }
}

/// The replica to apply a chunk of `db` to. Data arriving is what creates a
/// database, up to `sync.max_databases` per folder.
fn replica_for_apply(
    state: &State,
    folder: &Folder,
    db: &Name,
) -> Result<Arc<crate::replicas::Replica>, Reject> {
    if let Some(r) = state
        .replicas
        .get(folder, db, false)
        .map_err(|e| Reject::Internal(e.to_string()))?
    {
        return Ok(r);
    }
    let max = state.config().sync.max_databases;
    let count = (state.replicas)
        .databases(folder)
        .map_err(|e| Reject::Internal(e.to_string()))?
        .len();
    if count >= max {
        return Err(Reject::Forbidden(format!(
            "folder {} holds {count} databases, the most sync may create (sync.max_databases = {max}); database {db} was not created",
            folder.settings.id
        )));
    }
    tracing::info!(db = %db, folder = %folder.path.display(), "creating a database for data from a peer");
    state
        .replicas
        .get_or_create(folder, db)
        .map(|(r, _)| r)
        .map_err(|e| Reject::Internal(e.to_string()))
}

/// Chunks of one database from one peer, applied in one transaction.
struct Apply {
    db: Name,
    peer: SiteId,
    items: Vec<syncdb_core::Item>,
    end_seq: u64,
    checkpoint: u64,
}

/// Runs `session` until it ends. `token` is the peer's token id on a hub;
/// `ended` resolves with a reason when the session must end from outside
/// (its token revoked, the hub stopped serving).
#[allow(clippy::too_many_arguments)]
pub async fn drive<W: Wire>(
    wire: &mut W,
    state: &Arc<State>,
    folder: &Folder,
    token: Option<&str>,
    mut session: Session,
    first: Vec<Action>,
    link: &Link,
    ended: impl Future<Output = Reject>,
) -> End {
    let mut notes = state.replicas.subscribe();
    let mut horizons = state.replicas.subscribe_horizons();
    let mut freed = state.sync.freed.subscribe();
    // A quiet peer is still here: said to the registry now and then.
    let every = Duration::from_millis(state.config().history.check_ms.clamp(100, 10_000));
    let mut seen = tokio::time::interval(every);
    let mut pending = first;
    let mut barriers = link.barrier.subscribe();
    let requested = *barriers.borrow_and_update();
    if requested > link.status().barrier_done {
        pending.extend(session.barrier(requested));
    }
    let welcome_by = tokio::time::Instant::now() + WELCOME_DEADLINE;
    let mut ended = std::pin::pin!(ended);
    let mut was_open = session.is_open();
    // A connection error met while taking extra frames: acted on after the
    // frames before it (which may hold the peer's reason for closing).
    let mut lost: Option<End> = None;
    loop {
        pending.extend(session.tell_unusable());
        // Acting can produce more actions (an apply produces an ack): drain all.
        while !pending.is_empty() {
            let mut applies: Vec<Apply> = Vec::new();
            for action in std::mem::take(&mut pending) {
                match action {
                    Action::Send(msg) => {
                        let frame = match wire::encode(&msg) {
                            Ok(f) => f,
                            Err(e) => return End::Ours(Reject::Internal(e.to_string())),
                        };
                        link.metrics.bytes_out(frame.len(), &msg);
                        tracing::trace!(link = %link.name, ?msg, "send");
                        if let Err(e) = wire.send(frame).await {
                            return reason_or_lost(wire, e);
                        }
                    }
                    // Chunks that arrived together are applied in one
                    // transaction: one fsync, one cumulative ack.
                    Action::Apply {
                        db,
                        peer,
                        items,
                        end_seq,
                        checkpoint,
                    } => match applies.iter_mut().find(|a| a.db == db && a.peer == peer) {
                        Some(a) => {
                            a.items.extend(items);
                            a.end_seq = end_seq;
                            a.checkpoint = checkpoint;
                        }
                        None => applies.push(Apply {
                            db,
                            peer,
                            items,
                            end_seq,
                            checkpoint,
                        }),
                    },
                    Action::Event(event) => link.on_event(&event),
                    Action::Note(note) => {
                        crate::history::note(state, folder, session.is_client(), note)
                    }
                    Action::Horizon { db, ms } => {
                        crate::history::follow(state, folder, &db, ms).await
                    }
                    Action::Rebuild(behind) => return rebuild(state, folder, link, behind).await,
                    Action::Close(reject) => return close(wire, reject).await,
                    Action::Closed(reject) => return End::Theirs(reject),
                }
            }
            for Apply {
                db,
                peer,
                items,
                end_seq,
                checkpoint,
            } in applies
            {
                let replica = match replica_for_apply(state, folder, &db) {
                    Ok(r) => r,
                    Err(reject) => return close(wire, reject).await,
                };
                let known = session.peer_schema(&db).cloned();
                let echoes = match replica.apply_chunk(peer, items, checkpoint, known).await {
                    Ok(echoes) => echoes,
                    Err(crate::replicas::ReplicaError::Store {
                        source:
                            syncdb_core::store::StoreError::SchemaConflict {
                                version,
                                ours,
                                theirs,
                            },
                        ..
                    }) => {
                        let why = schema::conflict_reason(&db, version, &ours, &theirs);
                        return close(wire, Reject::Schema(why)).await;
                    }
                    // A damaged file is left alone; the others go on.
                    Err(e) if e.is_damage() => {
                        tracing::warn!(db = %db, error = %e, "not syncing a damaged database");
                        session.unusable(&db, e.to_string());
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(db = %db, error = %e, "cannot apply a sync chunk");
                        return close(wire, Reject::Internal(e.to_string())).await;
                    }
                };
                pending.extend(session.applied(&db, end_seq, echoes));
            }
        }
        if let Some(end) = lost.take() {
            return end;
        }
        link.observe(&session);
        if session.is_open() && !was_open {
            was_open = true;
            link.opened(state, folder, &session);
        }
        let mut local = FolderLocal {
            state,
            folder,
            token,
        };
        tokio::select! {
            frame = wire.recv() => {
                let mut frame = frame;
                // Take every frame already here, so their chunks share a commit.
                for taken in 1..=MAX_FRAMES_PER_STEP {
                    match frame {
                        Some(Ok(bytes)) => {
                            link.metrics.bytes_in(bytes.len());
                            match wire::decode(&bytes) {
                                Ok(msg) => {
                                    tracing::trace!(link = %link.name, ?msg, "recv");
                                    if let Message::Chunk { items, .. } = &msg {
                                        link.metrics.records_in(items.len());
                                    }
                                    pending.extend(session.on_message(msg, &mut local));
                                }
                                Err(e) => return close(wire, Reject::Protocol(e.to_string())).await,
                            }
                        }
                        Some(Err(e)) => return End::Lost(e),
                        None => return End::Lost("closed by the peer".into()),
                    }
                    // Take another only if this step will act on it: one
                    // read past the last would be dropped with the loop.
                    if taken == MAX_FRAMES_PER_STEP {
                        break;
                    }
                    match wire.recv().now_or_never() {
                        Some(Some(Ok(next))) => frame = Some(Ok(next)),
                        Some(Some(Err(e))) => {
                            lost = Some(End::Lost(e));
                            break;
                        }
                        Some(None) => {
                            lost = Some(End::Lost("closed by the peer".into()));
                            break;
                        }
                        None => break,
                    }
                }
            },
            note = notes.recv() => match note {
                Ok(note) if note.folder == folder.path => {
                    pending.extend(session.local_commit(&note.db, &mut local));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    for db in session.databases() {
                        pending.extend(session.local_commit(&db, &mut local));
                    }
                }
                Err(RecvError::Closed) => return End::Stopping,
            },
            moved = horizons.recv() => match moved {
                Ok((path, db)) if path == folder.path => {
                    pending.extend(session.local_commit(&db, &mut local));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return End::Stopping,
            },
            _ = seen.tick() => {
                for note in session.seen() {
                    crate::history::note(state, folder, false, note);
                }
            },
            changed = barriers.changed() => {
                if changed.is_ok() {
                    let id = *barriers.borrow_and_update();
                    pending.extend(session.barrier(id));
                }
            },
            reject = &mut ended => return close(wire, reject).await,
            changed = freed.changed(), if session.holds_back() => {
                if changed.is_ok() {
                    let why = "the token of a replica whose writes were left out was revoked";
                    return close(wire, Reject::Again(why.into())).await;
                }
            },
            _ = tokio::time::sleep_until(welcome_by), if !session.is_open() => {
                return End::Lost(format!(
                    "no Welcome from the hub within {}s of connecting",
                    WELCOME_DEADLINE.as_secs()
                ));
            },
            _ = state.stopped() => return End::Stopping,
        }
    }
}

/// The hub says our replicas of these databases are behind its horizon:
/// rebuild each (keeping our writes it has not pulled), say what was done,
/// and end the session so the next one syncs the hub's state from the start.
async fn rebuild(state: &State, folder: &Folder, link: &Link, behind: Vec<wire::Behind>) -> End {
    let mut done = Vec::new();
    for b in behind {
        let db = b.db.clone();
        let replica = match state.replicas.get(folder, &db, false) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => return End::Ours(Reject::Internal(e.to_string())),
        };
        let horizon = b.horizon;
        let outcome = replica
            .run(move |db, now| {
                let rebuilt = db.rebuild(now, b.site, b.horizon, &b.pulled)?;
                db.compact()?;
                Ok(rebuilt)
            })
            .await;
        let r = match outcome {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(db = %db, error = %e, "cannot rebuild an outdated replica");
                return End::Ours(Reject::Internal(e.to_string()));
            }
        };
        let what = format!(
            "{db} was behind the hub's horizon ({}): rebuilt from the hub's state, keeping {} with writes the hub had not received ({} older than the horizon, weighed against the hub's state once it is here) and forgetting {} other entries",
            syncdb_core::words::utc(horizon),
            syncdb_core::words::count(r.kept, "record"),
            r.rewritten,
            r.forgotten
        );
        tracing::warn!(remote = %link.name, db = %db, kept = r.kept, rewritten = r.rewritten, forgotten = r.forgotten, "rebuilt an outdated replica");
        link.update(|s| s.notes.push(what.clone()));
        done.push(what);
    }
    End::Rebuilt(done.join("; "))
}

/// A send failed: the peer has likely closed after saying why (a revoked
/// token, a refused chunk). Its `Reject` may wait unread behind other
/// frames; report that rather than the broken pipe.
fn reason_or_lost<W: Wire>(wire: &mut W, error: String) -> End {
    for _ in 0..MAX_FRAMES_PER_STEP {
        match wire.recv().now_or_never() {
            Some(Some(Ok(bytes))) => {
                if let Ok(Message::Reject(reject)) = wire::decode(&bytes) {
                    return End::Theirs(reject);
                }
            }
            _ => break,
        }
    }
    End::Lost(error)
}

async fn close<W: Wire>(wire: &mut W, reject: Reject) -> End {
    if let Ok(frame) = wire::encode(&Message::Reject(reject.clone())) {
        let _ = tokio::time::timeout(Duration::from_secs(2), wire.send(frame)).await;
    }
    End::Ours(reject)
}

/// Progress as the command shows it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    pub remote: String,
    pub db: Name,
    pub direction: String,
    pub done: u64,
    pub total: u64,
    pub caught_up: bool,
}

impl Progress {
    pub fn from_event(remote: &str, event: &SessionEvent) -> Option<Progress> {
        let dir = |d: &Direction| match d {
            Direction::Push => "push".to_owned(),
            Direction::Pull => "pull".to_owned(),
        };
        match event {
            SessionEvent::Progress {
                db,
                direction,
                done,
                total,
            } => Some(Progress {
                remote: remote.to_owned(),
                db: db.clone(),
                direction: dir(direction),
                done: *done,
                total: *total,
                caught_up: false,
            }),
            SessionEvent::CaughtUp {
                db,
                direction,
                done,
            } => Some(Progress {
                remote: remote.to_owned(),
                db: db.clone(),
                direction: dir(direction),
                done: *done,
                total: *done,
                caught_up: true,
            }),
            SessionEvent::Opened => None,
        }
    }
}
