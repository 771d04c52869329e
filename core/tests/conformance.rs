//! The storage conformance suite of syncdb-core (DESIGN.md, "Storage engines":
//! both engines pass one shared suite) and Layer B of RELIABILITY.md §5.
//!
//! This file owns:
//!
//! - **Scenarios** over `Database` and `Reader`, each written once as a plain
//!   function of `EngineKind` and instantiated for redb and SQLite by
//!   `for_each_engine!` (tests are named `redb::…` and `sqlite::…`): reads and
//!   writes, the change feed and its seqs, drops, aborted transactions,
//!   close/reopen, merging another replica's feed, checkpoints, file checks.
//! - **SQLite's documented layout**, read with a plain `rusqlite` connection
//!   while the database is open (`sqlite_layout::…`).
//! - **One replica against a model** (property): random put/patch/delete/drop/
//!   reopen/list/feed operations applied in lockstep to a redb replica, a
//!   SQLite replica and a `BTreeMap` model; after every step both engines must
//!   match the model and each other (differential check).
//! - **Replicas converge** (property): the same feed items merged in different
//!   orders and chunkings, and concurrent writes exchanged both ways, leave
//!   every replica with the same visible documents; merging again is a no-op.
//!
//! Wall-clock time is passed in by hand (`now_ms`), never read. Property
//! tests default to 64 cases each; `PROPTEST_CASES` overrides that.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proptest::prelude::*;
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
const T0: u64 = 1_700_000_000_000;

