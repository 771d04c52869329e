//! Migration steps under random schedules: they run once per replica, as
//! ordinary merges, and replicas that run them concurrently, interleaved with
//! writes in both the old and the new shape, converge to one state, which an
//! oracle predicts.
//!
//! 2–4 replicas, each a real `Database` (redb or SQLite, drawn per replica)
//! in a temp dir with a pinned site id, and no sessions: a sync is the feed
//! read straight from one replica (`changes_since` from the receiver's
//! checkpoint, the whole rest or only its first few entries) and merged into
//! the other with `apply_chunk`. Time is one virtual millisecond counter for
//! the whole run, moved one step per action, so every local write of the run
//! has its own millisecond and an HLC of exactly `ms << 16`: user writes never
//! tie, and a step's `+1` tick (`migrate.rs`) falls strictly between the write
//! it follows and any later write.
//!
//! The schedule: writes on 3 keys of `person` (a replica below v2 writes the
//! old shape `fullname`/`age`/`legacy`, where `age` may be negative; one at v2
//! the new shape `name`/`age`/`active`), upgrades (a replica sets v2 itself,
//! several may do it concurrently), full and partial syncs. v1 (no steps, no
//! rules) is set first on every replica, or on none. Then all pairs sync until
//! nothing changes, and:
//!
//! (a) every digest is equal; (b) every schema head is v2;
//! (c) the visible documents equal the oracle (below);
//! (d) re-merging every peer's whole feed and setting v2 again change no
//!     digest; a new replica that joins and takes everything converges too
//!     (and, when no record is a revived one, changes nothing);
//! (e) apply_chunk never refuses a merge; `violations` counts the records
//!     with a negative age, which only the old shape writes.
//!
//! The oracle knows nothing of `RecordState` or `migrate.rs`. It folds every
//! user write in version order (hlc, then site), reading `fullname` as `name`
//! (a `null` for `fullname` removes `name`): a put replaces the document, a
//! delete removes it, a patch sets or removes fields, and a patch of a deleted
//! record revives it with only the fields it sets (field-level LWW). Then, on
//! every record that exists, `legacy` is removed and `active` set to `true`
//! where missing.
//!
//! That is exact for records whose last whole operation is a put. For a
//! record revived by a patch newer than a concurrent delete it cannot be: the
//! delete covers a default that a replica set before it saw the delete, and
//! a replica that has already run the steps does not run them again, so the
//! default reappears only if some replica ran the steps after seeing both.
//! There the oracle checks every field but `active`, and `active`, if set by
//! no user write, only to be `true` when present (and a revived record that
//! would hold only the default may be absent). v2 writes never remove
//! `active` (the default belongs to records the steps saw).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use syncdb_core::schema::{Format, Schema};
use syncdb_core::store::StoreError;
use syncdb_core::{Database, Document, EngineKind, Key, Name, OpOutcome, SiteId, WriteOp};

const T0: u64 = 1_700_000_000_000;
const KEYS: [&str; 3] = ["k1", "k2", "k3"];

const V1: &str = r#"
name = "crm"
version = 1
[collections.person]
schema = { type = "object" }
"#;

const V2: &str = r#"
name = "crm"
version = 2
[collections.person]
schema = { type = "object", properties = { age = { type = "integer", minimum = 0 } } }
[[migrate]]
op = "rename_field"
collection = "person"
from = "fullname"
to = "name"
[[migrate]]
op = "set_default"
collection = "person"
field = "active"
value = true
[[migrate]]
op = "remove_field"
collection = "person"
field = "legacy"
"#;

const V3: &str = r#"
name = "crm"
version = 3
[collections.people]
key_path = "name"
[[migrate]]
op = "rename_collection"
from = "person"
to = "people"
[[migrate]]
op = "change_key_path"
collection = "people"
key_path = "name"
"#;

fn schema(text: &str) -> Arc<Schema> {
    Arc::new(Schema::parse(text, Format::Toml).expect("a valid schema"))
}

fn person() -> Name {
    Name::parse_as("collection", "person").unwrap()
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A database on `path` whose site id is `site` (as in `convergence.rs`).
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
    assert_eq!(db.site(), site, "pinning the site id failed");
    db
}

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

