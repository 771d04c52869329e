//! Who is asking, and what they may touch. Over TCP every request shows a
//! token (`Authorization: Bearer TOKEN`, or HTTP Basic with the token as the
//! password, so `http://user:TOKEN@host/` works); over `http.sock` the
//! caller is the daemon's own user and needs none. 401 means no valid token,
//! 403 a valid one that does not open what was asked. A token never reaches
//! a log: only its public id does.
//!
//! Also CORS, off unless `http.cors_origins` names the origin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State as AxumState};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use syncdb_core::folder::Folder;

use super::error::ApiError;
use crate::state::State;
use crate::sync::listener::PendingConn;
use crate::tokens::Grant;

/// How long a checked token is believed without reading the token file
/// again (revoking through the daemon forgets it at once).
const TRUSTED_FOR: Duration = Duration::from_secs(2);
/// Most tokens remembered; beyond, the memory starts afresh.
const MAX_CACHED: usize = 4096;

/// Tokens checked lately, by the SHA-256 of the whole token.
#[derive(Default)]
pub struct TokenCache {
    checked: Mutex<HashMap<[u8; 32], (Grant, Instant)>>,
}

impl TokenCache {
    pub fn clear(&self) {
        self.checked.lock().expect("tokens").clear();
    }

    fn lookup(&self, state: &State, token: &str) -> Result<Option<Grant>, ApiError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some((grant, at)) = self.checked.lock().expect("tokens").get(&digest)
            && at.elapsed() < TRUSTED_FOR
        {
            return Ok(Some(grant.clone()));
        }
        let grant = state
            .sync
            .tokens
            .lookup(token)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let mut checked = self.checked.lock().expect("tokens");
        match &grant {
            Some(g) => {
                if checked.len() >= MAX_CACHED {
                    checked.clear();
                }
                checked.insert(digest, (g.clone(), Instant::now()));
            }
            None => {
                checked.remove(&digest);
            }
        }
        Ok(grant)
    }
}

/// A request arrived on `http.sock`: its peer is the daemon's own user.
#[derive(Clone, Copy)]
pub struct LocalConn;

/// The caller of a request: the local user, or a token's holder.
#[derive(Clone, Debug)]
pub struct Caller {
    /// `None` over `http.sock`.
    pub grant: Option<Grant>,
    /// The request came on the hub's port (`serve --api`).
    pub on_hub: bool,
}

/// A request that came to the HTTP API on the hub's port.
#[derive(Clone, Copy)]
pub struct OnHub;

impl Caller {
    /// The folder `name` (its id, or its directory's name when only one
    /// registered folder has it), if this caller may open it; for `write`,
    /// also if it may write there.
    pub fn folder(&self, state: &State, name: &str, write: bool) -> Result<Folder, ApiError> {
        // A name several folders share means the one this token opens.
        let only = self.grant.as_ref().and_then(|g| g.folder.as_deref());
        let found = find_folder(state, name, only);
        if let Some(grant) = &self.grant {
            // Checked before saying whether it exists: a token for one
            // folder learns nothing of the others.
            let allowed = match (&grant.folder, &found) {
                (None, _) => true,
                (Some(id), Ok(folder)) => *id == folder.settings.id,
                (Some(_), Err(_)) => false,
            };
            if !allowed {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "token {} does not open folder {name}: it opens folder {} only",
                        grant.id,
                        grant.folder.as_deref().unwrap_or("")
                    ),
                ));
            }
            if write && grant.read_only {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "token {} is read-only: nothing was written; create a writing token with `syncdb token create`",
                        grant.id
                    ),
                ));
            }
        }
        let folder = found?;
        if write {
            state
                .resolve_writable(&Some(folder.path.clone()))
                .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.message))?;
        }
        Ok(folder)
    }

    /// Whether this caller may see folder `id` at all (listings).
    pub fn sees(&self, id: &str) -> bool {
        self.grant
            .as_ref()
            .is_none_or(|g| g.folder.as_deref().is_none_or(|f| f == id))
    }

    /// The caller's token is still valid (streams check it on revocation).
    pub fn still_valid(&self, state: &State) -> bool {
        match &self.grant {
            None => true,
            Some(g) => state
                .sync
                .tokens
                .list()
                .map(|ts| ts.iter().any(|t| t.id == g.id))
                .unwrap_or(false),
        }
    }
}

