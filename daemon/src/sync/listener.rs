//! The listeners on TCP, the hub's and the HTTP API's: binding (and
//! retrying a busy address), changing settings in place or moving to a new
//! address without a gap, and the accept loop that bounds every connection
//! that has not shown a valid token yet.
//!
//! An unauthenticated connection costs a descriptor and some memory and
//! proves nothing, so each stage of its life has a deadline (first byte,
//! TLS handshake, HTTP headers here; `Hello` in `serve::hub_session`) and
//! their number is capped in all and per source address by a [`Gate`]. It
//! leaves the gate once its token is checked; from then on `sync.max_peers`
//! caps it as a session. Everything here is per connection, in its own task:
//! a stalled peer delays no one else's accept.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use syncdb_core::config::ServeConfig;
use syncdb_core::ipc::ServeStatus;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use crate::state::State;

/// How long a new connection has to send its request before it may be
/// closed to make room for another.
const GRACE: Duration = Duration::from_millis(250);

/// Waits between attempts to bind a busy configured address.
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Sync sessions (`syncdb serve`).
    Hub,
    /// The HTTP API for applications (`syncdb http`).
    Api,
}

impl Kind {
    fn router(self, state: &Arc<State>) -> Router {
        match self {
            Kind::Hub => super::serve::router(state.clone()).fallback(api_on_hub(state)),
            Kind::Api => crate::http::router(state.clone()),
        }
    }

    /// Where the running listener of this kind is kept, and the lock that
    /// makes its changes one at a time.
    fn slot(self, state: &State) -> (&Mutex<Option<Server>>, &tokio::sync::Mutex<()>) {
        match self {
            Kind::Hub => (&state.sync.serving, &state.sync.serve_lock),
            Kind::Api => (&state.http.serving, &state.http.lock),
        }
    }
}

/// The per-stage deadlines, from `[serve]`.
#[derive(Clone, Copy, Debug)]
struct Deadlines {
    first_byte: Duration,
    tls: Duration,
    headers: Duration,
    /// The header deadline restarts with each kept-alive request, so this
    /// bounds the whole life of a hub connection that never upgrades. An
    /// API connection has none: its requests (a change stream) may last.
    unupgraded: Option<Duration>,
}

impl Deadlines {
    fn from(cfg: &ServeConfig, kind: Kind) -> Self {
        Deadlines {
            first_byte: Duration::from_millis(cfg.first_byte_ms),
            tls: Duration::from_millis(cfg.tls_handshake_ms),
            headers: Duration::from_millis(cfg.headers_ms),
            unupgraded: (kind == Kind::Hub).then(|| Duration::from_millis(cfg.unupgraded_ms)),
        }
    }
}

/// Counts unauthenticated connections, in all and per source address.
pub struct Gate {
    max_total: usize,
    max_per_ip: usize,
    /// [`GRACE`], but in tests.
    grace: Duration,
    inner: Mutex<GateInner>,
    /// Wall-clock second of the last refusal logged, per [`Refusal`]: a
    /// flood logs once a second of each kind.
    last_warn: [AtomicU64; 3],
}

#[derive(Clone, Copy)]
enum Refusal {
    PerIp,
    Evicted,
    Accept,
}

#[derive(Default)]
struct GateInner {
    next_id: u64,
    per_ip: HashMap<IpAddr, usize>,
    /// By admission order, so the first is the oldest.
    open: BTreeMap<u64, Entry>,
}

/// An unauthenticated connection in the gate.
struct Entry {
    key: IpAddr,
    since: std::time::Instant,
    evict: Arc<Notify>,
    /// A request of it is being answered.
    answering: Arc<AtomicBool>,
}

