//! Binding the socket and the accept loop.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use interprocess::local_socket::tokio::{Listener, Stream, prelude::*};
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use syncdb_core::ipc::{ErrorCode, RpcError, response_line};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connection::Connection;
use crate::state::State;

/// How long open connections get to finish when the daemon stops.
const DRAIN: Duration = Duration::from_secs(2);

/// Binds the socket, mode 0600 from the start. The caller holds the daemon
/// lock, so a socket file already there is stale and may be replaced.
pub fn bind(path: &Path) -> std::io::Result<Listener> {
    let name = path.to_fs_name::<GenericFilePath>()?;
    let options = ListenerOptions::new().name(name).try_overwrite(true);
    #[cfg(unix)]
    let options = {
        use interprocess::os::unix::local_socket::ListenerOptionsExt;
        options.mode(0o600)
    };
    options.create_tokio()
}

/// True if the peer runs as our user (where the OS tells).
fn peer_allowed(stream: &Stream) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        match stream.peer_creds() {
            Ok(creds) => creds.euid().is_none_or(|uid| uid == me),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read peer credentials; refusing");
                false
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = stream;
        true
    }
}

pub async fn serve(state: Arc<State>, listener: Listener) {
    let config = state.config();
    let slots = Arc::new(Semaphore::new(config.daemon.max_connections));
    let max_line = config.max_line_bytes();
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    if !peer_allowed(&stream) {
                        tracing::warn!("refused a local connection from another user");
                        continue;
                    }
                    match slots.clone().try_acquire_owned() {
                        Ok(permit) => {
                            let state = state.clone();
                            tasks.spawn(async move {
                                Connection::new(state, stream, max_line).run().await;
                                drop(permit);
                            });
                        }
                        Err(_) => {
                            tasks.spawn(refuse(stream));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = state.stopped() => break,
        }
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.shutdown().await;
}

async fn refuse(stream: Stream) {
    let err = RpcError::new(
        ErrorCode::Unavailable,
        "too many connections to the daemon; try again (daemon.max_connections)",
    );
    let _ = (&stream)
        .write_all(&response_line::<()>(&serde_json::Value::Null, Err(err)))
        .await;
}
