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
use syncdb_core::ipc::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::errors::bad_input;
use super::import::{Import, no_import};
use super::{handlers, sync_handlers};
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
        if let Some(import) = self.import.take() {
            import.abandon(&state).await;
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
            Find::NAME => {
                let out = with_params(p, |p: FindParams| {
                    blocking(move || super::find::find(&state, p))
                })
                .await;
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
                let out = match (&self.import, params(p)) {
                    (Some(_), _) => Err(bad_input(
                        "an import is already in progress on this connection",
                    )),
                    (None, Ok(p)) => Import::begin(&state, p).map(|(import, out)| {
                        self.import = Some(import);
                        out
                    }),
                    (None, Err(e)) => Err(e),
                };
                self.reply(&id, out).await
            }
            ImportChunk::NAME => {
                let out = match self.import.as_mut() {
                    None => Err(no_import()),
                    Some(import) => match params(p) {
                        Err(e) => Err(e),
                        Ok(p) => match import.chunk(p).await {
                            Ok(out) => Ok(out),
                            Err(e) => {
                                // A refused line or a writer that gave up:
                                // the import is over, nothing written.
                                let e = self.import.take().expect("import").fail(&state, e).await;
                                Err(e)
                            }
                        },
                    },
                };
                self.reply(&id, out).await
            }
            ImportEnd::NAME => {
                let out = match self.import.take() {
                    None => Err(no_import()),
                    Some(import) => import.end(&state).await,
                };
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
            IndexCreate::NAME => {
                let out = with_params(p, |p| super::index::create(&state, p)).await;
                self.reply(&id, out).await
            }
            IndexDrop::NAME => {
                let out = with_params(p, |p| super::index::drop(&state, p)).await;
                self.reply(&id, out).await
            }
            IndexLs::NAME => {
                let out = with_params(p, |p: IndexLsParams| {
                    blocking(move || super::index::ls(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            IndexCheck::NAME => {
                let out = with_params(p, |p: IndexLsParams| {
                    blocking(move || super::index::check(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            Reset::NAME => {
                let out = with_params(p, |p| super::reset::reset(&state, p)).await;
                self.reply(&id, out).await
            }
            Cleanup::NAME => {
                let out = with_params(p, |p| super::history::cleanup(&state, p)).await;
                self.reply(&id, out).await
            }
            ReplicaLs::NAME => {
                let out = with_params(p, |p| super::history::ls(&state, p)).await;
                self.reply(&id, out).await
            }
            ReplicaRm::NAME => {
                let out = with_params(p, |p| super::history::rm(&state, p)).await;
                self.reply(&id, out).await
            }
            Compact::NAME => {
                let out = with_params(p, |p| super::history::compact(&state, p)).await;
                self.reply(&id, out).await
            }
            Backup::NAME => {
                let out = with_params(p, |p: BackupParams| {
                    blocking(move || super::backup::backup(&state, p))
                })
                .await;
                self.reply(&id, out).await
            }
            Restore::NAME => {
                let out = with_params(p, |p: RestoreParams| {
                    blocking(move || super::backup::restore(&state, p))
                })
                .await;
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
            HttpServe::NAME => {
                let out = with_params(p, |p| super::http::http(&state, p)).await;
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
