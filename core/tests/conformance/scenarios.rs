//! The storage scenarios every engine passes (DESIGN.md, "Storage
//! engines"), written once over `Database` and `Reader` as plain functions
//! of `EngineKind`, with the `Replica` they run on. `conformance.rs` runs
//! them on redb and SQLite; `daemon/pg/tests/conformance.rs` includes this
//! file and runs them on PostgreSQL, against a real server.
//!
//! A file engine's replica lives in a temporary directory; a server's is a
//! database of the store [`on_server`] was given. [`with_scenarios!`] names
//! every scenario, so an includer instantiates them all for its engine.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use proptest::sample::Index;
use syncdb_core::db::{Commit, Expected};
use syncdb_core::store::StoreError;
use syncdb_core::{
    Change, Database, Document, EngineKind, Item, Key, Name, OpOutcome, Reader, SiteId, Version,
    WriteOp,
};
// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A wall-clock reading in milliseconds; tests move time by hand from here.
pub const T0: u64 = 1_700_000_000_000;

pub fn name(s: &str) -> Name {
    Name::parse_as("collection", s).unwrap()
}

pub fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

pub fn doc(json: &str) -> Document {
    Document::parse(json, usize::MAX).unwrap()
}

pub fn written(outcome: &OpOutcome) -> (u64, Version) {
    match outcome {
        OpOutcome::Written { seq, version } => (*seq, *version),
        other => panic!("expected a write, got {other:?}"),
    }
}

/// What a feed entry is about: `r:coll/key`, `c:coll` or `d`.
pub fn target(item: &Item) -> String {
    match item {
        Item::Record {
            collection, key, ..
        } => format!("r:{collection}/{key}"),
        Item::DropCollection { collection, .. } => format!("c:{collection}"),
        Item::DropDatabase { .. } => "d".into(),
    }
}

/// A feed entry reduced to what two replicas fed the same operations agree
/// on (site ids differ, so versions cannot be compared).
pub fn shape(change: &Change) -> (u64, String, Option<String>) {
    let visible = match &change.item {
        Item::Record { state, .. } => state.visible_json(),
        _ => None,
    };
    (change.seq, target(&change.item), visible)
}

/// Everything a user can see in a replica: documents by (collection, key)
/// and the visible-record count of each collection.
#[derive(Debug, PartialEq, Eq)]
pub struct Visible {
    pub docs: BTreeMap<(String, String), String>,
    pub counts: BTreeMap<String, u64>,
}

/// Opens the database of the given name on a server.
type Opener = Rc<dyn Fn(&str) -> Database>;

/// Where a replica keeps its database.
enum Place {
    /// A file in a temporary directory of its own.
    File {
        dir: tempfile::TempDir,
        path: PathBuf,
    },
    /// A database named `name` on the server [`on_server`] was given.
    Server { open: Opener, name: String },
}

thread_local! {
    /// Opens a database of the given name on the server of the scenario
    /// running on this thread (see [`on_server`]).
    static SERVER: RefCell<Option<Opener>> = const { RefCell::new(None) };
}

/// Runs `scenario` with its replicas of `EngineKind::Postgres` opened by
/// `open`, which is given a name new for each replica (and the same name
/// again when the replica reopens).
#[allow(dead_code)] // by the PostgreSQL suite only
pub fn on_server<T>(open: impl Fn(&str) -> Database + 'static, scenario: impl FnOnce() -> T) -> T {
    SERVER.with(|s| *s.borrow_mut() = Some(Rc::new(open)));
    let out = scenario();
    SERVER.with(|s| *s.borrow_mut() = None);
    out
}

/// One replica with its own clock.
pub struct Replica {
    pub kind: EngineKind,
    place: Place,
    db: Option<Database>,
    /// The wall clock handed to the next commit made through `tick`.
    pub now: u64,
}

