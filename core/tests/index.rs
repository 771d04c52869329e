//! Indexes against the oracle of a full read (issue: "every query over an
//! index returns exactly what a full scan of the visible documents
//! returns, in the same order").
//!
//! A property drives one replica of each engine through random local puts,
//! patches, deletes and collection drops, merges of another replica's
//! writes (a chunk through `apply_chunk`, as sync does), index creations
//! at random points with their builds interleaved a small step at a time,
//! index drops and reopenings. After every step each random query is run
//! through `Reader::find` and compared with the oracle: every visible
//! record read, filtered by `Condition::matches`, sorted by
//! `Order::compare`; the pages a cursor walks must join to the same list,
//! and `check_index` must find every index in step. Values come from a
//! small domain so that equal values, mixed types, missing fields, nested
//! documents and numbers no float holds meet often.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Value, json};
use syncdb_core::find::Query;
use syncdb_core::query::{Condition, Order};
use syncdb_core::{Database, Document, EngineKind, Key, Name, Reader, WriteOp};

const T0: u64 = 1_700_000_000_000;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn coll() -> Name {
    Name::parse_as("collection", "people").unwrap()
}

fn values() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0i64..4).prop_map(|n| json!(n)),
        Just(json!(1.5)),
        Just(json!(-0.0)),
        prop::sample::select(vec!["", "a", "ab", "b", "é"]).prop_map(|s| json!(s)),
        Just(json!([1, "a"])),
        Just(json!({"c": 1})),
    ]
}

/// A document over the fields `a`, `b` and `m.c`, each maybe missing.
fn documents() -> impl Strategy<Value = Value> {
    (
        prop::option::of(values()),
        prop::option::of(values()),
        prop::option::of(values()),
    )
        .prop_map(|(a, b, c)| {
            let mut d = serde_json::Map::new();
            if let Some(a) = a {
                d.insert("a".into(), a);
            }
            if let Some(b) = b {
                d.insert("b".into(), b);
            }
            if let Some(c) = c {
                d.insert("m".into(), json!({ "c": c }));
            }
            Value::Object(d)
        })
}

const FIELD_SETS: [&[&str]; 4] = [&["a"], &["b"], &["a", "b"], &["m.c", "a"]];

#[derive(Clone, Debug)]
enum Step {
    Put(u8, Value),
    /// A document with values no float holds (`1e400`): missing to queries.
    PutHuge(u8),
    Patch(u8, Value),
    Delete(u8),
    Drop,
    /// A write on the other replica, merged here as a sync chunk.
    Remote(u8, Value),
    RemoteDelete(u8),
    CreateIndex(usize),
    DropIndex(usize),
    Build(usize),
    Reopen,
}

fn steps() -> impl Strategy<Value = Step> {
    let k = 0u8..12;
    prop_oneof![
        6 => (k.clone(), documents()).prop_map(|(k, d)| Step::Put(k, d)),
        1 => k.clone().prop_map(Step::PutHuge),
        2 => (k.clone(), documents()).prop_map(|(k, d)| Step::Patch(k, d)),
        2 => k.clone().prop_map(Step::Delete),
        1 => Just(Step::Drop),
        3 => (k.clone(), documents()).prop_map(|(k, d)| Step::Remote(k, d)),
        1 => k.prop_map(Step::RemoteDelete),
        3 => (0..FIELD_SETS.len()).prop_map(Step::CreateIndex),
        1 => (0..FIELD_SETS.len()).prop_map(Step::DropIndex),
        3 => (1usize..5).prop_map(Step::Build),
        1 => Just(Step::Reopen),
    ]
}

fn conditions() -> impl Strategy<Value = Condition> {
    let path = prop::sample::select(vec!["a", "b", "m.c"]);
    let op = prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]);
    prop_oneof![
        4 => (path.clone(), op, values()).prop_map(|(p, o, v)| format!("{p} {o} {v}")),
        1 => (path.clone(), prop::collection::vec(values(), 0..3))
            .prop_map(|(p, vs)| format!("{p} in {}", Value::Array(vs))),
        1 => (path.clone(), prop::sample::select(vec!["", "a", "é"]))
            .prop_map(|(p, s)| format!("{p} prefix {}", json!(s))),
        1 => (path, any::<bool>()).prop_map(|(p, b)| format!("{p} exists {b}")),
    ]
    .prop_map(|text| Condition::parse(&text).unwrap())
}

