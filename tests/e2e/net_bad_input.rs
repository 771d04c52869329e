//! Bad input on the hub's sync endpoint (RELIABILITY.md §3.3), sent by a
//! hand-driven WebSocket client to a real hub. Each row ends its connection
//! (with a `Reject` we decode, or a close) while the hub stays up, answers
//! `/healthz` and has written nothing.

use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use syncdb_core::record::RecordState;
use syncdb_core::sync::wire::{self, DbAd, Hello, MAX_FRAME_BYTES};
use syncdb_core::sync::{Message, PROTOCOL_VERSION, Reject};
use syncdb_core::{Document, Item, Key, Name, SiteId, Version};
use tungstenite::Message as Ws;

use crate::support::*;

pub(crate) type Socket = tungstenite::WebSocket<TcpStream>;

/// A WebSocket on the hub's `/v1/sync`, upgraded and nothing sent yet.
pub(crate) fn open(hub: &Hub) -> Socket {
    let stream = TcpStream::connect(&hub.addr).unwrap();
    // Longer than the hub's 10 s handshake deadline.
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let url = format!("ws://{}/v1/sync", hub.addr);
    let (ws, response) = tungstenite::client(url, stream).expect("WebSocket upgrade");
    assert_eq!(response.status(), 101);
    ws
}

pub(crate) fn frame(msg: &Message) -> Ws {
    Ws::Binary(wire::encode(msg).unwrap().into())
}

pub(crate) fn name(s: &str) -> Name {
    Name::parse_as("database name", s).unwrap()
}

fn hello(version: u32, folder: &str, token: &str) -> Message {
    Message::Hello(Hello {
        version,
        folder: folder.into(),
        token: token.into(),
        databases: vec![],
        schema_format: syncdb_core::schema::FORMAT,
    })
}

/// A WebSocket frame as raw bytes: FIN set, masked with a zero key (so the
/// payload goes as is), declaring `len` bytes whatever `payload` holds.
fn raw_frame(opcode: u8, masked: bool, len: u64, payload: &[u8]) -> Vec<u8> {
    let mask = if masked { 0x80 } else { 0 };
    let mut out = vec![0x80 | opcode];
    match len {
        0..=125 => out.push(mask | len as u8),
        126..=0xffff => {
            out.push(mask | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&[0; 4]);
    }
    out.extend_from_slice(payload);
    out
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    Rejected(Reject),
    /// Closed (close frame, EOF or reset) without a `Reject`.
    Closed(String),
}

/// Reads until the hub ends the connection; fails if it does not within
/// the read timeout. Messages before the end (`Welcome`, `Want`) are skipped.
pub(crate) fn end_of(ws: &mut Socket) -> End {
    loop {
        match ws.read() {
            Ok(Ws::Binary(bytes)) => match wire::decode(&bytes) {
                Ok(Message::Reject(r)) => return End::Rejected(r),
                Ok(_) => continue,
                Err(e) => panic!("the hub sent an undecodable frame: {e}"),
            },
            Ok(Ws::Close(c)) => return End::Closed(format!("close frame {c:?}")),
            Ok(_) => continue,
            // A signal to this test process (others run beside it under
            // `cargo test`) is not the hub ending anything.
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::Interrupted => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                panic!("the hub did not end the connection")
            }
            Err(e) => return End::Closed(e.to_string()),
        }
    }
}

/// What a row sends.
enum Send {
    /// WebSocket messages, from the first.
    Messages(Vec<Ws>),
    /// A valid `Hello` (answered by `Welcome`), then these messages.
    AfterHandshake(String, Vec<Ws>),
    /// Raw bytes on the upgraded TCP stream, then our write side is shut.
    RawThenEof(Vec<u8>),
}

/// What ends the row's connection.
enum Expect {
    Rejected(fn(&Reject) -> bool),
    /// The hub ends the connection; a `Reject`, if any, is a protocol error.
    Ends,
}

struct Row {
    what: &'static str,
    send: Send,
    expect: Expect,
}

