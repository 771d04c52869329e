//! A key-value surface that behaves as nkvd's HTTP API does, under a base
//! URL per database and collection (`/kv/FOLDER/DB/COLL`), so a client or
//! test suite written for nkvd works with only its base URL changed.
//!
//! nkvd's contract, as its source has it (packages/database/src/db/http/
//! and src/net/http.ts): any method; query parameters parsed as Node's
//! `querystring` does (`+` is a space, a repeated parameter is a list);
//! `k` is checked for being there, then empty, then 64 UTF-16 units or more,
//! then `v` for being there, then 256 units or more; answers are JSON with
//! `Content-Type: text/json`, errors `{"error": CODE}` with 400 or 404.
//!
//! A value is an ordinary record `{"v": VALUE}` under key `k`, synced like
//! any other. Keys this store does not allow (`/`, control characters) are
//! kept with those bytes (and `%`) percent-encoded, and given back decoded.

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use syncdb_core::db::WriteOp;
use syncdb_core::ipc::{PutParams, RecordParams};
use syncdb_core::{Key, Name};

use super::auth::Caller;
use super::docs::{blocking, name};
use super::error::{ApiError, Path};
use crate::ipc::handlers;
use crate::state::State;

/// nkvd's limits (nkv-database.ts), in UTF-16 code units as JS counts.
pub const MAX_KEY_LENGTH: usize = 64;
pub const MAX_VALUE_LENGTH: usize = 256;
/// What nkvd's `status` says its version is.
const NKVD_VERSION: &str = "0.0.1";

type Api = AxumState<Arc<State>>;
type Base = Path<(String, String, String)>;

/// An nkvd answer: its status and JSON, as `text/json`.
struct Nkvd(StatusCode, Value);

impl IntoResponse for Nkvd {
    fn into_response(self) -> Response {
        let mut resp = (self.0, self.1.to_string()).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/json"));
        resp
    }
}

fn fail(status: StatusCode, code: &str) -> Nkvd {
    Nkvd(status, json!({ "error": code }))
}

/// A query parameter as Node's `querystring` gives it: one string, or a
/// list when repeated.
enum Param {
    One(String),
    Many(Vec<String>),
}

impl Param {
    /// JS `.length`: UTF-16 units of a string, elements of a list.
    fn length(&self) -> usize {
        match self {
            Param::One(s) => s.encode_utf16().count(),
            Param::Many(v) => v.len(),
        }
    }

    /// JS `String(x)`: a list joins with commas.
    fn text(&self) -> String {
        match self {
            Param::One(s) => s.clone(),
            Param::Many(v) => v.join(","),
        }
    }
}

/// Node's `querystring.unescape` after `+` to space: a `%XX` that is not
/// hex stays as it is; bytes that are not UTF-8 become U+FFFD.
fn unescape(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param(query: &Option<String>, want: &str) -> Option<Param> {
    let mut found: Vec<String> = Vec::new();
    for piece in query.as_deref().unwrap_or("").split('&') {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        if unescape(k) == want {
            found.push(unescape(v));
        }
    }
    match found.len() {
        0 => None,
        1 => found.pop().map(Param::One),
        _ => Some(Param::Many(found)),
    }
}

/// nkvd's `validateKey`.
fn valid_key(query: &Option<String>) -> Result<String, Nkvd> {
    let Some(k) = param(query, "k") else {
        return Err(fail(StatusCode::BAD_REQUEST, "MISSING_KEY_PARAM"));
    };
    if k.length() == 0 {
        return Err(fail(StatusCode::BAD_REQUEST, "EMPTY_KEY"));
    }
    if k.length() >= MAX_KEY_LENGTH {
        return Err(fail(StatusCode::BAD_REQUEST, "MAXIMUM_KEY_LENGTH_REACHED"));
    }
    Ok(k.text())
}

/// nkvd's `validateValue`.
fn valid_value(query: &Option<String>) -> Result<String, Nkvd> {
    let Some(v) = param(query, "v") else {
        return Err(fail(StatusCode::BAD_REQUEST, "MISSING_VALUE_PARAM"));
    };
    if v.length() >= MAX_VALUE_LENGTH {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "MAXIMUM_VALUE_LENGTH_REACHED",
        ));
    }
    Ok(v.text())
}

/// nkvd's keys as record keys: `%`, `/` and control characters encoded.
fn store_key(k: &str) -> Key {
    let mut out = String::with_capacity(k.len());
    for c in k.chars() {
        if c == '%' || c == '/' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    Key::parse(&out).expect("an encoded nkvd key is a valid key")
}

fn nkvd_key(k: &Key) -> String {
    percent_decode(k.as_str())
}

/// A record's nkvd value: its `v` if that is a string, else its JSON.
fn value_of(doc: &str) -> String {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(m)) if m.len() == 1 && m.get("v").is_some_and(Value::is_string) => {
            m["v"].as_str().unwrap_or_default().to_owned()
        }
        _ => doc.to_owned(),
    }
}