/// One user write as the oracle sees it: field names in the new shape,
/// `None` for a removal.
#[derive(Clone, Debug)]
enum OWrite {
    Put(BTreeMap<String, Value>),
    Patch(BTreeMap<String, Option<Value>>),
    Delete,
}

struct World {
    _dir: tempfile::TempDir,
    dbs: Vec<Database>,
    /// The one virtual clock: every action takes its own millisecond.
    ms: u64,
    /// Every user write that was made: (hlc, site, key) → what.
    log: BTreeMap<(u64, SiteId, String), OWrite>,
}

impl World {
    fn new(kinds: &[EngineKind], salt: u8) -> World {
        let dir = tempfile::tempdir().unwrap();
        let dbs = kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                // The salt varies which replica has the largest site id.
                let mut site = [0u8; 16];
                site[0] = (i as u8 + 1).wrapping_mul(salt | 1);
                site[15] = i as u8;
                let path = dir.path().join(format!("r{i}.{}", kind.extension()));
                create_replica(kind, &path, SiteId(site))
            })
            .collect();
        World {
            _dir: dir,
            dbs,
            ms: T0,
            log: BTreeMap::new(),
        }
    }

    fn tick(&mut self) -> u64 {
        self.ms += 1;
        self.ms
    }

    fn head(&self, r: usize) -> u64 {
        self.dbs[r].schema().version()
    }

    fn set_schema(&mut self, r: usize, s: &Arc<Schema>) {
        let now = self.tick();
        let op = WriteOp::SetSchema {
            schema: s.clone(),
            allow_data_loss: true,
        };
        self.dbs[r].commit(&[op], now).expect("set the schema");
    }

    /// A user write on replica `r`, in the shape of its schema version.
    fn write(&mut self, r: usize, w: &Write) {
        let now = self.tick();
        let new_shape = self.head(r) >= 2;
        let key = KEYS[w.key % KEYS.len()];
        let k = Key::parse(key).unwrap();
        let tag = format!("{}-{}", now - T0, r);
        let age = |a: i64| if new_shape { a.abs() } else { a };
        let (op, owrite) = match &w.kind {
            WriteKind::Put { age: a, flag } => {
                let doc = if new_shape {
                    json!({"name": format!("n{tag}"), "age": age(*a), "active": flag})
                } else {
                    json!({"fullname": format!("n{tag}"), "age": age(*a), "legacy": format!("l{tag}")})
                };
                let o = OWrite::Put(oracle_fields(&doc).map(|(k, v)| (k, v.unwrap())).collect());
                let doc = Document::parse(&doc.to_string(), usize::MAX).unwrap();
                (
                    WriteOp::Put {
                        collection: person(),
                        key: k,
                        doc,
                    },
                    o,
                )
            }
            WriteKind::Patch { fields } => {
                let mut part = Map::new();
                for (i, f) in fields.iter().enumerate() {
                    let (name, value) = match (new_shape, i) {
                        (false, 0) => ("fullname", json!(format!("p{tag}"))),
                        (false, 1) => ("age", json!(age((now % 5) as i64 - 2))),
                        (false, _) => ("legacy", json!(format!("q{tag}"))),
                        (true, 0) => ("name", json!(format!("p{tag}"))),
                        (true, 1) => ("age", json!(age(2))),
                        (true, _) => ("active", json!(false)),
                    };
                    match f {
                        PatchField::Skip => {}
                        PatchField::Set => {
                            part.insert(name.into(), value);
                        }
                        // v2 writes keep `active` (see the module doc).
                        PatchField::Remove if name == "active" => {}
                        PatchField::Remove => {
                            part.insert(name.into(), Value::Null);
                        }
                    }
                }
                if part.is_empty() {
                    let name = if new_shape { "name" } else { "fullname" };
                    part.insert(name.into(), json!(format!("e{tag}")));
                }
                let part = Value::Object(part);
                let o = OWrite::Patch(oracle_fields(&part).collect());
                let part = Document::parse(&part.to_string(), usize::MAX).unwrap();
                (
                    WriteOp::Patch {
                        collection: person(),
                        key: k,
                        part,
                    },
                    o,
                )
            }
            WriteKind::Delete => (
                WriteOp::Delete {
                    collection: person(),
                    key: k,
                },
                OWrite::Delete,
            ),
        };
        match self.dbs[r].commit(&[op], now) {
            Ok((_, outcomes)) => match outcomes[0] {
                OpOutcome::Written { version, .. } => {
                    assert_eq!(version.hlc, now << 16, "a user write has its own ms");
                    self.log
                        .insert((version.hlc, version.site, key.into()), owrite);
                }
                OpOutcome::NotFound => {}
                OpOutcome::Unchanged => unreachable!("no precondition is written here"),
            },
            // A v2 patch of a record a v1 peer gave a negative age: the
            // local write is refused (merges never are).
            Err(StoreError::Refused(_)) if new_shape => {}
            Err(e) => panic!("write failed: {e}"),
        }
    }

    /// `to` merges `from`'s feed after its checkpoint: all of it, or only
    /// the first `limit` entries. Returns whether anything was there.
    fn sync(&mut self, from: usize, to: usize, limit: Option<usize>) -> bool {
        if from == to {
            return false;
        }
        let now = self.tick();
        let site = self.dbs[from].site();
        let since = self.dbs[to].reader().checkpoint(site).unwrap();
        let reader = self.dbs[from].reader();
        let changes = reader
            .changes_since(since, limit.unwrap_or(usize::MAX))
            .unwrap();
        let Some(last) = changes.last() else {
            return false;
        };
        let end = if limit.is_some() {
            last.seq
        } else {
            self.dbs[from].high_seq()
        };
        let items: Vec<_> = changes.into_iter().map(|c| c.item).collect();
        // (e): a merge is never refused, whatever the schema says of it.
        self.dbs[to]
            .apply_chunk(now, site, &items, end)
            .expect("a merge is never refused");
        true
    }

    /// Syncs every ordered pair until a round changes no high seq.
    fn quiesce(&mut self) {
        for _round in 0..12 {
            let before: Vec<u64> = self.dbs.iter().map(Database::high_seq).collect();
            for from in 0..self.dbs.len() {
                for to in 0..self.dbs.len() {
                    self.sync(from, to, None);
                }
            }
            let after: Vec<u64> = self.dbs.iter().map(Database::high_seq).collect();
            if before == after {
                return;
            }
        }
        panic!("no quiescence within 12 rounds");
    }

    fn digests(&self) -> Vec<String> {
        self.dbs
            .iter()
            .map(|d| d.reader().digest().unwrap())
            .collect()
    }

    fn docs(&self, r: usize) -> BTreeMap<String, Value> {
        self.dbs[r]
            .reader()
            .list(&person(), "", None, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|(k, json)| (k.as_str().to_owned(), serde_json::from_str(&json).unwrap()))
            .collect()
    }
}