/// IPv4 addresses count one by one; IPv6 ones by /64, the block one host
/// usually gets (it would otherwise have 2^64 addresses to spread over).
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl Gate {
    fn new(cfg: &ServeConfig) -> Self {
        Gate {
            max_total: cfg.max_unauthenticated,
            max_per_ip: cfg.max_unauthenticated_per_ip,
            grace: GRACE,
            inner: Mutex::new(GateInner::default()),
            last_warn: Default::default(),
        }
    }

    /// Lets a new connection in, or says why not. When its address already
    /// has all its places, that address's oldest idle connection is closed
    /// instead: one that has had its grace to send a request and is not
    /// being answered. So idle connections cannot keep out a client that
    /// sends its request at once, even from the same address (all local
    /// clients share 127.0.0.1), and a burst of quick clients from one
    /// address (a pool opening, a proxy) comes in over its cap for a
    /// moment, up to twice it. When all places are taken, the oldest
    /// connection not being answered is closed, whatever its age: the total
    /// is a hard bound (it guards the descriptors).
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Pending, String> {
        let key = ip_key(ip);
        let mut g = self.inner.lock().expect("gate");
        let from_ip = g.per_ip.get(&key).copied().unwrap_or(0);
        let answering = |e: &Entry| e.answering.load(Ordering::Relaxed);
        if from_ip >= self.max_per_ip {
            let cap = self.max_per_ip;
            let idle = |e: &Entry| e.key == key && e.since.elapsed() >= self.grace && !answering(e);
            if g.evict_oldest(idle) {
                self.warn(
                    Refusal::PerIp,
                    format!(
                        "{from_ip} unauthenticated connections from {key} (serve.max_unauthenticated_per_ip = {cap}); closed its oldest idle one"
                    ),
                );
            } else if from_ip >= 2 * cap {
                return Err(format!(
                    "{from_ip} unauthenticated connections from {key}, none idle (serve.max_unauthenticated_per_ip = {cap}); refused a new one"
                ));
            }
        }
        if g.open.len() >= self.max_total {
            let (open, cap) = (g.open.len(), self.max_total);
            if !g.evict_oldest(|e| !answering(e)) {
                return Err(format!(
                    "{open} unauthenticated connections, all being answered (serve.max_unauthenticated = {cap}); refused a new one"
                ));
            }
            self.warn(
                Refusal::Evicted,
                format!(
                    "{open} unauthenticated connections (serve.max_unauthenticated = {cap}); closed the oldest"
                ),
            );
        }
        let id = g.next_id;
        g.next_id += 1;
        *g.per_ip.entry(key).or_default() += 1;
        let evicted = Arc::new(Notify::new());
        let answering = Arc::new(AtomicBool::new(false));
        g.open.insert(
            id,
            Entry {
                key,
                since: std::time::Instant::now(),
                evict: evicted.clone(),
                answering: answering.clone(),
            },
        );
        Ok(Pending {
            gate: self.clone(),
            id,
            evicted,
            answering,
            done: AtomicBool::new(false),
        })
    }

    /// Unauthenticated connections open now (for `/metrics`).
    pub fn open(&self) -> usize {
        self.inner.lock().expect("gate").open.len()
    }

    fn release(&self, id: u64) {
        let mut g = self.inner.lock().expect("gate");
        if let Some(e) = g.open.remove(&id) {
            g.forget(e.key);
        }
    }

    fn warn(&self, kind: Refusal, why: String) {
        let now = syncdb_core::version::wall_clock_ms() / 1000;
        if self.last_warn[kind as usize].swap(now, Ordering::Relaxed) != now {
            match kind {
                Refusal::Accept => tracing::warn!(reason = %why, "cannot accept connections"),
                _ => tracing::warn!(reason = %why, "closed an unauthenticated connection"),
            }
        } else {
            tracing::debug!(reason = %why, "closed an unauthenticated connection");
        }
    }
}

impl GateInner {
    /// Closes the oldest connection `which` picks; false if none.
    fn evict_oldest(&mut self, which: impl Fn(&Entry) -> bool) -> bool {
        let oldest = self.open.iter().find(|(_, e)| which(e)).map(|(id, _)| *id);
        let Some(e) = oldest.and_then(|id| self.open.remove(&id)) else {
            return false;
        };
        self.forget(e.key);
        e.evict.notify_one();
        true
    }

    fn forget(&mut self, key: IpAddr) {
        if let Some(n) = self.per_ip.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&key);
            }
        }
    }
}

