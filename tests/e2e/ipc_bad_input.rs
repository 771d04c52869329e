//! Bad input on the daemon's local socket (RELIABILITY.md §3.2), sent as raw
//! bytes to the real daemon. Each row says what comes back (a JSON-RPC error
//! with its code and the id echoed exactly, or an error and a close); after
//! each row nothing stored has changed and the daemon still answers.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// Records seeded in `crm/person`: enough that a replayed `watch` is still
/// streaming when its client goes away.
const SEEDED: usize = 2000;

/// A raw client connection to the daemon's socket.
struct Conn {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Conn {
    fn open(home: &Home) -> Conn {
        let stream = UnixStream::connect(home.socket()).expect("connect to the daemon");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Conn { stream, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send to the daemon");
    }

    /// The next message from the daemon; `None` once it closed the connection.
    #[track_caller]
    fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&line).expect("the daemon sends JSON lines")),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => None,
            Err(e) => panic!("no answer from the daemon: {e}"),
        }
    }

    #[track_caller]
    fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send(format!("{line}\n").as_bytes());
        let reply = self.next().expect("an answer");
        assert_eq!(reply["id"], id, "{reply}");
        reply
    }

    /// Proves the connection is still served: `hello` gets a result.
    #[track_caller]
    fn still_served(&mut self) {
        let reply = self.call(
            99,
            "hello",
            json!({"client_version": "test", "ipc_version": 1}),
        );
        assert!(reply["result"]["pid"].is_u64(), "{reply}");
    }
}

/// What a row must give.
enum Expect {
    /// One error response with this code and this id (echoed exactly), whose
    /// message mentions `says`; the connection stays open and served.
    Error {
        code: i64,
        id: Value,
        says: &'static str,
    },
    /// An error response (id null) that mentions `says`, then the daemon
    /// closes this connection.
    ErrorThenClose { code: i64, says: &'static str },
}

struct Row {
    what: &'static str,
    send: Vec<u8>,
    expect: Expect,
}

fn line(text: &str) -> Vec<u8> {
    format!("{text}\n").into_bytes()
}

/// A `put` request line with these names (JSON-escaped by the caller).
fn put_line(db: &str, collection: &str, key: &str) -> Vec<u8> {
    line(&format!(
        r#"{{"jsonrpc":"2.0","id":5,"method":"put","params":{{"folder":null,"db":"{db}","collection":"{collection}","key":"{key}","doc":"{{}}"}}}}"#
    ))
}

/// Deterministic pseudo-random bytes without `\n` (xorshift64).
fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match (seed >> 24) as u8 {
                b'\n' => 0xfe,
                b => b,
            }
        })
        .collect()
}