fn queries() -> impl Strategy<Value = Query> {
    (
        prop::collection::vec(conditions(), 0..3),
        prop::option::of(prop::sample::select(vec!["a", "b", "m.c"])),
        any::<bool>(),
        1usize..6,
    )
        .prop_map(|(conditions, by, desc, limit)| Query {
            conditions,
            order: Order::parse(by, desc).unwrap(),
            limit,
            cursor: None,
            count: false,
        })
}

struct Replica {
    path: PathBuf,
    kind: EngineKind,
    db: Database,
    _dir: tempfile::TempDir,
}

impl Replica {
    fn new(kind: EngineKind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t.{}", kind.extension()));
        let db = Database::open(kind, &path).unwrap();
        Replica {
            path,
            kind,
            db,
            _dir: dir,
        }
    }

    fn reopen(&mut self) {
        let placeholder = Database::open(self.kind, &self._dir.path().join("other")).unwrap();
        drop(std::mem::replace(&mut self.db, placeholder));
        self.db = Database::open(self.kind, &self.path).unwrap();
    }
}

fn key(k: u8) -> Key {
    Key::parse(&format!("k{k:02}")).unwrap()
}

fn document(v: &Value) -> Document {
    Document::parse(&v.to_string(), usize::MAX).unwrap()
}

/// The oracle: every visible record, filtered and sorted by the query's
/// own rules.
fn oracle(reader: &Reader, q: &Query) -> Vec<Key> {
    let mut all: Vec<(Key, Value)> = reader
        .list(&coll(), "", None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|(k, text)| (k, syncdb_core::query::doc_from_text(&text).unwrap()))
        .filter(|(_, d)| q.conditions.iter().all(|c| c.matches(d)))
        .collect();
    all.sort_by(|a, b| q.order.compare((&a.0, &a.1), (&b.0, &b.1)));
    all.into_iter().map(|(k, _)| k).collect()
}

/// Every page of `q`, joined, following the cursors.
fn walk(reader: &Reader, q: &Query) -> (Vec<Key>, bool) {
    let mut q = q.clone();
    let mut keys = Vec::new();
    let mut used_index = false;
    loop {
        let found = reader.find(&coll(), &q).unwrap();
        used_index |= found.plan.index.is_some();
        assert!(found.hits.len() <= q.limit);
        keys.extend(found.hits.into_iter().map(|h| h.key));
        match found.next {
            Some(c) => q.cursor = Some(c),
            None => return (keys, used_index),
        }
        assert!(keys.len() <= 64, "pages never end");
    }
}

fn check(r: &Replica, queries: &[Query], used: &mut u64) {
    let reader = r.db.reader();
    for def in reader.indexes().unwrap() {
        let (_, problems) = reader.check_index(&def).unwrap();
        assert!(problems.is_empty(), "{}: {problems:?}", def.spec());
    }
    for q in queries {
        let expected = oracle(&reader, q);
        let (got, via_index) = walk(&reader, q);
        *used += u64::from(via_index);
        assert_eq!(got, expected, "{:?} on {}", q, r.kind);
        let mut counted = q.clone();
        counted.count = true;
        let n = reader.find(&coll(), &counted).unwrap().count;
        assert_eq!(n, Some(expected.len() as u64), "count of {q:?}");
    }
}