impl Replica {
    pub fn new(kind: EngineKind) -> Self {
        let place = if EngineKind::ALL.contains(&kind) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("test.{}", kind.extension()));
            Place::File { dir, path }
        } else {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let open = SERVER.with(|s| s.borrow().clone());
            Place::Server {
                open: open.expect("a scenario on a server runs inside on_server"),
                name: format!("replica-{n}"),
            }
        };
        let mut r = Replica {
            kind,
            place,
            db: None,
            now: T0,
        };
        r.reopen();
        r
    }

    /// The database file, for a file engine.
    pub fn file(&self) -> Option<&Path> {
        match &self.place {
            Place::File { path, .. } => Some(path),
            Place::Server { .. } => None,
        }
    }

    /// The replica's temporary directory, for a file engine.
    pub fn dir(&self) -> Option<&Path> {
        match &self.place {
            Place::File { dir, .. } => Some(dir.path()),
            Place::Server { .. } => None,
        }
    }

    pub fn db(&mut self) -> &mut Database {
        self.db.as_mut().expect("replica is open")
    }

    pub fn db_ref(&self) -> &Database {
        self.db.as_ref().expect("replica is open")
    }

    pub fn reader(&self) -> Reader {
        self.db_ref().reader()
    }

    pub fn high_seq(&self) -> u64 {
        self.db_ref().high_seq()
    }

    pub fn site(&self) -> SiteId {
        self.db_ref().site()
    }

    /// Drops the `Database` (and with it the engine and its file handles).
    pub fn close(&mut self) {
        self.db = None;
    }

    pub fn reopen(&mut self) {
        self.close();
        self.db = Some(match &self.place {
            Place::File { path, .. } => Database::open(self.kind, path).unwrap(),
            Place::Server { open, name } => open(name),
        });
    }

    pub fn tick(&mut self) -> u64 {
        self.now += 1;
        self.now
    }

    pub fn commit_at(&mut self, now_ms: u64, ops: &[WriteOp]) -> (Commit, Vec<OpOutcome>) {
        self.db().commit(ops, now_ms).unwrap()
    }

    pub fn commit(&mut self, op: WriteOp) -> OpOutcome {
        let now = self.tick();
        let (commit, mut outcomes) = self.commit_at(now, &[op]);
        assert_eq!(commit.high_seq, self.high_seq());
        outcomes.pop().unwrap()
    }

    pub fn put(&mut self, c: &str, k: &str, json: &str) -> OpOutcome {
        self.commit(WriteOp::Put {
            collection: name(c),
            key: key(k),
            doc: doc(json),
        })
    }

    pub fn patch(&mut self, c: &str, k: &str, json: &str) -> OpOutcome {
        self.commit(WriteOp::Patch {
            collection: name(c),
            key: key(k),
            part: doc(json),
        })
    }

    pub fn delete(&mut self, c: &str, k: &str) -> OpOutcome {
        self.commit(WriteOp::Delete {
            collection: name(c),
            key: key(k),
        })
    }

    pub fn drop_collection(&mut self, c: &str) -> OpOutcome {
        self.commit(WriteOp::DropCollection {
            collection: name(c),
        })
    }

    pub fn drop_database(&mut self) -> OpOutcome {
        self.commit(WriteOp::DropDatabase)
    }

    pub fn get(&self, c: &str, k: &str) -> Option<String> {
        let found = self.reader().get(&name(c), &key(k)).unwrap();
        found.map(|r| r.doc)
    }

    pub fn list_query(
        &self,
        c: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<(String, String)> {
        let after = after.map(key);
        let page = self.reader().list(&name(c), prefix, after.as_ref(), limit);
        let page = page.unwrap();
        page.into_iter()
            .map(|(k, d)| (k.as_str().to_owned(), d))
            .collect()
    }

    pub fn list(&self, c: &str) -> Vec<(String, String)> {
        self.list_query(c, "", None, usize::MAX)
    }

    pub fn keys(&self, c: &str) -> Vec<String> {
        self.list(c).into_iter().map(|(k, _)| k).collect()
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        let all = self.reader().collections().unwrap();
        all.into_iter()
            .map(|(n, count)| (n.as_str().to_owned(), count))
            .collect()
    }

    pub fn feed(&self) -> Vec<Change> {
        self.reader().changes_since(0, usize::MAX).unwrap()
    }

    pub fn items_since(&self, since: u64) -> Vec<Item> {
        let feed = self.reader().changes_since(since, usize::MAX).unwrap();
        feed.into_iter().map(|c| c.item).collect()
    }

    /// The visible state, read through `list` over every collection that has
    /// a count or any stored record (so a wrong count cannot hide a record).
    pub fn visible(&self) -> Visible {
        let counts = self.counts();
        let mut colls: BTreeSet<String> = counts.keys().cloned().collect();
        for change in self.feed() {
            if let Item::Record { collection, .. } = change.item {
                colls.insert(collection.as_str().to_owned());
            }
        }
        let mut docs = BTreeMap::new();
        for c in &colls {
            for (k, d) in self.list(c) {
                docs.insert((c.clone(), k), d);
            }
        }
        Visible { docs, counts }
    }

    /// Merges `items` as a peer's feed: `chunk` items per transaction, the
    /// last one also moving the checkpoint for `peer` to `upto`. Returns what
    /// each `merge_item` returned (the new seq, or `None` for a no-op).
    pub fn merge(
        &mut self,
        items: &[Item],
        chunk: usize,
        peer: SiteId,
        upto: u64,
    ) -> Vec<Option<u64>> {
        let mut results = Vec::new();
        let chunks: Vec<&[Item]> = if items.is_empty() {
            vec![&[]]
        } else {
            items.chunks(chunk.max(1)).collect()
        };
        for (i, part) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let now = self.tick();
            self.db()
                .transact(now, &mut |b| {
                    for item in part.iter() {
                        results.push(b.merge_item(item)?);
                    }
                    if last {
                        b.set_checkpoint(peer, upto)?;
                    }
                    Ok(())
                })
                .unwrap();
        }
        results
    }

    pub fn merge_all(&mut self, items: &[Item]) -> Vec<Option<u64>> {
        self.merge(items, usize::MAX, SiteId([0xee; 16]), 0)
    }
}

/// Checks the change feed's shape: seqs strictly increase and never exceed
/// `high_seq`, and every record or marker appears once.
pub fn assert_feed_well_formed(r: &Replica) {
    let feed = r.feed();
    for pair in feed.windows(2) {
        assert!(pair[0].seq < pair[1].seq, "seqs must increase: {feed:?}");
    }
    if let Some(last) = feed.last() {
        assert!(last.seq <= r.high_seq(), "feed beyond high_seq: {feed:?}");
    }
    let targets: BTreeSet<String> = feed.iter().map(|c| target(&c.item)).collect();
    assert_eq!(
        targets.len(),
        feed.len(),
        "an entry appears twice: {feed:?}"
    );
}

