//! History that does not grow forever: tombstone cleanup behind a safe
//! horizon, the replicas a hub keeps the horizon for, and the rebuild of a
//! replica that comes back from behind it.
//!
//! A tombstone (a deleted record, a removed field, a collection's drop
//! marker) is what stops an older write from coming back. Once every
//! replica holds it, nothing older can arrive, and it may be forgotten.
//! The *horizon* of a database is a wall-clock time (ms): every tombstone
//! whose versions are all at or before it is held by every live replica,
//! and is at least the retention old. A hub works it out from what it
//! knows of the replicas it serves ([`compute_horizon`]) and tells them;
//! a database that syncs with no one works it out alone. Each replica then
//! forgets such tombstones in short transactions ([`Database::cleanup_step`]).
//!
//! A replica unseen for longer than the retention is *retired*: it no
//! longer holds the horizon back, so one lost laptop cannot pin history
//! forever. When it comes back it is *outdated*: it may hold records whose
//! deletion was forgotten, so its feed cannot be merged as it is.
//! [`Database::rebuild`] keeps only its own writes made since the hub last
//! pulled from it, forgets the rest, and syncs the hub's current state
//! from the start; own writes at or before the horizon are written again
//! under new versions, since a forgotten tombstone can no longer decide
//! against them the same way on every replica.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::db::{Database, Reader};
use crate::record::RecordState;
use crate::store::{Item, Result};
use crate::sync::wire::Pulled;
use crate::version::{SiteId, Version};

/// The meta value that holds a database's [`History`] (JSON).
pub const META_NAME: &str = "history";

/// Feed entries one cleanup step looks at, in one transaction: small
/// enough that a write waiting behind a step waits briefly (BENCHMARKS.md).
pub const CLEANUP_STEP: usize = 4096;

/// What a database keeps about its history, beside its meta.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct History {
    /// Tombstones whose versions are all at or before this wall-clock ms
    /// may be forgotten here (0: none). Never moves back.
    pub horizon: u64,
    /// The horizon the last finished cleanup pass used.
    pub cleaned: u64,
    /// A pass under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<Pass>,
    /// Tombstones forgotten here, ever.
    pub removed: u64,
    /// On a hub: the replicas it serves this database to, by site (hex).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub replicas: BTreeMap<String, Peer>,
    /// Rebuilt from a hub's snapshot at this horizon and not yet caught up
    /// with it: the hub takes this replica back as live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejoin: Option<u64>,
    /// Site ids (hex) this replica's own writes were made under before it
    /// took its own (the replica a restored copy was copied from).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub former: Vec<String>,
    /// This replica has synced with a hub: from then on it keeps the
    /// horizon hubs tell it and never works one out alone, even with no
    /// remote left — its writes no hub has seen may yet reach one, and a
    /// tombstone forgotten before that would let the record come back.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub synced: bool,
}

/// A cleanup pass under way: its horizon and the last seq it looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pass {
    pub horizon: u64,
    pub after: u64,
}

/// What a hub knows of one replica it serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Peer {
    /// When the hub last heard from it about this database (hub's clock).
    pub last_seen_ms: u64,
    /// The hub's feed is applied there through this seq.
    pub acked: u64,
    /// When the hub last held everything that replica had (hub's clock).
    pub pushed_ms: u64,
    /// Retired (unseen for longer than the retention, or by hand): it no
    /// longer holds the horizon back, and is outdated when it comes back.
    pub retired: bool,
    /// Its own newest write applied here: it holds all of its writes up to
    /// this version (its versions grow with its feed).
    pub newest: Option<Version>,
}

impl Peer {
    /// What two views of one replica know together (two hubs over one
    /// store, each with the sessions it served): the later of each time,
    /// the further of each position, and retired as the view that saw it
    /// last says (one that rejoined after its retirement is live again).
    pub fn merge(&mut self, other: &Peer) {
        self.retired = match self.last_seen_ms.cmp(&other.last_seen_ms) {
            std::cmp::Ordering::Less => other.retired,
            std::cmp::Ordering::Equal => self.retired || other.retired,
            std::cmp::Ordering::Greater => self.retired,
        };
        self.last_seen_ms = self.last_seen_ms.max(other.last_seen_ms);
        self.acked = self.acked.max(other.acked);
        self.pushed_ms = self.pushed_ms.max(other.pushed_ms);
        self.newest = self.newest.max(other.newest);
    }
}