fn run(steps: Vec<Step>, queries: Vec<Query>) -> u64 {
    let mut used = 0;
    let mut here: Vec<Replica> = EngineKind::ALL.into_iter().map(Replica::new).collect();
    let mut remote = Replica::new(EngineKind::Redb);
    let mut t = T0;
    let mut sent = 0u64;
    for step in steps {
        t += 1;
        let local = |op: WriteOp, here: &mut Vec<Replica>| {
            for r in here.iter_mut() {
                r.db.commit(std::slice::from_ref(&op), t).unwrap();
            }
        };
        match step {
            Step::Put(k, d) => local(
                WriteOp::Put {
                    collection: coll(),
                    key: key(k),
                    doc: document(&d),
                },
                &mut here,
            ),
            Step::PutHuge(k) => local(
                WriteOp::Put {
                    collection: coll(),
                    key: key(k),
                    doc: Document::parse(r#"{"a":1e400,"b":[2,-1e999],"m":{"c":1}}"#, usize::MAX)
                        .unwrap(),
                },
                &mut here,
            ),
            Step::Patch(k, d) => local(
                WriteOp::Patch {
                    collection: coll(),
                    key: key(k),
                    part: document(&d),
                },
                &mut here,
            ),
            Step::Delete(k) => local(
                WriteOp::Delete {
                    collection: coll(),
                    key: key(k),
                },
                &mut here,
            ),
            Step::Drop => local(WriteOp::DropCollection { collection: coll() }, &mut here),
            Step::Remote(_, _) | Step::RemoteDelete(_) => {
                let op = match &step {
                    Step::Remote(k, d) => WriteOp::Put {
                        collection: coll(),
                        key: key(*k),
                        doc: document(d),
                    },
                    Step::RemoteDelete(k) => WriteOp::Delete {
                        collection: coll(),
                        key: key(*k),
                    },
                    _ => unreachable!(),
                };
                remote.db.commit(&[op], t).unwrap();
                let changes = remote.db.reader().changes_since(sent, usize::MAX).unwrap();
                let end = remote.db.high_seq();
                let items: Vec<_> = changes.into_iter().map(|c| c.item).collect();
                let site = remote.db.site();
                for r in &mut here {
                    r.db.apply_chunk(t, site, &items, end).unwrap();
                }
                sent = end;
            }
            Step::CreateIndex(i) => {
                let fields = FIELD_SETS[i].iter().map(|f| (*f).to_owned()).collect();
                for r in &mut here {
                    r.db.create_index(&coll(), Vec::clone(&fields)).unwrap();
                }
            }
            Step::DropIndex(i) => {
                let fields: Vec<String> = FIELD_SETS[i].iter().map(|f| (*f).to_owned()).collect();
                for r in &mut here {
                    r.db.drop_index(&coll(), &fields).unwrap();
                }
            }
            Step::Build(records) => {
                for r in &mut here {
                    r.db.build_indexes(records).unwrap();
                }
            }
            Step::Reopen => here.iter_mut().for_each(Replica::reopen),
        }
        for r in &here {
            check(r, &queries, &mut used);
        }
    }
    // Built to the end, every index serves.
    for r in &mut here {
        while r.db.build_indexes(3).unwrap() {}
        check(r, &queries, &mut used);
    }
    used
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(48)))]

    #[test]
    fn index_reads_equal_full_reads(
        steps in prop::collection::vec(steps(), 1..40),
        queries in prop::collection::vec(queries(), 1..6),
    ) {
        run(steps, queries);
    }
}

/// The property above must exercise indexes, not only fall back to scans.
#[test]
fn the_property_reads_through_indexes() {
    let steps = vec![
        Step::Put(1, json!({"a": 1, "b": "x"})),
        Step::Put(2, json!({"a": 2})),
        Step::CreateIndex(0),
        Step::CreateIndex(2),
        Step::Build(1),
        Step::Remote(3, json!({"a": 1, "b": "a"})),
        Step::Drop,
        Step::Put(4, json!({"a": 1})),
    ];
    let q = |c: &[&str], by: Option<&str>, desc| Query {
        conditions: c.iter().map(|c| Condition::parse(c).unwrap()).collect(),
        order: Order::parse(by, desc).unwrap(),
        limit: 1,
        cursor: None,
        count: false,
    };
    let used = run(
        steps,
        vec![
            q(&["a = 1"], None, false),
            q(&["a >= 1"], Some("a"), true),
            q(&["a in [1, 2]", "b exists"], None, false),
            q(&[], Some("a"), false),
        ],
    );
    assert!(used > 0, "no query used an index");
}