/// Shuffles with indices chosen by proptest (Fisher–Yates), so a failing
/// order shrinks and replays.
pub fn shuffled<T: Clone>(items: &[T], picks: &[Index]) -> Vec<T> {
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        let j = picks[i % picks.len()].index(i + 1);
        out.swap(i, j);
    }
    out
}

/// Property case count: `PROPTEST_CASES` if set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Calls `$m!` with the name of every scenario (and `$extra` after them),
/// so an includer instantiates them all for its engines.
#[allow(unused_macros)]
macro_rules! with_scenarios {
    ($m:ident $(, $extra:ident)* $(,)?) => {
        $m!(
            put_then_get_round_trips,
            put_replaces_the_whole_record,
            patch_merges_top_level_fields_and_null_removes,
            patch_or_delete_of_a_missing_record_writes_nothing,
            delete_hides_the_record,
            list_filters_by_prefix_after_and_limit,
            list_skips_long_runs_of_tombstones,
            collections_count_visible_records,
            feed_holds_each_key_once_at_its_latest_seq,
            changes_since_returns_exactly_the_later_entries,
            seqs_are_never_reused,
            drop_collection_removes_older_records_and_later_writes_live,
            drop_database_removes_older_records_and_later_writes_live,
            failed_transaction_writes_nothing,
            an_expect_that_fails_writes_nothing_of_its_transaction,
            data_survives_close_and_reopen,
            merging_a_replicas_feed_gives_the_same_state_and_is_idempotent,
            checkpoints_persist_and_roll_back_with_their_transaction,
            compaction_after_a_drop_keeps_the_marker_and_everything_replicas_agree_on,
            $($extra,)*
        );
    };
}

// ---------------------------------------------------------------------------
// Scenarios, run on both engines
// ---------------------------------------------------------------------------