/// One unauthenticated connection's place in the [`Gate`], released on drop
/// or once its token is checked.
pub struct Pending {
    gate: Arc<Gate>,
    id: u64,
    evicted: Arc<Notify>,
    answering: Arc<AtomicBool>,
    /// Authenticated: it can no longer be evicted.
    done: AtomicBool,
}

impl Pending {
    /// The connection showed a valid token: it leaves the gate for good.
    pub fn authenticated(&self) {
        self.done.store(true, Ordering::Relaxed);
        self.gate.release(self.id);
    }

    /// Resolves when the gate closes this connection to make room; never
    /// once it is authenticated.
    pub async fn evicted(&self) {
        loop {
            self.evicted.notified().await;
            if !self.done.load(Ordering::Relaxed) {
                return;
            }
        }
    }
}

/// Marks a connection's request as being answered while it lives.
pub struct Answering(Arc<AtomicBool>);

impl Pending {
    /// A request of this connection is in hand: it is not closed to make
    /// room until the answer is given (a WebSocket upgraded then waits for
    /// its `Hello` as an idle connection again).
    pub fn answering(&self) -> Answering {
        self.answering.store(true, Ordering::Relaxed);
        Answering(self.answering.clone())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.gate.release(self.id);
    }
}

/// A connection's place in the gate, as a request extension for `/v1/sync`.
#[derive(Clone)]
pub struct PendingConn(pub Arc<Pending>);

type SharedTls = Arc<RwLock<Option<Arc<ServerConfig>>>>;

/// The TLS settings of `cfg`, read from its files now.
pub fn tls_config(cfg: &ServeConfig) -> Result<Option<Arc<ServerConfig>>, String> {
    match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(cert), Some(key)) => super::tls::server_config(cert, key).map(Some),
        _ => Ok(None),
    }
}

#[derive(Default)]
struct Listening {
    bound: Option<SocketAddr>,
    error: Option<String>,
}

/// A running listener (or one retrying to bind), and how to stop it.
pub struct Server {
    pub kind: Kind,
    /// The settings it serves with; `addr` is the bound one once bound.
    pub cfg: ServeConfig,
    tls: SharedTls,
    pub gate: Arc<Gate>,
    listening: Arc<Mutex<Listening>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Binds `cfg.addr` and reads its TLS files.
async fn attempt(cfg: &ServeConfig) -> Result<(TcpListener, Option<Arc<ServerConfig>>), String> {
    let addr = super::serve::check_addr(cfg)?;
    let tls = tls_config(cfg)?;
    let listener = TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
    Ok((listener, tls))
}

impl Server {
    /// Binds `cfg.addr` now (an error leaves nothing running) and serves.
    pub async fn bind(state: &Arc<State>, kind: Kind, cfg: ServeConfig) -> Result<Server, String> {
        let addr = cfg.addr.clone().unwrap_or_default();
        let (listener, tls) = attempt(&cfg)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        Self::run(state, kind, cfg, listener, tls)
    }

    /// Serves `cfg` as the config says at start: bound before this returns
    /// if it can be; a busy address (another process, or our own previous
    /// self still exiting) is retried with backoff, and [`Server::status`]
    /// says why it is not listening meanwhile.
    pub async fn start(state: &Arc<State>, kind: Kind, cfg: ServeConfig) -> Server {
        match attempt(&cfg).await {
            Ok((listener, tls)) => match Self::run(state, kind, cfg.clone(), listener, tls) {
                Ok(server) => server,
                Err(e) => Self::retrying(state, kind, cfg, e),
            },
            Err(e) => Self::retrying(state, kind, cfg, e),
        }
    }

