//! The HTTP API for applications: documents, bulk import, the change feed,
//! an nkvd-compatible key-value surface and a status page, on the address `syncdb http`
//! sets (with a token per request) and on `http.sock` beside the daemon's
//! socket (its owner only, no token).
//!
//! Every route is a row of [`routes::ROUTES`]; the router and the OpenAPI
//! document at `/v1/openapi.json` are both made from that table, so they
//! cannot disagree. Handlers call the same functions as the command's IPC
//! methods, so the rules and the error messages are the command's.

mod auth;
mod changes;
mod docs;
mod error;
mod find;
mod kv;
mod openapi;
mod page;
mod routes;
mod unix;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::MethodRouter;

use crate::state::State;
use crate::sync::listener::Server;

pub use auth::OnHub;
pub use error::ApiError;
pub use unix::serve_unix;

/// What the daemon keeps of its HTTP API.
pub struct Http {
    /// The TCP listener, if configured (see [`crate::sync::listener::apply`]).
    pub serving: Mutex<Option<Server>>,
    pub lock: tokio::sync::Mutex<()>,
    /// Bumped when the TCP listener stops: its streams end.
    pub epoch: tokio::sync::watch::Sender<u64>,
    pub tokens: auth::TokenCache,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            serving: Mutex::new(None),
            lock: tokio::sync::Mutex::new(()),
            epoch: tokio::sync::watch::channel(0).0,
            tokens: auth::TokenCache::default(),
        }
    }
}

impl Http {
    pub fn serving_addr(&self) -> Option<std::net::SocketAddr> {
        self.serving.lock().expect("serving").as_ref()?.bound()
    }

    pub fn status(&self) -> Option<syncdb_core::ipc::ServeStatus> {
        Some(self.serving.lock().expect("serving").as_ref()?.status())
    }
}

/// The API's routes, each from [`routes::ROUTES`], and JSON for the rest:
/// an unknown path is 404, a known one with another method 405.
pub fn router(state: Arc<State>) -> Router {
    let mut paths: BTreeMap<&str, (MethodRouter<Arc<State>>, Vec<&str>)> = BTreeMap::new();
    for route in routes::ROUTES {
        let entry = paths
            .entry(route.path)
            .or_insert_with(|| (MethodRouter::new(), Vec::new()));
        entry.0 = std::mem::take(&mut entry.0).merge((route.handler)());
        entry.1.push(route.method);
    }
    let mut router = Router::new();
    for (path, (methods, names)) in paths {
        // `any` routes (nkvd's) take every method: no 405 to add.
        if names.contains(&"ANY") {
            router = router.route(path, methods);
            continue;
        }
        let allow = names.join(", ");
        let wrong = move |method: axum::http::Method| error::wrong_method(method, allow.clone());
        router = router.route(path, methods.fallback(wrong));
    }
    router
        .fallback(error::no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::cors,
        ))
        .layer(axum::middleware::from_fn(error::catch_panics))
        .with_state(state)
}