/// A document's fields as the oracle names them (`fullname` is `name`).
fn oracle_fields(doc: &Value) -> impl Iterator<Item = (String, Option<Value>)> + '_ {
    doc.as_object().unwrap().iter().map(|(k, v)| {
        let k = if k == "fullname" { "name" } else { k };
        (k.to_owned(), (!v.is_null()).then(|| v.clone()))
    })
}

// ---------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------

/// What the oracle expects of one key.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    doc: Option<Map<String, Value>>,
    /// The last whole operation was a delete (a revived record; see above).
    revived: bool,
    /// Some user write set `active` since the last whole operation.
    active_by_user: bool,
}

fn oracle(log: &BTreeMap<(u64, SiteId, String), OWrite>) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for ((_, _, key), w) in log {
        let e = out.entry(key.clone()).or_insert(Expected {
            doc: None,
            revived: true,
            active_by_user: false,
        });
        match w {
            OWrite::Put(fields) => {
                e.doc = Some(fields.clone().into_iter().collect());
                e.revived = false;
                e.active_by_user = fields.contains_key("active");
            }
            OWrite::Delete => {
                e.doc = None;
                e.revived = true;
                e.active_by_user = false;
            }
            OWrite::Patch(fields) => {
                let mut doc = e.doc.take().unwrap_or_default();
                for (k, v) in fields {
                    match v {
                        Some(v) => doc.insert(k.clone(), v.clone()),
                        None => doc.remove(k),
                    };
                    if k == "active" {
                        e.active_by_user = true;
                    }
                }
                // A revived record exists while a field set after the
                // delete is there; one put is there even when empty.
                e.doc = (!e.revived || !doc.is_empty()).then_some(doc);
            }
        }
    }
    // The steps, on every record that exists.
    for e in out.values_mut() {
        if let Some(doc) = &mut e.doc {
            doc.remove("legacy");
            doc.entry("active").or_insert(json!(true));
        }
    }
    out
}

