//! One params/result pair per IPC method, each named once by a `Method` impl.
//! The `--json` output of most commands is the method's result as is, so
//! these shapes are part of the documented interface (README, "JSON output").

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::names::{Key, Name};
use crate::record::RecordState;
use crate::store::{Change, EngineKind, Item};

/// A method: its wire name and its params and result types.
pub trait Method {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Output: Serialize + DeserializeOwned;
}

macro_rules! method {
    ($t:ident, $name:literal, $params:ty, $output:ty) => {
        #[doc = concat!("The `", $name, "` method.")]
        pub struct $t;
        impl Method for $t {
            const NAME: &'static str = $name;
            type Params = $params;
            type Output = $output;
        }
    };
}

method!(Hello, "hello", HelloParams, HelloOutput);
method!(Init, "init", InitParams, FolderInfo);
method!(Put, "put", PutParams, WriteOutput);
method!(Patch, "patch", PatchParams, WriteOutput);
method!(Get, "get", RecordParams, RecordOutput);
method!(Del, "del", RecordParams, WriteOutput);
method!(Ls, "ls", LsParams, LsOutput);
method!(Drop, "drop", DropParams, WriteOutput);
method!(ImportBegin, "import.begin", ImportBeginParams, ImportOutput);
method!(ImportChunk, "import.chunk", ImportChunkParams, ImportOutput);
method!(ImportEnd, "import.end", Empty, ImportOutput);
method!(Watch, "watch", WatchParams, WatchEnd);
method!(Status, "status", Empty, StatusOutput);
method!(Shutdown, "shutdown", Empty, Empty);

/// The notification method carrying one `watch` event.
pub const WATCH_EVENT: &str = "watch.event";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HelloParams {
    pub client_version: String,
    pub ipc_version: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HelloOutput {
    pub version: String,
    pub ipc_version: u32,
    pub pid: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InitParams {
    /// Absolute path of the directory to make (or re-register as) a folder.
    pub path: PathBuf,
    /// Engine for its databases; the config's `engine` when absent.
    pub engine: Option<EngineKind>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderInfo {
    pub id: String,
    pub path: PathBuf,
    pub engine: EngineKind,
    /// True when this call made the folder; false when it existed.
    pub created: bool,
}

/// Which folder a request is about: the path the command resolved (`-C`, or
/// the nearest folder above the working directory), or none for "the only
/// registered folder".
pub type FolderRef = Option<PathBuf>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutParams {
    pub folder: FolderRef,
    pub db: Name,
    pub collection: Name,
    /// From the address; else the document's key field; else a new UUIDv7.
    pub key: Option<Key>,
    /// The document as the user typed it (JSON text).
    pub doc: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PatchParams {
    pub folder: FolderRef,
    pub db: Name,
    pub collection: Name,
    pub key: Key,
    /// A JSON object of fields to set; `null` removes a field.
    pub doc: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordParams {
    pub folder: FolderRef,
    pub db: Name,
    pub collection: Name,
    pub key: Key,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WriteOutput {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<Key>,
    pub seq: u64,
    pub version: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordOutput {
    pub key: Key,
    pub doc: Box<RawValue>,
    pub seq: u64,
    pub version: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LsParams {
    pub folder: FolderRef,
    pub db: Option<Name>,
    pub collection: Option<Name>,
    #[serde(default)]
    pub prefix: String,
    /// Continue after this key (for paging).
    #[serde(default)]
    pub after: Option<Key>,
    pub limit: usize,
    #[serde(default)]
    pub keys_only: bool,
}

/// Exactly one of the three lists, by what was asked.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LsOutput {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub databases: Option<Vec<DatabaseInfo>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub collections: Option<Vec<CollectionInfo>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub records: Option<Vec<RecordEntry>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub name: Name,
    pub engine: EngineKind,
    /// Visible records.
    pub records: u64,
    /// The last seq of its change feed.
    pub seq: u64,
    /// Size of the file on disk.
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CollectionInfo {
    pub name: Name,
    pub records: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordEntry {
    pub key: Key,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub doc: Option<Box<RawValue>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DropParams {
    pub folder: FolderRef,
    pub db: Name,
    /// Drop one collection; the whole database when absent.
    pub collection: Option<Name>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportBeginParams {
    pub folder: FolderRef,
    pub db: Name,
    pub collection: Name,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportChunkParams {
    /// The input line number of `lines[0]` (1-based), for error messages.
    pub first_line: u64,
    /// One JSON document per entry; empty lines are skipped.
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportOutput {
    /// Records imported so far (all of them, after `import.end`).
    pub imported: u64,
    /// The last seq, after `import.end`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seq: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WatchParams {
    pub folder: FolderRef,
    pub db: Option<Name>,
    pub collection: Option<Name>,
    pub key: Option<Key>,
    /// Replay the feed after this seq first (needs `db`: seqs are per database).
    pub since: Option<u64>,
}

/// The final response ending a `watch` stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WatchEnd {
    pub reason: String,
}

/// What a change looks like to people and scripts (`syncdb watch`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    pub op: EventOp,
    pub db: Name,
    pub collection: Option<Name>,
    pub key: Option<Key>,
    /// The record's visible document after the change; null when deleted.
    pub doc: Option<Box<RawValue>>,
    pub seq: u64,
    pub version: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventOp {
    /// The record now exists with `doc` (a put, a patch, or a merge).
    Put,
    /// The record no longer exists.
    Delete,
    /// A collection (`collection` set) or the whole database was dropped.
    Drop,
}

impl Event {
    pub fn from_change(db: &Name, change: &Change) -> Event {
        let base = |op, collection, key, doc, version: String| Event {
            op,
            db: db.clone(),
            collection,
            key,
            doc,
            seq: change.seq,
            version,
        };
        match &change.item {
            Item::Record {
                collection,
                key,
                state,
            } => {
                let doc = state
                    .visible_json()
                    .map(|d| RawValue::from_string(d).expect("visible documents are valid JSON"));
                let op = if doc.is_some() {
                    EventOp::Put
                } else {
                    EventOp::Delete
                };
                base(
                    op,
                    Some(collection.clone()),
                    Some(key.clone()),
                    doc,
                    version_of(state),
                )
            }
            Item::DropCollection {
                collection,
                version,
            } => base(
                EventOp::Drop,
                Some(collection.clone()),
                None,
                None,
                version.to_string(),
            ),
            Item::DropDatabase { version } => {
                base(EventOp::Drop, None, None, None, version.to_string())
            }
        }
    }
}

fn version_of(state: &RecordState) -> String {
    state.max_version().unwrap_or_default().to_string()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusOutput {
    pub daemon: DaemonInfo,
    pub folders: Vec<FolderStatus>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub version: String,
    pub pid: u32,
    pub uptime_secs: u64,
    pub socket: PathBuf,
    pub config: PathBuf,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderStatus {
    pub id: String,
    pub path: PathBuf,
    pub engine: EngineKind,
    pub databases: Vec<DatabaseInfo>,
    /// Why the folder cannot be served (missing, unreadable), if so.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}
