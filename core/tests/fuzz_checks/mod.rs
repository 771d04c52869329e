//! The fuzz properties, written once over `&[u8]`: the cargo-fuzz targets in
//! `fuzz/fuzz_targets/` include this file (`#[path]`), and
//! `core/tests/fuzz_stable.rs` drives the same functions with proptest on
//! stable (RELIABILITY.md §3, "Fuzz targets"). Each function must never
//! panic except through its own assertions.

use serde_json::Value;
use syncdb_core::ipc::{
    ErrorCode, Incoming, LineBuffer, LineTooLong, PutParams, RecordParams, Request, RpcError,
    WatchParams, response_line,
};
use syncdb_core::names::{MAX_KEY_LEN, MAX_NAME_LEN};
use syncdb_core::record::{Field, RecordState, Whole, WholeOp};
use syncdb_core::sync::wire::{self, DbAd, Hello, Welcome};
use syncdb_core::sync::{Message, Reject};
use syncdb_core::{Address, Document, Item, Key, Name, SiteId, Version};

// ---- frame decoding ----

/// `wire::decode` on the bytes as they are, and on a valid frame (picked by
/// the first byte) edited by the rest: whatever decodes re-encodes, no
/// longer, and decodes to the same message.
pub fn frame_decode(data: &[u8]) {
    decode_round_trip(data);
    let Some((&pick, edits)) = data.split_first() else {
        return;
    };
    let samples = sample_frames();
    let mut frame = samples[pick as usize % samples.len()].clone();
    for pair in edits.chunks_exact(2) {
        let (at, value) = (pair[0] as usize, pair[1]);
        match value {
            0xf0 => frame.truncate(at % (frame.len() + 1)),
            0xf1 => frame.insert(at % (frame.len() + 1), pair[0]),
            0xf2 if !frame.is_empty() => {
                frame.remove(at % frame.len());
            }
            _ if !frame.is_empty() => {
                let i = at % frame.len();
                frame[i] = value;
            }
            _ => {}
        }
    }
    decode_round_trip(&frame);
}

fn decode_round_trip(frame: &[u8]) {
    let Ok(msg) = wire::decode(frame) else {
        return;
    };
    let again = wire::encode(&msg).expect("a decoded message re-encodes");
    assert_eq!(wire::decode(&again).expect("re-decodes"), msg);
    // Not byte-equal: postcard accepts overlong varints, and a record's
    // field map may arrive unsorted or with a key twice. Re-encoding makes
    // the shortest form, never a longer one.
    assert!(again.len() <= frame.len(), "re-encoding grew: {msg:?}");
}

fn name(s: &str) -> Name {
    Name::parse_as("name", s).unwrap()
}

