//! What the daemon knows about one sync connection (a remote it dials, or a
//! peer connected to its hub): status for `syncdb status`, progress for
//! `syncdb sync`, and the counters behind `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use syncdb_core::Name;
use syncdb_core::sync::{Message, Session, SessionEvent};
use tokio::sync::{Notify, broadcast};

use super::driver::Progress;

/// Process-wide sync counters, exported as Prometheus text.
#[derive(Default)]
pub struct Metrics {
    pub peers_connected: AtomicI64,
    pub records_in: AtomicU64,
    pub records_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

impl Metrics {
    pub fn bytes_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub fn records_in(&self, n: usize) {
        self.records_in.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub fn bytes_out(&self, n: usize, msg: &Message) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        if let Message::Chunk { items, .. } = msg {
            self.records_out
                .fetch_add(items.len() as u64, Ordering::Relaxed);
        }
    }
}

/// A connection's state, as `syncdb status --json` shows it per remote.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LinkStatus {
    pub connected: bool,
    /// Connection attempts so far (a `sync --once` waits for a fresh one).
    pub attempts: u64,
    /// Caught up both ways: backlogs applied here and acknowledged there.
    pub caught_up: bool,
    /// When it was last caught up (ms since the Unix epoch).
    pub last_sync_ms: Option<u64>,
    /// Records the peer announced that are not here yet.
    pub behind: u64,
    /// Why the last connection ended or failed.
    pub error: Option<String>,
    /// The attempt that `error` came from.
    #[serde(skip)]
    pub error_attempt: u64,
    /// The last attempt whose session opened (handshake accepted).
    #[serde(skip)]
    pub opened_attempt: u64,
    /// Per database: our seq the peer has acknowledged.
    #[serde(skip)]
    pub acked: BTreeMap<Name, u64>,
    #[serde(skip)]
    pub pull_caught_up: bool,
    #[serde(skip)]
    pub pushes: bool,
}

pub struct Link {
    pub name: String,
    pub status: Mutex<LinkStatus>,
    pub progress: broadcast::Sender<Progress>,
    /// Wakes a remote waiting to reconnect.
    pub kick: Notify,
    pub metrics: std::sync::Arc<Metrics>,
}

impl Link {
    pub fn new(name: String, metrics: std::sync::Arc<Metrics>) -> Self {
        Link {
            name,
            status: Mutex::new(LinkStatus::default()),
            progress: broadcast::channel(1024).0,
            kick: Notify::new(),
            metrics,
        }
    }

    pub fn status(&self) -> LinkStatus {
        self.status.lock().expect("link status").clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut LinkStatus)) {
        f(&mut self.status.lock().expect("link status"));
    }

    pub fn on_event(&self, event: &SessionEvent) {
        if *event == SessionEvent::Opened {
            self.update(|s| s.opened_attempt = s.attempts);
        }
        if let Some(p) = Progress::from_event(&self.name, event) {
            let _ = self.progress.send(p);
        }
    }

    /// Refreshes the status from the session after each step.
    pub fn observe(&self, session: &Session) {
        let caught_up = session.caught_up();
        let pull = session.pull_caught_up();
        let behind = session.behind();
        let acked: BTreeMap<Name, u64> = session
            .databases()
            .into_iter()
            .filter_map(|db| session.push_acked(&db).map(|s| (db, s)))
            .collect();
        let pushes = session.pushes();
        tracing::debug!(link = %self.name, caught_up, pull, behind, ?acked, "sync state");
        self.update(|s| {
            s.caught_up = caught_up;
            s.pull_caught_up = pull;
            s.behind = behind;
            s.acked = acked;
            s.pushes = pushes;
            if caught_up {
                s.last_sync_ms = Some(syncdb_core::version::wall_clock_ms());
                s.error = None;
            }
        });
    }
}