impl History {
    /// Adds what `ours` knows of replicas to this (newer) registry,
    /// rather than replacing it: another hub may have written replicas
    /// this one never served.
    pub fn merge_replicas(&mut self, ours: &BTreeMap<String, Peer>) {
        for (site, peer) in ours {
            match self.replicas.get_mut(site) {
                Some(known) => known.merge(peer),
                None => {
                    self.replicas.insert(site.clone(), *peer);
                }
            }
        }
    }

    pub fn decode(bytes: Option<&[u8]>) -> Result<History, String> {
        match bytes {
            None => Ok(History::default()),
            Some(b) => serde_json::from_slice(b).map_err(|e| format!("bad history meta: {e}")),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("history serializes")
    }

    /// Whether a cleanup pass is due or under way.
    pub fn cleaning(&self) -> bool {
        self.pass.is_some() || self.horizon > self.cleaned
    }

    /// The own sites a rebuild keeps writes of: this replica's, and the
    /// ones it was copied from.
    fn own_sites(&self, site: SiteId) -> Vec<SiteId> {
        let mut out = vec![site];
        out.extend(self.former.iter().filter_map(|h| SiteId::from_hex(h)));
        out
    }
}

/// How a hub takes a replica that names itself in a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// It may sync from its checkpoints; `joined` when it is new (or back
    /// after a rebuild) and the registry should be written down at once.
    Current { joined: bool },
    /// It is behind the horizon and must rebuild.
    Outdated,
}

/// Takes replica `site` into the registry `peers` of a database whose
/// horizon is `horizon`, at `now_ms` (the hub's clock). A live replica is
/// current. An unknown or retired one is outdated once anything was
/// cleaned up, unless it rebuilt at the horizon still in force (`rejoin`)
/// or was made from the hub's feed read from the start (`fresh`).
pub fn admit(
    peers: &mut BTreeMap<String, Peer>,
    horizon: u64,
    site: SiteId,
    rejoin: Option<u64>,
    fresh: bool,
    now_ms: u64,
) -> Admission {
    let hex = site.to_hex();
    if let Some(peer) = peers.get_mut(&hex)
        && !peer.retired
    {
        peer.last_seen_ms = now_ms;
        return Admission::Current { joined: false };
    }
    if horizon > 0 && rejoin != Some(horizon) && !fresh {
        return Admission::Outdated;
    }
    peers.insert(
        hex,
        Peer {
            last_seen_ms: now_ms,
            ..Peer::default()
        },
    );
    Admission::Current { joined: true }
}

/// Keeps what a session learned of a current replica in the registry.
pub fn learn(peers: &mut BTreeMap<String, Peer>, note: &crate::sync::Note, now_ms: u64) {
    use crate::sync::Note;
    let site = match note {
        Note::Acked { site, .. }
        | Note::CaughtUp { site, .. }
        | Note::Pushed { site, .. }
        | Note::Seen { site, .. } => site,
    };
    // A session notes only replicas it took as current (one of a
    // database the hub did not have yet is first noted here); the default
    // site is "no replica yet".
    if *site == SiteId::default() {
        return;
    }
    let peer = peers.entry(site.to_hex()).or_default();
    if peer.retired {
        return;
    }
    match note {
        Note::Acked { seq, .. } => peer.acked = peer.acked.max(*seq),
        Note::CaughtUp { .. } => peer.pushed_ms = now_ms,
        Note::Pushed { newest, .. } => peer.newest = peer.newest.max(Some(*newest)),
        Note::Seen {
            caught_up, acked, ..
        } => {
            if *caught_up {
                peer.pushed_ms = now_ms;
            }
            if let Some(acked) = acked {
                peer.acked = peer.acked.max(*acked);
            }
        }
    }
    peer.last_seen_ms = now_ms;
}

/// The retention, the clock margin and the time, for [`compute_horizon`].
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub now_ms: u64,
    /// Tombstones younger than this are kept; replicas unseen for longer
    /// are retired.
    pub retention_ms: u64,
    /// How far apart the machines' clocks may be.
    pub margin_ms: u64,
}

/// A new horizon and the replicas to retire first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Advance {
    pub horizon: u64,
    pub retire: Vec<String>,
}

