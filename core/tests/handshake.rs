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
