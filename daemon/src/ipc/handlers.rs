//! Request handlers: plain functions from state and params to a result.
//! Only waiting for a commit is async; streams (watch, import) live in
//! `connection.rs`, which owns the socket.

use std::path::Path;
use std::sync::Arc;

use syncdb_core::db::{OpOutcome, VisibleRecord, WriteOp};
use syncdb_core::folder::Folder;
use syncdb_core::ipc::*;
use syncdb_core::schema::{self, Head};
use syncdb_core::{Document, Key, Name};

use super::errors::{bad_input, not_found, replica_error};
use crate::replicas::Replica;
use crate::state::{State, database_bytes, open_registered};

pub fn hello(state: &State, _: HelloParams) -> Result<HelloOutput, RpcError> {
    Ok(HelloOutput {
        version: crate::VERSION.to_owned(),
        ipc_version: IPC_VERSION,
        pid: std::process::id(),
        serve: state.sync.serve_status(),
    })
}

/// Blocking: re-pointing a moved folder waits for its databases to close.
pub fn init(state: &Arc<State>, p: InitParams) -> Result<FolderInfo, RpcError> {
    if !p.path.is_absolute() {
        return Err(bad_input(format!(
            "folder path {} must be absolute",
            p.path.display()
        )));
    }
    let engine = p.engine.unwrap_or(state.config().engine);
    let (folder, created) = Folder::create(&p.path, engine)
        .map_err(|e| RpcError::new(ErrorCode::Storage, e.to_string()))?;
    // `init` where a registered folder now lives (moved by hand, its old
    // path gone): the registration follows it, remotes and all, instead of
    // a second entry for the same id.
    let moved_from = state
        .config()
        .folders
        .into_iter()
        .find(|f| {
            f.id == folder.settings.id
                && f.path != folder.path
                && std::fs::symlink_metadata(&f.path).is_err()
        })
        .map(|f| f.path);
    if let Some(old) = moved_from {
        let to = folder.path.clone();
        let from = old.to_string_lossy().into_owned();
        super::folders::mv(state, FolderMvParams { from, to })?;
        tracing::info!(from = %old.display(), to = %folder.path.display(), "init re-pointed a moved folder");
    }
    state.register(&folder)?;
    if created {
        tracing::info!(folder = %folder.path.display(), id = %folder.settings.id, "created folder");
    }
    Ok(FolderInfo {
        id: folder.settings.id,
        path: folder.path,
        engine: folder.settings.engine,
        created,
    })
}

fn limits(state: &State) -> (usize, String) {
    let config = state.config.lock().expect("config");
    (
        config.daemon.max_document_bytes,
        config.daemon.key_path.clone(),
    )
}

fn written(
    outcome: OpOutcome,
    key: Option<Key>,
    what: impl FnOnce() -> String,
) -> Result<WriteOutput, RpcError> {
    match outcome {
        OpOutcome::Written { seq, version } => Ok(WriteOutput {
            key,
            seq,
            version: version.to_string(),
            created_database: false,
        }),
        OpOutcome::NotFound => Err(not_found(what())),
        OpOutcome::Unchanged => Err(RpcError::new(
            ErrorCode::Internal,
            "a write reported no outcome; nothing was written",
        )),
    }
}

/// What a conditional write expects of the record it writes (HTTP's
/// `If-Match` and `If-None-Match: *`), checked in the write's transaction.
pub use syncdb_core::db::Expected as Cond;

/// Writes `op` alone, or after the check `cond` asks for, in one transaction.
async fn write_one(
    replica: &Replica,
    cond: Option<Cond>,
    op: WriteOp,
) -> Result<OpOutcome, RpcError> {
    let mut ops = Vec::with_capacity(2);
    if let (Some(cond), Some(collection), Some(key)) = (cond, op.collection(), op.key()) {
        ops.push(WriteOp::Expect {
            collection: collection.clone(),
            key: key.clone(),
            expected: cond,
        });
    }
    ops.push(op);
    let mut outcomes = replica.write(ops).await.map_err(|e| {
        let mut err = replica_error(e);
        err.message.push_str("; nothing was written");
        err
    })?;
    Ok(outcomes.pop().expect("one outcome per op"))
}

/// A stored document that is not JSON: only a damaged file holds one.
fn stored_damaged(
    folder: &Folder,
    db: &Name,
    collection: &Name,
    key: &Key,
    e: serde_json::Error,
) -> RpcError {
    RpcError::new(
        ErrorCode::Storage,
        format!(
            "record {db}/{collection}/{key} in {} is damaged ({e}); run `syncdb repair {db}` to fetch the database again from a remote",
            folder.path.display()
        ),
    )
}