fn rows() -> Vec<Row> {
    use Expect::*;
    let parse = |says| Error {
        code: -32700,
        id: Value::Null,
        says,
    };
    let mut random = random_bytes(70 * 1024, 0x5eed);
    random.push(b'\n');
    let mut deep = vec![b'['; 100_000];
    deep.push(b'\n');
    // 65 MiB without a newline: over the 64 MiB line cap, which is the floor
    // of `Config::max_line_bytes()` whatever `max_document_bytes` is.
    let over_cap = vec![b'a'; 65 << 20];
    vec![
        Row {
            what: "garbage bytes",
            send: b"\x00\xff\xfe\x80garbage\x01\n".to_vec(),
            expect: parse("not a JSON-RPC 2.0 request"),
        },
        Row {
            what: "70 KB of random bytes",
            send: random,
            expect: parse("not a JSON-RPC 2.0 request"),
        },
        Row {
            what: "100,000 nested arrays (recursion limit, not a stack overflow)",
            send: deep,
            expect: parse("not a JSON-RPC 2.0 request"),
        },
        Row {
            what: "empty array",
            send: line("[]"),
            expect: Error {
                code: -32600,
                id: Value::Null,
                says: "not a JSON-RPC 2.0 request",
            },
        },
        Row {
            what: "empty object",
            send: line("{}"),
            expect: Error {
                code: -32600,
                id: Value::Null,
                says: "missing field `jsonrpc`",
            },
        },
        Row {
            what: "no id",
            send: line(r#"{"jsonrpc":"2.0","method":"status"}"#),
            expect: Error {
                code: -32600,
                id: Value::Null,
                says: "missing field `id`",
            },
        },
        Row {
            what: "jsonrpc 1.0",
            send: line(r#"{"jsonrpc":"1.0","id":1,"method":"hello"}"#),
            expect: Error {
                code: -32600,
                id: json!(1),
                says: "jsonrpc must be \"2.0\"",
            },
        },
        Row {
            what: "jsonrpc as a number",
            send: line(r#"{"jsonrpc":2,"id":1,"method":"hello"}"#),
            expect: Error {
                code: -32600,
                id: Value::Null,
                says: "not a JSON-RPC 2.0 request",
            },
        },
        Row {
            what: "unknown method",
            send: line(r#"{"jsonrpc":"2.0","id":2,"method":"frobnicate"}"#),
            expect: Error {
                code: -32601,
                id: json!(2),
                says: "unknown method \"frobnicate\"",
            },
        },
        Row {
            what: "put: database name ..",
            send: put_line("..", "person", "k"),
            expect: Error {
                code: -32602,
                id: json!(5),
                says: "allowed: 1-64 characters",
            },
        },
        Row {
            what: "put: NUL inside a database name",
            send: put_line("a\\u0000b", "person", "k"),
            expect: Error {
                code: -32602,
                id: json!(5),
                says: "allowed: 1-64 characters",
            },
        },
        Row {
            what: "put: path in a collection name",
            send: put_line("crm", "a/../b", "k"),
            expect: Error {
                code: -32602,
                id: json!(5),
                says: "allowed: 1-64 characters",
            },
        },
        Row {
            what: "put: NUL inside a key",
            send: put_line("crm", "person", "k\\u0000"),
            expect: Error {
                code: -32602,
                id: json!(5),
                says: "allowed: 1-512 bytes",
            },
        },
        Row {
            what: "put: params not an object",
            send: line(r#"{"jsonrpc":"2.0","id":6,"method":"put","params":42}"#),
            expect: Error {
                code: -32602,
                id: json!(6),
                says: "invalid params",
            },
        },
        Row {
            what: "put: no document",
            send: line(
                r#"{"jsonrpc":"2.0","id":6,"method":"put","params":{"folder":null,"db":"crm","collection":"person","key":"k"}}"#,
            ),
            expect: Error {
                code: -32602,
                id: json!(6),
                says: "missing field `doc`",
            },
        },
        Row {
            what: "id as a string, echoed",
            send: line(r#"{"jsonrpc":"2.0","id":"req-é-1","method":"frobnicate"}"#),
            expect: Error {
                code: -32601,
                id: json!("req-é-1"),
                says: "unknown method",
            },
        },
        Row {
            what: "id null, echoed",
            send: line(r#"{"jsonrpc":"2.0","id":null,"method":"frobnicate"}"#),
            expect: Error {
                code: -32601,
                id: Value::Null,
                says: "unknown method",
            },
        },
        Row {
            what: "id 2^64-1, echoed exactly",
            send: line(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"frobnicate"}"#),
            expect: Error {
                code: -32601,
                id: json!(u64::MAX),
                says: "unknown method",
            },
        },
        Row {
            what: "a line over the cap, without a newline",
            send: over_cap,
            expect: ErrorThenClose {
                code: -32600,
                says: "message longer than",
            },
        },
    ]
}

/// What must not change: every database's digest and the listings.
fn snapshot(home: &Home) -> (Vec<(String, String)>, String, String) {
    (
        home.digests(),
        home.run(&["ls", "--json"]).ok().to_owned(),
        home.run(&["ls", "crm", "--json"]).ok().to_owned(),
    )
}

fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// The daemon's descriptors once the connection of the command that just
/// exited is closed on its side too (under load that can take a moment).
fn settled_fds(pid: i32) -> usize {
    let mut last = open_fds(pid);
    eventually(Duration::from_secs(10), || {
        std::thread::sleep(Duration::from_millis(200));
        let now = open_fds(pid);
        let settled = now == last;
        last = now;
        settled.then_some(now)
    })
}

#[test]
fn bad_bytes_on_the_socket_are_refused_and_change_nothing() {
    let home = Home::with_folder("redb");
    let seed: String = (0..SEEDED)
        .map(|i| format!("{{\"_id\":\"{i:05}\",\"n\":{i}}}\n"))
        .collect();
    home.run_stdin(&["put", "crm/person", "--batch", "-"], seed.as_bytes())
        .ok();
    let before = snapshot(&home);
    assert_eq!(before.0.len(), 1);
    let pid = home.daemon_pid().expect("the daemon runs");
    let fds = settled_fds(pid);

    for row in rows() {
        let mut conn = Conn::open(&home);
        // Written from a thread: a row may be larger than the socket buffers,
        // and the daemon may close before reading all of it.
        let mut writer = conn.stream.try_clone().unwrap();
        let send = row.send;
        let sender = std::thread::spawn(move || writer.write_all(&send).is_ok());
        let reply = conn
            .next()
            .unwrap_or_else(|| panic!("{}: no answer", row.what));
        let error = &reply["error"];
        match row.expect {
            Expect::Error { code, id, says } => {
                assert!(sender.join().unwrap(), "{}: all of it was read", row.what);
                assert_eq!(error["code"], code, "{}: {reply}", row.what);
                assert_eq!(reply["id"], id, "{}: id echoed exactly", row.what);
                let text = error["message"].as_str().unwrap();
                assert!(text.contains(says), "{}: {text}", row.what);
                conn.still_served();
            }
            Expect::ErrorThenClose { code, says } => {
                assert_eq!(error["code"], code, "{}: {reply}", row.what);
                assert_eq!(reply["id"], Value::Null, "{}", row.what);
                let text = error["message"].as_str().unwrap();
                assert!(text.contains(says), "{}: {text}", row.what);
                assert!(conn.next().is_none(), "{}: then closed", row.what);
                sender.join().unwrap();
            }
        }
        assert_eq!(snapshot(&home), before, "{}: nothing changed", row.what);
        home.run(&["status"]).ok();
    }

    // The exact id is echoed as the same JSON text, not a rounded number.
    let mut conn = Conn::open(&home);
    conn.send(&line(
        r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"frobnicate"}"#,
    ));
    let mut raw = String::new();
    conn.reader.read_line(&mut raw).unwrap();
    assert!(raw.contains(r#""id":18446744073709551615,"#), "{raw}");
    drop(conn);

    for (what, scenario) in SCENARIOS {
        scenario(&home);
        assert_eq!(snapshot(&home), before, "{what}: nothing changed");
        home.run(&["status"]).ok();
    }

    // Every connection above is gone: the daemon holds no socket for them.
    eventually(Duration::from_secs(10), || {
        (open_fds(pid) <= fds).then_some(())
    });
    assert_eq!(home.daemon_pid(), Some(pid), "the same daemon throughout");

    // The writer is free (the abandoned import released it): a write goes
    // through, and what the abandoned requests carried never appears.
    home.put("crm/person/after", r#"{"ok":true}"#);
    home.run(&["get", "crm/person/mid"]).fails(3, "no record");
    let collections = home.run(&["ls", "crm", "--json"]).json_lines();
    assert_eq!(collections.len(), 1, "no collection imp: {collections:?}");
    assert_eq!(collections[0]["records"], SEEDED as u64 + 1);
}

type Scenario = (&'static str, fn(&Home));

const SCENARIOS: &[Scenario] = &[
    ("disconnect in the middle of a request line", mid_line),
    (
        "disconnect while a replayed watch streams",
        mid_watch_replay,
    ),
    ("disconnect from a live watch", mid_watch_live),
    ("flood while watching", flood_while_watching),
    ("import.begin, one chunk, disconnect", abandoned_import),
    ("200 idle connections", idle_connections),
];

fn mid_line(home: &Home) {
    let mut conn = Conn::open(home);
    let whole = put_line("crm", "person", "mid");
    conn.send(&whole[..whole.len() - 10]);
    std::thread::sleep(Duration::from_millis(50));
    drop(conn);
}

fn watch_line(since: Option<u64>) -> Vec<u8> {
    let params =
        json!({"folder": null, "db": "crm", "collection": null, "key": null, "since": since});
    line(&json!({"jsonrpc": "2.0", "id": 1, "method": "watch", "params": params}).to_string())
}

fn mid_watch_replay(home: &Home) {
    let mut conn = Conn::open(home);
    conn.send(&watch_line(Some(0)));
    let first = conn.next().expect("the replay starts");
    assert_eq!(first["method"], "watch.event", "{first}");
    assert_eq!(first["params"]["event"]["key"], "00000", "{first}");
    drop(conn); // with most of the 2000 events still to send
}

fn mid_watch_live(home: &Home) {
    let mut conn = Conn::open(home);
    conn.send(&watch_line(None));
    std::thread::sleep(Duration::from_millis(100));
    drop(conn);
}

/// A watcher that keeps sending bytes without a newline: the daemon must not
/// buffer them without bound while it streams, but stop at the line cap.
fn flood_while_watching(home: &Home) {
    let mut conn = Conn::open(home);
    conn.send(&watch_line(None));
    let mut writer = conn.stream.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let chunk = vec![b'a'; 1 << 20];
        (0..300)
            .take_while(|_| writer.write_all(&chunk).is_ok())
            .count()
    });
    let reply = conn.next().expect("an error before the close");
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert!(conn.next().is_none(), "then closed");
    let sent_mib = flood.join().unwrap();
    assert!(
        sent_mib < 300,
        "the daemon took all {sent_mib} MiB instead of closing at the 64 MiB cap"
    );
}

fn abandoned_import(home: &Home) {
    let mut conn = Conn::open(home);
    let begin = conn.call(
        1,
        "import.begin",
        json!({"folder": null, "db": "crm", "collection": "imp"}),
    );
    assert_eq!(begin["result"]["imported"], 0, "{begin}");
    let lines: Vec<String> = (0..50).map(|i| format!(r#"{{"_id":"i{i}"}}"#)).collect();
    let chunk = conn.call(2, "import.chunk", json!({"first_line": 1, "lines": lines}));
    assert_eq!(chunk["result"]["imported"], 50, "{chunk}");
    drop(conn); // no import.end
}

fn idle_connections(home: &Home) {
    let mut idle: Vec<Conn> = (0..200).map(|_| Conn::open(home)).collect();
    let status = home.run(&["status", "--json"]).json();
    assert!(status["daemon"]["pid"].is_u64(), "{status}");
    // The idle ones were accepted and are served, not refused.
    idle[0].still_served();
    idle[199].still_served();
}
