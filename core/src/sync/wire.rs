//! Sync messages and their frames: `[FRAME_FORMAT] ++ postcard(Message)`,
//! one per WebSocket binary message, every frame size-limited.
//!
//! Names and keys inside messages decode through the same validators as the
//! command line, so a peer cannot make us write outside a folder. Fields are
//! only ever added at the end of a struct, with a new protocol version.

use serde::{Deserialize, Serialize};

use crate::names::Name;
use crate::store::Item;
use crate::version::SiteId;

/// Bumped on any incompatible change. Peers with different versions refuse
/// each other with a reason both sides log.
pub const PROTOCOL_VERSION: u32 = 4;
/// The first byte of every frame: the envelope's format.
const FRAME_FORMAT: u8 = 1;
/// Largest frame either side sends or accepts (a chunk is capped far below
/// this; one record may be as large as a document may be).
pub const MAX_FRAME_BYTES: usize = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client → hub, first: who we are, what we want, what we have.
    Hello(Hello),
    /// Hub → client: accepted; the hub's databases of the folder.
    Welcome(Welcome),
    /// Either side, last: why the session ends.
    Reject(Reject),
    /// "Send me your changes of `db` after `since`; I am replica `site`."
    Want { db: Name, site: SiteId, since: u64 },
    /// Feed entries of `db` through `end_seq`; `remaining` more are after it.
    Chunk {
        db: Name,
        items: Vec<Item>,
        end_seq: u64,
        remaining: u64,
    },
    /// The sender has sent everything of `db` through `seq` (for now: the
    /// stream stays open and later commits follow).
    CaughtUp { db: Name, seq: u64 },
    /// The receiver has applied `db` through `seq` durably.
    Ack { db: Name, seq: u64 },
    /// "Tell me how far your feed of each database reaches now" (the
    /// `sync --once` barrier: it asks the peer instead of trusting a flag).
    Barrier { id: u64 },
    /// The answer to `Barrier{id}`: the peer's last committed seq of each of
    /// its databases when it read the request.
    BarrierAt { id: u64, heads: Vec<(Name, u64)> },
    /// Hub → client: tombstones of `db` whose versions are all at or
    /// before `ms` are held by every live replica and may be forgotten.
    Horizon { db: Name, ms: u64 },
    /// Hub → client: its replicas of these databases are behind the
    /// horizon (retired, or unknown to the hub after history was cleaned
    /// up). The client rebuilds each, then connects again.
    Outdated(Vec<Behind>),
    /// Either side: this session leaves `db` alone (its file here cannot be
    /// opened, a schema conflict), so the peer waits for nothing of it.
    /// Added at the end, without a new protocol version: a peer that cannot
    /// decode it ends the session, and says so.
    Unusable { db: Name, why: String },
}

/// A database whose client replica is behind the hub's horizon. It must
/// rebuild: keep its own writes the hub has not pulled (`pulled`), then
/// sync the hub's (replica `site`) state from the start, and push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Behind {
    pub db: Name,
    pub site: SiteId,
    pub horizon: u64,
    pub pulled: Vec<Pulled>,
}

/// How much of one replica's writes a hub holds: its feed through `seq`,
/// and every write of it up to the version `newest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pulled {
    pub site: SiteId,
    pub seq: u64,
    pub newest: Option<crate::version::Version>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u32,
    pub folder: String,
    /// The access token; never logged (see the `Debug` impl).
    pub token: String,
    pub databases: Vec<DbAd>,
    /// The newest schema format this binary reads (`schema::FORMAT`).
    pub schema_format: u32,
}

/// By hand, so that no `?msg` in a log line, at any level, can print the
/// token: only whether one was given.
impl std::fmt::Debug for Hello {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token = if self.token.is_empty() {
            "none"
        } else {
            "<redacted>"
        };
        f.debug_struct("Hello")
            .field("version", &self.version)
            .field("folder", &self.folder)
            .field("token", &format_args!("{token}"))
            .field("databases", &self.databases)
            .field("schema_format", &self.schema_format)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub version: u32,
    pub databases: Vec<DbAd>,
    /// The client's token may pull but not push.
    pub read_only: bool,
    /// The newest schema format this binary reads.
    pub schema_format: u32,
}

/// A database one side has, its replica's site id, and its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbAd {
    pub name: Name,
    pub site: SiteId,
    pub schema: Option<SchemaAd>,
    /// A client's replica rebuilt from the hub's state at this horizon
    /// and not yet caught up: the hub takes it back as live.
    pub rejoin: Option<u64>,
}

/// A database's newest schema version as one side holds it. Two sides
/// with one version and two hashes hold two different schemas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaAd {
    pub version: u64,
    pub hash: String,
    /// The schema format it needs of a reader.
    pub format: u32,
}

