//! One params/result pair per IPC method, each named once by a `Method` impl.
//! The `--json` output of most commands is the method's result as is, so
//! these shapes are part of the documented interface (README, "JSON output").

use std::collections::BTreeMap;
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
method!(Find, "find", FindParams, FindOutput);
method!(DropScope, "drop", DropParams, WriteOutput);
method!(DropCheck, "drop.check", DropParams, DropCheckOutput);
method!(ImportBegin, "import.begin", ImportBeginParams, ImportOutput);
method!(ImportChunk, "import.chunk", ImportChunkParams, ImportOutput);
method!(ImportEnd, "import.end", Empty, ImportOutput);
method!(Watch, "watch", WatchParams, WatchEnd);
method!(Status, "status", StatusParams, StatusOutput);
method!(Shutdown, "shutdown", Empty, Empty);
method!(RemoteAdd, "remote.add", RemoteAddParams, RemoteInfo);
method!(RemoteLs, "remote.ls", FolderParams, RemoteList);
method!(RemoteRm, "remote.rm", RemoteRmParams, Empty);
method!(CloneFolder, "clone", CloneParams, FolderInfo);
method!(Sync, "sync", SyncParams, SyncOutput);
method!(Digest, "digest", DigestParams, DigestOutput);
method!(TokenCreate, "token.create", TokenCreateParams, TokenCreated);
method!(TokenLs, "token.ls", Empty, TokenList);
method!(TokenRevoke, "token.revoke", TokenRevokeParams, Empty);
method!(Serve, "serve", ServeParams, ServeOutput);
method!(Repair, "repair", RepairParams, RepairOutput);
method!(FolderLs, "folder.ls", Empty, FolderList);
method!(FolderRm, "folder.rm", FolderRmParams, FolderRmOutput);
method!(FolderMv, "folder.mv", FolderMvParams, FolderInfo);
method!(SchemaSet, "schema.set", SchemaSetParams, SchemaSetOutput);
method!(SchemaShow, "schema.show", DbParams, SchemaShowOutput);
method!(SchemaDiff, "schema.diff", SchemaSetParams, SchemaDiffOutput);
method!(
    SchemaData,
    "schema.data",
    SchemaDataParams,
    SchemaDataOutput
);
method!(Reset, "reset", ResetParams, ResetOutput);
method!(IndexCreate, "index.create", IndexParams, IndexInfo);
method!(IndexDrop, "index.drop", IndexParams, IndexInfo);
method!(IndexLs, "index.ls", IndexLsParams, IndexListOutput);
method!(IndexCheck, "index.check", IndexLsParams, IndexCheckOutput);
method!(HttpServe, "http", HttpParams, HttpOutput);
method!(Cleanup, "cleanup", DbScopeParams, CleanupOutput);
method!(ReplicaLs, "replica.ls", DbScopeParams, ReplicaListOutput);
method!(ReplicaRm, "replica.rm", ReplicaRmParams, Empty);
method!(Compact, "compact", DbScopeParams, CompactOutput);
method!(Backup, "backup", BackupParams, BackupOutput);
method!(Restore, "restore", RestoreParams, RestoreOutput);

/// Methods that change something: when the daemon stops before answering
/// one, the command cannot know whether it took effect and must say so.
/// (`import.begin`/`import.chunk` are absent: an import takes effect only
/// in `import.end`; cut off before that, nothing was written.)
pub const WRITE_METHODS: &[&str] = &[
    Init::NAME,
    Put::NAME,
    Patch::NAME,
    Del::NAME,
    DropScope::NAME,
    ImportEnd::NAME,
    RemoteAdd::NAME,
    RemoteRm::NAME,
    CloneFolder::NAME,
    TokenCreate::NAME,
    TokenRevoke::NAME,
    Serve::NAME,
    HttpServe::NAME,
    Repair::NAME,
    FolderRm::NAME,
    FolderMv::NAME,
    SchemaSet::NAME,
    Reset::NAME,
    Cleanup::NAME,
    ReplicaRm::NAME,
    Compact::NAME,
    Restore::NAME,
];

/// The notification method carrying `sync` progress.
pub const SYNC_PROGRESS: &str = "sync.progress";

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
    /// Serving as configured, so `daemon start` can say when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve: Option<ServeStatus>,
}

