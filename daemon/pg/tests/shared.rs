//! What only a store several hubs share can get wrong, against a real
//! server: two stores (two hubs) writing one database at once, wake-ups
//! from one hub's commits to another, tokens and replica owners they share,
//! and a server that goes away and comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use syncdb_core::store::StoreError;
use syncdb_core::{Database, Document, Key, Name, WriteOp};
use syncdb_pg::PgStore;
use syncdb_pg::access::TokenRow;
use syncdb_pg::cluster::TestServer;
use syncdb_pg::listen::Wake;
use tokio::sync::mpsc::UnboundedReceiver;

const T0: u64 = 1_700_000_000_000;

fn put(db: &mut Database, key: &str, now: u64) -> Result<u64, StoreError> {
    let op = WriteOp::Put {
        collection: Name::parse_as("collection", "person").unwrap(),
        key: Key::parse(key).unwrap(),
        doc: Document::parse(r#"{"n":1}"#, usize::MAX).unwrap(),
    };
    db.commit(&[op], now).map(|(commit, _)| commit.high_seq)
}

fn open(store: &PgStore) -> Database {
    Database::from_engine(Arc::new(store.open("folder", "crm").unwrap())).unwrap()
}

/// Two hubs commit to one database at once while a third reads the feed
/// as it grows: every put gets its own seq, none is lost, and the reader
/// never sees a seq before every lower one is visible.
#[test]
fn two_stores_writing_one_database_leave_no_gap_a_reader_could_skip() {
    let Some(server) = TestServer::get() else {
        return;
    };
    const EACH: u64 = 150;
    let hubs: Vec<PgStore> = (0..3)
        .map(|_| PgStore::connect(&server.url()).unwrap())
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let db = open(&hubs[2]);
        let done = done.clone();
        std::thread::spawn(move || {
            let reader = db.reader();
            let mut seen = 0u64;
            let mut reads = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let changes = reader.changes_since(seen, usize::MAX).unwrap();
                for change in &changes {
                    assert_eq!(change.seq, seen + 1, "a reader saw a gap");
                    seen = change.seq;
                }
                reads += 1;
                if finished && changes.is_empty() {
                    return (seen, reads);
                }
            }
        })
    };
    let writers: Vec<_> = hubs[..2]
        .iter()
        .enumerate()
        .map(|(w, store)| {
            let mut db = open(store);
            std::thread::spawn(move || {
                for i in 0..EACH {
                    put(&mut db, &format!("{w}-{i}"), T0 + i).unwrap();
                }
                db
            })
        })
        .collect();
    let mut dbs: Vec<Database> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    done.store(true, Ordering::SeqCst);
    let (seen, reads) = reader.join().unwrap();
    assert_eq!(seen, 2 * EACH, "every put has its seq ({reads} reads)");
    let feed = dbs[0].reader().changes_since(0, usize::MAX).unwrap();
    assert_eq!(feed.len() as u64, 2 * EACH);
    // Each writer goes on from where the other left it.
    let next = put(&mut dbs[0], "after", T0 + 10_000).unwrap();
    assert_eq!(next, 2 * EACH + 1);
    assert_eq!(put(&mut dbs[1], "after-2", T0 + 10_001).unwrap(), next + 1);
    assert_eq!(
        dbs[0].reader().digest().unwrap(),
        dbs[1].reader().digest().unwrap()
    );
}