/// "No database DB in FOLDER" (exit 3): what every read of a missing
/// database says. Reads never create one.
pub fn no_database(db: &Name, folder: &Folder) -> RpcError {
    not_found(format!("no database {db} in {}", folder.path.display()))
}

/// `db` alone when given, else every database of the folder (by name).
pub fn one_or_all(
    state: &State,
    folder: &Folder,
    db: Option<&Name>,
) -> Result<Vec<Name>, RpcError> {
    match db {
        Some(db) => Ok(vec![db.clone()]),
        None => Ok(state
            .replicas
            .databases(folder)
            .map_err(super::errors::replica_error)?
            .into_iter()
            .map(|(n, _)| n)
            .collect()),
    }
}

/// The replica of an existing `db`, else "not found".
/// The open replica of `db` in `folder`; a missing one is "not found".
pub fn replica(state: &State, folder: &Folder, db: &Name) -> Result<Arc<Replica>, RpcError> {
    state
        .replicas
        .get(folder, db, false)
        .map_err(replica_error)?
        .ok_or_else(|| no_database(db, folder))
}

/// The key path of `collection`: its schema's, else `daemon.key_path`.
pub fn key_path(head: &Head, collection: &Name, default: &str) -> String {
    head.schema()
        .and_then(|s| s.collections.get(collection))
        .map_or_else(|| default.to_owned(), |c| c.key_path.join("."))
}

/// Refuses, before anything is read, a write no line of it could make:
/// into the schema's own collection, or while the schema cannot be read.
pub fn writable_collection(db: &Name, collection: &Name, head: &Head) -> Result<(), RpcError> {
    if collection.as_str() == schema::COLLECTION {
        return Err(bad_input(format!(
            "collection {} of {db} holds the database's schema; change it with `syncdb schema set {db} FILE`",
            schema::COLLECTION
        )));
    }
    if let Head::Unreadable {
        version, reason, ..
    } = head
    {
        return Err(bad_input(format!(
            "database {db} has schema version {version}, which this syncdb cannot read ({reason}); writes to it are refused"
        )));
    }
    Ok(())
}

/// The key a put uses: the address's, else the document's key field, else new.
pub fn put_key(given: Option<Key>, doc: &Document, key_path: &str) -> Result<Key, RpcError> {
    match given {
        Some(k) => Ok(k),
        None => Ok(doc
            .key_at(key_path)
            .map_err(|e| bad_input(e.to_string()))?
            .unwrap_or_else(Key::new_v7)),
    }
}

pub async fn put(state: &State, p: PutParams) -> Result<WriteOutput, RpcError> {
    put_if(state, p, None).await
}

/// `put`, only while the record is as `cond` says.
pub async fn put_if(
    state: &State,
    p: PutParams,
    cond: Option<Cond>,
) -> Result<WriteOutput, RpcError> {
    let (max, key_path) = limits(state);
    let doc = Document::parse(&p.doc, max).map_err(|e| bad_input(e.to_string()))?;
    let folder = state.resolve_writable(&p.folder)?;
    let head = state
        .replicas
        .get(&folder, &p.db, false)
        .map_err(replica_error)?
        .map(|r| r.schema())
        .unwrap_or_default();
    writable_collection(&p.db, &p.collection, &head)?;
    let key = put_key(
        p.key,
        &doc,
        &self::key_path(&head, &p.collection, &key_path),
    )?;
    let (replica, created) = state
        .replicas
        .get_or_create(&folder, &p.db)
        .map_err(replica_error)?;
    let op = WriteOp::Put {
        collection: p.collection,
        key: key.clone(),
        doc,
    };
    let outcome = write_one(&replica, cond, op).await;
    if outcome.is_err() && created {
        // Nothing was written: the database it made goes too.
        state.replicas.discard_new(replica);
    }
    let mut out = written(outcome?, Some(key), String::new)?;
    out.created_database = created;
    Ok(out)
}

pub async fn patch(state: &State, p: PatchParams) -> Result<WriteOutput, RpcError> {
    patch_if(state, p, None).await
}