fn rows(hub: &Hub, token: &str, read_only: &str) -> Vec<Row> {
    use Expect::*;
    use Send::*;
    let folder = hub.folder_id.as_str();
    let protocol = |r: &Reject| matches!(r, Reject::Protocol(_));
    let unauthorized = |r: &Reject| matches!(r, Reject::Unauthorized);
    let good_hello = wire::encode(&hello(PROTOCOL_VERSION, folder, token)).unwrap();

    // A Hello whose database name is `..`: made by editing a valid frame, as
    // the encoder will not produce one.
    let with_db = wire::encode(&Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        folder: folder.into(),
        token: token.into(),
        databases: vec![DbAd {
            rejoin: None,
            name: name("zz"),
            site: SiteId([7; 16]),
            schema: None,
        }],
        schema_format: syncdb_core::schema::FORMAT,
    }))
    .unwrap();
    let at = with_db
        .windows(3)
        .position(|w| w == [2, b'z', b'z'])
        .unwrap();
    let mut dotdot_db = with_db.clone();
    dotdot_db[at + 1..at + 3].copy_from_slice(b"..");
    assert!(wire::decode(&with_db).is_ok() && wire::decode(&dotdot_db).is_err());

    // The same token id with its last secret digit changed.
    let last = if token.ends_with('0') { "1" } else { "0" };
    let wrong_secret = format!("{}{last}", &token[..token.len() - 1]);
    let mut trailing = good_hello.clone();
    trailing.push(0);
    let record = Item::Record {
        collection: name("person"),
        key: Key::parse("pushed").unwrap(),
        state: RecordState::put(
            &Document::parse(r#"{"evil":true}"#, 1000).unwrap(),
            Version {
                hlc: 1,
                site: SiteId([9; 16]),
            },
        ),
    };
    let chunk = |db: &str| Message::Chunk {
        db: name(db),
        items: vec![record.clone()],
        end_seq: 1,
        remaining: 0,
    };
    vec![
        Row {
            what: "wrong protocol version",
            send: Messages(vec![frame(&hello(PROTOCOL_VERSION + 1, folder, token))]),
            expect: Rejected(|r| {
                *r == Reject::Version {
                    ours: PROTOCOL_VERSION,
                    theirs: PROTOCOL_VERSION + 1,
                }
            }),
        },
        Row {
            what: "missing token",
            send: Messages(vec![frame(&hello(PROTOCOL_VERSION, folder, ""))]),
            expect: Rejected(unauthorized),
        },
        Row {
            what: "wrong token",
            send: Messages(vec![frame(&hello(
                PROTOCOL_VERSION,
                folder,
                "sdb_00000000_ffff",
            ))]),
            expect: Rejected(unauthorized),
        },
        Row {
            what: "right token id, wrong secret",
            send: Messages(vec![frame(&hello(PROTOCOL_VERSION, folder, &wrong_secret))]),
            expect: Rejected(unauthorized),
        },
        Row {
            what: "unknown folder id",
            send: Messages(vec![frame(&hello(
                PROTOCOL_VERSION,
                "0badf00d-0000-4000-8000-000000000000",
                token,
            ))]),
            expect: Rejected(
                |r| matches!(r, Reject::UnknownFolder(id) if id.starts_with("0badf00d")),
            ),
        },
        Row {
            what: "folder id with a path",
            send: Messages(vec![frame(&hello(PROTOCOL_VERSION, "../../etc", token))]),
            expect: Rejected(|r| matches!(r, Reject::UnknownFolder(_))),
        },
        Row {
            what: "database name .. in Hello",
            send: Messages(vec![Ws::Binary(dotdot_db.into())]),
            expect: Rejected(protocol),
        },
        Row {
            what: "a Chunk before Hello",
            send: Messages(vec![frame(&chunk("crm"))]),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("expected Hello"))),
        },
        Row {
            what: "bytes that do not decode",
            send: Messages(vec![Ws::Binary(vec![1, 200, 3, 0xff].into())]),
            expect: Rejected(protocol),
        },
        Row {
            what: "unknown frame format",
            send: Messages(vec![Ws::Binary(vec![9, 0].into())]),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("frame format"))),
        },
        Row {
            what: "empty binary message",
            send: Messages(vec![Ws::Binary(Vec::new().into())]),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("empty"))),
        },
        Row {
            what: "truncated frame",
            send: Messages(vec![Ws::Binary(
                good_hello[..good_hello.len() / 2].to_vec().into(),
            )]),
            expect: Rejected(protocol),
        },
        Row {
            what: "trailing bytes after a valid Hello",
            send: Messages(vec![Ws::Binary(trailing.into())]),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("trailing"))),
        },
        Row {
            what: "text frame",
            send: Messages(vec![Ws::Text("hello".into())]),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("text frame"))),
        },
        Row {
            what: "second Hello (replayed handshake)",
            send: AfterHandshake(token.into(), vec![Ws::Binary(good_hello.clone().into())]),
            expect: Rejected(
                |r| matches!(r, Reject::Protocol(m) if m.contains("second handshake")),
            ),
        },
        Row {
            what: "a Chunk for a database not asked for",
            send: AfterHandshake(token.into(), vec![frame(&chunk("other"))]),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("not asked for"))),
        },
        Row {
            what: "a read-only token pushing",
            send: AfterHandshake(read_only.into(), vec![frame(&chunk("crm"))]),
            expect: Rejected(|r| matches!(r, Reject::Forbidden(_))),
        },
        Row {
            what: "unmasked client frame",
            send: RawThenEof(raw_frame(0x2, false, good_hello.len() as u64, &good_hello)),
            expect: Rejected(|r| matches!(r, Reject::Protocol(m) if m.contains("unmasked"))),
        },
        Row {
            what: "WebSocket frame cut short, then EOF",
            send: RawThenEof(raw_frame(0x2, true, 100, &good_hello[..10])),
            expect: Ends,
        },
    ]
}

