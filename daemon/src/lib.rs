//! syncdb-daemon: the per-user background process that owns the replicas.
//!
//! - [`lock`]: one daemon per home (private runtime dir + exclusive lock).
//! - [`replicas`]: one writer thread per database with group commit; the
//!   only seam between tokio and the blocking engines.
//! - [`ipc`]: the local socket server and its request handlers.
//! - [`feed`]: the change feed, from a cursor then live (`watch`, HTTP).
//! - [`http`]: the HTTP API for applications, and the status page.
//! - [`state`]: what handlers share.
//!
//! [`run`] is the one entry point; it takes the stop signal as a future, so
//! tests and `syncdb daemon run` stop it the same way.

pub mod feed;
pub mod history;
pub mod http;
pub mod ipc;
pub mod live;
pub mod lock;
pub mod replicas;
pub mod sites;
pub mod state;
pub mod store;
pub mod sync;
pub mod tokens;

use std::future::Future;
use std::sync::Arc;

use syncdb_core::config::{Config, ConfigError};
use syncdb_core::paths::{Paths, PathsError};

pub use lock::running_pid;

/// The daemon's version; the command restarts a daemon of another version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A test-only clock offset in milliseconds (replicas with skewed clocks).
pub const CLOCK_OFFSET_ENV: &str = "SYNCDB_TEST_CLOCK_OFFSET_MS";

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Paths(#[from] PathsError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("cannot listen on {path}: {source}")]
    Bind {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot create {path}: {source}")]
    Dir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Runs the daemon in this process until SIGTERM, SIGINT or a `shutdown` call.
pub fn run_foreground(paths: Paths) -> Result<(), DaemonError> {
    #[cfg(unix)]
    // SAFETY: umask has no preconditions; files we create become 0600, dirs 0700.
    unsafe {
        libc::umask(0o077);
    }
    // Before reading anything from the home: a home someone else made or
    // may write is refused, not used.
    paths.check()?;
    raise_open_file_limit();
    let config = Config::load(&paths.config_file())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("syncdb-daemon")
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    runtime.block_on(run(paths, config, stop_signal()))
}

/// Raises the soft limit on open files to the hard one: a daemon holds a
/// descriptor per open database and connection, and the usual soft limit
/// (1024) is far below what the caps in the config allow.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}

/// The daemon. Returns once `shutdown` resolves (or a client asks it to stop)
/// and every connection and writer has finished.
pub async fn run(
    paths: Paths,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    paths.check()?;
    lock::private_dir(&paths.runtime_dir)?;
    let _lock = lock::DaemonLock::acquire(&paths.lock_file())?;
    // Private (0700): the state dir holds the log, the data dir the token
    // hashes; made so even when the daemon runs in-process without our umask.
    for dir in [&paths.config_dir, &paths.data_dir, &paths.state_dir] {
        syncdb_core::paths::create_private_dir(dir).map_err(|source| DaemonError::Dir {
            path: dir.clone(),
            source,
        })?;
    }
    let socket = paths.socket()?;
    let listener = ipc::bind(&socket).map_err(|source| DaemonError::Bind {
        path: socket.clone(),
        source,
    })?;
    let clock_offset_ms = std::env::var(CLOCK_OFFSET_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if clock_offset_ms != 0 {
        tracing::warn!(clock_offset_ms, "test clock offset in effect");
    }
    let state = Arc::new(state::State::new(paths, config, clock_offset_ms));
    ipc::backup::sweep_staging(&state);
    tracing::info!(socket = %socket.display(), pid = std::process::id(), version = VERSION, "daemon listening");
    // Serve and dial before answering commands: once `daemon start` returns,
    // the hub is listening.
    sync_start(&state).await;
    let server = tokio::spawn(ipc::serve(state.clone(), listener));
    tokio::spawn(history::run_checks(state.clone()));
    tokio::select! {
        _ = shutdown => tracing::info!("stop signal received"),
        _ = state.stopped() => {}
    }
    state.stop();
    let _ = server.await;
    let closing = state.clone();
    let _ = tokio::task::spawn_blocking(move || closing.replicas.close_all()).await;
    let _ = std::fs::remove_file(&socket);
    tracing::info!("daemon stopped");
    Ok(())
}

/// Resumes what the config says: dialing every remote, and serving.
async fn sync_start(state: &Arc<state::State>) {
    let config = state.config();
    for entry in &config.folders {
        let folder = match state::open_registered(entry) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(folder = %entry.path.display(), error = %e, "folder unavailable; not syncing it");
                continue;
            }
        };
        for remote in &entry.remotes {
            state
                .sync
                .start_remote(state, folder.clone(), remote.clone());
        }
    }
    if state.replicas.store.is_set() {
        tokio::spawn(store::connect(state.clone()));
    }
    if config.serve.addr.is_some() {
        // One quick try, so that once `daemon start` returns the hub is
        // listening; if the address is busy, keep trying in the background
        // (and `status` says so) rather than never serving again.
        let server =
            sync::listener::Server::start(state, sync::listener::Kind::Hub, config.serve.clone())
                .await;
        *state.sync.serving.lock().expect("serving") = Some(server);
    }
    if config.http.addr.is_some() {
        let cfg = ipc::http::listen_config(state, &config.http);
        let server = sync::listener::Server::start(state, sync::listener::Kind::Api, cfg).await;
        *state.http.serving.lock().expect("serving") = Some(server);
    }
    if let Some(path) = ipc::http::unix_socket(state) {
        tokio::spawn(http::serve_unix(state.clone(), path));
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
