//! Dialing a remote: connect, run the session, and on any end reconnect
//! with exponential backoff and jitter, until the daemon stops or the remote
//! is removed. A kick (from `syncdb sync`) cuts a backoff wait short.
//!
//! A connection that goes silent (a partition, a dropped NAT mapping, a hub
//! that accepts and never answers) is given up on, so the loop reconnects:
//! connecting has a deadline, and a ping left unanswered by any byte for
//! [`SILENCE_LIMIT`] ends the session. Bytes count, not whole frames, so a
//! slow link still delivering a large frame is not mistaken for a dead one.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use syncdb_core::config::RemoteEntry;
use syncdb_core::folder::Folder;
use syncdb_core::sync::{Reject, Session, SessionConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::driver::{End, FolderLocal, Wire, drive};
use super::link::Link;
use crate::state::State;

/// Connecting (TCP, TLS, WebSocket upgrade) must finish within this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an open connection is pinged.
const PING_EVERY: Duration = Duration::from_secs(5);
/// A ping that no byte has followed for this long: the connection is dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(20);
/// A session that lasted this long resets the backoff, however it ended.
const STABLE_SESSION: Duration = Duration::from_secs(60);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<Heard>>;

/// A TCP stream that notes when it last read a byte.
struct Heard {
    tcp: tokio::net::TcpStream,
    at: Arc<Mutex<tokio::time::Instant>>,
}

impl tokio::io::AsyncRead for Heard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            *self.at.lock().expect("heard") = tokio::time::Instant::now();
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Heard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

struct ClientWire {
    socket: Socket,
    /// When the socket last read a byte.
    heard: Arc<Mutex<tokio::time::Instant>>,
    /// The unanswered ping, if one is out.
    pinged: Option<tokio::time::Instant>,
    next_ping: tokio::time::Instant,
}

impl ClientWire {
    /// Pings, or gives up when the last ping has had no byte after it for
    /// [`SILENCE_LIMIT`]. Being busy here does not count against the peer:
    /// its answer waits in the socket and is read before this runs again.
    async fn keepalive(&mut self) -> Result<(), String> {
        let now = tokio::time::Instant::now();
        let heard = *self.heard.lock().expect("heard");
        match self.pinged {
            Some(sent) if heard < sent => {
                if now.duration_since(sent) >= SILENCE_LIMIT {
                    return Err(format!(
                        "nothing heard from the remote for {}s",
                        now.duration_since(heard).as_secs()
                    ));
                }
            }
            _ => {
                self.pinged = Some(now);
                self.socket
                    .send(WsMessage::Ping(Default::default()))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        self.next_ping = now + PING_EVERY;
        Ok(())
    }
}

impl Wire for ClientWire {
    async fn recv(&mut self) -> Option<Result<Vec<u8>, String>> {
        loop {
            let next = tokio::select! {
                // Read first: bytes already here answer the last ping.
                biased;
                next = self.socket.next() => next?,
                _ = tokio::time::sleep_until(self.next_ping) => {
                    if let Err(e) = self.keepalive().await {
                        return Some(Err(e));
                    }
                    continue;
                }
            };
            return match next {
                Ok(WsMessage::Binary(b)) => Some(Ok(b.to_vec())),
                Ok(WsMessage::Close(_)) => None,
                Ok(WsMessage::Text(_)) => Some(Err("text frame on a binary protocol".into())),
                Ok(_) => continue, // ping/pong
                Err(e) => Some(Err(e.to_string())),
            };
        }
    }

    async fn send(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.socket
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

/// Reads the remote's token file, before each connection attempt; refuses
/// one others can read, and one another user owns: a file someone else owns
/// (and made readable to us) is his to swap, so what we would send as our
/// credential would be his choice. Checked on the open file, so what is
/// checked is what is read.
pub fn read_token(remote: &RemoteEntry) -> Result<String, String> {
    use std::io::Read;
    let Some(path) = &remote.token_file else {
        return Ok(String::new());
    };
    let io = |e: std::io::Error| format!("token file {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata().map_err(io)?;
        let me = syncdb_core::paths::euid();
        if meta.uid() != me {
            return Err(format!(
                "token file {} belongs to uid {}, not to you (uid {me}); use a token file of your own (mode 0600)",
                path.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(format!(
                "token file {} is readable by others; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    let mut token = String::new();
    file.read_to_string(&mut token).map_err(io)?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(token)
}

pub async fn run(state: Arc<State>, folder: Folder, remote: RemoteEntry, link: Arc<Link>) {
    let cfg = state.config().sync;
    let session_cfg = SessionConfig::from(&state.config());
    let mut backoff = Duration::from_millis(cfg.reconnect_min_ms);
    let max = Duration::from_millis(cfg.reconnect_max_ms);
    let urls: Vec<&str> = remote.urls().collect();
    // The hub tried first: the one that served last. Hubs over one store
    // serve the same folders from the same tables, and checkpoints are the
    // database's, not a hub's: moving to another re-downloads nothing.
    let mut first = 0;
    loop {
        link.update(|s| s.attempts += 1);
        let outcome = async {
            let token = read_token(&remote)?;
            let (socket, heard, at) = dial(&remote, &urls, first).await?;
            first = at;
            let hub = urls[at];
            link.update(|s| {
                s.connected = true;
                s.hub = Some(hub.to_owned());
                s.error = None;
                s.broken.clear();
            });
            link.metrics
                .peers_connected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(remote = %remote.name, url = %hub, "connected");
            let mut wire = ClientWire {
                socket,
                heard,
                pinged: None,
                next_ping: tokio::time::Instant::now() + PING_EVERY,
            };
            let mut local = FolderLocal {
                state: &state,
                folder: &folder,
                token: None,
            };
            let (session, first) =
                Session::connect(session_cfg, &folder.settings.id, &token, &mut local);
            let opened_at = tokio::time::Instant::now();
            let never = std::future::pending();
            let end = drive(
                &mut wire, &state, &folder, None, session, first, &link, never,
            )
            .await;
            link.metrics
                .peers_connected
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            Ok::<(End, Duration), String>((end, opened_at.elapsed()))
        }
        .await;
        let attempt = link.status().attempts;
        // Refused at the handshake (a hub that cannot reach its store, say):
        // the next attempt starts with the next hub.
        if link.status().opened_attempt != attempt {
            first = (first + 1) % urls.len();
        }
        // Not the end of a `sync --once`: a session that opened and then
        // lost its hub (killed, stopped) while other hubs are named, and a
        // hub that asks to be connected again (a database replaced there).
        // The next attempt follows at once, and only its failure counts.
        let mut again = false;
        let reason = match outcome {
            Ok((End::Stopping, _)) => return,
            // Not a failure: the next session syncs the rebuilt database.
            Ok((End::Rebuilt(what), _)) => {
                tracing::info!(remote = %remote.name, "{what}; connecting again");
                link.update(|s| {
                    s.connected = false;
                    s.caught_up = false;
                    s.pull_caught_up = false;
                });
                backoff = Duration::from_millis(cfg.reconnect_min_ms);
                continue;
            }
            Ok((end, lasted)) => {
                // Start over only after a session that opened and then lost
                // its connection (a hub restart), or that served a while. A
                // refusal, at the handshake or after it (a read-only push, a
                // clock far off), keeps backing off instead of redialing.
                let opened = link.status().opened_attempt == attempt;
                let lost =
                    matches!(end, End::Lost(_)) || matches!(&end, End::Theirs(Reject::NotServing));
                if opened && (lost || lasted >= STABLE_SESSION) {
                    backoff = Duration::from_millis(cfg.reconnect_min_ms);
                }
                again = (opened && lost && urls.len() > 1)
                    || matches!(&end, End::Theirs(Reject::Again(_)));
                end.to_string()
            }
            Err(e) => e,
        };
        link.update(|s| {
            s.connected = false;
            s.caught_up = false;
            s.pull_caught_up = false;
            s.error = Some(reason.clone());
            if !again {
                s.failed = Some((s.attempts, reason.clone()));
            }
        });
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

/// Connects to the first of the remote's hubs that answers, starting with
/// `urls[first]`: the socket and the index of the hub it reached.
async fn dial(
    remote: &RemoteEntry,
    urls: &[&str],
    first: usize,
) -> Result<(Socket, Arc<Mutex<tokio::time::Instant>>, usize), String> {
    let mut failed = Vec::new();
    for at in (0..urls.len()).map(|i| (first + i) % urls.len()) {
        let hub = urls[at];
        let url = format!("{}/v1/sync", hub.trim_end_matches('/'));
        let connector = if hub.starts_with("wss://") {
            let config = super::tls::client_config(remote.ca_file.as_deref())?;
            Some(tokio_tungstenite::Connector::Rustls(config))
        } else {
            None
        };
        let connected = tokio::time::timeout(
            CONNECT_TIMEOUT,
            connect(&url, connector, remote.ca_file.as_deref()),
        )
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs())));
        match connected {
            Ok((socket, heard)) => return Ok((socket, heard, at)),
            Err(e) => {
                if urls.len() > 1 {
                    tracing::info!(remote = %remote.name, url = %hub, error = %e, "hub unreachable; trying the next");
                }
                failed.push(format!("cannot reach {hub}: {e}"));
            }
        }
    }
    Err(failed.join("; "))
}

/// Opens the WebSocket to `url` over a [`Heard`] TCP stream.
async fn connect(
    url: &str,
    connector: Option<tokio_tungstenite::Connector>,
    ca_file: Option<&std::path::Path>,
) -> Result<(Socket, Arc<Mutex<tokio::time::Instant>>), String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let request = url.into_client_request().map_err(|e| e.to_string())?;
    let uri = request.uri();
    let host = uri.host().ok_or("no host in the URL")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("wss") => 443,
        _ => 80,
    });
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let heard = Arc::new(Mutex::new(tokio::time::Instant::now()));
    let stream = Heard {
        tcp,
        at: heard.clone(),
    };
    let tls = connector.is_some();
    let (socket, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        stream,
        Some(ws_config()),
        connector,
    )
    .await
    .map_err(|e| explain(e, url, tls, ca_file))?;
    Ok((socket, heard))
}

/// A failed TLS or WebSocket handshake in words: what is wrong, what to do.
fn explain(
    e: tokio_tungstenite::tungstenite::Error,
    url: &str,
    tls: bool,
    ca_file: Option<&std::path::Path>,
) -> String {
    use tokio_tungstenite::tungstenite::Error;
    let url = url.trim_end_matches("/v1/sync");
    if let Error::Io(io) = &e
        && let Some(rustls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
    {
        return super::tls::explain(rustls, url, ca_file);
    }
    // A TLS listener answers a plain HTTP request with a TLS alert, or
    // drops it: either way no HTTP comes back.
    let cut_off = matches!(
        &e,
        Error::ConnectionClosed | Error::AlreadyClosed | Error::Protocol(_)
    ) || matches!(&e, Error::Io(io) if matches!(
        io.kind(),
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
    ));
    if !tls && cut_off {
        let wss = url.replacen("ws://", "wss://", 1);
        return format!(
            "the hub did not answer with a WebSocket handshake ({e}); if it serves TLS, use {wss}"
        );
    }
    e.to_string()
}

fn jitter_fraction() -> f64 {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}