/// One valid frame of every message type (and every `Item` and `Reject`).
pub fn sample_frames() -> Vec<Vec<u8>> {
    let v = |hlc, site| Version {
        hlc,
        site: SiteId([site; 16]),
    };
    let doc = Document::parse(r#"{"a":1,"b":"x\ny","c":[null,true]}"#, 1 << 20).unwrap();
    let mut state = RecordState::put(&doc, v(1 << 20, 1));
    state.merge(&RecordState::patch(
        &Document::parse(r#"{"a":null}"#, 100).unwrap(),
        v(2 << 20, 2),
    ));
    let items = vec![
        Item::Record {
            collection: name("person"),
            key: Key::parse("é 42").unwrap(),
            state,
        },
        Item::Record {
            collection: name("p"),
            key: Key::parse("k").unwrap(),
            state: RecordState::delete(v(3, 3)),
        },
        Item::DropCollection {
            collection: name("old"),
            version: v(300, 4),
        },
        Item::DropDatabase {
            version: v(u64::MAX, 255),
        },
    ];
    let ad = DbAd {
        name: name("crm"),
        site: SiteId([7; 16]),
        schema: Some(wire::SchemaAd {
            version: 12,
            hash: "0123456789abcdef0123456789abcdef".into(),
            format: 1,
        }),
        rejoin: Some(u64::MAX),
    };
    let messages = vec![
        Message::Hello(Hello {
            version: wire::PROTOCOL_VERSION,
            folder: "0195c3a2-0000-7000-8000-000000000000".into(),
            token: "sdb_0123abcd_ffff".into(),
            databases: vec![ad.clone(), ad.clone()],
            schema_format: 1,
        }),
        Message::Welcome(Welcome {
            version: 1,
            databases: vec![ad],
            read_only: true,
            schema_format: 2,
        }),
        Message::Reject(Reject::Schema("schema conflict".into())),
        Message::Reject(Reject::Version { ours: 1, theirs: 2 }),
        Message::Reject(Reject::Unauthorized),
        Message::Reject(Reject::Forbidden("no".into())),
        Message::Reject(Reject::UnknownFolder("f".into())),
        Message::Reject(Reject::Protocol("p".into())),
        Message::Reject(Reject::Internal("i".into())),
        Message::Want {
            db: name("crm"),
            site: SiteId([1; 16]),
            since: 300,
        },
        Message::Chunk {
            db: name("crm"),
            items,
            end_seq: 1 << 40,
            remaining: 5,
        },
        Message::CaughtUp {
            db: name("crm"),
            seq: 0,
        },
        Message::Ack {
            db: name("a"),
            seq: u64::MAX,
        },
        Message::Horizon {
            db: name("crm"),
            ms: 1_796_306_999_000,
        },
        Message::Outdated(vec![wire::Behind {
            db: name("crm"),
            site: SiteId([2; 16]),
            horizon: 1,
            pulled: vec![wire::Pulled {
                site: SiteId([1; 16]),
                seq: 7,
                newest: Some(v(9, 1)),
            }],
        }]),
    ];
    messages.iter().map(|m| wire::encode(m).unwrap()).collect()
}

// ---- JSON-RPC lines ----

/// Feeds the bytes to a `LineBuffer` in pieces and checks every line it
/// gives (and every refusal) against a plain split on `\n`; parses each line
/// as the daemon and the command do; a response to any request is one line
/// that echoes its id.
pub fn jsonrpc_lines(data: &[u8]) {
    let Some((&knobs, input)) = data.split_first() else {
        return;
    };
    let piece = usize::from(knobs >> 5) * 5 + 1; // 1..=36
    let small = usize::from(knobs & 31) + 1; // 1..=32
    lines_against_model(input, small, piece);
    lines_against_model(input, 1 << 20, piece);
}

fn lines_against_model(input: &[u8], max: usize, piece: usize) {
    let mut buf = LineBuffer::new(max);
    let mut start = 0; // where the model's current line starts
    let mut pushed = 0;
    for bytes in input.chunks(piece) {
        buf.push(bytes);
        pushed += bytes.len();
        let newline = |start: usize| {
            input[start..pushed]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| start + i)
        };
        loop {
            match buf.next_line() {
                Ok(Some(line)) => {
                    let end = newline(start).expect("a line only once its newline came");
                    assert!(end - start <= max, "a line over the cap was given");
                    let whole = &input[start..end];
                    assert_eq!(line, whole.strip_suffix(b"\r").unwrap_or(whole));
                    parse_line(line);
                    start = end + 1;
                }
                Ok(None) => {
                    assert_eq!(newline(start), None, "a whole line was held back");
                    assert_eq!(buf.pending(), pushed - start);
                    assert!(buf.pending() <= max, "more than the cap buffered");
                    break;
                }
                Err(LineTooLong(cap)) => {
                    assert_eq!(cap, max);
                    let end = newline(start).unwrap_or(pushed);
                    assert!(end - start > max, "refused a line within the cap");
                    return;
                }
            }
        }
    }
}

fn parse_line(line: &[u8]) {
    let _ = serde_json::from_slice::<Incoming>(line);
    let Ok(req) = serde_json::from_slice::<Request>(line) else {
        return;
    };
    if let Some(params) = &req.params {
        // The names inside go through the validators; none may panic.
        let _ = serde_json::from_str::<PutParams>(params.get());
        let _ = serde_json::from_str::<RecordParams>(params.get());
        let _ = serde_json::from_str::<WatchParams>(params.get());
    }
    let err = RpcError::new(ErrorCode::MethodNotFound, format!("{:?}", req.method));
    let out = response_line::<()>(&req.id, Err(err.clone()));
    let (body, end) = out.split_at(out.len() - 1);
    assert_eq!(end, b"\n");
    assert!(!body.contains(&b'\n'), "a response is one line");
    let back: Incoming = serde_json::from_slice(body).expect("a response parses");
    assert_eq!(back.error, Some(err));
    let id = back.id.unwrap_or(Value::Null);
    // serde_json reads floats to the nearest value only approximately
    // (without its `float_roundtrip` feature): floats are not compared.
    if !req.id.is_f64() {
        assert_eq!(id, req.id, "the id is echoed exactly");
    }
}

// ---- names, keys, addresses ----

/// The rule for names, written again independently of `Name::parse_as`.
fn name_rule(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len())
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn key_rule(s: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&s.len()) && !s.contains('/') && !s.chars().any(char::is_control)
}