    fn run(
        state: &Arc<State>,
        kind: Kind,
        mut cfg: ServeConfig,
        listener: TcpListener,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<Server, String> {
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        cfg.addr = Some(bound.to_string());
        let listening = Arc::new(Mutex::new(Listening {
            bound: Some(bound),
            error: None,
        }));
        let tls: SharedTls = Arc::new(RwLock::new(tls));
        let gate = Arc::new(Gate::new(&cfg));
        let (stop, rx) = watch::channel(false);
        log_serving(kind, bound, &tls);
        let task = tokio::spawn(accept_loop(
            state.clone(),
            kind,
            Deadlines::from(&cfg, kind),
            gate.clone(),
            listener,
            tls.clone(),
            rx,
        ));
        Ok(Server {
            kind,
            cfg,
            tls,
            gate,
            listening,
            stop,
            task,
        })
    }

    fn retrying(state: &Arc<State>, kind: Kind, cfg: ServeConfig, first: String) -> Server {
        let addr = cfg.addr.clone().unwrap_or_default();
        tracing::error!(addr, error = %first, "cannot serve as configured; retrying");
        let listening = Arc::new(Mutex::new(Listening {
            bound: None,
            error: Some(first),
        }));
        let tls: SharedTls = Arc::new(RwLock::new(None));
        let gate = Arc::new(Gate::new(&cfg));
        let (stop, mut rx) = watch::channel(false);
        let task = {
            let (state, cfg, listening, tls, gate) = (
                state.clone(),
                cfg.clone(),
                listening.clone(),
                tls.clone(),
                gate.clone(),
            );
            tokio::spawn(async move {
                let mut wait = RETRY_MIN;
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = told_to_stop(&mut rx) => return,
                        _ = state.stopped() => return,
                    }
                    wait = (wait * 2).min(RETRY_MAX);
                    match attempt(&cfg).await {
                        Ok((listener, config)) => {
                            let bound = listener.local_addr().ok();
                            *tls.write().expect("tls") = config;
                            *listening.lock().expect("listening") =
                                Listening { bound, error: None };
                            if let Some(bound) = bound {
                                log_serving(kind, bound, &tls);
                            }
                            let deadlines = Deadlines::from(&cfg, kind);
                            return accept_loop(state, kind, deadlines, gate, listener, tls, rx)
                                .await;
                        }
                        Err(e) => {
                            // Logged once above; `status` shows the latest.
                            tracing::debug!(addr, error = %e, "still cannot serve as configured");
                            listening.lock().expect("listening").error = Some(e);
                        }
                    }
                }
            })
        };
        Server {
            kind,
            cfg,
            tls,
            gate,
            listening,
            stop,
            task,
        }
    }

    /// The address it listens on, if it does.
    pub fn bound(&self) -> Option<SocketAddr> {
        self.listening.lock().expect("listening").bound
    }

    pub fn status(&self) -> ServeStatus {
        let l = self.listening.lock().expect("listening");
        ServeStatus {
            addr: match l.bound {
                Some(a) => a.to_string(),
                None => self.cfg.addr.clone().unwrap_or_default(),
            },
            listening: l.bound.is_some(),
            error: l.error.clone(),
        }
    }

    /// New settings on the address it already listens on: no rebind, so no
    /// moment without a listener; new connections use the new TLS settings.
    pub fn update(&mut self, tls: Option<Arc<ServerConfig>>, cfg: ServeConfig) {
        *self.tls.write().expect("tls") = tls;
        let bound = self.cfg.addr.clone();
        self.cfg = cfg;
        self.cfg.addr = bound;
    }

    /// Stops accepting; the listening socket is closed when this returns.
    /// Sessions already open are not cut.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

/// Resolves once `stop` is set (the guard `wait_for` gives is not `Send`).
async fn told_to_stop(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn log_serving(kind: Kind, bound: SocketAddr, tls: &SharedTls) {
    let tls = tls.read().expect("tls").is_some();
    match kind {
        Kind::Hub => {
            let scheme = if tls { "wss" } else { "ws" };
            tracing::info!(addr = %bound, scheme, "serving sync");
        }
        Kind::Api => {
            let scheme = if tls { "https" } else { "http" };
            tracing::info!(addr = %bound, scheme, "serving the HTTP API");
        }
    }
}

async fn accept_loop(
    state: Arc<State>,
    kind: Kind,
    deadlines: Deadlines,
    gate: Arc<Gate>,
    listener: TcpListener,
    tls: SharedTls,
    mut stop: watch::Receiver<bool>,
) {
    let router = kind.router(&state);
    let stopping = state.stopped();
    tokio::pin!(stopping);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = told_to_stop(&mut stop) => return,
            _ = &mut stopping => return,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors, mostly: wait rather than spin; what
                    // is open now ends at its deadlines and frees some.
                    gate.warn(Refusal::Accept, format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let pending = match gate.admit(peer.ip()) {
            Ok(p) => Arc::new(p),
            Err(why) => {
                gate.warn(Refusal::PerIp, why);
                continue; // dropping `tcp` closes it at once
            }
        };
        let tls = tls.read().expect("tls").clone();
        let router = router.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection(tcp, peer, tls, pending.clone(), router, deadlines) => {}
                _ = pending.evicted() => {
                    tracing::debug!(%peer, "closed an unauthenticated connection to make room");
                }
                // An upgrade completes `connection` (the session lives on in
                // its own task), so only a connection that never upgrades
                // meets this.
                _ = unupgraded(deadlines.unupgraded, &pending) => {
                    tracing::debug!(%peer, "closed a connection not upgraded within serve.unupgraded_ms");
                }
            }
        });
    }
}

