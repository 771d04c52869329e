//! The daemon's shared state: paths, config, registered folders, replicas,
//! and the stop signal. Handlers get `&State`; nothing else is global.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use syncdb_core::config::{Config, FolderEntry};
use syncdb_core::folder::Folder;
use syncdb_core::ipc::{ErrorCode, FolderRef, RpcError};
use syncdb_core::paths::Paths;
use tokio::sync::watch;

use crate::replicas::Replicas;
use crate::sync::Syncs;

pub struct State {
    pub paths: Paths,
    pub config: Mutex<Config>,
    pub replicas: Replicas,
    pub sync: Syncs,
    pub http: crate::http::Http,
    pub started: Instant,
    /// Flips to true once; every task watching it winds down.
    pub stopping: watch::Sender<bool>,
    /// Folders opened lately, by id: reading a folder's settings file for
    /// every request (an HTTP GET, a put) would cost more than the request.
    opened: Mutex<HashMap<String, (Instant, Folder)>>,
}

/// How long an opened folder's settings are taken as read.
const OPENED_FOR: Duration = Duration::from_secs(1);

impl State {
    pub fn new(paths: Paths, config: Config, clock_offset_ms: i64) -> Self {
        let store = Arc::new(crate::store::Store::configured(config.serve.store.clone()));
        let replicas = Replicas::new(
            config.daemon.group_commit_max_ops,
            config.daemon.max_open_databases,
            clock_offset_ms,
            crate::replicas::Compaction {
                free_percent: config.history.compact_free_percent,
                min_bytes: config.history.compact_min_bytes,
            },
            store.clone(),
        );
        State {
            sync: Syncs::new(&paths.data_dir, &store),
            http: crate::http::Http::default(),
            paths,
            config: Mutex::new(config),
            replicas,
            started: Instant::now(),
            stopping: watch::channel(false).0,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// [`open_registered`], at most once a second per folder: a folder
    /// moved, deleted or re-made by hand is seen within a second.
    pub fn open(&self, id: &str, path: &Path) -> Result<Folder, RpcError> {
        let fresh = |at: &Instant, f: &Folder| at.elapsed() < OPENED_FOR && f.path == path;
        if let Some((at, folder)) = self.opened.lock().expect("opened").get(id)
            && fresh(at, folder)
        {
            return Ok(folder.clone());
        }
        let folder = open_at(id, path)?;
        let mut opened = self.opened.lock().expect("opened");
        opened.retain(|_, (at, _)| at.elapsed() < OPENED_FOR);
        opened.insert(id.to_owned(), (Instant::now(), folder.clone()));
        Ok(folder)
    }

    pub fn config(&self) -> Config {
        self.config.lock().expect("config").clone()
    }

    /// The remotes of the folder at `path` (none when it is not registered).
    pub fn remotes_of(&self, path: &std::path::Path) -> Vec<syncdb_core::config::RemoteEntry> {
        self.config()
            .folders
            .into_iter()
            .find(|f| f.path == path)
            .map(|f| f.remotes)
            .unwrap_or_default()
    }

    /// A token was revoked (here, or through another hub on the store):
    /// sessions recheck theirs, cached HTTP grants go, and sessions that
    /// held back writes of the replicas it freed end.
    pub fn revoked(&self) {
        self.sync.revocations.send_modify(|n| *n += 1);
        self.http.tokens.clear();
        self.sync.freed.send_modify(|n| *n += 1);
    }

    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Wall-clock ms, with the test-only clock offset if one is set.
    pub fn now_ms(&self) -> u64 {
        self.replicas.now_ms()
    }

    /// Resolves once the daemon is stopping.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// The registered folder a request is about.
    pub fn resolve(&self, folder: &FolderRef) -> Result<Folder, RpcError> {
        let config = self.config.lock().expect("config");
        let entry = match folder {
            // Registered paths are canonical: one given as it was
            // registered (by the HTTP API, say) needs no resolving.
            Some(path) if let Some(entry) = config.folders.iter().find(|f| f.path == *path) => {
                entry
            }
            Some(path) => {
                let path = std::fs::canonicalize(path).map_err(|e| {
                    RpcError::new(
                        ErrorCode::NotFound,
                        format!("folder {}: {e}", path.display()),
                    )
                })?;
                config.folders.iter().find(|f| f.path == path).ok_or_else(|| {
                    RpcError::new(
                        ErrorCode::NotFound,
                        format!(
                            "folder {} is not registered with this daemon; run `syncdb init {}`",
                            path.display(),
                            path.display()
                        ),
                    )
                })?
            }
            None => match config.folders.as_slice() {
                [only] => only,
                [] => {
                    return Err(RpcError::new(
                        ErrorCode::NotFound,
                        "no syncdb folder here and none registered; run `syncdb init DIR` or pass -C DIR",
                    ));
                }
                many => {
                    let list: Vec<_> = many.iter().map(|f| f.path.display().to_string()).collect();
                    return Err(RpcError::new(
                        ErrorCode::BadInput,
                        format!(
                            "several folders are registered; say which with -C DIR or run from inside one ({}); `syncdb folder rm` forgets one that is gone",
                            list.join(", ")
                        ),
                    ));
                }
            },
        };
        let (id, path) = (entry.id.clone(), entry.path.clone());
        drop(config);
        self.open(&id, &path)
    }

    /// The registered folder a write is about. A folder whose remote granted
    /// a read-only token refuses local writes: they could never reach the
    /// remote, and the replicas would differ in silence.
    pub fn resolve_writable(&self, folder: &FolderRef) -> Result<Folder, RpcError> {
        let resolved = self.resolve(folder)?;
        let config = self.config.lock().expect("config");
        let read_only = config
            .folders
            .iter()
            .filter(|f| f.path == resolved.path)
            .flat_map(|f| &f.remotes)
            .find(|r| r.read_only);
        if let Some(remote) = read_only {
            return Err(RpcError::new(
                ErrorCode::BadInput,
                format!(
                    "folder {} is a read-only replica: remote {} granted a read-only token, so a local write would never reach it; nothing was written. Write on the hub, or give this folder a read-write token (`syncdb remote add {} {} --token-file FILE`)",
                    resolved.path.display(),
                    remote.name,
                    remote.name,
                    remote.url
                ),
            ));
        }
        Ok(resolved)
    }

    /// Registers `folder` in the config (idempotent) and saves it atomically.
    pub fn register(&self, folder: &Folder) -> Result<(), RpcError> {
        self.update_config(|config| {
            if !config.folders.iter().any(|f| f.path == folder.path) {
                config.folders.push(FolderEntry {
                    id: folder.settings.id.clone(),
                    path: folder.path.clone(),
                    remotes: Vec::new(),
                });
            }
            Ok(())
        })
    }

    /// Unregisters the folder at `path` (best effort: for undoing a
    /// registration that a failure right after made pointless).
    pub fn forget(&self, path: &Path) {
        let forgotten = self.update_config(|config| {
            config.folders.retain(|f| f.path != path);
            Ok(())
        });
        if let Err(e) = forgotten {
            tracing::warn!(folder = %path.display(), error = %e.message, "cannot unregister a folder");
        }
    }

    /// Changes the config and saves it atomically; on any error nothing changes.
    pub fn update_config(
        &self,
        f: impl FnOnce(&mut Config) -> Result<(), RpcError>,
    ) -> Result<(), RpcError> {
        let mut config = self.config.lock().expect("config");
        let mut updated = config.clone();
        f(&mut updated)?;
        if updated == *config {
            return Ok(());
        }
        updated
            .save(&self.paths.config_file())
            .map_err(|e| RpcError::new(ErrorCode::Storage, e.to_string()))?;
        *config = updated;
        Ok(())
    }

    pub fn config_path(&self) -> PathBuf {
        self.paths.config_file()
    }
}

/// Opens a registered folder, checking it is still the folder we registered.
pub fn open_registered(entry: &FolderEntry) -> Result<Folder, RpcError> {
    open_at(&entry.id, &entry.path)
}

/// The folder registered as `id` at `path`, opened (its settings read).
fn open_at(id: &str, path: &Path) -> Result<Folder, RpcError> {
    if std::fs::symlink_metadata(path).is_err() {
        // Moved or deleted: `init` there would make a new folder (a new
        // id); what helps is re-pointing or forgetting this one.
        let path = path.display();
        return Err(RpcError::new(
            ErrorCode::NotFound,
            format!(
                "registered folder {path} is missing (moved or deleted?): if it moved, run `syncdb folder mv {path} NEW_PATH`; to forget it, `syncdb folder rm {path}`"
            ),
        ));
    }
    let folder = Folder::open(path).map_err(|e| {
        RpcError::new(
            ErrorCode::NotFound,
            format!("registered folder {} cannot be used: {e}", path.display()),
        )
    })?;
    if folder.settings.id != id {
        return Err(RpcError::new(
            ErrorCode::BadInput,
            format!(
                "folder {} now has id {}, but {} was registered; run `syncdb init {}` again to re-register it",
                path.display(),
                folder.settings.id,
                id,
                path.display()
            ),
        ));
    }
    Ok(folder)
}

/// What a database takes on disk: its file and, for SQLite, the `-wal` and
/// `-shm` files beside it (in WAL mode most recent data lives in the `-wal`
/// until a checkpoint). A file that cannot be read counts 0.
pub fn database_bytes(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let side = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        size(Path::new(&name))
    };
    size(path) + side("-wal") + side("-shm")
}