/// Works out the horizon of a database from what this replica knows of
/// the replicas it serves (`history.replicas`); never below the current one.
///
/// Every tombstone at or before the result is held by every live replica:
/// a replica's writes made before the hub last held all it had
/// (`pushed_ms`, less the clock margin) are here; every entry of our feed
/// up to the lowest seq all live replicas applied (`acked`) is there; and
/// the horizon stays before every entry after that seq.
pub fn compute_horizon(reader: &Reader, history: &History, rules: Rules) -> Result<Advance> {
    let previous = history.horizon;
    let mut horizon = rules.now_ms.saturating_sub(rules.retention_ms);
    let mut retire = Vec::new();
    let mut live = Vec::new();
    for (site, peer) in &history.replicas {
        if peer.retired {
            continue;
        }
        if peer.last_seen_ms.saturating_add(rules.retention_ms) < rules.now_ms {
            retire.push(site.clone());
        } else {
            live.push(*peer);
        }
    }
    if let (Some(acked), Some(pushed)) = (
        live.iter().map(|p| p.acked).min(),
        live.iter().map(|p| p.pushed_ms).min(),
    ) {
        horizon = horizon.min(pushed.saturating_sub(rules.margin_ms));
        let mut after = acked;
        while horizon > previous {
            let page = reader.changes_since(after, CLEANUP_STEP)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for change in &page {
                if let Some(v) = newest(&change.item) {
                    horizon = horizon.min(v.millis().saturating_sub(1));
                }
            }
        }
    }
    Ok(Advance {
        horizon: horizon.max(previous),
        retire,
    })
}

fn newest(item: &Item) -> Option<Version> {
    match item {
        Item::Record { state, .. } => state.max_version(),
        Item::DropCollection { version, .. } | Item::DropDatabase { version } => Some(*version),
    }
}

/// What one record becomes when tombstones at or before `horizon` are
/// forgotten: `None` when nothing changes, `Some(None)` when it goes.
fn forget(state: &RecordState, horizon: u64) -> Option<Option<RecordState>> {
    if !state.exists() {
        let old = state.max_version().is_none_or(|v| v.millis() <= horizon);
        return old.then_some(None);
    }
    let mut kept = state.clone();
    kept.fields
        .retain(|_, f| f.value.is_some() || f.version.millis() > horizon);
    (kept.fields.len() != state.fields.len()).then_some(Some(kept))
}

/// One cleanup step's outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Tombstones forgotten in this step.
    pub removed: u64,
    /// The pass ended with this step.
    pub finished: bool,
}

/// What [`Database::settle`] did with the writes a rebuild kept aside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// Records (and drops) whose writes won, written again.
    pub rewritten: u64,
    /// Records whose writes lost to newer ones from the hub.
    pub lost: u64,
}

/// What a rebuild kept and gave up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebuilt {
    /// Records with own writes the hub had not pulled yet, kept to push.
    pub kept: u64,
    /// Of those, records whose writes were at or before the horizon: kept
    /// aside until the hub's state is here ([`Database::settle`]).
    pub rewritten: u64,
    /// Records and markers forgotten (the hub's snapshot brings back what
    /// still exists).
    pub forgotten: u64,
}

impl Database {
    /// The database's history as of the last commit.
    pub fn history(&self) -> &History {
        &self.state.history
    }

    /// Changes the history meta in one transaction.
    pub fn update_history(&mut self, f: &mut dyn FnMut(&mut History)) -> Result<()> {
        let mut next = self.state.history.clone();
        f(&mut next);
        if next == self.state.history {
            return Ok(());
        }
        // `f` again on the history as the transaction reads it: in a store
        // other processes write too, theirs may be newer than ours even
        // when no record changed (a write of the history alone).
        self.transact(0, &mut |batch| {
            let stored = batch.txn.meta_blob(META_NAME)?;
            let mut next =
                History::decode(stored.as_deref()).map_err(crate::store::StoreError::Corrupt)?;
            f(&mut next);
            batch.state.history = next;
            batch
                .txn
                .set_meta_blob(META_NAME, Some(&batch.state.history.encode()))
        })?;
        Ok(())
    }

    /// A hub told this replica its horizon: moves it forward to `horizon`
    /// (never back) and marks the replica `synced`; a cleanup pass follows
    /// ([`Database::cleanup_step`]).
    pub fn raise_horizon(&mut self, horizon: u64) -> Result<bool> {
        let before = self.state.history.horizon;
        self.update_history(&mut |h| {
            h.horizon = h.horizon.max(horizon);
            h.synced = true;
        })?;
        Ok(self.state.history.horizon > before)
    }

