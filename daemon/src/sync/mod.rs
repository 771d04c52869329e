//! Sync over the network: dialing remotes ([`client`]), serving as a hub
//! ([`serve`]), and the loop both share ([`driver`]). [`Syncs`] keeps the
//! running links so `status` and `sync` can see them.

pub mod client;
pub mod driver;
pub mod link;
pub mod serve;
pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use syncdb_core::config::RemoteEntry;
use syncdb_core::folder::Folder;

use crate::state::State;
use crate::tokens::Tokens;
use link::{Link, LinkStatus, Metrics};

/// Checks that a remote's token file belongs to this user: a file someone
/// else owns (and made readable to us) is his to swap, so what we would send
/// as our credential is his choice. (Its mode is checked when it is read.)
pub fn check_token_file(remote: &RemoteEntry) -> Result<(), String> {
    #[cfg(unix)]
    if let Some(path) = &remote.token_file {
        use std::os::unix::fs::MetadataExt;
        let meta =
            std::fs::metadata(path).map_err(|e| format!("token file {}: {e}", path.display()))?;
        let me = syncdb_core::paths::euid();
        if meta.uid() != me {
            return Err(format!(
                "token file {} belongs to uid {}, not to you (uid {me}); use a token file of your own (mode 0600)",
                path.display(),
                meta.uid()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = remote;
    Ok(())
}

/// Dials `remote`, once its token file is ours; until then the link shows
/// why not, and the check is repeated (a kick from `sync` repeats it now).
async fn dial(state: Arc<State>, folder: Folder, remote: RemoteEntry, link: Arc<Link>) {
    loop {
        let refused = match check_token_file(&remote) {
            Ok(()) => return client::run(state, folder, remote, link).await,
            Err(e) => e,
        };
        tracing::warn!(remote = %remote.name, error = %refused, "not dialing");
        link.update(|s| {
            s.attempts += 1;
            s.error = Some(refused.clone());
            s.error_attempt = s.attempts;
        });
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            _ = link.kick.notified() => {}
            _ = state.stopped() => return,
        }
    }
}

/// A running remote: its status and the task dialing it.
type Running = (Arc<Link>, tokio::task::JoinHandle<()>);

pub struct Syncs {
    pub metrics: Arc<Metrics>,
    /// Sessions the hub is serving now (capped by `sync.max_peers`).
    pub served: Arc<std::sync::atomic::AtomicUsize>,
    pub tokens: Tokens,
    /// By (folder path, remote name).
    remotes: Mutex<BTreeMap<(PathBuf, String), Running>>,
    pub serving: Mutex<Option<(SocketAddr, tokio::task::JoinHandle<()>)>>,
}

impl Syncs {
    pub fn new(data_dir: &Path) -> Self {
        Syncs {
            metrics: Arc::new(Metrics::default()),
            served: Default::default(),
            tokens: Tokens::new(data_dir),
            remotes: Mutex::new(BTreeMap::new()),
            serving: Mutex::new(None),
        }
    }

    /// Starts dialing `remote` for `folder` (replacing a running link of that name).
    pub fn start_remote(&self, state: &Arc<State>, folder: Folder, remote: RemoteEntry) {
        let key = (folder.path.clone(), remote.name.clone());
        let link = Arc::new(Link::new(remote.name.clone(), self.metrics.clone()));
        let task = tokio::spawn(dial(state.clone(), folder, remote, link.clone()));
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
        self.serving
            .lock()
            .expect("serving")
            .as_ref()
            .map(|(a, _)| *a)
    }

    /// Stops serving (the listener closes; open sessions end with the daemon).
    pub fn stop_serving(&self) {
        if let Some((_, task)) = self.serving.lock().expect("serving").take() {
            task.abort();
        }
    }
}