/// While the server is down a write fails with the server's reason and
/// nothing is committed; once it is back the same handles write again.
#[test]
fn a_write_while_the_server_is_down_fails_and_commits_nothing() {
    let Some(server) = TestServer::own() else {
        return;
    };
    let store = PgStore::connect(&server.url()).unwrap();
    let mut db = open(&store);
    put(&mut db, "before", T0).unwrap();
    let cluster = server.cluster().expect("a cluster of its own");
    cluster.stop().unwrap();
    let err = put(&mut db, "during", T0 + 1).unwrap_err();
    assert!(matches!(err, StoreError::Server(_)), "{err:?}");
    assert!(!err.is_damage(), "a server away is not damage: {err}");
    assert!(db.reader().record_count().is_err());
    cluster.restart().unwrap();
    assert_eq!(put(&mut db, "after", T0 + 2).unwrap(), 2);
    let keys: Vec<String> = db
        .reader()
        .changes_since(0, usize::MAX)
        .unwrap()
        .iter()
        .map(|c| match &c.item {
            syncdb_core::Item::Record { key, .. } => key.as_str().to_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(keys, ["before", "after"]);
}

/// The next wake-up within `secs`, if any.
fn next_wake(wakes: &mut UnboundedReceiver<Wake>, secs: u64) -> Option<Wake> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Ok(wake) = wakes.try_recv() {
            return Some(wake);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A commit through one hub wakes the listener of another; a transaction
/// that rolls back says nothing; a listener whose server restarted says
/// it resumed (what was committed meanwhile was not announced) and hears
/// commits again.
#[test]
fn commits_on_one_hub_wake_the_listeners_of_another_across_a_restart() {
    let Some(server) = TestServer::own() else {
        return;
    };
    let hub1 = PgStore::connect(&server.url()).unwrap();
    let hub2 = PgStore::connect(&server.url()).unwrap();
    let mut wakes = hub2.listen();
    assert_eq!(next_wake(&mut wakes, 10), Some(Wake::Resumed));
    let mut db = open(&hub1);
    put(&mut db, "1", T0).unwrap();
    let crm = Wake::Committed {
        folder: "folder".into(),
        db: "crm".into(),
    };
    assert_eq!(next_wake(&mut wakes, 10), Some(crm.clone()));
    let refused = db.transact(T0 + 1, &mut |_| Err(StoreError::Closed));
    assert!(refused.is_err());
    assert_eq!(
        next_wake(&mut wakes, 1),
        None,
        "a rollback announces nothing"
    );

    let cluster = server.cluster().unwrap();
    cluster.stop().unwrap();
    cluster.restart().unwrap();
    assert_eq!(next_wake(&mut wakes, 15), Some(Wake::Resumed));
    put(&mut db, "2", T0 + 2).unwrap();
    assert_eq!(next_wake(&mut wakes, 10), Some(crm));
}

/// Writes a PostgreSQL transaction holds back until its end (read ahead,
/// sent in one statement) read back within it as a file's do: the same
/// transactions on a redb file and on the server leave the same feed and
/// the same documents.
#[test]
fn a_transaction_reads_its_own_held_back_writes_as_a_file_does() {
    let Some(server) = TestServer::get() else {
        return;
    };
    let store = PgStore::connect(&server.url()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = Database::open(syncdb_core::EngineKind::Redb, &dir.path().join("crm.redb")).unwrap();
    let doc = |json: &str| Document::parse(json, usize::MAX).unwrap();
    let person = || Name::parse_as("collection", "person").unwrap();
    let key = |k: &str| Key::parse(k).unwrap();
    let put = |k: &str, json: &str| WriteOp::Put {
        collection: person(),
        key: key(k),
        doc: doc(json),
    };
    let patch = |k: &str, json: &str| WriteOp::Patch {
        collection: person(),
        key: key(k),
        part: doc(json),
    };
    let delete = |k: &str| WriteOp::Delete {
        collection: person(),
        key: key(k),
    };
    let transactions = [
        vec![
            put("a", r#"{"x":1}"#),
            patch("a", r#"{"y":2}"#),
            delete("b"),
        ],
        vec![
            put("b", "{}"),
            delete("a"),
            put("a", r#"{"w":3}"#),
            patch("b", r#"{"v":1}"#),
        ],
        vec![
            put("c", "{}"),
            WriteOp::DropCollection {
                collection: person(),
            },
            put("d", r#"{"after":"drop"}"#),
            patch("d", r#"{"after":null}"#),
        ],
        vec![
            delete("d"),
            put("e", "{}"),
            delete("e"),
            put("e", r#"{"e":1}"#),
        ],
    ];
    let mut dbs = [file, open(&store)];
    for (t, ops) in transactions.iter().enumerate() {
        let outcomes: Vec<_> = dbs
            .iter_mut()
            .map(|db| db.commit(ops, T0 + t as u64).unwrap().1)
            .collect();
        let kinds = |o: &Vec<syncdb_core::OpOutcome>| -> Vec<String> {
            o.iter()
                .map(|o| {
                    format!("{o:?}")
                        .split(['{', '('])
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(kinds(&outcomes[0]), kinds(&outcomes[1]), "transaction {t}");
    }
    let seen = |db: &Database| {
        let reader = db.reader();
        let feed: Vec<(u64, Option<String>)> = reader
            .changes_since(0, usize::MAX)
            .unwrap()
            .iter()
            .map(|c| match &c.item {
                syncdb_core::Item::Record { key, state, .. } => {
                    (c.seq, Some(format!("{key}={:?}", state.visible_json())))
                }
                _ => (c.seq, None),
            })
            .collect();
        let docs = reader.list(&person(), "", None, usize::MAX).unwrap();
        (feed, docs, reader.collections().unwrap())
    };
    assert_eq!(seen(&dbs[0]), seen(&dbs[1]));
    let (_, docs, _) = seen(&dbs[1]);
    assert_eq!(docs, [(key("e"), r#"{"e":1}"#.to_owned())]);
}

/// A token made through one hub opens the other's folders; two hubs
/// claiming one replica for two tokens at once get one owner; a revocation
/// through one hub is in effect on the other at its commit, frees the
/// token's replicas, and wakes the other's listener.
#[test]
fn tokens_and_replica_owners_are_shared_and_a_revocation_reaches_every_hub() {
    let Some(server) = TestServer::get() else {
        return;
    };
    let hub1 = PgStore::connect(&server.url()).unwrap();
    let hub2 = PgStore::connect(&server.url()).unwrap();
    let token = |id: &str| TokenRow {
        id: id.into(),
        hash: format!("hash-of-{id}"),
        folder: None,
        read_only: false,
        created_ms: T0,
    };
    hub1.token_create(&token("alice")).unwrap();
    hub1.token_create(&token("mallory")).unwrap();
    assert!(
        hub2.token_create(&token("alice")).is_err(),
        "ids are unique"
    );
    assert_eq!(hub2.token("alice").unwrap(), Some(token("alice")));
    assert_eq!(hub2.tokens().unwrap().len(), 2);

    // Racing claims of one replica: one owner, the same answer on both.
    let claims: Vec<_> = [(hub1.clone(), "alice"), (hub2.clone(), "mallory")]
        .into_iter()
        .map(|(hub, who)| std::thread::spawn(move || hub.claim("f", "crm", "s1", who).unwrap()))
        .collect();
    let answers: Vec<_> = claims.into_iter().map(|c| c.join().unwrap()).collect();
    assert_eq!(
        answers.iter().filter(|a| a.is_ok()).count(),
        1,
        "{answers:?}"
    );
    let owners = hub1.owners("f", "crm").unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(hub2.owners("f", "crm").unwrap(), owners);
    let owner = owners[0].1.clone();

    let mut wakes = hub1.listen();
    assert_eq!(next_wake(&mut wakes, 10), Some(Wake::Resumed));
    assert!(hub2.token_revoke(&owner).unwrap());
    assert!(!hub2.token_revoke(&owner).unwrap(), "gone already");
    assert_eq!(hub1.token(&owner).unwrap(), None);
    assert_eq!(hub1.owners("f", "crm").unwrap(), []);
    assert_eq!(
        next_wake(&mut wakes, 10),
        Some(Wake::Revoked {
            token: owner.clone()
        })
    );
    // The replica is free for the other token now; a revoked one claims nothing.
    let other = if owner == "alice" { "mallory" } else { "alice" };
    assert_eq!(hub1.claim("f", "crm", "s1", other).unwrap(), Ok(()));
    assert!(hub1.claim("f", "crm", "s2", &owner).is_err());
}