    /// Whether a cleanup pass is due or under way.
    pub fn cleaning(&self) -> bool {
        self.state.history.cleaning()
    }

    /// One step of the cleanup pass: looks at up to `limit` feed entries
    /// and forgets, in one transaction, the tombstones among them at or
    /// before the pass's horizon. A database's own drop marker stays: it
    /// is what hides a dropped database from listings.
    pub fn cleanup_step(&mut self, limit: usize) -> Result<Step> {
        let history = &self.state.history;
        let Some(pass) = history.pass.or_else(|| {
            (history.horizon > history.cleaned).then_some(Pass {
                horizon: history.horizon,
                after: 0,
            })
        }) else {
            return Ok(Step::default());
        };
        let page = crate::db::guarded(|| self.engine.changes_since(pass.after, limit))?;
        let finished = page.len() < limit;
        let after = page.last().map_or(pass.after, |c| c.seq);
        let mut step = Step {
            removed: 0,
            finished,
        };
        self.transact(0, &mut |batch| {
            step.removed = 0;
            for change in &page {
                match &change.item {
                    Item::Record {
                        collection, key, ..
                    } => {
                        let Some(stored) = batch.txn.get(collection, key)? else {
                            continue;
                        };
                        match forget(&stored.state, pass.horizon) {
                            None => continue,
                            Some(None) => batch.txn.remove(collection, key)?,
                            Some(Some(kept)) => {
                                batch.txn.put(collection, key, &kept, stored.seq)?
                            }
                        }
                        step.removed += 1;
                    }
                    Item::DropCollection {
                        collection,
                        version,
                    } if version.millis() <= pass.horizon => {
                        batch.txn.remove_marker(Some(collection))?;
                        batch.state.markers.remove(&Some(collection.clone()));
                        step.removed += 1;
                    }
                    _ => {}
                }
            }
            let h = &mut batch.state.history;
            h.removed += step.removed;
            if finished {
                h.pass = None;
                h.cleaned = pass.horizon;
            } else {
                h.pass = Some(Pass { after, ..pass });
            }
            let blob = h.encode();
            batch.txn.set_meta_blob(META_NAME, Some(&blob))
        })?;
        Ok(step)
    }

    /// Rebuilds an outdated replica, in one transaction: keeps its own
    /// writes that the hub (replica `hub`) does not hold — newer than the
    /// newest it holds of the site that wrote them, in feed entries after
    /// its checkpoint of that site (`pulled`) — forgets everything else,
    /// and sets the checkpoint for the hub to 0, so the next session syncs
    /// the hub's current state from the start. Own writes at or before
    /// `horizon` are kept aside (meta `rebuild`), out of the feed: such an
    /// old version must not reach a replica, where a tombstone forgotten
    /// on some and not yet on others would decide it differently. Once the
    /// hub's state is here, [`Database::settle`] weighs them against it.
    pub fn rebuild(
        &mut self,
        now_ms: u64,
        hub: SiteId,
        horizon: u64,
        pulled: &[Pulled],
    ) -> Result<Rebuilt> {
        let own = self.state.history.own_sites(self.site());
        let unpushed = |v: Version, seq: u64| {
            own.contains(&v.site)
                && pulled
                    .iter()
                    .find(|p| p.site == v.site)
                    .is_none_or(|p| seq > p.seq && p.newest.is_none_or(|newest| v > newest))
        };
        // Own writes, read before the transaction (this is the writer).
        let mut keep: Vec<Item> = Vec::new();
        let mut after = 0;
        loop {
            let page = crate::db::guarded(|| self.engine.changes_since(after, CLEANUP_STEP))?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for change in page {
                let seq = change.seq;
                match change.item {
                    Item::Record {
                        collection,
                        key,
                        state,
                    } => {
                        let mut mine = state.clone();
                        mine.whole = mine.whole.filter(|w| unpushed(w.version, seq));
                        mine.fields.retain(|_, f| unpushed(f.version, seq));
                        if mine.whole.is_some() || !mine.fields.is_empty() {
                            keep.push(Item::Record {
                                collection,
                                key,
                                state: mine,
                            });
                        }
                    }
                    item @ (Item::DropCollection { .. } | Item::DropDatabase { .. }) => {
                        if newest(&item).is_some_and(|v| unpushed(v, seq)) {
                            keep.push(item);
                        }
                    }
                }
            }
        }
        let mut outcome = Rebuilt::default();
        self.transact(now_ms, &mut |batch| {
            outcome = Rebuilt::default();
            for (collection, key, stored) in batch.txn.records(None)? {
                batch.txn.remove(&collection, &key)?;
                batch.reindex(&collection, &key, Some(&stored.state), None)?;
                batch.count(&collection, -i64::from(stored.state.exists()));
                outcome.forgotten += 1;
            }
            let scopes: Vec<Option<crate::names::Name>> =
                batch.state.markers.keys().cloned().collect();
            for scope in scopes {
                batch.txn.remove_marker(scope.as_ref())?;
                batch.state.markers.remove(&scope);
                outcome.forgotten += 1;
            }
            batch.txn.set_checkpoint(hub, 0)?;
            let mut aside = Vec::new();
            for item in &keep {
                let (newer, older) = split_at(item, horizon);
                if let Some(newer) = newer {
                    batch.merge_item(&newer)?;
                }
                if let Some(older) = older {
                    outcome.rewritten += 1;
                    aside.push(older);
                }
                outcome.kept += 1;
            }
            let aside = (!aside.is_empty()).then(|| encode_aside(&aside));
            batch.txn.set_meta_blob(ASIDE_NAME, aside.as_deref())?;
            let h = &mut batch.state.history;
            h.horizon = h.horizon.max(horizon);
            h.cleaned = h.horizon;
            h.pass = None;
            h.rejoin = Some(horizon);
            h.synced = true;
            let blob = h.encode();
            batch.txn.set_meta_blob(META_NAME, Some(&blob))
        })?;
        Ok(outcome)
    }

