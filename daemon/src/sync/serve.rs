//! `syncdb serve`: the hub. An axum server with `/v1/sync` (a WebSocket
//! carrying the sync protocol), `/healthz` and `/metrics`. A session must
//! say `Hello` within `serve.hello_ms` of the upgrade, with a token valid
//! for the folder it names, or it is refused with a reason. Listening and
//! the deadlines before the upgrade are in [`super::listener`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::State as AxumState;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use syncdb_core::config::ServeConfig;
use syncdb_core::folder::Folder;
use syncdb_core::sync::{Message, Reject, Session, SessionConfig, wire};

use super::driver::{FolderLocal, Wire, drive};
use super::link::Link;
use super::listener::{Pending, PendingConn};
use crate::state::{State, open_registered};

struct HubWire(WebSocket);

impl Wire for HubWire {
    async fn recv(&mut self) -> Option<Result<Vec<u8>, String>> {
        loop {
            return match self.0.recv().await? {
                Ok(WsMessage::Binary(b)) => Some(Ok(b.to_vec())),
                Ok(WsMessage::Close(_)) => None,
                Ok(WsMessage::Text(_)) => Some(Err("text frame on a binary protocol".into())),
                Ok(_) => continue,
                Err(e) => Some(Err(e.to_string())),
            };
        }
    }

    async fn send(&mut self, frame: Vec<u8>) -> Result<(), String> {
        self.0
            .send(WsMessage::Binary(frame.into()))
            .await
            .map_err(|e| e.to_string())
    }
}

/// An address to listen on: `IP:PORT`, or `localhost:PORT` (loopback).
fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    let expected = "expected IP:PORT such as 127.0.0.1:7700 (this machine only), \
                    0.0.0.0:7700 (every interface; needs TLS or --insecure) or localhost:7700";
    if text.contains("://") {
        return Err(format!(
            "invalid address {text:?}: serve takes an address to listen on, not a URL; {expected}"
        ));
    }
    if let Some((host, port)) = text.rsplit_once(':')
        && host.eq_ignore_ascii_case("localhost")
    {
        let port: u16 = port.parse().map_err(|_| {
            format!("invalid address {text:?}: {port:?} is not a port (0-65535); {expected}")
        })?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        let hint = if text.contains(':') {
            "a host name other than localhost is not resolved here"
        } else {
            "no port"
        };
        format!("invalid address {text:?} ({hint}); {expected}")
    })
}

/// Checks where `serve` may listen: beyond loopback only with TLS or `insecure`.
pub fn check_addr(cfg: &ServeConfig) -> Result<SocketAddr, String> {
    let Some(text) = &cfg.addr else {
        return Err("no address to serve on".into());
    };
    let addr = listen_addr(text)?;
    let tls = cfg.tls_cert.is_some() && cfg.tls_key.is_some();
    if !addr.ip().is_loopback() && !tls && !cfg.insecure {
        return Err(format!(
            "refusing to serve on {addr} without TLS: tokens would cross the network in clear; give --tls-cert and --tls-key, or --insecure to do it anyway"
        ));
    }
    if cfg.tls_cert.is_some() != cfg.tls_key.is_some() {
        return Err("--tls-cert and --tls-key go together".into());
    }
    Ok(addr)
}

