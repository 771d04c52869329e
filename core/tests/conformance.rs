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
//!
//! The scenarios themselves are in `conformance/scenarios.rs`, which the
//! PostgreSQL store's suite (`daemon/pg/tests/conformance.rs`) runs too.

#[macro_use]
#[path = "conformance/scenarios.rs"]
mod scenarios;

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use scenarios::*;
use syncdb_core::{Change, Document, EngineKind, Item, OpOutcome, SiteId, Version, WriteOp};

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

with_scenarios!(for_each_engine, check_file_passes_on_a_closed_file);

/// Only a file engine has a file to check.
fn check_file_passes_on_a_closed_file(kind: EngineKind) {
    let mut r = Replica::new(kind);
    for i in 0..50 {
        r.put("person", &i.to_string(), &format!(r#"{{"i":{i}}}"#));
    }
    r.drop_collection("person");
    r.put("person", "1", "{}");
    r.close();
    kind.check_file(r.file().unwrap()).unwrap();
    r.reopen();
    assert_eq!(r.keys("person"), ["1"]);

    // The check can fail: a file of garbage is refused.
    let garbage = r
        .dir()
        .unwrap()
        .join(format!("garbage.{}", kind.extension()));
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
        let conn = Connection::open(r.file().unwrap()).unwrap();
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