    /// After a rebuild, once the hub's state is here: weighs each own write
    /// kept aside against it, as last-writer-wins would with the versions
    /// they were made under — a newer write from the hub wins, and so does
    /// an older one that was not forgotten — and writes again, under new
    /// versions, what of them wins. A record the hub forgot the delete of
    /// comes back if an own write to it wins here: no replica holds that
    /// delete any more, and every replica takes the new versions alike.
    /// Then the replica is no longer rejoining. One transaction.
    pub fn settle(&mut self, now_ms: u64) -> Result<Settled> {
        let aside = match crate::db::guarded(|| self.engine.meta_blob(ASIDE_NAME))? {
            Some(bytes) => decode_aside(&bytes)?,
            None => Vec::new(),
        };
        let mut outcome = Settled::default();
        self.transact(now_ms, &mut |batch| {
            outcome = Settled::default();
            // Drops first, under their own versions: a drop hides only what
            // is older than it, wherever it lands.
            for item in aside.iter().filter(|i| !matches!(i, Item::Record { .. })) {
                match batch.merge_item(item)? {
                    Some(_) => outcome.rewritten += 1,
                    None => outcome.lost += 1,
                }
            }
            for item in &aside {
                let Item::Record {
                    collection,
                    key,
                    state: mine,
                } = item
                else {
                    continue;
                };
                let mut here = batch
                    .txn
                    .get(collection, key)?
                    .map(|s| s.state)
                    .unwrap_or_default();
                // A drop still held hides what is older, as it does anywhere.
                let markers = &batch.state.markers;
                let cover = markers
                    .get(&None)
                    .max(markers.get(&Some(collection.clone())));
                if let Some(&cover) = cover {
                    here.merge(&RecordState::delete(cover));
                }
                let mut merged = here.clone();
                merged.merge(mine);
                let Some(again) = won(&here, &merged, mine, batch.next_version()) else {
                    outcome.lost += 1;
                    continue;
                };
                batch.merge_item(&Item::Record {
                    collection: collection.clone(),
                    key: key.clone(),
                    state: again,
                })?;
                outcome.rewritten += 1;
            }
            batch.txn.set_meta_blob(ASIDE_NAME, None)?;
            batch.state.history.rejoin = None;
            let blob = batch.state.history.encode();
            batch.txn.set_meta_blob(META_NAME, Some(&blob))
        })?;
        Ok(outcome)
    }