pub fn put_then_get_round_trips(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let text =
        r#"{ "name": "Ada", "n": 12345678901234567890, "f": 1.50, "tags": ["x", {"y": null}] }"#;
    let (seq, version) = written(&r.put("person", "1", text));
    assert_eq!(seq, 1);
    assert_eq!(r.high_seq(), 1);

    // Fields come back sorted and minified, numbers exactly as written.
    let expected = r#"{"f":1.50,"n":12345678901234567890,"name":"Ada","tags":["x",{"y":null}]}"#;
    let got = r.reader().get(&name("person"), &key("1")).unwrap().unwrap();
    assert_eq!(got.doc, expected);
    assert_eq!(got.seq, seq);
    assert_eq!(got.version, version);
    assert_eq!(version.site, r.site());

    assert_eq!(r.get("person", "2"), None, "another key");
    assert_eq!(r.get("task", "1"), None, "same key, another collection");

    // Keys are any UTF-8 without '/' or control characters.
    r.put("person", "ünï code@x.y", r#"{"ok":true}"#);
    assert_eq!(
        r.get("person", "ünï code@x.y").as_deref(),
        Some(r#"{"ok":true}"#)
    );
}

pub fn put_replaces_the_whole_record(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let (_, v1) = written(&r.put("person", "1", r#"{"a":1,"b":2}"#));
    let (seq, v2) = written(&r.put("person", "1", r#"{"c":3}"#));
    assert_eq!(seq, 2);
    assert!(v2 > v1);
    assert_eq!(r.get("person", "1").as_deref(), Some(r#"{"c":3}"#));

    // An empty document is a record that exists and has no fields.
    r.put("person", "1", "{}");
    assert_eq!(r.get("person", "1").as_deref(), Some("{}"));
}

pub fn patch_merges_top_level_fields_and_null_removes(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1,"b":{"x":1,"y":2}}"#);

    let (seq, _) = written(&r.patch("person", "1", r#"{"b":{"x":9},"c":3}"#));
    assert_eq!(seq, 2);
    // Top-level merge: "b" is replaced as a whole, not merged deeply.
    assert_eq!(
        r.get("person", "1").as_deref(),
        Some(r#"{"a":1,"b":{"x":9},"c":3}"#)
    );

    r.patch("person", "1", r#"{"a":null,"zz":null}"#);
    assert_eq!(
        r.get("person", "1").as_deref(),
        Some(r#"{"b":{"x":9},"c":3}"#)
    );

    // Removing every field leaves an existing, empty record (the put stands).
    r.patch("person", "1", r#"{"b":null,"c":null}"#);
    assert_eq!(r.get("person", "1").as_deref(), Some("{}"));
    assert_eq!(r.counts(), BTreeMap::from([("person".into(), 1)]));

    // An empty patch of an existing record changes nothing and is no error:
    // it reports the record's current seq and version.
    let before = r.high_seq();
    let current = r.reader().get(&name("person"), &key("1")).unwrap().unwrap();
    let out = r.patch("person", "1", "{}");
    assert_eq!(written(&out), (current.seq, current.version));
    assert_eq!(r.get("person", "1").as_deref(), Some("{}"));
    assert_eq!(r.high_seq(), before, "nothing changed, so no seq");
    assert_eq!(r.patch("person", "2", "{}"), OpOutcome::NotFound);
    assert_feed_well_formed(&r);
}

pub fn patch_or_delete_of_a_missing_record_writes_nothing(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1}"#);
    let feed = r.feed();

    assert_eq!(r.patch("person", "2", r#"{"a":1}"#), OpOutcome::NotFound);
    assert_eq!(r.delete("person", "2"), OpOutcome::NotFound);
    assert_eq!(r.patch("task", "1", r#"{"a":1}"#), OpOutcome::NotFound);
    assert_eq!(r.delete("task", "1"), OpOutcome::NotFound);
    assert_eq!(r.high_seq(), 1);
    assert_eq!(r.get("person", "2"), None);
    assert_eq!(r.get("task", "1"), None);
    assert_eq!(r.feed(), feed);
    assert_eq!(r.counts(), BTreeMap::from([("person".into(), 1)]));

    // A deleted record is missing too.
    r.delete("person", "1");
    let high = r.high_seq();
    assert_eq!(r.patch("person", "1", r#"{"a":2}"#), OpOutcome::NotFound);
    assert_eq!(r.delete("person", "1"), OpOutcome::NotFound);
    assert_eq!(r.high_seq(), high);
    assert_eq!(r.get("person", "1"), None);

    // In a batch, misses and writes each get their own outcome.
    let ops = [
        WriteOp::Delete {
            collection: name("person"),
            key: key("9"),
        },
        WriteOp::Put {
            collection: name("person"),
            key: key("9"),
            doc: doc(r#"{"a":9}"#),
        },
    ];
    let now = r.tick();
    let (commit, outcomes) = r.commit_at(now, &ops);
    assert_eq!(outcomes[0], OpOutcome::NotFound);
    assert_eq!(written(&outcomes[1]).0, high + 1);
    assert_eq!(commit.high_seq, high + 1);
    assert_eq!(commit.changes.map(|c| c.len()), Some(1));
}

pub fn delete_hides_the_record(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1,"b":2}"#);
    r.put("person", "2", r#"{"a":2}"#);
    let (seq, _) = written(&r.delete("person", "1"));

    assert_eq!(r.get("person", "1"), None);
    assert_eq!(r.keys("person"), ["2"]);
    assert_eq!(r.counts(), BTreeMap::from([("person".into(), 1)]));

    // The tombstone stays in the feed, at the delete's seq.
    let feed = r.feed();
    let tomb = feed
        .iter()
        .find(|c| target(&c.item) == "r:person/1")
        .unwrap();
    assert_eq!(tomb.seq, seq);
    let Item::Record { state, .. } = &tomb.item else {
        unreachable!()
    };
    assert_eq!(state.visible_json(), None);

    // A put after the delete brings back only its own fields.
    r.put("person", "1", r#"{"c":3}"#);
    assert_eq!(r.get("person", "1").as_deref(), Some(r#"{"c":3}"#));
    assert_eq!(r.counts(), BTreeMap::from([("person".into(), 2)]));
}

pub fn list_filters_by_prefix_after_and_limit(kind: EngineKind) {
    let mut r = Replica::new(kind);
    for k in ["a", "a1", "a2", "a3", "b1", "b2"] {
        r.put("person", k, &format!(r#"{{"k":"{k}"}}"#));
    }
    r.delete("person", "a2");
    // Neighbouring collections whose names share a prefix must not leak in.
    r.put("person-x", "a1", "{}");
    r.put("persoN", "a1", "{}");
    r.put("task", "a1", "{}");

    let keys = |rows: Vec<(String, String)>| rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let q = |prefix: &str, after: Option<&str>, limit: usize| {
        keys(r.list_query("person", prefix, after, limit))
    };

    assert_eq!(q("", None, usize::MAX), ["a", "a1", "a3", "b1", "b2"]);
    assert_eq!(
        r.list("person")[1],
        ("a1".to_owned(), r#"{"k":"a1"}"#.to_owned())
    );
    assert_eq!(q("a", None, usize::MAX), ["a", "a1", "a3"]);
    assert_eq!(q("a", Some("a"), usize::MAX), ["a1", "a3"]);
    assert_eq!(
        q("a", Some("a1"), usize::MAX),
        ["a3"],
        "skips the tombstone"
    );
    assert_eq!(q("a", Some("a3"), usize::MAX), Vec::<String>::new());
    assert_eq!(q("", Some("a1"), 2), ["a3", "b1"]);
    assert_eq!(q("", None, 0), Vec::<String>::new());
    assert_eq!(q("", Some("b2"), 10), Vec::<String>::new());
    assert_eq!(
        q("b", Some("0"), 10),
        ["b1", "b2"],
        "after below the prefix"
    );
    assert_eq!(
        q("a", Some("b"), 10),
        Vec::<String>::new(),
        "after above it"
    );
    assert_eq!(q("c", None, 10), Vec::<String>::new());
    assert_eq!(q("a1", None, 10), ["a1"]);
    assert_eq!(
        keys(r.list_query("nobody", "", None, 10)),
        Vec::<String>::new()
    );

    // Paging with `after` visits every record once.
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = q("", after.as_deref(), 2);
        let Some(last) = page.last() else { break };
        after = Some(last.clone());
        pages.extend(page);
    }
    assert_eq!(pages, q("", None, usize::MAX));
}

pub fn list_skips_long_runs_of_tombstones(kind: EngineKind) {
    // More tombstones than one engine page (Reader::list scans 64 at a time).
    let mut r = Replica::new(kind);
    let k = |i: usize| format!("k{i:03}");
    let ops: Vec<WriteOp> = (0..200)
        .map(|i| WriteOp::Put {
            collection: name("person"),
            key: key(&k(i)),
            doc: doc(&format!(r#"{{"i":{i}}}"#)),
        })
        .collect();
    r.commit_at(T0, &ops);
    let deletes: Vec<WriteOp> = (0..200)
        .filter(|i| i % 50 != 49)
        .map(|i| WriteOp::Delete {
            collection: name("person"),
            key: key(&k(i)),
        })
        .collect();
    r.commit_at(T0 + 1, &deletes);

    let expected = [k(49), k(99), k(149), k(199)];
    assert_eq!(r.keys("person"), expected);
    let q = |after: Option<&str>, limit| {
        let rows = r.list_query("person", "", after, limit);
        rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>()
    };
    assert_eq!(q(None, 1), [k(49)]);
    assert_eq!(q(Some(&k(49)), 2), [k(99), k(149)]);
    assert_eq!(q(Some(&k(150)), 5), [k(199)]);
    assert_eq!(
        r.list_query("person", "k1", None, 10)[0].1,
        r#"{"i":149}"#,
        "prefix k1 skips 99 tombstones"
    );
    assert_eq!(r.counts(), BTreeMap::from([("person".into(), 4)]));
}

pub fn collections_count_visible_records(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    };
    assert_eq!(r.counts(), counts(&[]));

    r.put("person", "1", r#"{"a":1}"#);
    r.put("person", "2", r#"{"a":2}"#);
    r.put("task", "1", r#"{"a":1}"#);
    assert_eq!(r.counts(), counts(&[("person", 2), ("task", 1)]));

    // Rewriting a record does not count it twice.
    r.put("person", "2", r#"{"a":3}"#);
    r.patch("person", "2", r#"{"b":3}"#);
    r.patch("person", "2", r#"{"a":null,"b":null}"#);
    assert_eq!(r.counts(), counts(&[("person", 2), ("task", 1)]));

    r.delete("person", "1");
    assert_eq!(r.counts(), counts(&[("person", 1), ("task", 1)]));
    assert_eq!(r.reader().record_count().unwrap(), 2);

    // A collection disappears when its count reaches 0, and comes back.
    r.delete("person", "2");
    assert_eq!(r.counts(), counts(&[("task", 1)]));
    r.put("person", "1", "{}");
    assert_eq!(r.counts(), counts(&[("person", 1), ("task", 1)]));
}

pub fn feed_holds_each_key_once_at_its_latest_seq(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1}"#);
    r.put("person", "2", r#"{"a":2}"#);
    r.put("task", "1", r#"{"a":1}"#);
    let (p1, _) = written(&r.patch("person", "1", r#"{"b":1}"#));
    let (p2, _) = written(&r.delete("person", "2"));
    let (t1, _) = written(&r.put("task", "1", r#"{"a":2}"#));
    let (p1, v1) = {
        let out = r.put("person", "1", r#"{"c":1}"#);
        assert!(
            written(&out).0 > p1,
            "a new write moves the key up the feed"
        );
        written(&out)
    };
    assert_feed_well_formed(&r);

    let feed = r.feed();
    let shapes: Vec<_> = feed.iter().map(shape).collect();
    assert_eq!(
        shapes,
        [
            (p2, "r:person/2".into(), None),
            (t1, "r:task/1".into(), Some(r#"{"a":2}"#.into())),
            (p1, "r:person/1".into(), Some(r#"{"c":1}"#.into())),
        ],
        "each key once, at its latest seq, tombstones included"
    );
    let Item::Record { state, .. } = &feed[2].item else {
        unreachable!()
    };
    assert_eq!(state.max_version(), Some(v1));
    assert_eq!(r.high_seq(), p1);
}

pub fn changes_since_returns_exactly_the_later_entries(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1}"#);
    r.put("person", "2", r#"{"a":2}"#);
    r.drop_collection("task");
    r.put("task", "1", r#"{"a":1}"#);
    r.patch("person", "1", r#"{"a":3}"#);
    r.delete("person", "2");
    r.put("person", "3", r#"{"a":3}"#);
    let all = r.feed();
    assert_eq!(all.len(), 5, "{all:?}");

    let high = r.high_seq();
    for since in (0..=high + 1).chain([u64::MAX - 1, u64::MAX]) {
        let expected: Vec<Change> = all.iter().filter(|c| c.seq > since).cloned().collect();
        let got = r.reader().changes_since(since, usize::MAX).unwrap();
        assert_eq!(got, expected, "changes_since({since})");
        for limit in [0, 1, 2] {
            let got = r.reader().changes_since(since, limit).unwrap();
            let want: Vec<Change> = expected.iter().take(limit).cloned().collect();
            assert_eq!(got, want, "changes_since({since}, {limit})");
        }
    }
}

pub fn seqs_are_never_reused(kind: EngineKind) {
    let mut r = Replica::new(kind);
    for k in ["1", "2", "3"] {
        r.put("person", k, r#"{"a":1}"#);
    }
    let (drop_seq, _) = written(&r.drop_collection("person"));
    assert_eq!(drop_seq, 4);
    // The dropped records left the feed; only the marker is there.
    let shapes: Vec<_> = r.feed().iter().map(shape).collect();
    assert_eq!(shapes, [(4, "c:person".into(), None)]);

    let (seq, _) = written(&r.put("person", "1", r#"{"a":2}"#));
    assert_eq!(seq, 5, "above every seq ever used, not the feed's max");
    let (seq, _) = written(&r.drop_database());
    assert_eq!(seq, 6);
    let (seq, _) = written(&r.drop_collection("person"));
    assert_eq!(seq, 7);
    // Every entry but the newest marker is gone now; seqs still go on.
    r.reopen();
    assert_eq!(r.high_seq(), 7);
    let (seq, _) = written(&r.put("person", "1", r#"{"a":3}"#));
    assert_eq!(seq, 8);
    assert_feed_well_formed(&r);
}

pub fn drop_collection_removes_older_records_and_later_writes_live(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1}"#);
    r.put("person", "2", r#"{"a":2}"#);
    r.delete("person", "2");
    r.put("task", "1", r#"{"a":1}"#);
    let (seq, version) = written(&r.drop_collection("person"));

    assert_eq!(r.get("person", "1"), None);
    assert_eq!(r.list("person"), []);
    assert_eq!(r.counts(), BTreeMap::from([("task".into(), 1)]));
    assert_eq!(r.get("task", "1").as_deref(), Some(r#"{"a":1}"#));
    let feed = r.feed();
    assert_eq!(feed.len(), 2, "{feed:?}");
    assert_eq!(feed[1].seq, seq);
    assert_eq!(
        feed[1].item,
        Item::DropCollection {
            collection: name("person"),
            version
        }
    );
    assert_eq!(r.patch("person", "1", r#"{"a":1}"#), OpOutcome::NotFound);
    assert_eq!(r.delete("person", "1"), OpOutcome::NotFound);

    // Writes after the drop live.
    r.put("person", "1", r#"{"b":1}"#);
    assert_eq!(r.get("person", "1").as_deref(), Some(r#"{"b":1}"#));
    assert_eq!(
        r.counts(),
        BTreeMap::from([("person".into(), 1), ("task".into(), 1)])
    );
    assert_feed_well_formed(&r);
}

pub fn drop_database_removes_older_records_and_later_writes_live(kind: EngineKind) {
    let mut r = Replica::new(kind);
    r.put("person", "1", r#"{"a":1}"#);
    r.put("task", "1", r#"{"a":1}"#);
    r.drop_collection("task");
    r.put("task", "2", r#"{"a":2}"#);
    let (seq, version) = written(&r.drop_database());

    assert_eq!(r.visible().docs, BTreeMap::new());
    assert_eq!(r.counts(), BTreeMap::new());
    let feed = r.feed();
    assert_eq!(feed.last().unwrap().seq, seq);
    assert_eq!(feed.last().unwrap().item, Item::DropDatabase { version });
    assert!(
        feed.iter().all(|c| !matches!(c.item, Item::Record { .. })),
        "{feed:?}"
    );

    r.put("task", "2", r#"{"b":2}"#);
    r.put("other", "1", "{}");
    assert_eq!(r.get("task", "2").as_deref(), Some(r#"{"b":2}"#));
    assert_eq!(
        r.counts(),
        BTreeMap::from([("other".into(), 1), ("task".into(), 1)])
    );
    assert_feed_well_formed(&r);
}

/// A dropped database is compacted (`syncdb drop`): the file shrinks, and
/// what merges depend on stays — the marker still hides an older write
/// arriving from another replica, seqs go on, and it all survives reopening.
pub fn compaction_after_a_drop_keeps_the_marker_and_everything_replicas_agree_on(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let mut other = Replica::new(kind);
    other.put("person", "old", r#"{"late":true}"#); // before the drop, elsewhere
    let late = other.items_since(0);
    for i in 0..500 {
        r.put(
            "person",
            &i.to_string(),
            &format!(r#"{{"pad":"{}"}}"#, "x".repeat(200)),
        );
    }
    r.drop_database();
    assert!(r.reader().is_dropped().unwrap());
    let (digest, meta) = (r.reader().digest().unwrap(), r.reader().meta().unwrap());
    // A file gives the space back; a server's store does so by itself.
    let bytes = |r: &Replica| -> Option<u64> {
        let path = r.file()?;
        let sides = ["", "-wal"].iter();
        let sizes =
            sides.filter_map(|side| std::fs::metadata(format!("{}{side}", path.display())).ok());
        Some(sizes.map(|m| m.len()).sum())
    };
    let before = bytes(&r);
    r.db().compact().unwrap();
    if let (Some(before), Some(after)) = (before, bytes(&r)) {
        assert!(after * 2 < before, "{before} -> {after} bytes");
    }
    assert_eq!(r.reader().digest().unwrap(), digest);
    assert_eq!(r.reader().meta().unwrap(), meta);
    r.reopen();
    assert_eq!(r.reader().digest().unwrap(), digest, "after reopening too");
    assert!(r.reader().is_dropped().unwrap());
    assert_eq!(r.merge_all(&late), [None], "the older write stays dropped");
    assert_eq!(r.visible().docs, BTreeMap::new());
    r.put("person", "new", "{}");
    assert!(
        !r.reader().is_dropped().unwrap(),
        "a later write brings it back"
    );
    assert!(r.high_seq() > meta.next_seq - 1);
    assert_feed_well_formed(&r);
}

/// `If-Match` and `If-None-Match: *`: a precondition checked in the
/// transaction of the write it guards.
pub fn an_expect_that_fails_writes_nothing_of_its_transaction(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let (_, v1) = written(&r.put("person", "1", r#"{"a":1}"#));
    let expect = |expected| WriteOp::Expect {
        collection: name("person"),
        key: key("1"),
        expected,
    };
    let put = |json| WriteOp::Put {
        collection: name("person"),
        key: key("1"),
        doc: doc(json),
    };
    let now = r.tick();
    let (_, outcomes) = r
        .db()
        .commit(
            &[expect(Expected::Version(vec![v1])), put(r#"{"a":2}"#)],
            now,
        )
        .unwrap();
    assert_eq!(outcomes[0], OpOutcome::Unchanged);
    let (_, v2) = written(&outcomes[1]);
    let high = r.high_seq();
    for stale in [Expected::Version(vec![v1]), Expected::Absent] {
        let now = r.tick();
        let err = r
            .db()
            .commit(&[expect(stale), put(r#"{"a":3}"#)], now)
            .unwrap_err();
        let StoreError::Precondition(p) = err else {
            panic!("expected a precondition failure, got {err}");
        };
        assert_eq!(p.current, Some(v2));
    }
    assert_eq!(r.get("person", "1").as_deref(), Some(r#"{"a":2}"#));
    assert_eq!(r.high_seq(), high, "no seq used");
    // One of several versions, and any version at all.
    let now = r.tick();
    r.db()
        .commit(&[expect(Expected::Version(vec![v1, v2]))], now)
        .unwrap();
    let now = r.tick();
    r.db().commit(&[expect(Expected::Present)], now).unwrap();
    // Absent: true of a key never written and of a deleted one.
    let on = |k: &str, expected| WriteOp::Expect {
        collection: name("person"),
        key: key(k),
        expected,
    };
    let now = r.tick();
    r.db().commit(&[on("2", Expected::Absent)], now).unwrap();
    let now = r.tick();
    let err = r.db().commit(&[on("2", Expected::Present)], now);
    assert!(matches!(err, Err(StoreError::Precondition(_))), "{err:?}");
    r.delete("person", "1");
    let now = r.tick();
    r.db().commit(&[on("1", Expected::Absent)], now).unwrap();
}

pub fn failed_transaction_writes_nothing(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let (_, v1) = written(&r.put("person", "1", r#"{"a":1}"#));
    let feed = r.feed();
    let peer = SiteId([7; 16]);

    let now = r.tick();
    let err = r
        .db()
        .transact(now, &mut |b| {
            b.apply(&WriteOp::Put {
                collection: name("person"),
                key: key("2"),
                doc: doc(r#"{"a":2}"#),
            })?;
            b.apply(&WriteOp::Delete {
                collection: name("person"),
                key: key("1"),
            })?;
            b.apply(&WriteOp::DropCollection {
                collection: name("task"),
            })?;
            b.set_checkpoint(peer, 99)?;
            Err(StoreError::Aborted("client went away".into()))
        })
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Aborted(m) if m == "client went away"),
        "{err:?}"
    );

    assert_eq!(r.high_seq(), 1);
    assert_eq!(r.get("person", "1").as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(r.get("person", "2"), None);
    assert_eq!(r.feed(), feed);
    assert_eq!(r.counts(), BTreeMap::from([("person".into(), 1)]));
    assert_eq!(r.reader().checkpoint(peer).unwrap(), 0);
    assert_eq!(r.reader().meta().unwrap().next_seq, 2);

    // The next commit carries on as if the failed one never happened.
    let (seq, v2) = written(&r.put("person", "3", r#"{"a":3}"#));
    assert_eq!(seq, 2);
    assert!(v2 > v1);
    assert_eq!(r.keys("person"), ["1", "3"]);
    // The aborted drop left no marker behind.
    r.put("task", "1", "{}");
    assert_eq!(r.get("task", "1").as_deref(), Some("{}"));
    assert_feed_well_formed(&r);
}

pub fn data_survives_close_and_reopen(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let late = T0 + 1_000_000;
    let ops = [
        WriteOp::Put {
            collection: name("person"),
            key: key("1"),
            doc: doc(r#"{"name":"Ada"}"#),
        },
        WriteOp::Put {
            collection: name("task"),
            key: key("1"),
            doc: doc(r#"{"a":1}"#),
        },
        WriteOp::Put {
            collection: name("task"),
            key: key("2"),
            doc: doc(r#"{"a":2}"#),
        },
    ];
    r.commit_at(late, &ops);
    let old_task = r.feed().into_iter().find(|c| target(&c.item) == "r:task/1");
    r.commit_at(
        late,
        &[WriteOp::DropCollection {
            collection: name("task"),
        }],
    );
    r.commit_at(
        late,
        &[WriteOp::Put {
            collection: name("task"),
            key: key("3"),
            doc: doc(r#"{"a":3}"#),
        }],
    );
    r.commit_at(
        late,
        &[WriteOp::Delete {
            collection: name("person"),
            key: key("1"),
        }],
    );
    let peer = SiteId([9; 16]);
    r.db()
        .transact(late, &mut |b| b.set_checkpoint(peer, 17))
        .unwrap();

    let site = r.site();
    let high = r.high_seq();
    let meta = r.reader().meta().unwrap();
    let visible = r.visible();
    let feed = r.feed();
    let newest = feed
        .iter()
        .filter_map(|c| match &c.item {
            Item::Record { state, .. } => state.max_version(),
            Item::DropCollection { version, .. } | Item::DropDatabase { version } => Some(*version),
        })
        .max()
        .unwrap();
    assert_eq!(meta.hlc, newest.hlc);

    r.close();
    if let Some(path) = r.file() {
        kind.check_file(path).unwrap();
    }
    r.reopen();

    assert_eq!(r.site(), site);
    assert_eq!(r.high_seq(), high);
    assert_eq!(r.reader().meta().unwrap(), meta);
    assert_eq!(r.visible(), visible);
    assert_eq!(r.feed(), feed);
    assert_eq!(r.reader().checkpoint(peer).unwrap(), 17);

    // The drop marker came back too: a record older than it stays dropped.
    let old_task = old_task.unwrap().item;
    assert_eq!(r.merge_all(&[old_task]), [None]);
    assert_eq!(r.get("task", "1"), None);

    // Wall-clock time went backwards across the restart; the HLC did not.
    let (commit, outcomes) = r.commit_at(
        T0,
        &[WriteOp::Put {
            collection: name("person"),
            key: key("2"),
            doc: doc("{}"),
        }],
    );
    let (seq, version) = written(&outcomes[0]);
    assert_eq!(seq, high + 1);
    assert_eq!(commit.high_seq, high + 1);
    assert!(version > newest, "{version:?} after {newest:?}");
}

pub fn merging_a_replicas_feed_gives_the_same_state_and_is_idempotent(kind: EngineKind) {
    let mut a = Replica::new(kind);
    a.put("person", "1", r#"{"a":1,"b":2}"#);
    a.put("person", "2", r#"{"a":2}"#);
    a.patch("person", "1", r#"{"b":null,"c":3}"#);
    a.put("person", "3", r#"{"a":3}"#);
    a.delete("person", "3");
    a.put("task", "1", r#"{"a":1}"#);
    a.drop_collection("task");
    a.put("gone", "1", "{}");
    a.drop_collection("gone");
    a.now += 60_000; // a's clock runs a minute ahead of b's
    a.put("task", "2", r#"{"a":2}"#);
    let items = a.items_since(0);

    let mut b = Replica::new(kind);
    b.put("task", "1", r#"{"before":"the drop"}"#); // older than a's drop marker
    let merged = b.merge_all(&items);
    assert!(merged.iter().any(Option::is_some));
    assert_eq!(b.visible(), a.visible());
    assert_eq!(
        b.list("person"),
        [
            ("1".into(), r#"{"a":1,"c":3}"#.into()),
            ("2".into(), r#"{"a":2}"#.into())
        ]
    );
    assert_feed_well_formed(&b);

    // I5: merging the same items again changes nothing and uses no seq.
    let high = b.high_seq();
    let feed = b.feed();
    assert!(b.merge_all(&items).iter().all(Option::is_none));
    assert_eq!(b.high_seq(), high);
    assert_eq!(b.feed(), feed);

    // b's clock moved past everything it merged (the newest is a record).
    let newest = a.reader().meta().unwrap().hlc;
    assert_eq!(
        a.reader()
            .get(&name("task"), &key("2"))
            .unwrap()
            .unwrap()
            .version
            .hlc,
        newest
    );
    let (_, v) = written(&b.put("person", "9", "{}"));
    assert!(v.hlc > newest, "b's clock ignored a merged version");

    // Drop markers from a peer whose clock runs ahead move the clock too.
    let ahead = |minutes: u64| Version {
        hlc: (T0 + minutes * 60_000) << 16,
        site: SiteId([0xfa; 16]),
    };
    for (minutes, item) in [
        (
            10,
            Item::DropCollection {
                collection: name("x"),
                version: ahead(10),
            },
        ),
        (20, Item::DropDatabase { version: ahead(20) }),
    ] {
        let mut c = Replica::new(kind);
        assert!(c.merge_all(&[item])[0].is_some());
        let (_, v) = written(&c.put("x", "1", "{}"));
        assert!(v > ahead(minutes), "the clock ignored a merged marker");
        assert_eq!(
            c.get("x", "1").as_deref(),
            Some("{}"),
            "newer than the marker"
        );
    }
}

pub fn checkpoints_persist_and_roll_back_with_their_transaction(kind: EngineKind) {
    let mut r = Replica::new(kind);
    let (p, q) = (SiteId([1; 16]), SiteId([2; 16]));
    assert_eq!(r.reader().checkpoint(p).unwrap(), 0);

    r.db()
        .transact(T0, &mut |b| b.set_checkpoint(p, 42))
        .unwrap();
    assert_eq!(r.reader().checkpoint(p).unwrap(), 42);
    assert_eq!(r.reader().checkpoint(q).unwrap(), 0);
    assert_eq!(r.high_seq(), 0, "a checkpoint is not a change");

    r.db()
        .transact(T0, &mut |b| b.set_checkpoint(p, 43))
        .unwrap();
    assert_eq!(r.reader().checkpoint(p).unwrap(), 43);

    let aborted = r.db().transact(T0, &mut |b| {
        b.set_checkpoint(p, 99)?;
        Err(StoreError::Aborted("cut".into()))
    });
    assert!(aborted.is_err());
    assert_eq!(r.reader().checkpoint(p).unwrap(), 43);

    r.reopen();
    assert_eq!(r.reader().checkpoint(p).unwrap(), 43);
    assert_eq!(r.reader().checkpoint(q).unwrap(), 0);
}