fn name(s: &str) -> Name {
    Name::parse_as("collection", s).unwrap()
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn doc(json: &str) -> Document {
    Document::parse(json, usize::MAX).unwrap()
}

fn written(outcome: &OpOutcome) -> (u64, Version) {
    match outcome {
        OpOutcome::Written { seq, version } => (*seq, *version),
        other => panic!("expected a write, got {other:?}"),
    }
}

/// What a feed entry is about: `r:coll/key`, `c:coll` or `d`.
fn target(item: &Item) -> String {
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
fn shape(change: &Change) -> (u64, String, Option<String>) {
    let visible = match &change.item {
        Item::Record { state, .. } => state.visible_json(),
        _ => None,
    };
    (change.seq, target(&change.item), visible)
}

/// Everything a user can see in a replica: documents by (collection, key)
/// and the visible-record count of each collection.
#[derive(Debug, PartialEq, Eq)]
struct Visible {
    docs: BTreeMap<(String, String), String>,
    counts: BTreeMap<String, u64>,
}

/// One replica in its own temporary directory, with its own clock.
struct Replica {
    kind: EngineKind,
    dir: tempfile::TempDir,
    path: PathBuf,
    db: Option<Database>,
    /// The wall clock handed to the next commit made through `tick`.
    now: u64,
}

impl Replica {
    fn new(kind: EngineKind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("test.{}", kind.extension()));
        let db = Database::open(kind, &path).unwrap();
        Replica {
            kind,
            dir,
            path,
            db: Some(db),
            now: T0,
        }
    }

    fn db(&mut self) -> &mut Database {
        self.db.as_mut().expect("replica is open")
    }

    fn db_ref(&self) -> &Database {
        self.db.as_ref().expect("replica is open")
    }

    fn reader(&self) -> Reader {
        self.db_ref().reader()
    }

    fn high_seq(&self) -> u64 {
        self.db_ref().high_seq()
    }

    fn site(&self) -> SiteId {
        self.db_ref().site()
    }

    /// Drops the `Database` (and with it the engine and its file handles).
    fn close(&mut self) {
        self.db = None;
    }

    fn reopen(&mut self) {
        self.close();
        self.db = Some(Database::open(self.kind, &self.path).unwrap());
    }

    fn tick(&mut self) -> u64 {
        self.now += 1;
        self.now
    }

    fn commit_at(&mut self, now_ms: u64, ops: &[WriteOp]) -> (Commit, Vec<OpOutcome>) {
        self.db().commit(ops, now_ms).unwrap()
    }

    fn commit(&mut self, op: WriteOp) -> OpOutcome {
        let now = self.tick();
        let (commit, mut outcomes) = self.commit_at(now, &[op]);
        assert_eq!(commit.high_seq, self.high_seq());
        outcomes.pop().unwrap()
    }

    fn put(&mut self, c: &str, k: &str, json: &str) -> OpOutcome {
        self.commit(WriteOp::Put {
            collection: name(c),
            key: key(k),
            doc: doc(json),
        })
    }

    fn patch(&mut self, c: &str, k: &str, json: &str) -> OpOutcome {
        self.commit(WriteOp::Patch {
            collection: name(c),
            key: key(k),
            part: doc(json),
        })
    }

    fn delete(&mut self, c: &str, k: &str) -> OpOutcome {
        self.commit(WriteOp::Delete {
            collection: name(c),
            key: key(k),
        })
    }

    fn drop_collection(&mut self, c: &str) -> OpOutcome {
        self.commit(WriteOp::DropCollection {
            collection: name(c),
        })
    }

    fn drop_database(&mut self) -> OpOutcome {
        self.commit(WriteOp::DropDatabase)
    }

    fn get(&self, c: &str, k: &str) -> Option<String> {
        let found = self.reader().get(&name(c), &key(k)).unwrap();
        found.map(|r| r.doc)
    }

    fn list_query(
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

    fn list(&self, c: &str) -> Vec<(String, String)> {
        self.list_query(c, "", None, usize::MAX)
    }

    fn keys(&self, c: &str) -> Vec<String> {
        self.list(c).into_iter().map(|(k, _)| k).collect()
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        let all = self.reader().collections().unwrap();
        all.into_iter()
            .map(|(n, count)| (n.as_str().to_owned(), count))
            .collect()
    }

    fn feed(&self) -> Vec<Change> {
        self.reader().changes_since(0, usize::MAX).unwrap()
    }

    fn items_since(&self, since: u64) -> Vec<Item> {
        let feed = self.reader().changes_since(since, usize::MAX).unwrap();
        feed.into_iter().map(|c| c.item).collect()
    }

    /// The visible state, read through `list` over every collection that has
    /// a count or any stored record (so a wrong count cannot hide a record).
    fn visible(&self) -> Visible {
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
    fn merge(&mut self, items: &[Item], chunk: usize, peer: SiteId, upto: u64) -> Vec<Option<u64>> {
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

    fn merge_all(&mut self, items: &[Item]) -> Vec<Option<u64>> {
        self.merge(items, usize::MAX, SiteId([0xee; 16]), 0)
    }
}

/// Checks the change feed's shape: seqs strictly increase and never exceed
/// `high_seq`, and every record or marker appears once.
fn assert_feed_well_formed(r: &Replica) {
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
fn shuffled<T: Clone>(items: &[T], picks: &[Index]) -> Vec<T> {
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        let j = picks[i % picks.len()].index(i + 1);
        out.swap(i, j);
    }
    out
}

/// Property case count: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Instantiates each scenario `fn name(kind: EngineKind)` once per engine,
/// as `redb::name` and `sqlite::name`.
macro_rules! for_each_engine {
    ($($test:ident),* $(,)?) => {
        mod redb {
            $(#[test]
            fn $test() {
                super::$test(syncdb_core::EngineKind::Redb)
            })*
        }
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test(syncdb_core::EngineKind::Sqlite)
            })*
        }
    };
}

for_each_engine!(
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
    check_file_passes_on_a_closed_file,
    compaction_after_a_drop_keeps_the_marker_and_everything_replicas_agree_on,
);

// ---------------------------------------------------------------------------
// Scenarios, run on both engines
// ---------------------------------------------------------------------------

fn put_then_get_round_trips(kind: EngineKind) {
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

fn put_replaces_the_whole_record(kind: EngineKind) {
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

fn patch_merges_top_level_fields_and_null_removes(kind: EngineKind) {
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

fn patch_or_delete_of_a_missing_record_writes_nothing(kind: EngineKind) {
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

fn delete_hides_the_record(kind: EngineKind) {
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

fn list_filters_by_prefix_after_and_limit(kind: EngineKind) {
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

fn list_skips_long_runs_of_tombstones(kind: EngineKind) {
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

fn collections_count_visible_records(kind: EngineKind) {
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

fn feed_holds_each_key_once_at_its_latest_seq(kind: EngineKind) {
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

fn changes_since_returns_exactly_the_later_entries(kind: EngineKind) {
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

fn seqs_are_never_reused(kind: EngineKind) {
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

fn drop_collection_removes_older_records_and_later_writes_live(kind: EngineKind) {
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

fn drop_database_removes_older_records_and_later_writes_live(kind: EngineKind) {
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
fn compaction_after_a_drop_keeps_the_marker_and_everything_replicas_agree_on(kind: EngineKind) {
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
    let bytes = |r: &Replica| -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|side| std::fs::metadata(format!("{}{side}", r.path.display())).ok())
            .map(|m| m.len())
            .sum()
    };
    let before = bytes(&r);
    r.db().compact().unwrap();
    assert!(bytes(&r) * 2 < before, "{} -> {} bytes", before, bytes(&r));
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
fn an_expect_that_fails_writes_nothing_of_its_transaction(kind: EngineKind) {
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

fn failed_transaction_writes_nothing(kind: EngineKind) {
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

fn data_survives_close_and_reopen(kind: EngineKind) {
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
    kind.check_file(&r.path).unwrap();
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

fn merging_a_replicas_feed_gives_the_same_state_and_is_idempotent(kind: EngineKind) {
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

fn checkpoints_persist_and_roll_back_with_their_transaction(kind: EngineKind) {
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

fn check_file_passes_on_a_closed_file(kind: EngineKind) {
    let mut r = Replica::new(kind);
    for i in 0..50 {
        r.put("person", &i.to_string(), &format!(r#"{{"i":{i}}}"#));
    }
    r.drop_collection("person");
    r.put("person", "1", "{}");
    r.close();
    kind.check_file(&r.path).unwrap();
    r.reopen();
    assert_eq!(r.keys("person"), ["1"]);

    // The check can fail: a file of garbage is refused.
    let garbage = r.dir.path().join(format!("garbage.{}", kind.extension()));
    std::fs::write(&garbage, vec![0xa5u8; 64 * 1024]).unwrap();
    assert!(kind.check_file(&garbage).is_err());
}

// ---------------------------------------------------------------------------
// SQLite's documented layout, read with plain SQLite while syncdb runs
// ---------------------------------------------------------------------------

mod sqlite_layout {
    use super::*;
    use rusqlite::{Connection, OptionalExtension};

    fn name_of_person_1(conn: &Connection) -> Option<String> {
        conn.query_row(
            "SELECT json_extract(doc,'$.name') FROM records WHERE collection='person' AND key='1'",
            [],
            |row| row.get(0),
        )
        .optional()
        .unwrap()
        .flatten()
    }

    fn documents(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT collection, key, doc FROM documents ORDER BY collection, key")
            .unwrap();
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn documents_are_json_readable_by_any_sqlite_client() {
        let mut r = Replica::new(EngineKind::Sqlite);
        r.put("person", "1", r#"{"name":"Ada","age":36}"#);
        r.put("person", "2", r#"{"name":"Bob"}"#);
        r.delete("person", "2");
        r.put("task", "1", r#"{"title":"write tests"}"#);

        // A second, plain connection while the Database is open (WAL mode).
        let conn = Connection::open(&r.path).unwrap();
        assert_eq!(name_of_person_1(&conn).as_deref(), Some("Ada"));
        let p1 = (
            "person".to_owned(),
            "1".to_owned(),
            r#"{"age":36,"name":"Ada"}"#.to_owned(),
        );
        let t1 = (
            "task".to_owned(),
            "1".to_owned(),
            r#"{"title":"write tests"}"#.to_owned(),
        );
        assert_eq!(documents(&conn), [p1.clone(), t1.clone()], "no tombstones");

        // Later commits are visible to the open connection, patches included.
        r.patch("person", "1", r#"{"name":"Ada L.","age":null}"#);
        assert_eq!(name_of_person_1(&conn).as_deref(), Some("Ada L."));
        r.put("person", "2", r#"{"name":"Bob"}"#);
        assert_eq!(documents(&conn).len(), 3);

        // A drop rewrites the rows it covers.
        r.drop_collection("person");
        assert_eq!(name_of_person_1(&conn), None);
        assert_eq!(documents(&conn), [t1]);
        let person_rows: i64 = conn
            .query_row(
                "SELECT count(*) FROM records WHERE collection='person'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(person_rows, 0);

        // The plain connection does not get in syncdb's way.
        r.put("person", "1", r#"{"name":"Eve"}"#);
        assert_eq!(name_of_person_1(&conn).as_deref(), Some("Eve"));
    }
}

// ---------------------------------------------------------------------------
// Properties: the operation language shared by both property tests
// ---------------------------------------------------------------------------

/// A tiny key space, so operations collide: 2 collections × 4 keys × 3 fields.
const COLLS: [&str; 2] = ["person", "task"];
/// Byte-ordered; "1" is a prefix of "10".
const KEYS: [&str; 4] = ["1", "10", "2", "b"];
const FIELDS: [&str; 3] = ["a", "b", "c"];
const PREFIXES: [&str; 3] = ["", "1", "b"];

#[derive(Clone)]
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
    /// Drop the Database and open the file again.
    Reopen,
    List {
        c: usize,
        prefix: usize,
        after: Option<usize>,
        limit: usize,
    },
    /// `changes_since(S)` for an S picked in 0..=high_seq + 1.
    FeedSince(Index),
}

impl std::fmt::Debug for Op {
    /// Shrunk failures print as a readable script: `put person/1 {"a":1}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self, self.write_op()) {
            (
                _,
                Some(WriteOp::Put {
                    collection,
                    key,
                    doc,
                }),
            ) => write!(f, "put {collection}/{key} {}", json_of(&doc)),
            (
                _,
                Some(WriteOp::Patch {
                    collection,
                    key,
                    part,
                }),
            ) => write!(f, "patch {collection}/{key} {}", json_of(&part)),
            (_, Some(WriteOp::Delete { collection, key })) => {
                write!(f, "delete {collection}/{key}")
            }
            (_, Some(WriteOp::DropCollection { collection })) => write!(f, "drop {collection}"),
            (_, Some(WriteOp::DropDatabase)) => write!(f, "drop database"),
            (Op::Reopen, None) => write!(f, "reopen"),
            (
                Op::List {
                    c,
                    prefix,
                    after,
                    limit,
                },
                None,
            ) => write!(
                f,
                "ls {} prefix={:?} after={:?} limit={limit}",
                COLLS[*c],
                PREFIXES[*prefix],
                after.map(|k| KEYS[k])
            ),
            (Op::FeedSince(i), None) => write!(f, "feed since {i:?}"),
            _ => unreachable!("write_op covers every write"),
        }
    }
}

fn json_of(d: &Document) -> String {
    let fields: Vec<String> = d.fields().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", fields.join(","))
}

impl Op {
    /// The write this op makes, if it is one.
    fn write_op(&self) -> Option<WriteOp> {
        let field_json = |i: usize, v: String| format!("\"{}\":{v}", FIELDS[i]);
        let object = |parts: Vec<String>| doc(&format!("{{{}}}", parts.join(",")));
        Some(match self {
            Op::Put { c, k, fields } => WriteOp::Put {
                collection: name(COLLS[*c]),
                key: key(KEYS[*k]),
                doc: object(
                    (0..3)
                        .filter_map(|i| fields[i].map(|v| field_json(i, v.to_string())))
                        .collect(),
                ),
            },
            Op::Patch { c, k, fields } => WriteOp::Patch {
                collection: name(COLLS[*c]),
                key: key(KEYS[*k]),
                part: object(
                    (0..3)
                        .filter_map(|i| {
                            let v = fields[i]?;
                            Some(field_json(i, v.map_or("null".into(), |n| n.to_string())))
                        })
                        .collect(),
                ),
            },
            Op::Delete { c, k } => WriteOp::Delete {
                collection: name(COLLS[*c]),
                key: key(KEYS[*k]),
            },
            Op::DropCollection { c } => WriteOp::DropCollection {
                collection: name(COLLS[*c]),
            },
            Op::DropDatabase => WriteOp::DropDatabase,
            Op::Reopen | Op::List { .. } | Op::FeedSince(_) => return None,
        })
    }
}

fn write_op() -> impl Strategy<Value = Op> {
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

fn any_op() -> impl Strategy<Value = Op> {
    let list = (
        0..COLLS.len(),
        0..PREFIXES.len(),
        prop::option::of(0..KEYS.len()),
        prop_oneof![Just(1usize), Just(2), Just(usize::MAX)],
    )
        .prop_map(|(c, prefix, after, limit)| Op::List {
            c,
            prefix,
            after,
            limit,
        });
    prop_oneof![
        14 => write_op(),
        1 => Just(Op::Reopen),
        2 => list,
        1 => any::<Index>().prop_map(Op::FeedSince),
    ]
}

fn engine_kind() -> impl Strategy<Value = EngineKind> {
    prop::sample::select(EngineKind::ALL.to_vec())
}

// ---------------------------------------------------------------------------
// Property: one replica against a model, on both engines in lockstep
// ---------------------------------------------------------------------------

/// DESIGN.md's rules for one replica whose writes all carry fresh versions:
/// put replaces, patch merges (null removes) only an existing record, delete
/// removes, drops remove everything in scope.
#[derive(Default)]
struct Model {
    docs: BTreeMap<(&'static str, &'static str), BTreeMap<&'static str, u8>>,
}

impl Model {
    /// Applies `op`; for patch and delete, whether the record existed.
    fn apply(&mut self, op: &Op) -> Option<bool> {
        match op {
            Op::Put { c, k, fields } => {
                let doc = (0..3)
                    .filter_map(|i| Some((FIELDS[i], fields[i]?)))
                    .collect();
                self.docs.insert((COLLS[*c], KEYS[*k]), doc);
                Some(true)
            }
            Op::Patch { c, k, fields } => {
                let Some(doc) = self.docs.get_mut(&(COLLS[*c], KEYS[*k])) else {
                    return Some(false);
                };
                for (i, f) in fields.iter().enumerate() {
                    match f {
                        Some(Some(v)) => {
                            doc.insert(FIELDS[i], *v);
                        }
                        Some(None) => {
                            doc.remove(FIELDS[i]);
                        }
                        None => {}
                    }
                }
                Some(true)
            }
            Op::Delete { c, k } => Some(self.docs.remove(&(COLLS[*c], KEYS[*k])).is_some()),
            Op::DropCollection { c } => {
                self.docs.retain(|(coll, _), _| coll != &COLLS[*c]);
                Some(true)
            }
            Op::DropDatabase => {
                self.docs.clear();
                Some(true)
            }
            Op::Reopen | Op::List { .. } | Op::FeedSince(_) => None,
        }
    }

    fn json(doc: &BTreeMap<&str, u8>) -> String {
        let fields: Vec<String> = doc.iter().map(|(f, v)| format!("\"{f}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    }

    fn get(&self, c: &str, k: &str) -> Option<String> {
        self.docs.get(&(c, k)).map(|d| Self::json(d))
    }

    fn list(
        &self,
        c: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<(String, String)> {
        self.docs
            .iter()
            .filter(|((coll, k), _)| {
                *coll == c && k.starts_with(prefix) && after.is_none_or(|a| *k > a)
            })
            .take(limit)
            .map(|((_, k), d)| (k.to_string(), Self::json(d)))
            .collect()
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (c, _) in self.docs.keys() {
            *out.entry(c.to_string()).or_default() += 1;
        }
        out
    }
}

/// Compares one replica with the model: every get, every full list, the
/// counts, and the feed (well formed, every visible record in it as the
/// model has it, every tombstone absent from the model).
fn assert_matches_model(r: &Replica, model: &Model) -> Result<(), TestCaseError> {
    let kind = r.kind;
    for c in COLLS {
        for k in KEYS {
            prop_assert_eq!(r.get(c, k), model.get(c, k), "{} get {}/{}", kind, c, k);
        }
        prop_assert_eq!(
            r.list(c),
            model.list(c, "", None, usize::MAX),
            "{} ls {}",
            kind,
            c
        );
    }
    prop_assert_eq!(r.counts(), model.counts(), "{} collections", kind);
    assert_feed_well_formed(r);
    let mut in_feed = 0;
    for change in r.feed() {
        if let Item::Record {
            collection,
            key,
            state,
        } = &change.item
        {
            let want = model.get(collection.as_str(), key.as_str());
            prop_assert_eq!(
                state.visible_json(),
                want,
                "{} feed entry {:?}",
                kind,
                change
            );
            in_feed += usize::from(state.exists());
        }
    }
    prop_assert_eq!(in_feed, model.docs.len(), "{} feed misses a record", kind);
    Ok(())
}

fn run_against_model(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut replicas = EngineKind::ALL.map(Replica::new);
    let mut model = Model::default();
    let mut newest = [Version::default(); 2];
    for (step, op) in ops.iter().enumerate() {
        // Wall-clock time wanders back and forth; HLCs must still grow.
        let now = T0 + (step as u64 * 7) % 11;
        let existed = model.apply(op);
        let mut outcomes = Vec::new();
        for (r, newest) in replicas.iter_mut().zip(&mut newest) {
            match op {
                Op::Reopen => {
                    let (site, high, visible) = (r.site(), r.high_seq(), r.visible());
                    r.reopen();
                    prop_assert_eq!(r.site(), site);
                    prop_assert_eq!(r.high_seq(), high);
                    prop_assert_eq!(r.visible(), visible);
                }
                Op::List {
                    c,
                    prefix,
                    after,
                    limit,
                } => {
                    let (c, prefix, after) = (COLLS[*c], PREFIXES[*prefix], after.map(|k| KEYS[k]));
                    prop_assert_eq!(
                        r.list_query(c, prefix, after, *limit),
                        model.list(c, prefix, after, *limit),
                        "{} {:?}",
                        r.kind,
                        op
                    );
                }
                Op::FeedSince(pick) => {
                    let since = pick.index(r.high_seq() as usize + 2) as u64;
                    let all = r.feed();
                    let want: Vec<Change> = all.into_iter().filter(|c| c.seq > since).collect();
                    let got = r.reader().changes_since(since, usize::MAX).unwrap();
                    prop_assert_eq!(&got, &want, "{} changes_since({})", r.kind, since);
                    let got = r.reader().changes_since(since, 2).unwrap();
                    prop_assert_eq!(&got[..], &want[..want.len().min(2)]);
                }
                _ => {
                    let write = op.write_op().unwrap();
                    let high = r.high_seq();
                    let (commit, out) = r.commit_at(now, &[write]);
                    let out = out.into_iter().next().unwrap();
                    match (&out, existed) {
                        (OpOutcome::NotFound, Some(false)) => {
                            prop_assert_eq!(commit.high_seq, high, "NotFound wrote something");
                        }
                        (OpOutcome::Written { seq, version }, Some(true))
                            if commit.high_seq > high =>
                        {
                            prop_assert_eq!(*seq, high + 1);
                            prop_assert_eq!(commit.high_seq, high + 1);
                            prop_assert!(*version > *newest, "HLC went back: {:?}", op);
                            *newest = *version;
                        }
                        (OpOutcome::Written { seq, version }, Some(true)) => {
                            // Only an empty patch writes nothing; it reports
                            // the record as it stands.
                            let empty =
                                matches!(op, Op::Patch { fields, .. } if fields == &[None; 3]);
                            prop_assert!(empty, "{} {:?} wrote nothing", r.kind, op);
                            let Op::Patch { c, k, .. } = op else {
                                unreachable!()
                            };
                            let rec = r.reader().get(&name(COLLS[*c]), &key(KEYS[*k])).unwrap();
                            let rec = rec.unwrap();
                            prop_assert_eq!((*seq, *version), (rec.seq, rec.version));
                        }
                        other => prop_assert!(false, "{} {:?}: {:?}", r.kind, op, other),
                    }
                    outcomes.push(out);
                }
            }
            assert_matches_model(r, &model)?;
        }

        // Differential: both engines agree on everything but site ids.
        let [a, b] = &replicas;
        prop_assert_eq!(a.visible(), b.visible());
        prop_assert_eq!(a.high_seq(), b.high_seq());
        let shapes = |r: &Replica| r.feed().iter().map(shape).collect::<Vec<_>>();
        prop_assert_eq!(shapes(a), shapes(b));
        if let [
            OpOutcome::Written { seq: s1, .. },
            OpOutcome::Written { seq: s2, .. },
        ] = &outcomes[..]
        {
            prop_assert_eq!(s1, s2);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    /// Layer B: random operations against a `BTreeMap` model, on redb and
    /// SQLite in lockstep (which doubles as the differential check).
    #[test]
    fn one_replica_matches_the_model_on_both_engines(
        ops in prop::collection::vec(any_op(), 1..=40)
    ) {
        run_against_model(&ops)?;
    }
}

// ---------------------------------------------------------------------------
// Property: replicas converge whatever the merge order
// ---------------------------------------------------------------------------

fn apply_local(r: &mut Replica, op: &Op, now: u64) {
    match op.write_op() {
        Some(write) => {
            r.commit_at(now, &[write]);
        }
        None => r.reopen(),
    }
}

/// Applies `items` from `from` to `to` as a sync would: shuffled (feed order
/// is not assumed), in chunks, moving `to`'s checkpoint for `from`.
fn sync(
    to: &mut Replica,
    from_site: SiteId,
    items: &[Item],
    upto: u64,
    order: &[Index],
    chunk: usize,
) {
    to.merge(&shuffled(items, order), chunk, from_site, upto);
}

fn run_convergence(
    kinds: [EngineKind; 3],
    shared: &[Op],
    concurrent: &[(Option<Op>, Option<Op>)],
    orders: &[Vec<Index>; 5],
    chunks: [usize; 5],
) -> Result<(), TestCaseError> {
    let [mut a, mut b, mut c] = kinds.map(Replica::new);

    // Phase 1: A writes alone; B and C take A's whole feed in different orders.
    for (i, op) in shared.iter().enumerate() {
        apply_local(&mut a, op, T0 + i as u64 / 3);
    }
    let a_high = a.high_seq();
    let a_items = a.items_since(0);
    sync(&mut b, a.site(), &a_items, a_high, &orders[0], chunks[0]);
    sync(&mut c, a.site(), &a_items, a_high, &orders[1], chunks[1]);
    prop_assert_eq!(b.visible(), a.visible(), "B after A's feed");
    prop_assert_eq!(c.visible(), a.visible(), "C after A's feed");

    // I5: the same items again are a no-op.
    let high = b.high_seq();
    let again = b.merge_all(&shuffled(&a_items, &orders[2]));
    prop_assert!(
        again.iter().all(Option::is_none),
        "re-merge wrote: {:?}",
        again
    );
    prop_assert_eq!(b.high_seq(), high);

    // Phase 2: A and B write concurrently, in rounds. Each round is a new
    // millisecond and each replica writes at most once in it, so both writes
    // of a round carry the same HLC and the site id breaks the tie. Then A
    // and B swap feeds since their checkpoints; C takes both feeds mixed.
    for (round, (on_a, on_b)) in concurrent.iter().enumerate() {
        let now = T0 + 100 + round as u64;
        for (r, op) in [(&mut a, on_a), (&mut b, on_b)] {
            if let Some(op) = op {
                apply_local(r, op, now);
            }
        }
    }
    let (a_site, b_site) = (a.site(), b.site());
    let (a_high, b_high) = (a.high_seq(), b.high_seq());
    let a_for_b = a.items_since(b.reader().checkpoint(a_site).unwrap());
    let b_for_a = b.items_since(a.reader().checkpoint(b_site).unwrap());
    let a_for_c = a.items_since(c.reader().checkpoint(a_site).unwrap());
    let b_for_c = b.items_since(c.reader().checkpoint(b_site).unwrap());
    sync(&mut a, b_site, &b_for_a, b_high, &orders[2], chunks[2]);
    sync(&mut b, a_site, &a_for_b, a_high, &orders[3], chunks[3]);
    let mixed = [a_for_c, b_for_c].concat();
    sync(&mut c, a_site, &mixed, a_high, &orders[4], chunks[4]);
    c.db()
        .transact(T0, &mut |t| t.set_checkpoint(b_site, b_high))
        .unwrap();

    let final_state = a.visible();
    prop_assert_eq!(&b.visible(), &final_state, "A and B after the swap");
    prop_assert_eq!(&c.visible(), &final_state, "C after both feeds");

    // I5 once more, for every replica and every feed.
    for r in [&mut a, &mut b, &mut c] {
        let high = r.high_seq();
        r.merge_all(&a_items);
        r.merge_all(&mixed);
        r.merge_all(&b_for_a);
        prop_assert_eq!(r.high_seq(), high, "{} re-merge used a seq", r.kind);
        prop_assert_eq!(&r.visible(), &final_state);
        assert_feed_well_formed(r);
    }
    Ok(())
}

/// One replica's move in a round of concurrent writes: mostly a write,
/// sometimes a restart, sometimes nothing.
fn local_op() -> impl Strategy<Value = Option<Op>> {
    prop_oneof![
        16 => write_op().prop_map(Some),
        1 => Just(Some(Op::Reopen)),
        3 => Just(None),
    ]
}

/// A round of concurrent writes; in half of them B writes the record A
/// writes, so the two versions tie on HLC and conflict.
fn round() -> impl Strategy<Value = (Option<Op>, Option<Op>)> {
    (local_op(), local_op(), any::<bool>()).prop_map(|(a, b, clash)| {
        let target = match &a {
            Some(Op::Put { c, k, .. } | Op::Patch { c, k, .. } | Op::Delete { c, k }) => {
                Some((*c, *k))
            }
            _ => None,
        };
        let b = match (b, target) {
            (Some(mut op), Some((tc, tk))) if clash => {
                if let Op::Put { c, k, .. } | Op::Patch { c, k, .. } | Op::Delete { c, k } = &mut op
                {
                    (*c, *k) = (tc, tk);
                }
                Some(op)
            }
            (b, _) => b,
        };
        (a, b)
    })
}

fn order() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 1..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    /// Merge is commutative, associative and idempotent at the database
    /// level: any order, any chunking, concurrent writers, same result.
    #[test]
    fn replicas_converge_whatever_the_merge_order(
        kinds in prop::array::uniform3(engine_kind()),
        shared in prop::collection::vec(write_op(), 1..=30),
        concurrent in prop::collection::vec(round(), 0..=20),
        orders in prop::array::uniform5(order()),
        chunks in prop::array::uniform5(1usize..6),
    ) {
        run_convergence(kinds, &shared, &concurrent, &orders, chunks)?;
    }
}
