//! Dialing a remote: connect, run the session, and on any end reconnect
//! with exponential backoff and jitter, until the daemon stops or the remote
//! is removed. A kick (from `syncdb sync`) cuts a backoff wait short.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use syncdb_core::config::RemoteEntry;
use syncdb_core::folder::Folder;
use syncdb_core::sync::{Session, SessionConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::driver::{FolderLocal, Wire, drive};
use super::link::Link;
use crate::state::State;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct ClientWire(Socket);

impl Wire for ClientWire {
    async fn recv(&mut self) -> Option<Result<Vec<u8>, String>> {
        loop {
            return match self.0.next().await? {
                Ok(WsMessage::Binary(b)) => Some(Ok(b.to_vec())),
                Ok(WsMessage::Close(_)) => None,
                Ok(WsMessage::Text(_)) => Some(Err("text frame on a binary protocol".into())),
                Ok(_) => continue, // ping/pong
                Err(e) => Some(Err(e.to_string())),
            };
        }
    }

    async fn send(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.0
            .send(WsMessage::binary(frame))
            .await
            .map_err(|e| e.to_string())
    }
}

pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(syncdb_core::sync::wire::MAX_FRAME_BYTES))
        .max_frame_size(Some(syncdb_core::sync::wire::MAX_FRAME_BYTES))
}

/// Reads the remote's token file; refuses one others can read.
pub fn read_token(remote: &RemoteEntry) -> Result<String, String> {
    let Some(path) = &remote.token_file else {
        return Ok(String::new());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta =
            std::fs::metadata(path).map_err(|e| format!("token file {}: {e}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "token file {} is readable by others; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    let token =
        std::fs::read_to_string(path).map_err(|e| format!("token file {}: {e}", path.display()))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(token)
}

pub async fn run(state: Arc<State>, folder: Folder, remote: RemoteEntry, link: Arc<Link>) {
    let cfg = state.config().sync;
    let session_cfg = SessionConfig {
        chunk_records: cfg.chunk_records,
        chunk_bytes: cfg.chunk_bytes,
        max_in_flight: cfg.max_in_flight,
        max_future_ms: cfg.max_future_ms,
    };
    let mut backoff = Duration::from_millis(cfg.reconnect_min_ms);
    let max = Duration::from_millis(cfg.reconnect_max_ms);
    loop {
        link.update(|s| s.attempts += 1);
        let outcome = async {
            let token = read_token(&remote)?;
            let url = format!("{}/v1/sync", remote.url.trim_end_matches('/'));
            let connector = if remote.url.starts_with("wss://") {
                let config = super::tls::client_config(remote.ca_file.as_deref())?;
                Some(tokio_tungstenite::Connector::Rustls(config))
            } else {
                None
            };
            let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
                &url,
                Some(ws_config()),
                true,
                connector,
            )
            .await
            .map_err(|e| format!("cannot reach {}: {e}", remote.url))?;
            link.update(|s| {
                s.connected = true;
                s.error = None;
            });
            link.metrics
                .peers_connected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(remote = %remote.name, url = %remote.url, "connected");
            let mut wire = ClientWire(socket);
            let mut local = FolderLocal {
                state: &state,
                folder: &folder,
            };
            let (session, first) =
                Session::connect(session_cfg, &folder.settings.id, &token, &mut local);
            let end = drive(&mut wire, &state, &folder, session, first, &link).await;
            link.metrics
                .peers_connected
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            Ok::<String, String>(end.to_string())
        }
        .await;
        let reason = match outcome {
            Ok(end) => {
                backoff = Duration::from_millis(cfg.reconnect_min_ms); // it worked: start over
                end
            }
            Err(e) => e,
        };
        link.update(|s| {
            s.connected = false;
            s.caught_up = false;
            s.pull_caught_up = false;
            s.error = Some(reason.clone());
        });
        if reason.contains("daemon shutting down") {
            return;
        }
        tracing::warn!(remote = %remote.name, reason = %reason, retry_ms = backoff.as_millis() as u64, "sync session ended");
        // Jitter: 50–100% of the backoff, so many clients do not return at once.
        let jitter = backoff.mul_f64(0.5 + jitter_fraction() * 0.5);
        tokio::select! {
            _ = tokio::time::sleep(jitter) => {}
            _ = link.kick.notified() => {}
            _ = state.stopped() => return,
        }
        backoff = (backoff * 2).min(max);
    }
}

fn jitter_fraction() -> f64 {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}