/// What the hub's port answers beyond its own routes: the HTTP API when
/// it serves with `api` (read per request, so `serve --api` on the same
/// address turns it on in place), else an empty 404 as before.
fn api_on_hub(
    state: &Arc<State>,
) -> impl Fn(
    axum::extract::Request,
) -> std::pin::Pin<Box<dyn Future<Output = axum::response::Response> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    let api = crate::http::router(state.clone());
    let state = Arc::downgrade(state);
    move |mut req: axum::extract::Request| {
        req.extensions_mut().insert(crate::http::OnHub);
        let mut api = api.clone();
        let on = state.upgrade().is_some_and(|s| {
            s.sync
                .serving
                .lock()
                .expect("serving")
                .as_ref()
                .is_some_and(|server| server.cfg.api)
        });
        Box::pin(async move {
            use axum::response::IntoResponse;
            if !on {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            }
            match tower_service::Service::call(&mut api, req).await {
                Ok(res) => res,
                Err(never) => match never {},
            }
        })
    }
}

/// The deadline of a connection that never upgrades: none once a request
/// on it has shown a valid token (an API call on the hub's port, a change
/// stream that may last), as on the API's own port.
async fn unupgraded(d: Option<Duration>, pending: &Pending) {
    match d {
        Some(d) => {
            tokio::time::sleep(d).await;
            if pending.done.load(Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

/// One connection up to its HTTP request (and, for `/v1/sync`, the upgrade:
/// the WebSocket then lives on in `serve::sync_ws`'s task).
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<Arc<ServerConfig>>,
    pending: Arc<Pending>,
    router: Router,
    deadlines: Deadlines,
) {
    // Small frames (acks, live commits) must leave at once, not wait for
    // Nagle's algorithm to coalesce them.
    let _ = tcp.set_nodelay(true);
    let mut byte = [0u8; 1];
    match tokio::time::timeout(deadlines.first_byte, tcp.peek(&mut byte)).await {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Ok(_)) => return,
        Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "connection failed"),
        Err(_) => return tracing::debug!(%peer, "no first byte within serve.first_byte_ms"),
    }
    match tls {
        None => http(TokioIo::new(tcp), peer, pending, router, deadlines).await,
        Some(config) => {
            let handshake = TlsAcceptor::from(config).accept(tcp);
            match tokio::time::timeout(deadlines.tls, handshake).await {
                Ok(Ok(stream)) => {
                    http(TokioIo::new(stream), peer, pending, router, deadlines).await
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake not done within serve.tls_handshake_ms")
                }
            }
        }
    }
}

/// HTTP/1.1. Keep-alive stays on (turning it off makes hyper answer the
/// upgrade with `connection: close`); an idle kept-alive connection is
/// closed by the same header deadline, which restarts for each request.
async fn http<I>(
    io: TokioIo<I>,
    peer: SocketAddr,
    pending: Arc<Pending>,
    router: Router,
    deadlines: Deadlines,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let answering = pending.answering();
        req.extensions_mut().insert(PendingConn(pending.clone()));
        let mut router = router.clone();
        async move {
            let resp = tower_service::Service::call(&mut router, req).await;
            drop(answering);
            resp
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // Runs from the start of the connection until the request's headers
        // are complete, however slowly the bytes trickle in.
        .header_read_timeout(deadlines.headers)
        .serve_connection(io, service)
        .with_upgrades()
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "HTTP connection ended");
    }
}