    /// Gives this replica a new site id, keeping the old one as a former
    /// site (a restored copy must not be taken for the replica it was
    /// copied from). Its writes from now on carry the new id.
    pub fn take_new_site(&mut self) -> Result<SiteId> {
        let old = self.site();
        let new = SiteId::random();
        self.transact(0, &mut |batch| {
            batch.state.meta.site = new;
            // The site sits beside the meta under its own name in both engines.
            batch.txn.set_meta_blob("site", Some(&new.0))?;
            let h = &mut batch.state.history;
            if !h.former.contains(&old.to_hex()) {
                h.former.push(old.to_hex());
            }
            let blob = h.encode();
            batch.txn.set_meta_blob(META_NAME, Some(&blob))
        })?;
        Ok(new)
    }
}

/// Every version in a feed entry.
pub fn item_versions(item: &Item) -> Box<dyn Iterator<Item = Version> + '_> {
    match item {
        Item::Record { state, .. } => Box::new(state.versions()),
        Item::DropCollection { version, .. } | Item::DropDatabase { version } => {
            Box::new(std::iter::once(*version))
        }
    }
}

/// Own writes a rebuild keeps aside (meta name): feed entries, postcard.
const ASIDE_NAME: &str = "rebuild";

fn encode_aside(items: &[Item]) -> Vec<u8> {
    postcard::to_allocvec(items).expect("writing to a Vec cannot fail")
}

fn decode_aside(bytes: &[u8]) -> Result<Vec<Item>> {
    postcard::from_bytes(bytes)
        .map_err(|e| crate::store::StoreError::Corrupt(format!("writes kept aside: {e}")))
}

/// An entry's writes newer than `horizon`, and those at or before it.
fn split_at(item: &Item, horizon: u64) -> (Option<Item>, Option<Item>) {
    let old = |v: &Version| v.millis() <= horizon;
    match item {
        Item::Record {
            collection,
            key,
            state,
        } => {
            let part = |keep_old: bool| {
                let mut part = state.clone();
                part.whole = part.whole.filter(|w| old(&w.version) == keep_old);
                part.fields.retain(|_, f| old(&f.version) == keep_old);
                (part.whole.is_some() || !part.fields.is_empty()).then(|| Item::Record {
                    collection: collection.clone(),
                    key: key.clone(),
                    state: part,
                })
            };
            (part(false), part(true))
        }
        Item::DropCollection { version, .. } | Item::DropDatabase { version } => {
            if old(version) {
                (None, Some(item.clone()))
            } else {
                (Some(item.clone()), None)
            }
        }
    }
}

/// What of `mine` won when merged into `here` (giving `merged`), as a
/// write at `v`: the whole record as it now reads when its whole-record
/// write won, else the fields it won. `None` when nothing of it won.
fn won(
    here: &RecordState,
    merged: &RecordState,
    mine: &RecordState,
    v: Version,
) -> Option<RecordState> {
    if merged == here {
        return None;
    }
    if mine.whole.is_some() && merged.whole == mine.whole {
        let mut again = match merged.exists() {
            true => RecordState {
                whole: Some(crate::record::Whole {
                    op: crate::record::WholeOp::Put,
                    version: v,
                }),
                fields: Default::default(),
            },
            false => RecordState::delete(v),
        };
        if merged.exists() {
            for (name, f) in &merged.fields {
                if f.value.is_some() {
                    let field = crate::record::Field {
                        value: f.value.clone(),
                        version: v,
                    };
                    again.fields.insert(name.clone(), field);
                }
            }
        }
        return Some(again);
    }
    let fields: BTreeMap<String, crate::record::Field> = mine
        .fields
        .iter()
        .filter(|(name, f)| merged.fields.get(*name) == Some(*f))
        .map(|(name, f)| {
            let field = crate::record::Field {
                value: f.value.clone(),
                version: v,
            };
            (name.clone(), field)
        })
        .collect();
    (!fields.is_empty()).then_some(RecordState {
        whole: None,
        fields,
    })
}

