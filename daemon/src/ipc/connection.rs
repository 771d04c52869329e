//! One client connection: read capped lines, dispatch requests, answer in
//! order. Holds the connection's import, if one is in progress, so a client
//! that goes away mid-import aborts it (nothing written, and a database the
//! import created is removed again).

use std::sync::Arc;

use interprocess::local_socket::tokio::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use syncdb_core::Name;
use syncdb_core::db::WriteOp;
use syncdb_core::ipc::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::errors::{bad_input, replica_error};
use super::import::LineReader;
use super::{handlers, sync_handlers};
use crate::replicas::{ImportDone, ImportMsg, Replica};
use crate::state::State;

pub struct Connection {
    pub(super) state: Arc<State>,
    pub(super) stream: Stream,
    pub(super) lines: LineBuffer,
    pub(super) chunk: Vec<u8>,
    /// The line cap, also the most a stream (`watch`, `sync`) buffers of
    /// what the client sends while it streams.
    pub(super) max_line: usize,
    import: Option<Import>,
}

struct Import {
    db: Name,
    collection: Name,
    lines: LineReader,
    /// The schema lines are checked against here, beside the writer.
    schema: Option<Arc<syncdb_core::schema::Schema>>,
    /// The database's writer; none for a dry run, which writes nothing.
    writer: Option<ImportWriter>,
    queued: u64,
}

struct ImportWriter {
    replica: Arc<Replica>,
    tx: mpsc::Sender<ImportMsg>,
    done: ImportDone,
    /// The import created the database: if it fails, the database goes.
    created: bool,
}

impl ImportWriter {
    /// Ends an import that will not commit: its writer rolls back, and a
    /// database it created is removed (exit 2 means nothing was written,
    /// so nothing is left). Returns the writer's reason, if it had one.
    async fn abandon(self, state: &Arc<State>) -> Option<crate::replicas::ReplicaError> {
        drop(self.tx);
        let reason = match self.done.await {
            Ok(Err(e)) => Some(self.replica.store_error(e)),
            _ => None,
        };
        if self.created {
            discard(state, self.replica).await;
        }
        reason
    }
}

/// Removes a database created by a write that wrote nothing (off the async
/// workers: it joins the database's writer thread).
async fn discard(state: &Arc<State>, replica: Arc<Replica>) {
    let state = state.clone();
    let _ = tokio::task::spawn_blocking(move || state.replicas.discard_new(replica)).await;
}

/// What reading the next request gave.
pub(super) enum Read {
    Line(Vec<u8>),
    Closed,
}

