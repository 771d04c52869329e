//! The shared store a hub serves its folders from when `serve.store` is
//! set: a PostgreSQL database (`syncdb-pg`) that other hubs may serve the
//! same folders from. The hub then keeps nothing another hub needs: the
//! folders' databases, the tokens and which token owns which replica are
//! the store's tables; what stays here is a directory per folder that only
//! says which folder it is (`FolderSettings::stored`).
//!
//! Connecting waits for the server: a hub whose server is down when it
//! starts still starts, refuses what needs the store with the server's
//! reason, and connects on the next use. Once connected, [`follow`] turns
//! the server's notifications into this hub's wake-ups, so a write another
//! hub took reaches the sessions here.

use std::sync::{Arc, Mutex, PoisonError};

use syncdb_core::store::StoreError;
use syncdb_pg::PgStore;
use syncdb_pg::listen::Wake;

use crate::state::State;

/// `serve.store`, and the connection to it once made.
#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    url: Option<String>,
    connected: Option<PgStore>,
    /// Whether [`follow`] runs for the connection.
    followed: bool,
}

impl Store {
    /// The store from the config at start; connected on first use.
    pub fn configured(url: Option<String>) -> Self {
        Store {
            inner: Mutex::new(Inner {
                url,
                ..Inner::default()
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a store is set: folders served from now on live there.
    pub fn is_set(&self) -> bool {
        self.inner().url.is_some()
    }

    /// The connected store, connecting first if need be. Blocking.
    pub fn get(&self) -> Result<PgStore, StoreError> {
        let url = {
            let inner = self.inner();
            if let Some(store) = &inner.connected {
                return Ok(store.clone());
            }
            inner.url.clone()
        };
        let Some(url) = url else {
            return Err(StoreError::Server(
                "this hub has no store (`syncdb serve --store …`)".into(),
            ));
        };
        let store = PgStore::connect(&url)?;
        let mut inner = self.inner();
        Ok(inner.connected.get_or_insert(store).clone())
    }

    /// Sets the store `serve --store` names and connects to it. Another
    /// one than the daemon serves from already is refused: its folders'
    /// sessions, caches and wake-ups are all tied to the first.
    pub fn set(&self, url: &str) -> Result<PgStore, String> {
        let new = {
            let mut inner = self.inner();
            let new = inner.url.is_none();
            match &inner.url {
                Some(current) if current != url => {
                    return Err(format!(
                        "this daemon serves from another store already ({}); to change it, stop the daemon (`syncdb daemon stop`), set `[serve] store` in its config, and start it again",
                        syncdb_core::config::mask_store(current)
                    ));
                }
                Some(_) => {}
                None => inner.url = Some(url.to_owned()),
            }
            new
        };
        self.get().map_err(|e| {
            // A new one that never connected is not kept (a typo must not
            // stick); the one configured stays, to be connected later.
            let mut inner = self.inner();
            if new && inner.connected.is_none() {
                inner.url = None;
            }
            format!("cannot use the store: {e}")
        })
    }

    /// Starts [`follow`] for the connected store, once.
    pub fn ensure_followed(&self, state: &Arc<State>) {
        let mut inner = self.inner();
        let Some(store) = inner.connected.clone().filter(|_| !inner.followed) else {
            return;
        };
        inner.followed = true;
        tokio::spawn(follow(state.clone(), store));
    }
}

/// Connects to the configured store at start, trying again until the
/// server answers (meanwhile what needs it is refused with its reason),
/// then follows it.
pub async fn connect(state: Arc<State>) {
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        let trying = state.clone();
        match tokio::task::spawn_blocking(move || trying.replicas.store.get()).await {
            Ok(Ok(_)) => break,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, retry_ms = wait.as_millis() as u64, "cannot reach the store")
            }
            Err(_) => return,
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.stopped() => return,
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(5));
    }
    tracing::info!("connected to the store");
    state.replicas.store.ensure_followed(&state);
}

/// Hears the commits and revocations of every hub on the store, and wakes
/// what they concern here: the sessions and watchers of a database another
/// hub wrote to, the sessions of a revoked token. A notification lost
/// while the listening connection was down is made up for by `Resumed`,
/// which wakes every open database: their feeds are the truth.
pub async fn follow(state: Arc<State>, store: PgStore) {
    let mut wakes = store.listen();
    let mut stopping = state.stopping.subscribe();
    loop {
        let wake = tokio::select! {
            wake = wakes.recv() => match wake {
                Some(wake) => wake,
                None => return,
            },
            _ = stopping.wait_for(|s| *s) => return,
        };
        match wake {
            Wake::Committed { folder, db } => {
                for replica in state.replicas.open_replicas() {
                    if replica.name.as_str() == db && replica.stored_as.as_deref() == Some(&folder)
                    {
                        replica.refresh();
                    }
                }
            }
            Wake::Revoked { token } => {
                tracing::info!(id = %token, "token revoked through another hub");
                state.revoked();
            }
            Wake::Resumed => {
                tracing::info!("listening to the store's commits");
                for replica in state.replicas.open_replicas() {
                    if replica.stored_as.is_some() {
                        replica.refresh();
                    }
                }
                state.revoked();
            }
        }
    }
}