/// `serve` or `http`: serve `cfg`, returning the bound address. Same
/// address as now: the settings change in place. Another one: it is bound
/// before the old one closes, and a failure leaves the old one serving.
pub async fn apply(state: &Arc<State>, kind: Kind, cfg: ServeConfig) -> Result<SocketAddr, String> {
    let (slot, lock) = kind.slot(state);
    let _one_at_a_time = lock.lock().await;
    let addr = super::serve::check_addr(&cfg)?;
    {
        let mut serving = slot.lock().expect("serving");
        if let Some(server) = serving.as_mut()
            && server.bound() == Some(addr)
        {
            if server.cfg.api && !cfg.api {
                state.sync.api_epoch.send_modify(|e| *e += 1);
            }
            server.update(tls_config(&cfg)?, cfg);
            return Ok(addr);
        }
    }
    let new = Server::bind(state, kind, cfg).await.map_err(|e| {
        match slot
            .lock()
            .expect("serving")
            .as_ref()
            .and_then(Server::bound)
        {
            Some(old) => format!("{e}; still serving on {old}"),
            None => e,
        }
    })?;
    let bound = new.bound().expect("bound");
    let old = slot.lock().expect("serving").replace(new);
    if let Some(old) = old {
        let api = old.cfg.api;
        old.stop().await;
        if api {
            state.sync.api_epoch.send_modify(|e| *e += 1);
        }
    }
    Ok(bound)
}