/// What must not change on the hub, and its daemon must be the same process.
fn snapshot(hub: &Hub) -> (Vec<(String, String)>, Option<i32>) {
    (hub.home.digests(), hub.home.daemon_pid())
}

#[track_caller]
fn assert_up(hub: &Hub) {
    assert_eq!(
        http_get(&hub.addr, "/healthz"),
        ("HTTP/1.1 200 OK".into(), "ok\n".into())
    );
}

pub(crate) fn token(path: std::path::PathBuf) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

#[test]
fn bad_frames_end_the_session_and_leave_the_hub_up() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"n":1}"#);
    let rw = token(hub.token_file(&[]));
    let ro = token(hub.token_file(&["--read-only"]));
    let before = snapshot(&hub);
    assert!(before.1.is_some());

    for row in rows(&hub, &rw, &ro) {
        let mut ws = open(&hub);
        match row.send {
            Send::Messages(msgs) => {
                for m in msgs {
                    ws.send(m).unwrap();
                }
            }
            Send::AfterHandshake(token, msgs) => {
                ws.send(frame(&hello(PROTOCOL_VERSION, &hub.folder_id, &token)))
                    .unwrap();
                let Ws::Binary(welcome) = ws.read().unwrap() else {
                    panic!("{}: a binary answer", row.what)
                };
                let welcome = wire::decode(&welcome).unwrap();
                assert!(
                    matches!(welcome, Message::Welcome(_)),
                    "{}: {welcome:?}",
                    row.what
                );
                for m in msgs {
                    ws.send(m).unwrap();
                }
            }
            Send::RawThenEof(bytes) => {
                ws.get_mut().write_all(&bytes).unwrap();
                ws.get_mut().shutdown(Shutdown::Write).unwrap();
            }
        }
        let end = end_of(&mut ws);
        match (row.expect, &end) {
            (Expect::Rejected(ok), End::Rejected(r)) => assert!(ok(r), "{}: {r:?}", row.what),
            (Expect::Ends, End::Closed(_)) => {}
            (Expect::Ends, End::Rejected(r)) => {
                assert!(matches!(r, Reject::Protocol(_)), "{}: {r:?}", row.what)
            }
            (Expect::Rejected(_), End::Closed(why)) => {
                panic!("{}: closed without a reason: {why}", row.what)
            }
        }
        assert_up(&hub);
        assert_eq!(snapshot(&hub), before, "{}: nothing changed", row.what);
    }

    // Still serving real sessions: a clone gets the hub's data.
    let client = hub.client("");
    assert_eq!(converged(&[&hub.home, &client]), before.0);
    assert_eq!(snapshot(&hub), before);
}

/// A frame over `wire::MAX_FRAME_BYTES`: refused at its header, before the
/// hub reads (or allocates) the payload; the hub stays up.
#[test]
fn oversized_frames_are_refused_without_harm() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let before = snapshot(&hub);

    // A header declaring 65 MiB, and nothing after it.
    let mut ws = open(&hub);
    let header = raw_frame(0x2, true, 65 << 20, &[]);
    ws.get_mut().write_all(&header).unwrap();
    let started = Instant::now();
    let end = end_of(&mut ws);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed at once, not after a deadline: {end:?}"
    );
    match end {
        End::Rejected(Reject::Protocol(m)) => assert!(m.contains("too long"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_up(&hub);

    // 65 MiB really sent as one message.
    let mut ws = open(&hub);
    let big = vec![0u8; (65 << 20).max(MAX_FRAME_BYTES + 1)];
    // The hub refuses at the header and resets the connection while we are
    // still writing; its reason may or may not reach us before the reset.
    let _ = ws.send(Ws::Binary(big.into()));
    let end = end_of(&mut ws);
    if let End::Rejected(r) = &end {
        assert!(matches!(r, Reject::Protocol(_)), "{r:?}");
    }
    assert_up(&hub);
    assert_eq!(snapshot(&hub), before);
}

/// A peer that upgrades and then says nothing is refused at the handshake
/// deadline (10 s), with a reason.
#[test]
fn a_silent_peer_is_refused_at_the_handshake_deadline() {
    let hub = Hub::new("redb");
    let mut ws = open(&hub);
    let started = Instant::now();
    let end = end_of(&mut ws);
    let waited = started.elapsed();
    match end {
        End::Rejected(Reject::Protocol(m)) => assert!(m.contains("handshake deadline"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(14),
        "{waited:?}"
    );
    assert_up(&hub);
}
