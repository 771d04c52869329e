//! The order of what a hub says about a database it did not have at the
//! handshake. Told "no replica here" at first, the client keys nothing by
//! the hub's site; once another session's push made the database, the hub
//! must name its replica before it sends a chunk of it, whichever comes
//! first: the commit that made it, or the client's request for its side.
//! (Many clients of a new database connecting at once met the second way:
//! "Chunk … before the peer named its replica".)

use std::path::Path;

use syncdb_core::store::EngineKind;
use syncdb_core::sync::session::{Action, Local};
use syncdb_core::sync::{Message, Session, SessionConfig};
use syncdb_core::{Database, Document, Key, Name, Reader, SiteId, WriteOp};

struct Node {
    dir: std::path::PathBuf,
    db: Option<Database>,
}

fn crm() -> Name {
    Name::parse_as("database", "crm").unwrap()
}

impl Node {
    fn new(dir: &Path) -> Node {
        Node {
            dir: dir.to_owned(),
            db: None,
        }
    }

    fn put(&mut self, key: &str) {
        let path = self.dir.join("crm.redb");
        let db = self
            .db
            .get_or_insert_with(|| Database::open(EngineKind::Redb, &path).unwrap());
        let op = WriteOp::Put {
            collection: Name::parse_as("collection", "people").unwrap(),
            key: Key::parse(key).unwrap(),
            doc: Document::parse(r#"{"a":1}"#, 1 << 20).unwrap(),
        };
        db.commit(&[op], syncdb_core::version::wall_clock_ms())
            .unwrap();
    }
}

impl Local for Node {
    fn databases(&mut self) -> Result<Vec<(Name, SiteId)>, String> {
        Ok(self.db.iter().map(|d| (crm(), d.site())).collect())
    }

    fn open(&mut self, db: &Name) -> Result<Option<Reader>, String> {
        Ok(self
            .db
            .as_ref()
            .filter(|_| *db == crm())
            .map(Database::reader))
    }

    fn now_ms(&self) -> u64 {
        syncdb_core::version::wall_clock_ms()
    }
}

fn sent(actions: Vec<Action>) -> Vec<Message> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send(m) => Some(m),
            Action::Close(r) | Action::Closed(r) => panic!("the session ended: {r}"),
            _ => None,
        })
        .collect()
}

#[test]
fn a_hub_names_a_database_made_after_the_handshake_before_its_chunks() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut client, mut hub) = (Node::new(dirs.0.path()), Node::new(dirs.1.path()));
    client.put("mine");
    let cfg = SessionConfig::default();
    let (mut c, first) = Session::connect(cfg, "folder", "token", &mut client);
    let Some(Message::Hello(hello)) = sent(first).into_iter().next() else {
        panic!("a client starts with Hello");
    };
    // The hub has no `crm` yet: it says so.
    let (mut h, accepted) = Session::accept(cfg, &hello, false, &mut hub);
    let to_client = sent(accepted);
    assert!(
        to_client
            .iter()
            .any(|m| matches!(m, Message::Want { site, .. } if *site == SiteId::default())),
        "{to_client:?}"
    );
    // Another session's push makes `crm` on the hub now, before this
    // session hears of that commit.
    hub.put("theirs");
    let mut to_hub = Vec::new();
    for m in to_client {
        to_hub.extend(sent(c.on_message(m, &mut client)));
    }
    let mut to_client = Vec::new();
    for m in to_hub {
        to_client.extend(sent(h.on_message(m, &mut hub)));
    }
    let hub_site = hub.db.as_ref().unwrap().site();
    let named = to_client
        .iter()
        .position(|m| matches!(m, Message::Want { site, .. } if *site == hub_site));
    let chunk = to_client
        .iter()
        .position(|m| matches!(m, Message::Chunk { .. }));
    assert!(chunk.is_some(), "the hub sends its side: {to_client:?}");
    assert!(
        named.is_some_and(|n| Some(n) < chunk),
        "the hub named its replica before its chunk: {to_client:?}"
    );
    // And the client takes all of it.
    for m in to_client {
        for action in c.on_message(m, &mut client) {
            if let Action::Close(r) | Action::Closed(r) = action {
                panic!("the client ended the session: {r}");
            }
        }
    }
}

/// A hub's writer merges the chunks several sessions bring in one
/// transaction: each peer's checkpoint is its own chunk's end, each chunk's
/// echoes are its own, and the result is what applying them one by one
/// gives.
#[test]
fn chunks_of_several_peers_apply_in_one_transaction_as_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b) = (
        Node::new(&dir.path().join("a")),
        Node::new(&dir.path().join("b")),
    );
    std::fs::create_dir_all(&a.dir).unwrap();
    std::fs::create_dir_all(&b.dir).unwrap();
    a.put("from-a");
    a.put("both");
    b.put("from-b");
    b.put("both");
    let feed = |n: &Node| {
        let db = n.db.as_ref().unwrap();
        let items: Vec<_> = db
            .reader()
            .changes_since(0, 100)
            .unwrap()
            .into_iter()
            .map(|c| c.item)
            .collect();
        (db.site(), items, db.high_seq())
    };
    let (site_a, items_a, end_a) = feed(&a);
    let (site_b, items_b, end_b) = feed(&b);
    let now = syncdb_core::version::wall_clock_ms();
    let open = |name: &str| Database::open(EngineKind::Redb, &dir.path().join(name)).unwrap();

    let mut grouped = open("grouped.redb");
    let chunks = [
        (site_a, items_a.as_slice(), end_a),
        (site_b, items_b.as_slice(), end_b),
    ];
    let (commit, echoes) = grouped.apply_chunks(now, &chunks).unwrap();
    assert_eq!(echoes.len(), 2);
    let mut alone = open("alone.redb");
    let (_, echo_a) = alone
        .apply_chunk_from(now, site_a, &items_a, end_a, None)
        .unwrap();
    let (_, echo_b) = alone
        .apply_chunk_from(now, site_b, &items_b, end_b, None)
        .unwrap();
    assert_eq!(echoes[0].len(), echo_a.len(), "{echoes:?} {echo_a:?}");
    assert_eq!(echoes[1].len(), echo_b.len(), "{echoes:?} {echo_b:?}");
    assert!(commit.high_seq > 0);
    for (site, end) in [(site_a, end_a), (site_b, end_b)] {
        assert_eq!(grouped.reader().checkpoint(site).unwrap(), end);
        assert_eq!(alone.reader().checkpoint(site).unwrap(), end);
    }
    assert_eq!(
        grouped.reader().digest().unwrap(),
        alone.reader().digest().unwrap()
    );
    // A chunk that carries schema versions is never grouped.
    assert!(Database::groupable(&items_a));
}