struct Target {
    folder: std::path::PathBuf,
    db: Name,
    collection: Name,
}

fn target(state: &State, caller: &Caller, base: Base, write: bool) -> Result<Target, ApiError> {
    let Path((f, db, coll)) = base;
    Ok(Target {
        db: name("database", &db)?,
        collection: name("collection", &coll)?,
        folder: caller.folder(state, &f, write)?.path,
    })
}

/// Every record of the collection, as (nkvd key, value), in key order.
async fn all(state: &Arc<State>, t: Target) -> Result<Vec<(String, String)>, ApiError> {
    let s = state.clone();
    blocking(move || {
        let folder = s.resolve(&Some(t.folder))?;
        let Some(replica) = s.replicas.get(&folder, &t.db, false).map_err(replica_err)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut after: Option<Key> = None;
        loop {
            let page = replica
                .reader
                .list(&t.collection, "", after.as_ref(), 1024)
                .map_err(|e| replica_err(replica.store_error(e)))?;
            let full = page.len() == 1024;
            after = page.last().map(|(k, _)| k.clone());
            out.extend(
                page.into_iter()
                    .map(|(k, doc)| (nkvd_key(&k), value_of(&doc))),
            );
            if !full {
                return Ok(out);
            }
        }
    })
    .await
}

fn replica_err(e: crate::replicas::ReplicaError) -> ApiError {
    crate::ipc::errors::replica_error(e).into()
}

/// Whether the record exists; a missing database holds none.
fn exists(state: &State, t: &Target, key: &Key) -> Result<Option<String>, ApiError> {
    let p = RecordParams {
        folder: Some(t.folder.clone()),
        db: t.db.clone(),
        collection: t.collection.clone(),
        key: key.clone(),
    };
    match handlers::get(state, p) {
        Ok(r) => Ok(Some(r.doc.get().to_owned())),
        Err(e) if e.code == syncdb_core::ipc::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn set(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, true)?;
    let (k, v) = match valid_key(&q).and_then(|k| valid_value(&q).map(|v| (k, v))) {
        Ok(kv) => kv,
        Err(e) => return Ok(e.into_response()),
    };
    let p = PutParams {
        folder: Some(t.folder),
        db: t.db,
        collection: t.collection,
        key: Some(store_key(&k)),
        doc: json!({ "v": v }).to_string(),
    };
    handlers::put(&state, p).await?;
    Ok(Nkvd(StatusCode::OK, json!({ "success": true })).into_response())
}

pub async fn get(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, false)?;
    let k = match valid_key(&q) {
        Ok(k) => k,
        Err(e) => return Ok(e.into_response()),
    };
    Ok(match exists(&state, &t, &store_key(&k))? {
        Some(doc) => Nkvd(StatusCode::OK, Value::String(value_of(&doc))),
        None => fail(StatusCode::NOT_FOUND, "MISSING_RECORD"),
    }
    .into_response())
}

pub async fn is(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, false)?;
    let k = match valid_key(&q) {
        Ok(k) => k,
        Err(e) => return Ok(e.into_response()),
    };
    Ok(match exists(&state, &t, &store_key(&k))? {
        Some(_) => Nkvd(StatusCode::OK, json!({ "success": true })),
        None => fail(StatusCode::NOT_FOUND, "MISSING_RECORD"),
    }
    .into_response())
}

pub async fn rm(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, true)?;
    let k = match valid_key(&q) {
        Ok(k) => k,
        Err(e) => return Ok(e.into_response()),
    };
    let key = store_key(&k);
    if exists(&state, &t, &key)?.is_none() {
        return Ok(fail(StatusCode::NOT_FOUND, "MISSING_RECORD").into_response());
    }
    let p = RecordParams {
        folder: Some(t.folder),
        db: t.db,
        collection: t.collection,
        key,
    };
    match handlers::del(&state, p).await {
        // Deleted meanwhile: nkvd answers success once it saw the record.
        Ok(_) => {}
        Err(e) if e.code == syncdb_core::ipc::ErrorCode::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Nkvd(StatusCode::OK, json!({ "success": true })).into_response())
}

