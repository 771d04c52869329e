//! Sync over the network: dialing remotes ([`client`]), serving as a hub
//! ([`serve`]), and the loop both share ([`driver`]). [`Syncs`] keeps the
//! running links so `status` and `sync` can see them.

pub mod client;
pub mod driver;
pub mod link;
pub mod listener;
pub mod serve;
pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use syncdb_core::config::RemoteEntry;
use syncdb_core::folder::Folder;
use syncdb_core::ipc::ServeStatus;

use crate::sites::Sites;
use crate::state::State;
use crate::tokens::Tokens;
use link::{Link, LinkStatus, Metrics};

/// A running remote: its status and the task dialing it.
type Running = (Arc<Link>, tokio::task::JoinHandle<()>);

pub struct Syncs {
    pub metrics: Arc<Metrics>,
    /// Sessions the hub is serving now (capped by `sync.max_peers`).
    pub served: Arc<std::sync::atomic::AtomicUsize>,
    pub tokens: Tokens,
    /// Which token owns which replica (see `sites.rs`).
    pub sites: Sites,
    /// Bumped when a token is revoked: served sessions recheck theirs.
    pub revocations: tokio::sync::watch::Sender<u64>,
    /// Bumped when the hub stops serving: served sessions end.
    pub serve_epoch: tokio::sync::watch::Sender<u64>,
    /// Bumped when the hub's port stops serving the HTTP API (`serve
    /// --stop`, a move, `serve` without `--api`): API streams there end.
    pub api_epoch: tokio::sync::watch::Sender<u64>,
    /// Sent with a folder's path when one of its database files was
    /// replaced (`restore`, `repair`): the folder's served sessions end.
    pub replaced: tokio::sync::broadcast::Sender<(PathBuf, String)>,
    /// Bumped when a token is revoked, which frees its replicas' sites:
    /// served sessions that left writes of another replica out end, so
    /// their peers offer them again.
    pub freed: tokio::sync::watch::Sender<u64>,
    /// By (folder path, remote name).
    remotes: Mutex<BTreeMap<(PathBuf, String), Running>>,
    /// The sessions this hub serves now, by folder path (for `status`).
    pub peers: Mutex<Vec<(PathBuf, Arc<Link>)>>,
    /// The hub's listener, if configured (see [`listener::apply`]).
    pub serving: Mutex<Option<listener::Server>>,
    /// `serve` commands one at a time, so a move is never interleaved.
    pub serve_lock: tokio::sync::Mutex<()>,
    /// Held while a folder is made on first contact.
    pub creating: Mutex<()>,
}

impl Syncs {
    pub fn new(data_dir: &Path, store: &Arc<crate::store::Store>) -> Self {
        Syncs {
            metrics: Arc::new(Metrics::default()),
            served: Default::default(),
            tokens: Tokens::new(data_dir, store.clone()),
            sites: Sites::new(data_dir, store.clone()),
            revocations: tokio::sync::watch::channel(0).0,
            serve_epoch: tokio::sync::watch::channel(0).0,
            api_epoch: tokio::sync::watch::channel(0).0,
            replaced: tokio::sync::broadcast::channel(16).0,
            freed: tokio::sync::watch::channel(0).0,
            remotes: Mutex::new(BTreeMap::new()),
            peers: Mutex::new(Vec::new()),
            serving: Mutex::new(None),
            serve_lock: tokio::sync::Mutex::new(()),
            creating: Mutex::new(()),
        }
    }

    /// Starts dialing `remote` for `folder` (replacing a running link of that name).
    pub fn start_remote(&self, state: &Arc<State>, folder: Folder, remote: RemoteEntry) {
        let key = (folder.path.clone(), remote.name.clone());
        let link = Arc::new(Link::new(remote.name.clone(), true, self.metrics.clone()));
        let task = tokio::spawn(client::run(state.clone(), folder, remote, link.clone()));
        if let Some((_, old)) = self
            .remotes
            .lock()
            .expect("remotes")
            .insert(key, (link, task))
        {
            old.abort();
        }
    }

    pub fn stop_remote(&self, folder: &Path, name: &str) {
        let key = (folder.to_owned(), name.to_owned());
        if let Some((_, task)) = self.remotes.lock().expect("remotes").remove(&key) {
            task.abort();
        }
    }

    /// The links of a folder's remotes, by name.
    /// Why each session of the folder (remotes and served peers) leaves a
    /// database alone: "NAME: why" per session that does.
    pub fn stopped(&self, folder: &Path, db: &syncdb_core::Name) -> Vec<String> {
        let peers: Vec<Arc<Link>> = self
            .peers
            .lock()
            .expect("peers")
            .iter()
            .filter(|(p, _)| p == folder)
            .map(|(_, l)| l.clone())
            .collect();
        self.links(folder)
            .into_iter()
            .chain(peers)
            .filter_map(|l| {
                let why = l.status().broken.get(db).cloned()?;
                Some(format!("{}: {why}", l.name))
            })
            .collect()
    }

    pub fn links(&self, folder: &Path) -> Vec<Arc<Link>> {
        self.remotes
            .lock()
            .expect("remotes")
            .iter()
            .filter(|((f, _), _)| f == folder)
            .map(|(_, (link, _))| link.clone())
            .collect()
    }

    pub fn remote_statuses(&self) -> Vec<(String, LinkStatus)> {
        self.remotes
            .lock()
            .expect("remotes")
            .values()
            .map(|(link, _)| (link.name.clone(), link.status()))
            .collect()
    }

    pub fn serving_addr(&self) -> Option<SocketAddr> {
        self.serving.lock().expect("serving").as_ref()?.bound()
    }

    /// Resolves when the token `id` is revoked or the hub stops serving:
    /// the reason a served session must end.
    pub async fn session_ended(&self, token_id: &str) -> syncdb_core::sync::Reject {
        use syncdb_core::sync::Reject;
        let mut revoked = self.revocations.subscribe();
        let mut epoch = self.serve_epoch.subscribe();
        loop {
            tokio::select! {
                changed = revoked.changed() => {
                    if changed.is_err() {
                        return Reject::NotServing;
                    }
                    match self.tokens.exists(token_id) {
                        Ok(true) => {}
                        Ok(false) => return Reject::Revoked,
                        // A store that cannot be read cannot vouch for the
                        // token: the session ends, and says why.
                        Err(e) => return Reject::Internal(format!("cannot check the token: {e}")),
                    }
                }
                _ = epoch.changed() => return Reject::NotServing,
            }
        }
    }

    /// Resolves when a database file of `folder` is replaced, from a
    /// receiver taken when the session began (so none is missed).
    pub async fn replaced(
        mut rx: tokio::sync::broadcast::Receiver<(PathBuf, String)>,
        folder: &Path,
    ) -> syncdb_core::sync::Reject {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok((path, db)) if path == folder => {
                    return syncdb_core::sync::Reject::Again(format!(
                        "database {db} was replaced on the hub"
                    ));
                }
                Ok(_) => {}
                // Missed some: one of them may have been ours.
                Err(RecvError::Lagged(_)) => {
                    return syncdb_core::sync::Reject::Again(
                        "a database of this folder was replaced on the hub".into(),
                    );
                }
                Err(RecvError::Closed) => return std::future::pending().await,
            }
        }
    }

    /// The listener as configured: listening, or why not.
    pub fn serve_status(&self) -> Option<ServeStatus> {
        Some(self.serving.lock().expect("serving").as_ref()?.status())
    }
}
