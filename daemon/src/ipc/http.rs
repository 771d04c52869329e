//! `http`: start, move, change or stop the HTTP API's TCP listener, and
//! keep it in the config so it resumes after a restart.

use std::sync::Arc;

use syncdb_core::config::{HttpConfig, ServeConfig};
use syncdb_core::ipc::{ErrorCode, HttpOutput, HttpParams, RpcError};

use super::errors::bad_input;
use crate::state::State;
use crate::sync::listener::{self, Kind};

/// The API's TCP settings as a listener takes them: its own address and
/// TLS, `[serve]`'s deadlines and caps for connections before their token.
pub fn listen_config(state: &State, http: &HttpConfig) -> ServeConfig {
    ServeConfig {
        addr: http.addr.clone(),
        tls_cert: http.tls_cert.clone(),
        tls_key: http.tls_key.clone(),
        insecure: http.insecure,
        create_folders: None,
        ..state.config().serve
    }
}

pub async fn http(state: &Arc<State>, p: HttpParams) -> Result<HttpOutput, RpcError> {
    let current = state.config().http;
    if let Some(origins) = &p.cors_origins {
        for o in origins {
            check_origin(o)?;
        }
    }
    let cors_origins = p
        .cors_origins
        .clone()
        .unwrap_or(current.cors_origins.clone());
    if p.stop {
        listener::stop(state, Kind::Api).await;
        state.update_config(|c| {
            c.http = HttpConfig {
                addr: None,
                tls_cert: None,
                tls_key: None,
                insecure: false,
                cors_origins: cors_origins.clone(),
                ..current.clone()
            };
            Ok(())
        })?;
        return Ok(output(state, None, false, cors_origins));
    }
    let Some(addr) = p.addr else {
        // Only what is served now (and new CORS origins, if given).
        state.update_config(|c| {
            c.http.cors_origins = cors_origins.clone();
            Ok(())
        })?;
        let bound = state.http.serving_addr().map(|a| a.to_string());
        return Ok(output(
            state,
            bound,
            current.tls_cert.is_some(),
            cors_origins,
        ));
    };
    let wanted = HttpConfig {
        addr: Some(addr),
        tls_cert: p.tls_cert,
        tls_key: p.tls_key,
        insecure: p.insecure,
        cors_origins: cors_origins.clone(),
        ..current
    };
    let cfg = listen_config(state, &wanted);
    crate::sync::serve::check_addr(&cfg).map_err(bad_input)?;
    listener::tls_config(&cfg).map_err(bad_input)?;
    let bound = listener::apply(state, Kind::Api, cfg)
        .await
        .map_err(|e| RpcError::new(ErrorCode::Storage, e))?;
    let tls = wanted.tls_cert.is_some();
    state.update_config(|c| {
        // Keep the real port, so a restart serves on the same address.
        c.http = HttpConfig {
            addr: Some(bound.to_string()),
            ..wanted
        };
        Ok(())
    })?;
    Ok(output(state, Some(bound.to_string()), tls, cors_origins))
}

fn output(state: &State, addr: Option<String>, tls: bool, cors_origins: Vec<String>) -> HttpOutput {
    let scheme = if tls { "https" } else { "http" };
    HttpOutput {
        url: addr.as_ref().map(|a| format!("{scheme}://{a}")),
        addr,
        socket: unix_socket(state),
        cors_origins,
    }
}

/// The API's Unix socket, when it is served.
pub fn unix_socket(state: &State) -> Option<std::path::PathBuf> {
    cfg!(unix)
        .then(|| state.config().http.unix_socket)
        .filter(|on| *on)
        .and_then(|_| state.paths.http_socket().ok())
}

/// An origin is `scheme://host[:port]`, as browsers send it, or `*`.
fn check_origin(o: &str) -> Result<(), RpcError> {
    let ok = o == "*"
        || o.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && !rest.contains('/')
                && rest.is_ascii()
        });
    match ok {
        true => Ok(()),
        false => Err(bad_input(format!(
            "invalid CORS origin {o:?}: expected scheme://host[:port] (as a browser sends it, no path), or *"
        ))),
    }
}