/// Compares one replica's documents with the oracle.
fn check_oracle(
    got: &BTreeMap<String, Value>,
    want: &BTreeMap<String, Expected>,
) -> Result<(), String> {
    let keys: BTreeSet<&String> = got.keys().chain(want.keys()).collect();
    for key in keys {
        let g = got.get(key).map(|v| v.as_object().unwrap().clone());
        let e = want.get(key);
        let w = e.and_then(|e| e.doc.clone());
        let fuzzy = e.is_some_and(|e| e.revived && !e.active_by_user);
        if !fuzzy {
            if g != w {
                return Err(format!("{key}: got {g:?}, oracle {w:?} ({e:?})"));
            }
            continue;
        }
        // A revived record: every field but a default `active`.
        if let Some(a) = g.as_ref().and_then(|g| g.get("active"))
            && a != &json!(true)
        {
            return Err(format!("{key}: revived with active {a}, oracle {e:?}"));
        }
        let strip = |d: Option<Map<String, Value>>| {
            let mut d = d.unwrap_or_default();
            d.remove("active");
            d
        };
        if w.is_none() && g.is_some() {
            return Err(format!("{key}: got {g:?}, oracle has no record"));
        }
        if strip(g.clone()) != strip(w.clone()) {
            return Err(format!("{key}: got {g:?}, oracle {w:?} (revived)"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The schedule
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum PatchField {
    Skip,
    Set,
    Remove,
}

#[derive(Clone, Debug)]
enum WriteKind {
    Put {
        age: i64,
        flag: bool,
    },
    /// Three fields of the replica's shape: name, age, legacy/active.
    Patch {
        fields: Vec<PatchField>,
    },
    Delete,
}

#[derive(Clone, Debug)]
struct Write {
    key: usize,
    kind: WriteKind,
}

#[derive(Clone, Debug)]
enum Action {
    Write(usize, Write),
    Upgrade(usize),
    Sync {
        from: usize,
        to: usize,
        limit: Option<usize>,
    },
}

fn write_kind() -> impl Strategy<Value = WriteKind> {
    let field = prop_oneof![
        2 => Just(PatchField::Set),
        1 => Just(PatchField::Skip),
        1 => Just(PatchField::Remove),
    ];
    prop_oneof![
        3 => (-2i64..5, any::<bool>()).prop_map(|(age, flag)| WriteKind::Put { age, flag }),
        4 => prop::collection::vec(field, 3).prop_map(|fields| WriteKind::Patch { fields }),
        1 => Just(WriteKind::Delete),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0usize..4, 0usize..KEYS.len(), write_kind())
            .prop_map(|(r, key, kind)| Action::Write(r, Write { key, kind })),
        1 => (0usize..4).prop_map(Action::Upgrade),
        5 => (0usize..4, 0usize..4, prop::option::of(1usize..4))
            .prop_map(|(from, to, limit)| Action::Sync { from, to, limit }),
    ]
}

fn kinds() -> impl Strategy<Value = Vec<EngineKind>> {
    prop::collection::vec(
        prop_oneof![Just(EngineKind::Redb), Just(EngineKind::Sqlite)],
        2..=4,
    )
}

fn run(kinds: &[EngineKind], salt: u8, v1_first: bool, actions: &[Action]) -> Result<(), String> {
    let (v1, v2) = (schema(V1), schema(V2));
    let mut w = World::new(kinds, salt);
    let n = kinds.len();
    if v1_first {
        for r in 0..n {
            w.set_schema(r, &v1);
        }
    }
    for a in actions {
        match a {
            Action::Write(r, wr) => w.write(r % n, wr),
            Action::Upgrade(r) => w.set_schema(r % n, &v2),
            Action::Sync { from, to, limit } => {
                w.sync(from % n, to % n, *limit);
            }
        }
    }
    // Someone upgrades, at the latest now; then everything spreads.
    if (0..n).all(|r| w.head(r) < 2) {
        w.set_schema(0, &v2);
    }
    w.quiesce();

    // (a), (b)
    let digests = w.digests();
    if digests.iter().any(|d| d != &digests[0]) {
        return Err(format!("digests differ: {digests:?}"));
    }
    for r in 0..n {
        if w.head(r) != 2 {
            return Err(format!("replica {r} is at schema v{}", w.head(r)));
        }
    }
    // (c)
    let want = oracle(&w.log);
    for r in 0..n {
        check_oracle(&w.docs(r), &want).map_err(|e| format!("replica {r}: {e}"))?;
    }
    // (e): the records with a negative age are merged and counted.
    let negative = w
        .docs(0)
        .values()
        .filter(|d| d["age"].as_i64().is_some_and(|a| a < 0))
        .count() as u64;
    for r in 0..n {
        let (count, _) = w.dbs[r].reader().violations(&v2, 0).unwrap();
        if count != negative {
            return Err(format!(
                "replica {r}: {count} violations, {negative} negative ages"
            ));
        }
    }
    // (d): everything again changes nothing.
    let seqs: Vec<u64> = w.dbs.iter().map(Database::high_seq).collect();
    for to in 0..n {
        for from in 0..n {
            if from != to {
                let site = w.dbs[from].site();
                let items: Vec<_> = w.dbs[from]
                    .reader()
                    .changes_since(0, usize::MAX)
                    .unwrap()
                    .into_iter()
                    .map(|c| c.item)
                    .collect();
                let end = w.dbs[from].high_seq();
                let now = w.tick();
                w.dbs[to].apply_chunk(now, site, &items, end).unwrap();
            }
        }
        w.set_schema(to, &v2);
    }
    let seqs_after: Vec<u64> = w.dbs.iter().map(Database::high_seq).collect();
    if w.digests() != digests || seqs_after != seqs {
        return Err("re-merging the feeds or setting v2 again changed something".into());
    }
    // A new replica takes everything (running the steps over converged
    // data), then everyone takes its feed.
    let late_path = w._dir.path().join("late.redb");
    let mut site = [0xeeu8; 16];
    site[15] = salt;
    w.dbs
        .push(create_replica(EngineKind::Redb, &late_path, SiteId(site)));
    w.sync(0, n, None);
    // It wrote something of its own if its feed holds a version under its
    // site.
    let late_wrote = w.dbs[n]
        .reader()
        .changes_since(0, usize::MAX)
        .unwrap()
        .iter()
        .any(|c| match &c.item {
            syncdb_core::Item::Record { state, .. } => {
                state.versions().any(|v| v.site == SiteId(site))
            }
            _ => false,
        });
    w.quiesce();
    let digests = w.digests();
    if digests.iter().any(|d| d != &digests[0]) {
        return Err(format!("digests differ after a late join: {digests:?}"));
    }
    for r in 0..=n {
        check_oracle(&w.docs(r), &want).map_err(|e| format!("after a late join: {r}: {e}"))?;
    }
    let any_revived = want.values().any(|e| e.revived && e.doc.is_some());
    if late_wrote && !any_revived {
        return Err("a late replica's steps wrote over converged data".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(32),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    /// Steps run concurrently on several replicas, interleaved with old-
    /// and new-shape writes and partial syncs, converge to the oracle.
    #[test]
    fn migrations_converge_under_random_schedules(
        kinds in kinds(),
        salt in any::<u8>(),
        v1_first in any::<bool>(),
        actions in prop::collection::vec(action(), 5..=80),
    ) {
        run(&kinds, salt, v1_first, &actions).map_err(TestCaseError::fail)?;
    }
}

// ---------------------------------------------------------------------------
// Hand-written regressions
// ---------------------------------------------------------------------------

fn put(w: &mut World, r: usize, key: &str, doc: Value) {
    let now = w.tick();
    let op = WriteOp::Put {
        collection: person(),
        key: Key::parse(key).unwrap(),
        doc: Document::parse(&doc.to_string(), usize::MAX).unwrap(),
    };
    w.dbs[r].commit(&[op], now).unwrap();
}

fn patch(w: &mut World, r: usize, key: &str, part: Value) {
    let now = w.tick();
    let op = WriteOp::Patch {
        collection: person(),
        key: Key::parse(key).unwrap(),
        part: Document::parse(&part.to_string(), usize::MAX).unwrap(),
    };
    let (_, out) = w.dbs[r].commit(&[op], now).unwrap();
    assert!(matches!(out[0], OpOutcome::Written { .. }));
}

const KINDS: [EngineKind; 2] = [EngineKind::Redb, EngineKind::Sqlite];

#[test]
fn two_replicas_running_the_same_step_from_one_state_converge() {
    let mut w = World::new(&KINDS, 7);
    let v2 = schema(V2);
    put(
        &mut w,
        0,
        "k1",
        json!({"fullname": "Ada", "age": -3, "legacy": 1}),
    );
    put(&mut w, 0, "k2", json!({"fullname": "Bob", "age": 4}));
    w.sync(0, 1, None);
    w.set_schema(0, &v2);
    w.set_schema(1, &v2);
    let ran = w.digests();
    assert_eq!(w.docs(0), w.docs(1), "the same step over the same state");
    w.quiesce();
    let digests = w.digests();
    assert_eq!(digests[0], digests[1]);
    assert_ne!(ran[0], ran[1], "each ran the steps under its own site");
    assert_eq!(
        w.docs(0)["k1"],
        json!({"name": "Ada", "age": -3, "active": true})
    );
    // Validation never blocks a merge: the negative age came in, counted.
    assert_eq!(w.dbs[1].reader().violations(&v2, 0).unwrap().0, 1);
}

#[test]
fn an_old_shape_write_after_a_migration_elsewhere_ends_up_in_the_new_field() {
    let mut w = World::new(&KINDS, 1);
    let (v1, v2) = (schema(V1), schema(V2));
    w.set_schema(0, &v1);
    w.set_schema(1, &v1);
    put(
        &mut w,
        0,
        "k1",
        json!({"fullname": "Ada", "age": 1, "legacy": 1}),
    );
    put(&mut w, 0, "k2", json!({"fullname": "Bob", "age": 2}));
    w.sync(0, 1, None);
    w.set_schema(0, &v2); // 0 migrates; 1 is still on v1
    patch(&mut w, 1, "k1", json!({"fullname": "Ada Lovelace"}));
    // A removal of the old field on v1 removes the new one (the fix in
    // migrate.rs: rename_field carries a newer removal).
    patch(&mut w, 1, "k2", json!({"fullname": null}));
    w.sync(1, 0, None);
    assert_eq!(
        w.docs(0)["k1"]["name"],
        json!("Ada"),
        "0 does not run again"
    );
    w.quiesce();
    let d = w.digests();
    assert_eq!(d[0], d[1]);
    for r in 0..2 {
        assert_eq!(
            w.docs(r)["k1"],
            json!({"name": "Ada Lovelace", "age": 1, "active": true})
        );
        assert_eq!(w.docs(r)["k2"], json!({"age": 2, "active": true}));
    }
}

#[test]
fn rename_collection_and_change_key_path_run_concurrently_lose_no_record() {
    let mut w = World::new(&KINDS, 3);
    let v3 = schema(V3);
    let names = ["ada", "bob", "cyd", "dee"];
    for (i, name) in names.iter().enumerate() {
        put(
            &mut w,
            i % 2,
            &format!("k{i}"),
            json!({"name": name, "n": i}),
        );
    }
    w.quiesce();
    w.set_schema(0, &v3);
    w.set_schema(1, &v3);
    // A write on 1 after it migrated, before it hears from 0.
    let now = w.tick();
    let people = Name::parse_as("collection", "people").unwrap();
    let op = WriteOp::Patch {
        collection: people.clone(),
        key: Key::parse("ada").unwrap(),
        part: Document::parse(r#"{"n":10}"#, usize::MAX).unwrap(),
    };
    w.dbs[1].commit(&[op], now).unwrap();
    w.quiesce();
    let d = w.digests();
    assert_eq!(d[0], d[1]);
    for r in 0..2 {
        let reader = w.dbs[r].reader();
        assert!(reader.list(&person(), "", None, 10).unwrap().is_empty());
        let got = reader.list(&people, "", None, 10).unwrap();
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, names, "every record, under its new key");
        assert_eq!(got[0].1, r#"{"n":10,"name":"ada"}"#);
        assert_eq!(w.head(r), 3);
    }
}