/// The hub's listener: configured on `addr`, and listening or why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeStatus {
    /// The configured address (with the real port once bound for `:0`).
    pub addr: String,
    pub listening: bool,
    /// Why it is not listening (it keeps retrying), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ServeStatus {
    /// "serve configured on ADDR, not listening: REASON", or None when listening.
    pub fn problem(&self) -> Option<String> {
        (!self.listening).then(|| {
            format!(
                "serve configured on {}, not listening: {}",
                self.addr,
                self.error.as_deref().unwrap_or("not yet tried")
            )
        })
    }
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
    /// True when this write created the database (`put` into a name that
    /// did not exist): a typo in a database name is then visible.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_database: bool,
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
    /// Records: stop once their documents add up to this many bytes (past
    /// the first record); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    #[serde(default)]
    pub keys_only: bool,
    /// Databases: list dropped ones too.
    #[serde(default)]
    pub all: bool,
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
    /// Size on disk: the file, with SQLite's `-wal` and `-shm` beside it.
    pub bytes: u64,
    /// Why the database cannot be used (a damaged file); its counts are 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Dropped and not written to since (listed only when asked: `--all`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
    /// The schema in force, if the database has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaId>,
    /// Records that break it (merged from peers; local writes are checked).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub violations: u64,
    /// Why this syncdb cannot read the schema, if it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_error: Option<String>,
    /// Sessions (a remote, or a peer this hub serves) that leave this
    /// database alone: "PEER: why".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<String>,
    /// Tombstones at or before this time (ms since the Unix epoch) are
    /// forgotten (0: none yet).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub horizon: u64,
    /// On a hub: the replicas it serves this database to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaInfo>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// What a drop would remove, asked before it is made (it cannot be undone
/// and reaches every replica, so a person confirms one that removes records).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DropCheckOutput {
    /// Visible records in the scope now.
    pub records: u64,
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
    /// `None`: every line names its collection,
    /// `{"collection":C,"key":K,"doc":{..}}` (as `syncdb export DB`
    /// writes), and the whole import is still one transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<Name>,
    /// How each line is read.
    #[serde(default)]
    pub format: ImportFormat,
    /// For plain documents: the field that holds the key, instead of
    /// `daemon.key_path`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_field: Option<String>,
    /// Check every line and count, but write nothing (and create nothing).
    #[serde(default)]
    pub dry_run: bool,
}

/// What one line of an import is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// A record as `syncdb ls --json` prints it (`{"key":K,"doc":{..}}`, no
    /// other field) keeps its key; any other line is a plain document.
    #[default]
    Auto,
    /// Every line is a plain document, even one shaped like a record.
    Docs,
    /// Every line is a record `{"key":K,"doc":{..}}`; other fields (as in
    /// `get --json`: seq, version) are ignored.
    Records,
}