/// Why a session ended. Both sides log it; `syncdb status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Reject {
    #[error("incompatible protocol: we speak v{ours}, the peer v{theirs}")]
    Version { ours: u32, theirs: u32 },
    #[error("unauthorized: missing, wrong or revoked token")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unknown folder {0}")]
    UnknownFolder(String),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error(
        "refused a version {}s ahead of our clock (the bound is {}s): fix the clock of the machine that wrote it",
        ahead_ms / 1000,
        bound_ms / 1000
    )]
    FromTheFuture { ahead_ms: u64, bound_ms: u64 },
    #[error("the peer failed: {0}")]
    Internal(String),
    #[error("the token was revoked")]
    Revoked,
    #[error("the hub stopped serving")]
    NotServing,
    /// A database's schema changed on one side in a way this session cannot
    /// go on with; the next handshake decides (sync it, or stop it alone).
    #[error("{0}")]
    Schema(String),
    /// What the session knew is void — a database file of the folder was
    /// replaced (restored from a backup, moved aside by `repair`), or the
    /// token of a replica whose writes were left out was revoked — and the
    /// next handshake syncs as things are now. Added at the end,
    /// without a new protocol version: a peer that cannot decode it ends
    /// the session all the same.
    #[error("{0}; connect again")]
    Again(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {0} bytes is over the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("empty frame")]
    Empty,
    #[error("unknown frame format {0}")]
    Format(u8),
    #[error("undecodable frame: {0}")]
    Decode(String),
}

/// Encodes one message; refuses (rather than truncates) anything too large.
pub fn encode(msg: &Message) -> Result<Vec<u8>, FrameError> {
    let mut out = vec![FRAME_FORMAT];
    postcard::to_io(msg, &mut out).expect("writing to a Vec cannot fail");
    if out.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge(out.len()));
    }
    Ok(out)
}

/// Decodes one frame. Trailing bytes after the message are an error.
pub fn decode(frame: &[u8]) -> Result<Message, FrameError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge(frame.len()));
    }
    let (&format, body) = frame.split_first().ok_or(FrameError::Empty)?;
    if format != FRAME_FORMAT {
        return Err(FrameError::Format(format));
    }
    let (msg, rest) =
        postcard::take_from_bytes(body).map_err(|e| FrameError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Decode(format!("{} trailing bytes", rest.len())));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::parse_as("db", s).unwrap()
    }

    #[test]
    fn frame_bytes_are_pinned() {
        let msg = Message::Ack {
            db: name("crm"),
            seq: 300,
        };
        // format, variant 6 (Ack), "crm", varint 300
        assert_eq!(
            encode(&msg).unwrap(),
            [1, 6, 3, b'c', b'r', b'm', 0xac, 0x02]
        );
        assert_eq!(decode(&encode(&msg).unwrap()).unwrap(), msg);
    }

    #[test]
    fn bad_frames_are_errors() {
        assert_eq!(decode(&[]), Err(FrameError::Empty));
        assert_eq!(decode(&[9, 0]), Err(FrameError::Format(9)));
        assert!(matches!(decode(&[1, 200]), Err(FrameError::Decode(_))));
        let mut ok = encode(&Message::Ack {
            db: name("a"),
            seq: 1,
        })
        .unwrap();
        ok.push(0);
        assert!(
            matches!(decode(&ok), Err(FrameError::Decode(_))),
            "trailing bytes"
        );
        // A database name from the network goes through the name rule.
        let evil = [1u8, 6, 2, b'.', b'.', 1];
        assert!(matches!(decode(&evil), Err(FrameError::Decode(_))));
    }

    #[test]
    fn hello_debug_never_shows_the_token() {
        let hello = Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            folder: "f".into(),
            token: "sdb_0123abcd_s3cr3tvalue".into(),
            databases: Vec::new(),
            schema_format: 1,
        });
        for text in [format!("{hello:?}"), format!("{hello:#?}")] {
            assert!(
                !text.contains("s3cr3t") && !text.contains("0123abcd"),
                "{text}"
            );
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    #[test]
    fn truncated_frames_never_decode() {
        let frame = encode(&Message::Hello(Hello {
            version: PROTOCOL_VERSION,
            folder: "f".into(),
            token: "t".into(),
            databases: vec![DbAd {
                name: name("crm"),
                site: SiteId([7; 16]),
                schema: Some(SchemaAd {
                    version: 2,
                    hash: "ab".repeat(16),
                    format: 1,
                }),
                rejoin: Some(5),
            }],
            schema_format: 1,
        }))
        .unwrap();
        for cut in 0..frame.len() {
            assert!(decode(&frame[..cut]).is_err(), "cut at {cut}");
        }
    }
}
