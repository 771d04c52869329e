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
    /// The hub URL of the session open now or last (one of the remote's
    /// `url` and `failover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
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
    /// The last failed attempt and why, kept when the next one connects
    /// (and clears `error`), so a waiting `sync --once` cannot miss it.
    #[serde(skip)]
    pub failed: Option<(u64, String)>,
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
    /// The latest barrier (see [`Link::barrier`]) whose answer is applied
    /// here, by the session open now.
    #[serde(skip)]
    pub barrier_done: u64,
    /// Databases the session leaves alone (damaged here), with why.
    #[serde(skip)]
    pub broken: BTreeMap<Name, String>,
    /// What was done to databases behind the hub's horizon (rebuilt).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

pub struct Link {
    pub name: String,
    /// A remote this daemon dials (not a peer of its hub).
    pub dials: bool,
    pub status: Mutex<LinkStatus>,
    /// The latest barrier requested by `sync --once`: the session asks the
    /// peer how far its feeds reach and reports in `barrier_done` once all
    /// of that is applied here.
    pub barrier: tokio::sync::watch::Sender<u64>,
    pub progress: broadcast::Sender<Progress>,
    /// Wakes a remote waiting to reconnect.
    pub kick: Notify,
    pub metrics: std::sync::Arc<Metrics>,
}

impl Link {
    pub fn new(name: String, dials: bool, metrics: std::sync::Arc<Metrics>) -> Self {
        Link {
            name,
            dials,
            status: Mutex::new(LinkStatus::default()),
            barrier: tokio::sync::watch::channel(0).0,
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
        let barrier = session.barrier_reached();
        tracing::debug!(link = %self.name, caught_up, pull, behind, ?acked, ?barrier, "sync state");
        self.update(|s| {
            s.caught_up = caught_up;
            s.pull_caught_up = pull;
            s.behind = behind;
            s.acked = acked;
            s.pushes = pushes;
            if let Some(id) = barrier {
                s.barrier_done = s.barrier_done.max(id);
            }
            s.broken = session.broken().clone();
            if caught_up {
                s.last_sync_ms = Some(syncdb_core::version::wall_clock_ms());
                s.error = None;
            }
        });
    }
}

impl Link {
    /// Asks for a barrier; returns its id. It is done once the link's
    /// `barrier_done` reaches the id.
    pub fn request_barrier(&self) -> u64 {
        let mut id = 0;
        self.barrier.send_modify(|b| {
            *b += 1;
            id = *b;
        });
        id
    }

    /// The session opened. A remote that granted a read-only token is
    /// remembered in the config, so local writes to the folder are refused
    /// instead of diverging in silence.
    pub fn opened(
        &self,
        state: &crate::state::State,
        folder: &syncdb_core::folder::Folder,
        session: &Session,
    ) {
        if !self.dials {
            return;
        }
        let read_only = !session.pushes();
        let saved = state.update_config(|c| {
            if let Some(remote) = c
                .folders
                .iter_mut()
                .filter(|f| f.path == folder.path)
                .flat_map(|f| f.remotes.iter_mut())
                .find(|r| r.name == self.name)
            {
                remote.read_only = read_only;
            }
            Ok(())
        });
        if let Err(e) = saved {
            tracing::warn!(remote = %self.name, error = %e.message, "cannot record the token's scope");
        }
        if read_only {
            tracing::info!(remote = %self.name, "the remote granted a read-only token: local writes to this folder are refused");
        }
    }
}