impl ImportFormat {
    pub const NAMES: [&str; 3] = ["auto", "docs", "records"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "docs" => Some(Self::Docs),
            "records" => Some(Self::Records),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportChunkParams {
    /// The input line number of `lines[0]` (1-based), for error messages.
    pub first_line: u64,
    /// One JSON document per entry; empty lines are skipped.
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImportOutput {
    /// Records imported so far (all of them, after `import.end`); with
    /// `dry_run`, the records that would be.
    pub imported: u64,
    /// True when nothing was written because the import was a dry run.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub dry_run: bool,
    /// The last seq, after `import.end`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seq: Option<u64>,
    /// True when the import created the database (after `import.end`; a
    /// failed import removes what it created).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_database: bool,
    /// Records by collection, when the lines named their collections.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collections: BTreeMap<Name, u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WatchParams {
    pub folder: FolderRef,
    pub db: Option<Name>,
    pub collection: Option<Name>,
    pub key: Option<Key>,
    /// Replay the feed after this seq first (needs `db`: seqs are per database).
    pub since: Option<u64>,
    /// A live query: `FIELD OP VALUE` each (needs `db` and `collection`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
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
    /// In a live query (`watch --where`): what the change did to its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultChange>,
}

/// How a record's change moves it in a live query's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultChange {
    /// It is in the result now and was not.
    Enter,
    /// It was in the result and still is, changed.
    Change,
    /// It was in the result and is not now (changed, deleted or dropped).
    Leave,
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
            result: None,
        };
        match &change.item {
            Item::Record {
                collection,
                key,
                state,
            } => {
                let visible = state.visible_json();
                let op = if visible.is_some() {
                    EventOp::Put
                } else {
                    EventOp::Delete
                };
                // Only a damaged file holds a value that is not JSON (values
                // are checked on the way in, local or remote): such a
                // document is left out rather than taking the reader down.
                let doc = visible.and_then(|d| RawValue::from_string(d).ok());
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
pub struct FolderParams {
    pub folder: FolderRef,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteAddParams {
    pub folder: FolderRef,
    pub name: String,
    pub url: String,
    /// Hubs over the same store, tried in order after `url`.
    #[serde(default)]
    pub failover: Vec<String>,
    /// Absolute path of a 0600 file holding the token.
    pub token_file: Option<PathBuf>,
    /// Absolute path of a PEM CA certificate to trust (`wss://`).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteInfo {
    pub name: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteRmParams {
    pub folder: FolderRef,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteList {
    pub remotes: Vec<RemoteStatus>,
}

/// A remote and how its connection is doing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteStatus {
    pub name: String,
    pub url: String,
    /// Hubs over the same store, tried in order after `url`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<String>,
    /// The hub of the session open now or last, when it is not `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub connected: bool,
    /// Caught up both ways.
    pub caught_up: bool,
    /// When it was last caught up (ms since the Unix epoch).
    pub last_sync_ms: Option<u64>,
    /// Records the remote announced that are not here yet.
    pub behind: u64,
    /// Why the last connection ended or failed.
    pub error: Option<String>,
    /// The remote granted a read-only token: local writes are refused.
    #[serde(default)]
    pub read_only: bool,
    /// Databases this remote's session leaves alone, with why (a damaged
    /// file, a schema conflict); the others sync.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stopped: BTreeMap<Name, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CloneParams {
    pub url: String,
    /// Hubs over the same store, tried in order after `url`.
    #[serde(default)]
    pub failover: Vec<String>,
    pub folder_id: String,
    /// Absolute path of the directory to make the folder in.
    pub path: PathBuf,
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    pub engine: Option<EngineKind>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncParams {
    pub folder: FolderRef,
    /// One remote by name; every remote of the folder when absent.
    pub remote: Option<String>,
    /// Return once caught up both ways (else follow until interrupted).
    pub once: bool,
    /// With `once`: fail when not caught up within this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// One `sync.progress` notification.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncProgress {
    pub remote: String,
    pub db: Name,
    /// `push` (ours to the remote) or `pull`.
    pub direction: String,
    pub done: u64,
    pub total: u64,
    pub caught_up: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncOutput {
    pub remotes: Vec<RemoteStatus>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepairParams {
    pub folder: FolderRef,
    pub db: Name,
}

/// `syncdb repair DB`: what was moved aside, and where the data comes from now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepairOutput {
    pub db: Name,
    /// Each file moved: `[from, to]` (the database, and SQLite's -wal/-shm).
    pub moved: Vec<(PathBuf, PathBuf)>,
    /// The folder's remotes, which the database is pulled from again; empty
    /// when there is none and the old data is only in the moved file.
    pub remotes: Vec<String>,
}

/// One database of a folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DbParams {
    pub folder: FolderRef,
    pub db: Name,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemaSetParams {
    pub folder: FolderRef,
    pub db: Name,
    /// The schema, checked by the command and sent as JSON.
    pub schema: String,
    /// Run steps that remove data (a field, a collection, values that meet).
    #[serde(default)]
    pub allow_data_loss: bool,
}

/// A schema's identity: version and content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaId {
    pub version: u64,
    pub hash: String,
}

/// What one migration step does (or would do) to the data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepReport {
    pub step: String,
    /// Records it writes to or removes.
    pub records: u64,
    /// Of those, records where a value is lost.
    pub lost: u64,
    pub drops_data: bool,
    /// Records a re-key leaves under their key (no usable key at the path).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub kept: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemaSetOutput {
    pub db: Name,
    pub schema: SchemaId,
    /// The version in force before; none when the database had no schema.
    pub previous: Option<SchemaId>,
    /// The database had this very schema already: nothing was written.
    pub unchanged: bool,
    pub steps: Vec<StepReport>,
    /// Records that break the schema now (`schema check DB --data` lists them).
    pub violations: u64,
    #[serde(default)]
    pub created_database: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemaShowOutput {
    pub db: Name,
    /// Absent when the database has no schema.
    pub schema: Option<SchemaId>,
    /// The schema in its stored (canonical) form.
    pub content: Option<serde_json::Value>,
    /// Why this syncdb cannot read the newest schema version, if it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// Every version the database holds, oldest first.
    pub versions: Vec<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemaDiffOutput {
    pub db: Name,
    pub from: Option<SchemaId>,
    pub to: SchemaId,
    /// `new` (no schema yet), `upgrade`, `same`, `older`, or `conflict`
    /// (same version, other content): what `schema set` would do.
    pub verdict: String,
    /// Differences in words, one per line.
    pub changes: Vec<String>,
    pub steps: Vec<StepReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemaDataParams {
    pub folder: FolderRef,
    pub db: Name,
    /// List at most this many violations (all are counted).
    pub limit: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ViolationInfo {
    pub collection: Name,
    pub key: Key,
    /// JSON pointer of the failing value ("" is the whole document).
    pub pointer: String,
    pub rule: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SchemaDataOutput {
    pub db: Name,
    pub schema: Option<SchemaId>,
    pub violations: u64,
    pub listed: Vec<ViolationInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResetParams {
    pub folder: FolderRef,
    pub db: Name,
    /// Discard local writes a remote does not have yet.
    #[serde(default)]
    pub force: bool,
    /// Seconds to wait for the remote to take local writes first.
    pub timeout_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResetOutput {
    pub db: Name,
    /// Local writes the remote had not acknowledged, discarded by --force.
    pub discarded: u64,
    /// The remotes the database is pulled from again.
    pub remotes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DigestParams {
    pub folder: FolderRef,
    pub db: Option<Name>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DigestOutput {
    pub databases: Vec<DatabaseDigest>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatabaseDigest {
    pub name: Name,
    /// SHA-256 over every record's merged state and the drop markers.
    pub digest: String,
    pub records: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenCreateParams {
    /// Only this folder id; any folder served here when absent.
    pub folder: Option<String>,
    pub read_only: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenCreated {
    /// Shown once; the hub keeps only its hash.
    pub token: String,
    pub id: String,
    pub folder: Option<String>,
    pub read_only: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub folder: Option<String>,
    pub read_only: bool,
    pub created_ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRevokeParams {
    pub id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServeParams {
    /// `HOST:PORT`. Absent: where it serves now, with the settings given
    /// added to the current ones (or `127.0.0.1:7700` when not serving).
    pub addr: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub create_folders: Option<PathBuf>,
    /// Serve folders from this shared store (`serve.store`); kept.
    #[serde(default)]
    pub store: Option<String>,
    pub insecure: bool,
    /// The HTTP API on the same port too.
    #[serde(default)]
    pub api: bool,
    /// Stop serving (and forget it in the config).
    pub stop: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServeOutput {
    /// The address listened on (with the real port for `:0`), if serving.
    pub addr: Option<String>,
    /// What remotes put in `remote add`: `ws://ADDR` or `wss://ADDR`.
    #[serde(default)]
    pub url: Option<String>,
    /// The HTTP API's base URL on the same port, with `--api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpParams {
    /// `HOST:PORT`; absent with `stop`, or to only show what is served.
    pub addr: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub insecure: bool,
    /// Origins allowed by CORS; `None` keeps the configured ones.
    #[serde(default)]
    pub cors_origins: Option<Vec<String>>,
    /// Stop the TCP listener (and forget it in the config).
    pub stop: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpOutput {
    /// The address listened on (with the real port for `:0`), if any.
    pub addr: Option<String>,
    /// `http://ADDR` or `https://ADDR`.
    #[serde(default)]
    pub url: Option<String>,
    /// The Unix socket the API is served on too (no token), if it is.
    #[serde(default)]
    pub socket: Option<PathBuf>,
    #[serde(default)]
    pub cors_origins: Vec<String>,
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
    /// The hub address, when serving.
    #[serde(default)]
    pub serving: Option<String>,
    /// Serving as configured (also when not listening, with the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve: Option<ServeStatus>,
    /// Sync connections open now (remotes dialed and peers served).
    #[serde(default)]
    pub peers_connected: i64,
    /// The HTTP API's TCP listener as configured, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<ServeStatus>,
    /// The HTTP API's Unix socket, if served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_socket: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderStatus {
    pub id: String,
    pub path: PathBuf,
    /// Absent when the folder cannot be read (missing): then it is unknown.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub engine: Option<EngineKind>,
    /// The registered directory is gone (moved or deleted).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub missing: bool,
    pub databases: Vec<DatabaseInfo>,
    #[serde(default)]
    pub remotes: Vec<RemoteStatus>,
    /// Why the folder cannot be served (missing, unreadable), if so.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StatusParams {
    /// List dropped databases too.
    #[serde(default)]
    pub all: bool,
}

/// The folders registered with the daemon (`syncdb folder ls`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderList {
    pub folders: Vec<RegisteredFolder>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisteredFolder {
    pub id: String,
    pub path: PathBuf,
    /// From the folder's settings; absent when they cannot be read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub engine: Option<EngineKind>,
    /// Remote names and URLs.
    pub remotes: Vec<RemoteRef>,
    /// The directory is there and is this folder (same id).
    pub exists: bool,
    /// Why it cannot be used, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteRef {
    pub name: String,
    pub url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderRmParams {
    /// A registered folder: its path (absolute) or its id.
    pub folder: String,
    /// Also delete its database files and `.syncdb/` (the directory too,
    /// if that leaves it empty).
    #[serde(default)]
    pub delete_files: bool,
    /// With `delete_files`: keep the directory even if it is left empty
    /// (a failed `clone` into a directory that was there before).
    #[serde(default)]
    pub keep_dir: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderRmOutput {
    pub id: String,
    pub path: PathBuf,
    /// What was deleted (with `delete_files`).
    pub deleted: Vec<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FolderMvParams {
    /// A registered folder: its path (absolute) or its id.
    pub from: String,
    /// Where it goes (absolute). If the directory is already there (moved
    /// by hand) and is the same folder, only the registration moves.
    pub to: PathBuf,
}

/// `index create` / `index drop`: one index of a collection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexParams {
    pub folder: FolderRef,
    pub db: Name,
    pub collection: Name,
    /// `FIELD[,FIELD…]`.
    pub fields: String,
}

/// `index ls` / `index check`: the indexes of every database of the folder,
/// of one, or of one collection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexLsParams {
    pub folder: FolderRef,
    #[serde(default)]
    pub db: Option<Name>,
    #[serde(default)]
    pub collection: Option<Name>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexInfo {
    pub db: Name,
    pub collection: Name,
    pub fields: Vec<String>,
    /// `building` or `ready`.
    pub state: String,
    /// Records the build has read so far, and the collection's visible
    /// records (a build also reads deleted ones, so `done` may pass it).
    pub done: u64,
    pub records: u64,
    /// The schema version that declares it, if a schema does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<u64>,
    /// `index create`: false when the index was there already.
    #[serde(default)]
    pub created: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexListOutput {
    pub indexes: Vec<IndexInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexCheckOutput {
    pub indexes: Vec<IndexChecked>,
}

/// One index checked against its collection's records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexChecked {
    pub index: IndexInfo,
    pub entries: u64,
    /// What is wrong: an entry no record has, a record with no entry.
    pub problems: Vec<String>,
}

/// `syncdb find`: the records of a collection that meet every condition,
/// in an order, a page at a time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FindParams {
    pub folder: FolderRef,
    pub db: Name,
    pub collection: Name,
    /// `FIELD OP VALUE` each, as `--where` takes them.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// A field path; by key when absent.
    #[serde(default)]
    pub order_by: Option<String>,
    #[serde(default)]
    pub desc: bool,
    pub limit: usize,
    /// A page's `next`: continue after it.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Count the matches instead of listing them.
    #[serde(default)]
    pub count: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FindOutput {
    #[serde(default)]
    pub records: Vec<FoundRecord>,
    /// Where the next page starts, when there may be more.
    #[serde(default)]
    pub next: Option<String>,
    /// With `count`: how many records match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    pub plan: QueryPlan,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoundRecord {
    pub key: Key,
    pub doc: Box<RawValue>,
    pub version: String,
}

/// How a query was run (`--explain`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryPlan {
    /// `index`: through `index`; `scan`: every record of the collection.
    pub method: String,
    /// The index read: `COLL(FIELD,…)`.
    #[serde(default)]
    pub index: Option<String>,
    /// The index gave the order, so reading stopped at a full page.
    #[serde(default)]
    pub ordered: bool,
    /// Conditions checked on each record read (the index decides the rest).
    #[serde(default)]
    pub residual: u64,
    /// Indexes on the collection still being built (not used until ready).
    #[serde(default)]
    pub building: Vec<String>,
    /// The conditions, the order, as understood.
    pub conditions: Vec<String>,
    pub order: String,
    /// Records read, and how many of them matched.
    pub examined: u64,
    pub matched: u64,
}

/// `cleanup`, `replica ls`, `compact`: every database of the folder, or one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DbScopeParams {
    pub folder: FolderRef,
    #[serde(default)]
    pub db: Option<Name>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CleanupOutput {
    pub databases: Vec<CleanupInfo>,
}

/// One database's cleanup: its horizon, and what was forgotten.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CleanupInfo {
    pub db: Name,
    /// Tombstones at or before this time (ms since the Unix epoch) are
    /// forgotten; 0 when none may be yet.
    pub horizon: u64,
    /// The horizon comes from a hub: the folder has remotes, or the
    /// database has synced with a hub before.
    pub follows_hub: bool,
    /// Tombstones forgotten by this run.
    pub removed: u64,
    /// Tombstones forgotten here, ever.
    pub removed_total: u64,
    /// Replicas this run retired (site ids).
    pub retired: Vec<String>,
    /// How long the cleanup took, in ms.
    pub ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplicaListOutput {
    pub databases: Vec<ReplicaDbInfo>,
}

/// A database's replica here, its horizon, and (on a hub) the replicas it
/// serves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplicaDbInfo {
    pub db: Name,
    /// This replica's site id.
    pub site: String,
    pub horizon: u64,
    pub follows_hub: bool,
    /// Rebuilt from the hub's state at this horizon, and not caught up yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejoin: Option<u64>,
    /// Site ids this replica's data was written under before (a restore).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former: Vec<String>,
    pub replicas: Vec<ReplicaInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplicaInfo {
    pub site: String,
    /// When this hub last heard from it (ms since the Unix epoch).
    pub last_seen_ms: u64,
    /// Our feed is applied there through this seq.
    pub acked: u64,
    /// `live` or `retired`.
    pub state: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplicaRmParams {
    pub folder: FolderRef,
    pub db: Name,
    /// The site id (hex), or a unique prefix of it.
    pub site: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompactOutput {
    pub databases: Vec<CompactInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompactInfo {
    pub db: Name,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// How long writes to it waited, in ms.
    pub ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupParams {
    pub folder: FolderRef,
    /// One database; every one of the folder when absent.
    #[serde(default)]
    pub db: Option<Name>,
    /// A directory that does not exist yet, or an empty one.
    pub dest: PathBuf,
}

/// `manifest.json` of a backup: what it holds, to check it on restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The manifest's format (1).
    pub format: u32,
    /// The version of syncdb that wrote it.
    pub syncdb: String,
    /// The folder's id.
    pub folder: String,
    /// When the backup was taken (ms since the Unix epoch).
    pub created_ms: u64,
    pub databases: Vec<ManifestEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub db: Name,
    /// The file's name in the backup directory.
    pub file: String,
    pub engine: EngineKind,
    /// The replica's site id when the backup was taken.
    pub site: String,
    /// The last seq of its feed in the copy.
    pub seq: u64,
    /// Visible records in the copy.
    pub records: u64,
    /// Its schema version (0: none).
    pub schema_version: u64,
    pub bytes: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupOutput {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// How long the copies took, in ms.
    pub ms: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoreParams {
    pub folder: FolderRef,
    /// A backup directory (with `manifest.json`).
    pub src: PathBuf,
    /// One database of the backup; every one when absent.
    #[serde(default)]
    pub db: Option<Name>,
    /// Replace a database that exists here (it is moved aside first).
    #[serde(default)]
    pub force: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoreOutput {
    pub databases: Vec<RestoredInfo>,
    /// The id of the folder the backup was taken of, when it is another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_folder: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RestoredInfo {
    pub db: Name,
    pub records: u64,
    pub seq: u64,
    /// The restored replica's new site id, and the one it was copied from.
    pub site: String,
    pub former_site: String,
    /// Where the database it replaced was moved (with --force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<PathBuf>,
}