/// What the hub holds of each replica in `peers` and of `site`, for an
/// [`Admission::Outdated`] answer.
pub fn pulled(reader: &Reader, peers: &BTreeMap<String, Peer>, site: SiteId) -> Vec<Pulled> {
    let mut sites: Vec<SiteId> = peers.keys().filter_map(|h| SiteId::from_hex(h)).collect();
    if !sites.contains(&site) {
        sites.push(site);
    }
    sites
        .into_iter()
        .filter_map(|s| {
            let seq = reader.checkpoint(s).ok()?;
            let newest = peers.get(&s.to_hex()).and_then(|p| p.newest);
            Some(Pulled {
                site: s,
                seq,
                newest,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EngineKind;

    #[test]
    fn two_hubs_registries_merge_instead_of_replacing() {
        let peer = |seen, retired| Peer {
            last_seen_ms: seen,
            acked: seen / 10,
            retired,
            ..Peer::default()
        };
        let mut stored = History::default();
        stored.replicas.insert("a".into(), peer(100, false));
        stored.replicas.insert("b".into(), peer(300, true));
        let mut ours = BTreeMap::new();
        ours.insert("a".into(), peer(200, false));
        ours.insert("b".into(), peer(400, false)); // rejoined since
        ours.insert("c".into(), peer(50, false));
        stored.merge_replicas(&ours);
        assert_eq!(stored.replicas.len(), 3, "no replica is lost");
        assert_eq!(stored.replicas["a"].last_seen_ms, 200);
        assert_eq!(stored.replicas["a"].acked, 20);
        assert!(!stored.replicas["b"].retired, "seen after its retirement");
        let mut again = BTreeMap::new();
        again.insert("b".into(), peer(400, true)); // retired by hand, not seen since
        stored.merge_replicas(&again);
        assert!(stored.replicas["b"].retired);
    }

    #[test]
    fn a_new_site_outlives_a_reopen_and_keeps_the_old_one_as_former() {
        for kind in EngineKind::ALL {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("crm.{}", kind.extension()));
            let mut db = Database::open(kind, &path).unwrap();
            let old = db.site();
            let new = db.take_new_site().unwrap();
            assert_ne!(old, new);
            drop(db);
            let db = Database::open(kind, &path).unwrap();
            assert_eq!(db.site(), new, "{kind}");
            assert_eq!(db.reader().meta().unwrap().site, new, "{kind}");
            assert_eq!(db.history().former, vec![old.to_hex()], "{kind}");
        }
    }

    /// A pass resumes where its last committed step ended (the step and
    /// its progress share a transaction): a kill mid-pass neither starts it
    /// over nor skips a tombstone.
    #[test]
    fn a_pass_killed_between_steps_resumes_where_it_stopped() {
        use crate::db::WriteOp;
        use crate::{Document, Key, Name};
        for kind in EngineKind::ALL {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("crm.{}", kind.extension()));
            let mut db = Database::open(kind, &path).unwrap();
            let coll = Name::parse_as("collection", "c").unwrap();
            let key = |i: usize| Key::parse(&format!("k{i:03}")).unwrap();
            let puts: Vec<WriteOp> = (0..100)
                .map(|i| WriteOp::Put {
                    collection: coll.clone(),
                    key: key(i),
                    doc: Document::parse("{\"n\":1}", 99).unwrap(),
                })
                .collect();
            db.commit(&puts, 1_000).unwrap();
            let deletes: Vec<WriteOp> = (0..60)
                .map(|i| WriteOp::Delete {
                    collection: coll.clone(),
                    key: key(i),
                })
                .collect();
            db.commit(&deletes, 2_000).unwrap();
            db.update_history(&mut |h| h.horizon = 5_000).unwrap();
            let first = db.cleanup_step(16).unwrap();
            assert!(!first.finished, "{kind}");
            let after = db.history().pass.expect("a pass under way").after;
            assert!(after > 0, "{kind}");
            drop(db); // what a kill leaves: the committed step

            let mut db = Database::open(kind, &path).unwrap();
            assert_eq!(db.history().pass.map(|p| p.after), Some(after), "{kind}");
            let (mut steps, mut removed) = (1, first.removed);
            loop {
                let step = db.cleanup_step(16).unwrap();
                steps += 1;
                removed += step.removed;
                if step.finished {
                    break;
                }
            }
            // 100 feed entries, 16 a step: 7 steps in all, none repeated.
            assert_eq!((steps, removed), (7, 60), "{kind}");
            assert_eq!(db.history().removed, 60, "{kind}");
            assert!(!db.cleaning(), "{kind}");
            let mut left = (0, 0);
            db.reader()
                .visit(&mut |_, _, state| {
                    left.0 += 1;
                    left.1 += usize::from(!state.exists());
                })
                .unwrap();
            assert_eq!(left, (40, 0), "{kind}");
        }
    }
}
