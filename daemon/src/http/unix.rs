//! The API on `http.sock`, beside the daemon's socket: the same routes,
//! reached only by the daemon's own user (a 0600 socket in the 0700 runtime
//! directory, and the peer's uid checked), so no token is asked.

use std::sync::Arc;

use crate::state::State;

/// Serves until the daemon stops; removes the socket file then.
#[cfg(unix)]
pub async fn serve_unix(state: Arc<State>, path: std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;

    use hyper::body::Incoming;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tokio::net::UnixListener;

    use super::auth::LocalConn;

    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot serve the HTTP API on a Unix socket");
            return;
        }
    };
    if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
        tracing::error!(path = %path.display(), error = %e, "cannot make the HTTP socket private; not serving it");
        let _ = std::fs::remove_file(&path);
        return;
    }
    tracing::info!(path = %path.display(), "serving the HTTP API on a Unix socket");
    let router = super::router(state.clone());
    let headers = std::time::Duration::from_millis(state.config().serve.headers_ms);
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let stopping = state.stopped();
    tokio::pin!(stopping);
    loop {
        let stream = tokio::select! {
            _ = &mut stopping => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed on the HTTP socket");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if stream.peer_cred().map(|c| c.uid()).ok() != Some(me) {
            tracing::warn!("refused an HTTP connection from another user");
            continue;
        }
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(LocalConn);
                let mut router = router.clone();
                tower_service::Service::call(&mut router, req)
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(headers)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "HTTP connection on the Unix socket ended");
            }
        });
    }
    let _ = std::fs::remove_file(&path);
}

#[cfg(not(unix))]
pub async fn serve_unix(_state: Arc<State>, _path: std::path::PathBuf) {}