/// The registered folder `name` (an id, or a directory's name), among
/// those with id `only` when given.
fn find_folder(state: &State, name: &str, only: Option<&str>) -> Result<Folder, ApiError> {
    let config = state.config.lock().expect("config");
    let by_id = config.folders.iter().find(|f| f.id == name);
    let entry = match by_id {
        Some(e) => e,
        None => {
            let named: Vec<_> = config
                .folders
                .iter()
                .filter(|f| f.path.file_name().is_some_and(|n| n == name))
                .filter(|f| only.is_none_or(|id| f.id == id))
                .collect();
            match named.as_slice() {
                [one] => *one,
                [] => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!(
                            "no folder {name}: give a folder's id or its directory's name (GET /v1/folders lists them)"
                        ),
                    ));
                }
                many => {
                    let ids: Vec<&str> = many.iter().map(|f| f.id.as_str()).collect();
                    return Err(ApiError::bad_request(format!(
                        "{} folders are named {name}; give one's id: {}",
                        many.len(),
                        ids.join(", ")
                    )));
                }
            }
        }
    };
    let (id, path) = (entry.id.clone(), entry.path.clone());
    drop(config);
    state.open(&id, &path).map_err(ApiError::from)
}

/// The token a request shows, if any: Bearer, or Basic's password.
fn presented(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unreadable Authorization header: send `Bearer TOKEN`, or Basic with the token as the password",
        );
        e.challenge = true;
        e
    };
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, rest) = value.trim().split_once(' ').ok_or_else(bad)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Some(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64_decode(rest).ok_or_else(bad)?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (_, password) = text.split_once(':').ok_or_else(bad)?;
        return Ok(Some(password.to_owned()));
    }
    Err(bad())
}

/// Standard base64 with padding, as HTTP Basic sends it.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    if !text.len().is_multiple_of(4) || text.len() - bytes.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let take = chunk.len() * 6 / 8;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

impl FromRequestParts<Arc<State>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<State>,
    ) -> Result<Self, Self::Rejection> {
        if parts.extensions.get::<LocalConn>().is_some() {
            return Ok(Caller {
                grant: None,
                on_hub: false,
            });
        }
        let unauthorized = |message: &str| {
            let mut e = ApiError::new(StatusCode::UNAUTHORIZED, message);
            e.challenge = true;
            e
        };
        let Some(token) = presented(&parts.headers)? else {
            return Err(unauthorized(
                "this request needs a token: send `Authorization: Bearer TOKEN` (make one with `syncdb token create`)",
            ));
        };
        // Mostly from memory; else one read of a small file.
        let grant = state.http.tokens.lookup(state, &token)?;
        let Some(grant) = grant else {
            return Err(unauthorized("the token is not valid (wrong, or revoked)"));
        };
        // Past the token check: the connection leaves the unauthenticated
        // gate and its deadlines.
        if let Some(pending) = parts.extensions.get::<PendingConn>() {
            pending.0.authenticated();
        }
        Ok(Caller {
            grant: Some(grant),
            on_hub: parts.extensions.get::<OnHub>().is_some(),
        })
    }
}

/// CORS: only for origins `http.cors_origins` names; others get no CORS
/// headers at all, so a browser keeps their pages out.
pub async fn cors(AxumState(state): AxumState<Arc<State>>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let origin_sent = origin.is_some();
    let (cors_on, allowed) = {
        let config = state.config.lock().expect("config");
        let origins = &config.http.cors_origins;
        let allowed = origin.filter(|o| origins.iter().any(|a| a == o || a == "*"));
        (!origins.is_empty(), allowed)
    };
    let Some(origin) = allowed else {
        let mut resp = next.run(req).await;
        // A cache must not hand this answer to an origin that is allowed.
        if origin_sent && cors_on {
            resp.headers_mut()
                .append(header::VARY, HeaderValue::from_static("Origin"));
        }
        return resp;
    };
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut resp = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, PUT, PATCH, POST, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "authorization, content-type, if-match, if-none-match, last-event-id",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("etag, location, x-syncdb-seq"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_passwords_decode() {
        // "user:sdb_ab_cd" and "x:" (empty password).
        assert_eq!(
            base64_decode("dXNlcjpzZGJfYWJfY2Q=").unwrap(),
            b"user:sdb_ab_cd"
        );
        assert_eq!(base64_decode("eDo=").unwrap(), b"x:");
        assert_eq!(base64_decode("").unwrap(), b"");
        for bad in ["eDo", "e!o=", "eD==="] {
            assert!(base64_decode(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_token_is_read_from_bearer_or_basic() {
        let mut h = HeaderMap::new();
        assert!(presented(&h).unwrap().is_none());
        h.insert(header::AUTHORIZATION, "Bearer sdb_a_b".parse().unwrap());
        assert_eq!(presented(&h).unwrap().as_deref(), Some("sdb_a_b"));
        h.insert(
            header::AUTHORIZATION,
            "basic dXNlcjpzZGJfYWJfY2Q=".parse().unwrap(),
        );
        assert_eq!(presented(&h).unwrap().as_deref(), Some("sdb_ab_cd"));
        for bad in ["Digest x", "Bearer", "Basic !!!!"] {
            h.insert(header::AUTHORIZATION, bad.parse().unwrap());
            assert_eq!(presented(&h).unwrap_err().status, StatusCode::UNAUTHORIZED);
        }
    }
}