/// `serve --stop` or `http --stop`: the listener is closed when this
/// returns, and what it served ends (sync clients see why; API streams end).
pub async fn stop(state: &Arc<State>, kind: Kind) {
    let (slot, lock) = kind.slot(state);
    let _one_at_a_time = lock.lock().await;
    let old = slot.lock().expect("serving").take();
    if let Some(old) = old {
        old.stop().await;
        match kind {
            Kind::Hub => {
                state.sync.serve_epoch.send_modify(|e| *e += 1);
                state.sync.api_epoch.send_modify(|e| *e += 1);
            }
            Kind::Api => state.http.epoch.send_modify(|e| *e += 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(total: usize, per_ip: usize) -> Arc<Gate> {
        let cfg = ServeConfig {
            max_unauthenticated: total,
            max_unauthenticated_per_ip: per_ip,
            ..ServeConfig::default()
        };
        // No grace: any connection not being answered may make room.
        Arc::new(Gate {
            grace: Duration::ZERO,
            ..Gate::new(&cfg)
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_ip_cap_closes_that_address_oldest_and_frees_on_drop() {
        let g = gate(10, 2);
        let a = g.admit(ip("10.0.0.1")).unwrap();
        let b = g.admit(ip("10.0.0.1")).unwrap();
        let c = g.admit(ip("10.0.0.2")).unwrap();
        let d = g.admit(ip("10.0.0.1")).unwrap();
        assert!(is_evicted(&a), "the address's oldest made room");
        assert!(!is_evicted(&b) && !is_evicted(&c) && !is_evicted(&d));
        assert_eq!(g.open(), 3);
        drop(b);
        let e = g.admit(ip("10.0.0.1")).unwrap();
        assert!(!is_evicted(&d) && !is_evicted(&e), "b's place was free");
        assert_eq!(g.open(), 3);
    }

    #[test]
    fn a_connection_being_answered_is_not_closed_to_make_room() {
        let g = gate(10, 2);
        let a = g.admit(ip("10.0.0.1")).unwrap();
        let _a_busy = a.answering();
        let b = g.admit(ip("10.0.0.1")).unwrap();
        let c = g.admit(ip("10.0.0.1")).unwrap();
        assert!(is_evicted(&b), "the oldest idle one made room");
        assert!(!is_evicted(&a) && !is_evicted(&c));
        let _c_busy = c.answering();
        // None idle: the new one comes in over the cap, for a moment.
        let d = g.admit(ip("10.0.0.1")).unwrap();
        assert!(!is_evicted(&a) && !is_evicted(&c) && !is_evicted(&d));
        assert_eq!(g.open(), 3);
        drop(_a_busy);
        let _e = g.admit(ip("10.0.0.1")).unwrap();
        assert!(is_evicted(&a), "answered, it is idle again");
        // Twice the cap (2 × 2), none idle: refused.
        let _e_busy = _e.answering();
        let g1 = g.admit(ip("10.0.0.1")).unwrap(); // closes d, the idle one
        assert!(is_evicted(&d));
        let _g1_busy = g1.answering();
        let g2 = g.admit(ip("10.0.0.1")).unwrap();
        let _g2_busy = g2.answering();
        let err = g.admit(ip("10.0.0.1")).err().unwrap();
        assert!(err.contains("none idle"), "{err}");
    }

    #[test]
    fn a_new_connection_has_its_grace_before_it_can_make_room() {
        let g = Arc::new(Gate {
            grace: Duration::from_millis(200),
            ..Gate::new(&ServeConfig {
                max_unauthenticated_per_ip: 2,
                ..ServeConfig::default()
            })
        });
        let a = g.admit(ip("10.0.0.1")).unwrap();
        let _b = g.admit(ip("10.0.0.1")).unwrap();
        let c = g.admit(ip("10.0.0.1")).unwrap();
        assert!(
            !is_evicted(&a) && !is_evicted(&c),
            "a burst comes in over the cap"
        );
        std::thread::sleep(Duration::from_millis(250));
        let _d = g.admit(ip("10.0.0.1")).unwrap();
        assert!(is_evicted(&a), "past its grace, the oldest makes room");

        // The total is a hard bound: the oldest goes, however young.
        let g = Arc::new(Gate {
            grace: Duration::from_secs(60),
            ..Gate::new(&ServeConfig {
                max_unauthenticated: 2,
                ..ServeConfig::default()
            })
        });
        let a = g.admit(ip("10.0.0.1")).unwrap();
        let b = g.admit(ip("10.0.0.2")).unwrap();
        let _b_busy = b.answering();
        let _c = g.admit(ip("10.0.0.3")).unwrap();
        assert!(is_evicted(&a) && !is_evicted(&b));
        assert_eq!(g.open(), 2);
    }

    /// Closed by the gate to make room (not authenticated, yet gone).
    fn is_evicted(p: &Pending) -> bool {
        !p.done.load(Ordering::Relaxed) && !p.gate.inner.lock().unwrap().open.contains_key(&p.id)
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_v4_as_v4() {
        let g = gate(10, 1);
        let a = g.admit(ip("2001:db8::1")).unwrap();
        let _a2 = g.admit(ip("2001:db8::ffff:1")).unwrap();
        assert!(is_evicted(&a), "the same /64");
        let b = g.admit(ip("2001:db8:0:1::1")).unwrap();
        let c = g.admit(ip("10.0.0.1")).unwrap();
        assert!(!is_evicted(&b), "another /64");
        let _c2 = g.admit(ip("::ffff:10.0.0.1")).unwrap();
        assert!(is_evicted(&c), "a mapped v4 address is that address");
    }

    #[tokio::test]
    async fn a_full_gate_evicts_the_oldest_but_never_an_authenticated_one() {
        let g = gate(2, 10);
        let a = Arc::new(g.admit(ip("10.0.0.1")).unwrap());
        let b = Arc::new(g.admit(ip("10.0.0.2")).unwrap());
        b.authenticated();
        let _c = g.admit(ip("10.0.0.3")).unwrap();
        let _d = g.admit(ip("10.0.0.4")).unwrap(); // evicts a
        tokio::time::timeout(Duration::from_secs(1), a.evicted())
            .await
            .expect("a is evicted");
        let never = tokio::time::timeout(Duration::from_millis(50), b.evicted()).await;
        assert!(never.is_err(), "an authenticated connection stays");
        assert_eq!(g.inner.lock().unwrap().open.len(), 2);
    }
}