/// The parsers never panic, accept exactly what the rule allows, say
/// "allowed: …" when they refuse, and re-display what they accept as typed.
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let s = text.as_ref();
    match Name::parse_as("database name", s) {
        Ok(n) => {
            assert!(name_rule(s), "accepted {s:?}");
            assert_eq!(n.to_string(), s);
            let via_serde: Name = serde_json::from_value(Value::from(s)).unwrap();
            assert_eq!(via_serde, n);
        }
        Err(e) => {
            assert!(!name_rule(s), "refused {s:?}: {e}");
            assert!(e.to_string().contains("allowed: 1-64"), "{e}");
            assert!(serde_json::from_value::<Name>(Value::from(s)).is_err());
        }
    }
    match Key::parse(s) {
        Ok(k) => {
            assert!(key_rule(s), "accepted key {s:?}");
            assert_eq!(k.to_string(), s);
        }
        Err(e) => {
            assert!(!key_rule(s), "refused key {s:?}: {e}");
            assert!(e.to_string().contains("allowed: 1-512"), "{e}");
        }
    }
    match Address::parse(s) {
        Ok(a) => {
            assert_eq!(a.to_string(), s);
            assert_eq!(Address::parse(&a.to_string()), Ok(a.clone()));
            let mut parts = s.splitn(3, '/');
            assert_eq!(parts.next(), Some(a.db.as_str()));
            assert_eq!(parts.next(), a.collection.as_ref().map(Name::as_str));
            assert_eq!(parts.next(), a.key.as_ref().map(Key::as_str));
        }
        Err(e) => assert!(e.to_string().contains("allowed:"), "{e}"),
    }
}

// ---- merge ----

/// Reads small values from fuzz bytes; zeros once they run out.
struct Bytes<'a>(std::slice::Iter<'a, u8>);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        self.0.next().copied().unwrap_or(0)
    }

    /// Few HLC values and three sites, so equal versions and ties are common.
    fn version(&mut self) -> Version {
        let b = self.byte();
        Version {
            hlc: u64::from(b % 6),
            site: SiteId([b / 6 % 3; 16]),
        }
    }

    fn state(&mut self) -> RecordState {
        let whole = match self.byte() % 3 {
            0 => None,
            1 => Some(Whole {
                op: WholeOp::Put,
                version: self.version(),
            }),
            _ => Some(Whole {
                op: WholeOp::Delete,
                version: self.version(),
            }),
        };
        let mut s = RecordState {
            whole,
            fields: Default::default(),
        };
        for _ in 0..self.byte() % 5 {
            let name = ["a", "b", "c", "d"][usize::from(self.byte() % 4)];
            let value = match self.byte() % 4 {
                0 => None,
                n => Some(n.to_string().into()),
            };
            let version = self.version();
            s.fields.insert(name.into(), Field { value, version });
        }
        s
    }
}

fn merged(a: &RecordState, b: &RecordState) -> RecordState {
    let mut out = a.clone();
    out.merge(b);
    out
}

/// Three record states from the bytes (not necessarily normalized, as a
/// peer may send them): merge is commutative, associative and idempotent,
/// and what it leaves visible is a JSON object exactly when the record exists.
pub fn merge(data: &[u8]) {
    let mut bytes = Bytes(data.iter());
    let (a, b, c) = (bytes.state(), bytes.state(), bytes.state());
    let ab = merged(&a, &b);
    assert_eq!(ab, merged(&b, &a), "commutative");
    assert_eq!(merged(&ab, &c), merged(&a, &merged(&b, &c)), "associative");
    assert_eq!(merged(&ab, &b), ab, "idempotent");
    assert_eq!(merged(&ab, &ab), ab, "idempotent");
    let normal = merged(&RecordState::default(), &a);
    assert_eq!(merged(&normal, &a), normal, "idempotent");
    for s in [&a, &ab] {
        let m = merged(&RecordState::default(), s);
        assert_eq!(m.visible_json().is_some(), m.exists());
        if let Some(json) = m.visible_json() {
            let v: Value = serde_json::from_str(&json).expect("visible JSON parses");
            assert!(v.is_object(), "{json}");
        }
    }
}