fn params<P: DeserializeOwned>(raw: &Option<Box<RawValue>>) -> Result<P, RpcError> {
    let text = raw.as_deref().map_or("{}", RawValue::get);
    serde_json::from_str(text)
        .map_err(|e| RpcError::new(ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

impl Connection {
    pub fn new(state: Arc<State>, stream: Stream, max_line: usize) -> Self {
        Connection {
            state,
            stream,
            lines: LineBuffer::new(max_line),
            chunk: vec![0; 64 * 1024],
            max_line,
            import: None,
        }
    }

    pub async fn run(mut self) {
        let state = self.state.clone();
        loop {
            // Between requests, a stopping daemon closes the connection at
            // once: nothing is lost (no request is in progress), and the
            // stop does not wait out the drain for idle clients — among them
            // the very command that asked it to stop.
            let next = tokio::select! {
                next = self.next_line() => next,
                _ = state.stopped() => break,
            };
            match next {
                Ok(Read::Line(line)) => {
                    if let Err(e) = self.handle(&line).await {
                        tracing::debug!(error = %e, "connection closed while answering");
                        break;
                    }
                }
                Ok(Read::Closed) => break,
                Err(e) => {
                    // Over-long line or I/O error: say so (best effort) and close.
                    let err = RpcError::new(ErrorCode::InvalidRequest, e.to_string());
                    let _ = (&self.stream)
                        .write_all(&response_line::<()>(&Value::Null, Err(err)))
                        .await;
                    tracing::warn!(error = %e, "closing a local connection");
                    break;
                }
            }
        }
        // The client went away mid-import: it never committed.
        if let Some(w) = self.import.take().and_then(|i| i.writer) {
            w.abandon(&state).await;
        }
    }

    /// Fills the line buffer from the socket until a whole line is there.
    pub(super) async fn next_line(&mut self) -> std::io::Result<Read> {
        loop {
            if let Some(line) = self.lines.next_line().map_err(std::io::Error::other)? {
                return Ok(Read::Line(line.to_vec()));
            }
            let n = (&self.stream).read(&mut self.chunk).await?;
            if n == 0 {
                return Ok(Read::Closed);
            }
            self.lines.push(&self.chunk[..n]);
        }
    }

    pub(super) async fn reply<R: Serialize>(
        &mut self,
        id: &Value,
        outcome: Result<R, RpcError>,
    ) -> std::io::Result<()> {
        (&self.stream).write_all(&response_line(id, outcome)).await
    }

    async fn handle(&mut self, line: &[u8]) -> std::io::Result<()> {
        let req: Request = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                let code = if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
                    ErrorCode::InvalidRequest
                } else {
                    ErrorCode::ParseError
                };
                let err = RpcError::new(code, format!("not a JSON-RPC 2.0 request: {e}"));
                return self.reply::<()>(&Value::Null, Err(err)).await;
            }
        };
        if req.jsonrpc != "2.0" {
            let err = RpcError::new(ErrorCode::InvalidRequest, "jsonrpc must be \"2.0\"");
            return self.reply::<()>(&req.id, Err(err)).await;
        }
        let state = self.state.clone();
        let id = req.id.clone();
        let p = &req.params;
        match req.method.as_str() {
            Hello::NAME => {
                let out = params(p).and_then(|p| handlers::hello(&state, p));
                self.reply(&id, out).await
            }
            Init::NAME => {
                let out = with_params(p, |p: InitParams| {
                    blocking(move || handlers::init(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            Put::NAME => {
                let out = with_params(p, |p| handlers::put(&state, p)).await;
                self.reply(&id, out).await
            }
            Patch::NAME => {
                let out = with_params(p, |p| handlers::patch(&state, p)).await;
                self.reply(&id, out).await
            }
            Del::NAME => {
                let out = with_params(p, |p| handlers::del(&state, p)).await;
                self.reply(&id, out).await
            }
            DropScope::NAME => {
                let out = with_params(p, |p| handlers::drop(&state, p)).await;
                self.reply(&id, out).await
            }
            Get::NAME => {
                let out = params(p).and_then(|p| handlers::get(&state, p));
                self.reply(&id, out).await
            }
            Ls::NAME => {
                let out =
                    with_params(p, |p: LsParams| blocking(move || handlers::ls(&state, p))).await;
                self.reply(&id, out).await
            }
            Status::NAME => {
                let out = with_params(p, |p: StatusParams| {
                    blocking(move || handlers::status(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            DropCheck::NAME => {
                let out = params(p).and_then(|p| handlers::drop_check(&state, p));
                self.reply(&id, out).await
            }
            FolderLs::NAME => {
                let out = super::folders::ls(&state);
                self.reply(&id, out).await
            }
            FolderRm::NAME => {
                let out = with_params(p, |p: FolderRmParams| {
                    let state = state.clone();
                    blocking(move || super::folders::rm(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            FolderMv::NAME => {
                let out = with_params(p, |p: FolderMvParams| {
                    let state = state.clone();
                    blocking(move || super::folders::mv(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            Shutdown::NAME => {
                let out = handlers::shutdown(&state);
                self.reply(&id, out).await
            }
            Watch::NAME => match params(p) {
                Ok(p) => self.watch(&id, p).await,
                Err(e) => self.reply::<()>(&id, Err(e)).await,
            },
            ImportBegin::NAME => {
                let out = params(p).and_then(|p| self.import_begin(p));
                self.reply(&id, out).await
            }
            ImportChunk::NAME => {
                let out = with_params(p, |p| self.import_chunk(p)).await;
                self.reply(&id, out).await
            }
            ImportEnd::NAME => {
                let out = self.import_end().await;
                self.reply(&id, out).await
            }
            RemoteAdd::NAME => {
                let out = params(p).and_then(|p| sync_handlers::remote_add(&state, p));
                self.reply(&id, out).await
            }
            RemoteLs::NAME => {
                let out = params(p).and_then(|p| sync_handlers::remote_ls(&state, p));
                self.reply(&id, out).await
            }
            RemoteRm::NAME => {
                let out = params(p).and_then(|p| sync_handlers::remote_rm(&state, p));
                self.reply(&id, out).await
            }
            CloneFolder::NAME => {
                let out = params(p).and_then(|p| sync_handlers::clone(&state, p));
                self.reply(&id, out).await
            }
            Digest::NAME => {
                let out = with_params(p, |p: DigestParams| {
                    blocking(move || sync_handlers::digest(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            SchemaSet::NAME => {
                let out = with_params(p, |p| super::schema::set(&state, p)).await;
                self.reply(&id, out).await
            }
            SchemaShow::NAME => {
                let out = params(p).and_then(|p| super::schema::show(&state, p));
                self.reply(&id, out).await
            }
            SchemaDiff::NAME => {
                let out = with_params(p, |p: SchemaSetParams| {
                    blocking(move || super::schema::diff(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            SchemaData::NAME => {
                let out = with_params(p, |p: SchemaDataParams| {
                    blocking(move || super::schema::data(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            Reset::NAME => {
                let out = with_params(p, |p| super::reset::reset(&state, p)).await;
                self.reply(&id, out).await
            }
            Repair::NAME => {
                let out = with_params(p, |p: RepairParams| {
                    blocking(move || super::repair::repair(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            TokenCreate::NAME => {
                let out = params(p).and_then(|p| sync_handlers::token_create(&state, p));
                self.reply(&id, out).await
            }
            TokenLs::NAME => {
                let out = sync_handlers::token_ls(&state);
                self.reply(&id, out).await
            }
            TokenRevoke::NAME => {
                let out = params(p).and_then(|p| sync_handlers::token_revoke(&state, p));
                self.reply(&id, out).await
            }
            Serve::NAME => {
                let out = with_params(p, |p| sync_handlers::serve(&state, p)).await;
                self.reply(&id, out).await
            }
            Sync::NAME => match params(p) {
                Ok(p) => self.sync(&id, p).await,
                Err(e) => self.reply::<()>(&id, Err(e)).await,
            },
            other => {
                let err = RpcError::new(
                    ErrorCode::MethodNotFound,
                    format!("unknown method {other:?}"),
                );
                self.reply::<()>(&id, Err(err)).await
            }
        }
    }

    fn import_begin(&mut self, p: ImportBeginParams) -> Result<ImportOutput, RpcError> {
        if self.import.is_some() {
            return Err(bad_input(
                "an import is already in progress on this connection",
            ));
        }
        let folder = self.state.resolve_writable(&p.folder)?;
        let existing = self
            .state
            .replicas
            .get(&folder, &p.db, false)
            .map_err(replica_error)?;
        let head = existing.as_ref().map(|r| r.schema()).unwrap_or_default();
        handlers::writable_collection(&p.db, &p.collection, &head)?;
        let schema = head.schema().cloned();
        let lines = {
            let c = self.state.config.lock().expect("config");
            let key_path = handlers::key_path(&head, &p.collection, &c.daemon.key_path);
            LineReader {
                format: p.format,
                key_required: p.key_field.is_some(),
                key_field: p.key_field.unwrap_or(key_path),
                max_doc_bytes: c.daemon.max_document_bytes,
            }
        };
        let writer = if p.dry_run {
            None
        } else {
            let (replica, created) = self
                .state
                .replicas
                .get_or_create(&folder, &p.db)
                .map_err(replica_error)?;
            let (tx, done) = replica.import().map_err(replica_error)?;
            Some(ImportWriter {
                replica,
                tx,
                done,
                created,
            })
        };
        self.import = Some(Import {
            db: p.db,
            collection: p.collection,
            lines,
            schema,
            writer,
            queued: 0,
        });
        Ok(ImportOutput {
            imported: 0,
            dry_run: p.dry_run,
            seq: None,
            created_database: false,
        })
    }

    async fn import_chunk(&mut self, p: ImportChunkParams) -> Result<ImportOutput, RpcError> {
        let Some(import) = self.import.as_mut() else {
            return Err(bad_input("no import in progress; call import.begin first"));
        };
        let mut ops = Vec::with_capacity(p.lines.len());
        let mut line_nos = Vec::with_capacity(p.lines.len());
        for (i, line) in p.lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line_no = p.first_line + i as u64;
            let read = import.lines.read(line, line_no).and_then(|(key, doc)| {
                match &import.schema {
                    Some(schema) => schema
                        .check(&import.collection, &doc)
                        .and_then(|()| schema.check_key(&import.collection, &key, &doc))
                        .map_err(|v| {
                            format!(
                                "line {line_no}: record {}/{}/{key} breaks schema {} v{}: {v}",
                                import.db, import.collection, schema.name, schema.version
                            )
                        }),
                    None => Ok(()),
                }
                .map(|()| (key, doc))
            });
            match read {
                Ok((key, doc)) => {
                    line_nos.push(line_no);
                    ops.push(WriteOp::Put {
                        collection: import.collection.clone(),
                        key,
                        doc,
                    })
                }
                Err(message) => {
                    // Dropping the sender aborts: nothing written.
                    if let Some(w) = self.import.take().and_then(|i| i.writer) {
                        w.abandon(&self.state).await;
                    }
                    return Err(bad_input(format!("{message}; nothing was imported")));
                }
            }
        }
        import.queued += ops.len() as u64;
        let dry_run = import.writer.is_none();
        if let Some(w) = &import.writer
            && w.tx
                .send(ImportMsg::Ops {
                    ops,
                    lines: line_nos,
                    checked: import.schema.as_ref().map(|s| s.hash().to_owned()),
                })
                .await
                .is_err()
        {
            return Err(self.import_failed().await);
        }
        Ok(ImportOutput {
            imported: import_queued(&self.import),
            dry_run,
            seq: None,
            created_database: false,
        })
    }

    async fn import_end(&mut self) -> Result<ImportOutput, RpcError> {
        let Some(import) = self.import.take() else {
            return Err(bad_input("no import in progress; call import.begin first"));
        };
        let Some(w) = import.writer else {
            return Ok(ImportOutput {
                imported: import.queued,
                dry_run: true,
                seq: None,
                created_database: false,
            });
        };
        let _ = w.tx.send(ImportMsg::End).await;
        drop(w.tx);
        let outcome = match w.done.await {
            Ok(Ok(imported)) => Ok(ImportOutput {
                imported,
                dry_run: false,
                seq: Some(w.replica.high_seq()),
                created_database: w.created,
            }),
            Ok(Err(e)) => Err(replica_error(w.replica.store_error(e))),
            Err(_) => Err(RpcError::new(
                ErrorCode::Unavailable,
                "the database writer stopped",
            )),
        };
        if outcome.is_err() && w.created {
            discard(&self.state, w.replica).await;
        }
        outcome
    }

    /// The writer gave up on the import (a storage error): fetch its reason.
    async fn import_failed(&mut self) -> RpcError {
        let Some(w) = self.import.take().and_then(|i| i.writer) else {
            return RpcError::new(ErrorCode::Internal, "import state lost");
        };
        match w.abandon(&self.state).await {
            Some(e) => replica_error(e),
            None => RpcError::new(ErrorCode::Unavailable, "the database writer stopped"),
        }
    }
}

fn import_queued(import: &Option<Import>) -> u64 {
    import.as_ref().map_or(0, |i| i.queued)
}

/// Decodes the params, then runs an async handler on them.
async fn with_params<P: DeserializeOwned, T, F: Future<Output = Result<T, RpcError>>>(
    raw: &Option<Box<RawValue>>,
    handler: impl FnOnce(P) -> F,
) -> Result<T, RpcError> {
    handler(params(raw)?).await
}

/// Runs a blocking handler on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RpcError> + Send + 'static,
) -> Result<T, RpcError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(RpcError::new(
            ErrorCode::Internal,
            format!("handler failed: {e}"),
        ))
    })
}