/// `patch`, only while the record is as `cond` says.
pub async fn patch_if(
    state: &State,
    p: PatchParams,
    cond: Option<Cond>,
) -> Result<WriteOutput, RpcError> {
    let (max, _) = limits(state);
    let part = Document::parse(&p.doc, max).map_err(|e| bad_input(e.to_string()))?;
    let folder = state.resolve_writable(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    let what = || format!("no record {}/{}/{}", p.db, p.collection, p.key);
    let op = WriteOp::Patch {
        collection: p.collection.clone(),
        key: p.key.clone(),
        part,
    };
    written(
        write_one(&replica, cond, op).await?,
        Some(p.key.clone()),
        what,
    )
}

pub async fn del(state: &State, p: RecordParams) -> Result<WriteOutput, RpcError> {
    del_if(state, p, None).await
}

/// `del`, only while the record is as `cond` says.
pub async fn del_if(
    state: &State,
    p: RecordParams,
    cond: Option<Cond>,
) -> Result<WriteOutput, RpcError> {
    let folder = state.resolve_writable(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    let what = || format!("no record {}/{}/{}", p.db, p.collection, p.key);
    let op = WriteOp::Delete {
        collection: p.collection.clone(),
        key: p.key.clone(),
    };
    written(
        write_one(&replica, cond, op).await?,
        Some(p.key.clone()),
        what,
    )
}

pub async fn drop(state: &State, p: DropParams) -> Result<WriteOutput, RpcError> {
    let folder = state.resolve_writable(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    droppable(&replica, &p)?;
    let op = match p.collection {
        Some(collection) => WriteOp::DropCollection { collection },
        None => WriteOp::DropDatabase,
    };
    written(write_one(&replica, None, op).await?, None, String::new)
}

/// A drop replicates to every machine: a typo'd collection, or a database
/// dropped already, would send a marker everywhere for nothing.
fn droppable(replica: &Replica, p: &DropParams) -> Result<(), RpcError> {
    let store_err = |e| replica_error(replica.store_error(e));
    match &p.collection {
        Some(c) => {
            let collections = replica.reader.collections().map_err(store_err)?;
            if !collections.iter().any(|(name, _)| name == c) {
                let names: Vec<&str> = collections.iter().map(|(n, _)| n.as_str()).collect();
                let have = match names.is_empty() {
                    true => "it has none".to_owned(),
                    false => format!("it has {}", names.join(", ")),
                };
                return Err(not_found(format!("no collection {c} in {} ({have})", p.db)));
            }
        }
        None => {
            if replica.reader.is_dropped().map_err(store_err)? {
                return Err(not_found(format!(
                    "database {} is dropped already: nothing to drop",
                    p.db
                )));
            }
        }
    }
    Ok(())
}

/// How many records a drop would remove: the command asks a person to
/// confirm one that removes any (it reaches every replica). Checked as the
/// drop itself is (a writable folder, an existing database).
pub fn drop_check(state: &State, p: DropParams) -> Result<DropCheckOutput, RpcError> {
    let folder = state.resolve_writable(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    droppable(&replica, &p)?;
    let store_err = |e| replica_error(replica.store_error(e));
    let collections = replica.reader.collections().map_err(store_err)?;
    let records = collections
        .iter()
        .filter(|(name, _)| p.collection.as_ref().is_none_or(|c| c == name))
        .map(|(_, n)| n)
        .sum();
    Ok(DropCheckOutput { records })
}

pub fn get(state: &State, p: RecordParams) -> Result<RecordOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let rec = record(state, &folder, &p.db, &p.collection, &p.key)?;
    let damaged = |e| stored_damaged(&folder, &p.db, &p.collection, &rec.key, e);
    Ok(RecordOutput {
        doc: serde_json::value::RawValue::from_string(rec.doc).map_err(damaged)?,
        key: rec.key,
        seq: rec.seq,
        version: rec.version.to_string(),
    })
}

/// A visible record of `folder`, its document as stored.
pub fn record(
    state: &State,
    folder: &Folder,
    db: &Name,
    collection: &Name,
    key: &Key,
) -> Result<VisibleRecord, RpcError> {
    let replica = replica(state, folder, db)?;
    let found = replica
        .reader
        .get(collection, key)
        .map_err(|e| replica_error(replica.store_error(e)))?;
    found.ok_or_else(|| not_found(format!("no record {db}/{collection}/{key}")))
}

pub fn database_info(replica: &Replica, path: &Path) -> Result<DatabaseInfo, RpcError> {
    let store_err = |e| replica_error(replica.store_error(e));
    let records = replica.reader.record_count().map_err(store_err)?;
    let head = replica.schema();
    Ok(DatabaseInfo {
        name: replica.name.clone(),
        engine: replica.reader.kind(),
        records,
        seq: replica.high_seq(),
        bytes: database_bytes(path),
        error: None,
        dropped: replica.reader.is_dropped().map_err(store_err)?,
        stopped: Vec::new(),
        schema: super::schema::id(&head),
        violations: replica.violations().map_err(store_err)?,
        schema_error: match head {
            Head::Unreadable { reason, .. } => Some(reason),
            _ => None,
        },
        horizon: replica.history().horizon,
        replicas: super::history::replicas(replica),
    })
}

/// The databases of `folder`; dropped ones only with `all`.
fn databases(state: &State, folder: &Folder, all: bool) -> Result<Vec<DatabaseInfo>, RpcError> {
    let names = (state.replicas)
        .databases(folder)
        .map_err(super::errors::replica_error)?;
    let mut out = Vec::with_capacity(names.len());
    for (name, kind) in names {
        let path = folder.path.join(format!("{name}.{}", kind.extension()));
        // One database that cannot be read is listed with its reason; it
        // does not hide the others.
        let info = match state.replicas.get(folder, &name, false) {
            Ok(Some(replica)) => database_info(&replica, &path).map(|mut info| {
                info.stopped = state.sync.stopped(&folder.path, &name);
                info
            }),
            Ok(None) => continue,
            Err(e) => Err(replica_error(e)),
        };
        out.push(info.unwrap_or_else(|e| DatabaseInfo {
            name,
            engine: kind,
            records: 0,
            seq: 0,
            bytes: database_bytes(&path),
            error: Some(e.message),
            dropped: false,
            schema: None,
            violations: 0,
            schema_error: None,
            stopped: Vec::new(),
            horizon: 0,
            replicas: Vec::new(),
        }));
    }
    out.retain(|d| all || !d.dropped);
    Ok(out)
}

/// Blocking: may scan many records. Run it off the async workers.
pub fn ls(state: &State, p: LsParams) -> Result<LsOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let Some(db) = p.db else {
        return Ok(LsOutput {
            databases: Some(databases(state, &folder, p.all)?),
            ..Default::default()
        });
    };
    let replica = replica(state, &folder, &db)?;
    let store_err = |e| replica_error(replica.store_error(e));
    let Some(collection) = p.collection else {
        let collections = replica.reader.collections().map_err(store_err)?;
        let collections = collections
            .into_iter()
            .map(|(name, records)| CollectionInfo { name, records })
            .collect();
        return Ok(LsOutput {
            collections: Some(collections),
            ..Default::default()
        });
    };
    let rows = replica
        .reader
        .list_within(
            &collection,
            &p.prefix,
            p.after.as_ref(),
            p.limit,
            p.max_bytes.unwrap_or(usize::MAX),
        )
        .map_err(store_err)?;
    let records = rows
        .into_iter()
        .map(|(key, doc)| {
            let doc = match p.keys_only {
                true => None,
                false => Some(
                    serde_json::value::RawValue::from_string(doc)
                        .map_err(|e| stored_damaged(&folder, &db, &collection, &key, e))?,
                ),
            };
            Ok(RecordEntry { key, doc })
        })
        .collect::<Result<_, RpcError>>()?;
    Ok(LsOutput {
        records: Some(records),
        ..Default::default()
    })
}

/// Blocking: opens every database. Run it off the async workers.
pub fn status(state: &State, p: StatusParams) -> Result<StatusOutput, RpcError> {
    let config = state.config();
    let mut folders = Vec::new();
    for entry in &config.folders {
        // A folder that cannot be opened has no known engine: the config's
        // default would be a guess shown as a fact.
        let (engine, databases, error) = match open_registered(entry) {
            Ok(folder) => match databases(state, &folder, p.all) {
                Ok(dbs) => (Some(folder.engine()), dbs, None),
                Err(e) => (Some(folder.engine()), Vec::new(), Some(e.message)),
            },
            Err(e) => (None, Vec::new(), Some(e.message)),
        };
        let remotes = match open_registered(entry) {
            Ok(folder) => super::sync_handlers::remote_statuses(state, &folder),
            Err(_) => Vec::new(),
        };
        folders.push(FolderStatus {
            id: entry.id.clone(),
            path: entry.path.clone(),
            engine,
            missing: !entry.path.exists(),
            databases,
            remotes,
            error,
        });
    }
    Ok(StatusOutput {
        daemon: DaemonInfo {
            version: crate::VERSION.to_owned(),
            pid: std::process::id(),
            uptime_secs: state.started.elapsed().as_secs(),
            socket: state.paths.socket().unwrap_or_default(),
            config: state.config_path(),
            serving: state.sync.serving_addr().map(|a| a.to_string()),
            serve: state.sync.serve_status(),
            peers_connected: state
                .sync
                .metrics
                .peers_connected
                .load(std::sync::atomic::Ordering::Relaxed),
            http: state.http.status(),
            http_socket: super::http::unix_socket(state),
        },
        folders,
    })
}

pub fn shutdown(state: &State) -> Result<Empty, RpcError> {
    tracing::info!("shutdown requested over IPC");
    state.stop();
    Ok(Empty {})
}