/// The hub's routes; `listener` serves them connection by connection.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/sync", get(sync_ws))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(AxumState(state): AxumState<Arc<State>>) -> Response {
    let m = &state.sync.metrics;
    let mut out = String::new();
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed).to_string();
    let rows = [
        (
            "syncdb_peers_connected",
            "gauge",
            "Sync connections open now, both directions.",
            m.peers_connected.load(Ordering::Relaxed).to_string(),
        ),
        (
            "syncdb_records_in_total",
            "counter",
            "Records received in sync chunks.",
            load(&m.records_in),
        ),
        (
            "syncdb_records_out_total",
            "counter",
            "Records sent in sync chunks.",
            load(&m.records_out),
        ),
        (
            "syncdb_bytes_in_total",
            "counter",
            "Sync frame bytes received.",
            load(&m.bytes_in),
        ),
        (
            "syncdb_bytes_out_total",
            "counter",
            "Sync frame bytes sent.",
            load(&m.bytes_out),
        ),
        (
            "syncdb_unauthenticated_connections",
            "gauge",
            "Connections not yet past the token check (this scrape included).",
            state
                .sync
                .serving
                .lock()
                .expect("serving")
                .as_ref()
                .map_or(0, |s| s.gate.open())
                .to_string(),
        ),
    ];
    for (name, kind, help, value) in rows {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    out.push_str("# HELP syncdb_remote_behind_records Records a remote announced that are not here yet.\n# TYPE syncdb_remote_behind_records gauge\n");
    for (name, status) in state.sync.remote_statuses() {
        out.push_str(&format!(
            "syncdb_remote_behind_records{{remote=\"{name}\"}} {}\n",
            status.behind
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}

/// Counts a served session for as long as it lives.
struct Slot(Arc<std::sync::atomic::AtomicUsize>);

impl Slot {
    /// A place among `sync.max_peers` sessions, if one is free.
    fn take(state: &State) -> Option<Slot> {
        let max = state.config().sync.max_peers;
        let served = state.sync.served.clone();
        if served.fetch_add(1, Ordering::Relaxed) >= max {
            served.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!(max, "refused a sync session: too many");
            return None;
        }
        Some(Slot(served))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn sync_ws(
    AxumState(state): AxumState<Arc<State>>,
    Extension(PendingConn(pending)): Extension<PendingConn>,
    ws: WebSocketUpgrade,
) -> Response {
    // Only a cheap early refusal: the slot itself is taken once the token
    // is checked (in `hub_session`), so websockets that never authenticate
    // cannot keep real clients out.
    let max = state.config().sync.max_peers;
    if state.sync.served.load(Ordering::Relaxed) >= max {
        tracing::warn!(max, "refused a sync connection: too many");
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("too many sync sessions (sync.max_peers = {max}); try later\n"),
        )
            .into_response();
    }
    ws.max_message_size(wire::MAX_FRAME_BYTES)
        .max_frame_size(wire::MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            // Until its token is checked the connection may be closed to
            // make room for others (`listener::Gate`).
            tokio::select! {
                _ = hub_session(state, HubWire(socket), &pending) => {}
                _ = pending.evicted() => {
                    tracing::debug!("closed an unauthenticated websocket to make room");
                }
            }
        })
}

async fn refuse(wire: &mut HubWire, reject: Reject) {
    tracing::warn!(reason = %reject, "refused a sync session");
    if let Ok(frame) = wire::encode(&Message::Reject(reject)) {
        let _ = wire.send(frame).await;
    }
    let _ = wire.0.send(WsMessage::Close(None)).await;
}

/// The hub's folder for `id`: a registered one, or a new one under
/// `create_folders`.
fn hub_folder(state: &State, id: &str, read_only: bool) -> Result<Folder, Reject> {
    let registered = |config: &syncdb_core::config::Config| {
        let entry = config.folders.iter().find(|f| f.id == id)?;
        Some(open_registered(entry).map_err(|e| Reject::Internal(e.message)))
    };
    if let Some(found) = registered(&state.config()) {
        return found;
    }
    // Many clients of a new folder may come at once: one makes it, the
    // others find it made.
    let _creating = state
        .sync
        .creating
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let config = state.config();
    if let Some(found) = registered(&config) {
        return found;
    }
    if state.replicas.store.is_set() {
        return stored_folder(state, id, read_only);
    }
    // A read-only token creates no folder (of a store, it may only find
    // one that exists).
    let Some(root) = config.serve.create_folders.as_ref().filter(|_| !read_only) else {
        return Err(Reject::UnknownFolder(id.to_owned()));
    };
    if uuid_like(id).is_err() {
        return Err(Reject::UnknownFolder(id.to_owned()));
    }
    let made = config
        .folders
        .iter()
        .filter(|f| {
            f.path
                .starts_with(std::fs::canonicalize(root).as_ref().unwrap_or(root))
        })
        .count();
    let max = config.sync.max_created_folders;
    if made >= max {
        tracing::warn!(id, made, "refused to create a folder: at the limit");
        return Err(Reject::Forbidden(format!(
            "this hub has made {made} folders on first contact, its limit (sync.max_created_folders = {max})"
        )));
    }
    let folder = Folder::create_with_id(&root.join(id), id, config.engine)
        .map_err(|e| Reject::Internal(e.to_string()))?;
    state
        .register(&folder)
        .map_err(|e| Reject::Internal(e.message))?;
    tracing::info!(folder = %folder.path.display(), id, "created folder on first contact");
    Ok(folder)
}

/// The folder `id` of the hub's store, which this hub has not served
/// before: another hub over the store may have made it, or a writer's
/// first contact makes it now (within `sync.max_created_folders`, counted
/// over the whole store). Here it gets a directory that only says which
/// folder it is, under `serve.create_folders` or the data directory.
fn stored_folder(state: &State, id: &str, read_only: bool) -> Result<Folder, Reject> {
    if uuid_like(id).is_err() {
        return Err(Reject::UnknownFolder(id.to_owned()));
    }
    let config = state.config();
    let unavailable =
        |e: syncdb_core::store::StoreError| Reject::Internal(format!("the hub's store: {e}"));
    let store = state.replicas.store.get().map_err(unavailable)?;
    let folders = store.folders().map_err(unavailable)?;
    if !folders.iter().any(|f| f == id) {
        if read_only {
            return Err(Reject::UnknownFolder(id.to_owned()));
        }
        let max = config.sync.max_created_folders;
        if folders.len() >= max {
            tracing::warn!(
                id,
                made = folders.len(),
                "refused to create a folder: at the limit"
            );
            return Err(Reject::Forbidden(format!(
                "the hubs' store holds {} folders, the limit of folders made on first contact (sync.max_created_folders = {max})",
                folders.len()
            )));
        }
        if store
            .folder_create(id, state.now_ms())
            .map_err(unavailable)?
        {
            tracing::info!(id, "created folder in the store on first contact");
        }
    }
    let root = match &config.serve.create_folders {
        Some(root) => root.clone(),
        None => state.paths.data_dir.join("served"),
    };
    let folder = Folder::create_as(&root.join(id), id, config.engine, true)
        .map_err(|e| Reject::Internal(e.to_string()))?;
    state
        .register(&folder)
        .map_err(|e| Reject::Internal(e.message))?;
    tracing::info!(folder = %folder.path.display(), id, "serving a folder of the store");
    Ok(folder)
}

/// Folder ids from the network become directory names: only UUID-shaped ones.
fn uuid_like(id: &str) -> Result<(), ()> {
    let ok = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok { Ok(()) } else { Err(()) }
}

async fn hub_session(state: Arc<State>, mut wire: HubWire, pending: &Pending) {
    let hello_deadline = Duration::from_millis(state.config().serve.hello_ms);
    let hello = match tokio::time::timeout(hello_deadline, wire.recv()).await {
        Ok(Some(Ok(frame))) => match wire::decode(&frame) {
            Ok(Message::Hello(h)) => h,
            Ok(_) => {
                return refuse(&mut wire, Reject::Protocol("expected Hello first".into())).await;
            }
            Err(e) => return refuse(&mut wire, Reject::Protocol(e.to_string())).await,
        },
        // A text frame, an unmasked or oversized frame: say why before closing.
        Ok(Some(Err(e))) => return refuse(&mut wire, Reject::Protocol(e)).await,
        Ok(None) => return,
        Err(_) => {
            return refuse(
                &mut wire,
                Reject::Protocol("no Hello within the handshake deadline".into()),
            )
            .await;
        }
    };
    if let Err(reject) = Session::check_version(&hello) {
        return refuse(&mut wire, reject).await;
    }
    let grant = match state.sync.tokens.check(&hello.token, &hello.folder) {
        Ok(Some(g)) => g,
        Ok(None) => return refuse(&mut wire, Reject::Unauthorized).await,
        Err(e) => return refuse(&mut wire, Reject::Internal(e.to_string())).await,
    };
    // Authenticated: out of the unauthenticated caps, into `max_peers`.
    pending.authenticated();
    let Some(_slot) = Slot::take(&state) else {
        let max = state.config().sync.max_peers;
        let why =
            format!("the hub serves at most {max} sessions at once (sync.max_peers); try later");
        return refuse(&mut wire, Reject::Internal(why)).await;
    };
    let folder = match hub_folder(&state, &hello.folder, grant.read_only) {
        Ok(f) => f,
        Err(reject) => return refuse(&mut wire, reject).await,
    };
    let session_cfg = SessionConfig::from(&state.config());
    let link = Arc::new(Link::new(
        format!("peer with token {}", grant.id),
        false,
        state.sync.metrics.clone(),
    ));
    let entry = (folder.path.clone(), link.clone());
    state.sync.peers.lock().expect("peers").push(entry);
    let metrics = state.sync.metrics.clone();
    metrics.peers_connected.fetch_add(1, Ordering::Relaxed);
    tracing::info!(folder = %hello.folder, token = %grant.id, read_only = grant.read_only, "sync session opened");
    let mut local = FolderLocal {
        state: &state,
        folder: &folder,
        token: Some(&grant.id),
    };
    // Before the session reads the folder: a restore from then on ends it.
    let replaced = state.sync.replaced.subscribe();
    let (session, first) = Session::accept(session_cfg, &hello, grant.read_only, &mut local);
    let ended = async {
        tokio::select! {
            reject = state.sync.session_ended(&grant.id) => reject,
            reject = super::Syncs::replaced(replaced, &folder.path) => reject,
        }
    };
    let token = Some(grant.id.as_str());
    let end = drive(
        &mut wire, &state, &folder, token, session, first, &link, ended,
    )
    .await;
    state
        .sync
        .peers
        .lock()
        .expect("peers")
        .retain(|(_, l)| !Arc::ptr_eq(l, &link));
    metrics.peers_connected.fetch_sub(1, Ordering::Relaxed);
    tracing::info!(folder = %hello.folder, token = %grant.id, reason = %end, "sync session ended");
}