pub async fn clear(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, true)?;
    let folder = state.resolve(&Some(t.folder))?;
    if let Some(replica) = state
        .replicas
        .get(&folder, &t.db, false)
        .map_err(replica_err)?
    {
        let has = replica
            .reader
            .collections()
            .map_err(|e| replica_store(&replica, e))?
            .iter()
            .any(|(c, _)| *c == t.collection);
        // A drop marker reaches every replica: none for nothing to clear.
        if has {
            let op = WriteOp::DropCollection {
                collection: t.collection,
            };
            replica.write(vec![op]).await.map_err(replica_err)?;
        }
    }
    Ok(Nkvd(StatusCode::OK, json!({ "success": true })).into_response())
}

fn replica_store(r: &crate::replicas::Replica, e: syncdb_core::store::StoreError) -> ApiError {
    replica_err(r.store_error(e))
}

pub async fn get_keys(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, false)?;
    let keys: Vec<String> = all(&state, t).await?.into_iter().map(|(k, _)| k).collect();
    Ok(Nkvd(StatusCode::OK, json!(keys)).into_response())
}

pub async fn get_values(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, false)?;
    let values: Vec<String> = all(&state, t).await?.into_iter().map(|(_, v)| v).collect();
    Ok(Nkvd(StatusCode::OK, json!(values)).into_response())
}

pub async fn get_all(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, false)?;
    let records: Vec<Value> = all(&state, t)
        .await?
        .into_iter()
        .map(|(k, v)| json!({ "k": k, "v": v }))
        .collect();
    Ok(Nkvd(StatusCode::OK, Value::Array(records)).into_response())
}

pub async fn healthcheck(caller: Caller) -> Response {
    let _ = caller;
    Nkvd(StatusCode::OK, json!({ "status": "ok" })).into_response()
}

pub async fn status(
    AxumState(state): Api,
    caller: Caller,
    base: Base,
) -> Result<Response, ApiError> {
    let t = target(&state, &caller, base, false)?;
    let port = state.http.serving_addr().map_or(0, |a| a.port());
    let records = all(&state, t).await?.len();
    Ok(Nkvd(
        StatusCode::OK,
        json!({
            "version": NKVD_VERSION,
            "hostname": hostname(),
            "port": port,
            "maxKeyLength": MAX_KEY_LENGTH,
            "maxValueLength": MAX_VALUE_LENGTH,
            "availableRecords": records,
        }),
    )
    .into_response())
}

/// Any other path under the base URL: nkvd's 404.
pub async fn unknown(
    caller: Caller,
    Path((_, _, _, rest)): Path<(String, String, String, String)>,
) -> Response {
    let _ = caller;
    fail(
        StatusCode::NOT_FOUND,
        &format!("No register handler for [/{rest}]"),
    )
    .into_response()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn parameters_read_as_node_querystring_does() {
        assert_eq!(param(&q("k=a+b%20c"), "k").unwrap().text(), "a b c");
        let many = param(&q("k=x&k=y"), "k").unwrap();
        assert_eq!((many.length(), many.text()), (2, "x,y".to_owned()));
        assert_eq!(param(&q("k"), "k").unwrap().text(), "");
        assert_eq!(param(&q("%zz=1&k=%"), "k").unwrap().text(), "%");
        assert!(param(&None, "k").is_none());
        // JS counts UTF-16 units: an emoji is two.
        assert_eq!(Param::One("😀".into()).length(), 2);
    }

    #[test]
    fn keys_are_checked_in_nkvds_order() {
        let code = |query: &str| match valid_key(&q(query)).and_then(|_| valid_value(&q(query))) {
            Ok(_) => "ok".to_owned(),
            Err(Nkvd(_, v)) => v["error"].as_str().unwrap().to_owned(),
        };
        assert_eq!(code("v=1"), "MISSING_KEY_PARAM");
        assert_eq!(code("k=&v=1"), "EMPTY_KEY");
        assert_eq!(
            code(&format!("k={}&v=1", "a".repeat(64))),
            "MAXIMUM_KEY_LENGTH_REACHED"
        );
        assert_eq!(
            code(&format!("k={}", "a".repeat(63))),
            "MISSING_VALUE_PARAM"
        );
        assert_eq!(
            code(&format!("k=a&v={}", "a".repeat(256))),
            "MAXIMUM_VALUE_LENGTH_REACHED"
        );
        assert_eq!(code(&format!("k=a&v={}", "a".repeat(255))), "ok");
        assert_eq!(code("k=a&v="), "ok");
    }

    #[test]
    fn any_nkvd_key_round_trips_through_a_record_key() {
        for k in ["plain", "a/b", "100%", "tab\there", "%2F", "ünï"] {
            assert_eq!(nkvd_key(&store_key(k)), k);
        }
        assert_eq!(store_key("plain").as_str(), "plain");
    }
}
