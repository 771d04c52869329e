//! Documents over HTTP: folders and databases listed, records read,
//! written, patched, deleted and listed by page, and JSON Lines imported in
//! one transaction. Each calls the IPC handler the command uses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use syncdb_core::doc::DocError;
use syncdb_core::ipc::*;
use syncdb_core::{Key, Name, Version};

use super::auth::Caller;
use super::error::{ApiError, Path};
use crate::ipc::handlers::{self, Cond};
use crate::ipc::import::Import;
use crate::state::State;

type Api = AxumState<Arc<State>>;
/// The query's parameters as given: percent-decoded strictly, so bytes
/// that are not UTF-8 are an error rather than replacement characters (a
/// prefix or a key would silently become another one).
pub struct Params(Result<Vec<(String, String)>, ApiError>);

impl<S: Send + std::marker::Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Params(parse_query(parts.uri.query().unwrap_or(""))))
    }
}

fn parse_query(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let decode = |text: &str| -> Result<String, ApiError> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| {
            ApiError::bad_request(format!(
                "query {text:?} is not UTF-8 once decoded; percent-encode UTF-8 bytes"
            ))
        })
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Most records in one page of a listing, and the default.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;
/// A page of records ends once their documents reach this size (past the
/// first), so a page of large documents stays small; `next` goes on.
pub const PAGE_BYTES: usize = 4 << 20;
/// Lines handed to an import at a time.
const IMPORT_CHUNK: usize = 1024;

/// The query's parameters, refusing any this route does not take.
pub fn query(q: Params, allowed: &[&str]) -> Result<BTreeMap<String, String>, ApiError> {
    Ok(query_repeating(q, allowed, "")?.0)
}

/// As [`query`], with `repeating` (if not empty) allowed more than once:
/// its values, in order, come apart. Any other given twice is refused.
pub fn query_repeating(
    q: Params,
    allowed: &[&str],
    repeating: &str,
) -> Result<(BTreeMap<String, String>, Vec<String>), ApiError> {
    let mut one = BTreeMap::new();
    let mut many = Vec::new();
    for (k, v) in q.0? {
        if !allowed.contains(&k.as_str()) && k != repeating {
            let mut names: Vec<&str> = allowed.to_vec();
            if !repeating.is_empty() {
                names.push(repeating);
            }
            let allowed = match names.as_slice() {
                [] => "this route takes none".to_owned(),
                some => format!("allowed: {}", some.join(", ")),
            };
            return Err(ApiError::bad_request(format!(
                "unknown query parameter {k:?}; {allowed}"
            )));
        }
        if k == repeating {
            many.push(v);
        } else if one.insert(k.clone(), v).is_some() {
            return Err(ApiError::bad_request(format!(
                "query parameter {k:?} is given twice; give it once"
            )));
        }
    }
    Ok((one, many))
}

pub fn flag(q: &BTreeMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("") | Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name}={other:?}: expected true or false"
        ))),
    }
}

pub fn number(q: &BTreeMap<String, String>, name: &str, max: u64) -> Result<Option<u64>, ApiError> {
    let Some(text) = q.get(name) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(n) if n <= max => Ok(Some(n)),
        _ => Err(ApiError::bad_request(format!(
            "{name}={text:?}: expected a whole number from 0 to {max}"
        ))),
    }
}

/// `limit`: how many in a page, from 1 (a page of none would say nothing
/// of what follows).
pub fn page_limit(q: &BTreeMap<String, String>, max: usize) -> Result<Option<usize>, ApiError> {
    match q.get("limit").map(|t| (t, t.parse::<usize>())) {
        None => Ok(None),
        Some((_, Ok(n))) if (1..=max).contains(&n) => Ok(Some(n)),
        Some((text, _)) => Err(ApiError::bad_request(format!(
            "limit={text:?}: expected a whole number from 1 to {max}"
        ))),
    }
}

pub fn name(what: &'static str, s: &str) -> Result<Name, ApiError> {
    Name::parse_as(what, s).map_err(|e| ApiError::bad_request(e.to_string()))
}

pub fn key(s: &str) -> Result<Key, ApiError> {
    Key::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Runs a blocking handler off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// The whole body, at most `limit` bytes, within `http.body_ms`.
pub async fn read_body(
    state: &State,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = |size: String| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body {size}is over {limit} bytes (http.max_body_bytes); nothing was written"
            ),
        )
    };
    if let Some(n) = content_length(headers)
        && n > limit as u64
    {
        return Err(too_large(format!("of {n} bytes ")));
    }
    let wait = Duration::from_millis(state.config.lock().expect("config").http.body_ms);
    match tokio::time::timeout(wait, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) if e.to_string().contains("length limit") => Err(too_large(String::new())),
        Ok(Err(e)) => Err(ApiError::bad_request(format!(
            "reading the request body: {e}"
        ))),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms (http.body_ms); nothing was written",
                wait.as_millis()
            ),
        )),
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Refuses a body that is not of one of `types` (`+json` counts as JSON).
pub fn content_type(headers: &HeaderMap, types: &[&str]) -> Result<(), ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let json_ok = types.contains(&"application/json");
    let fits = given.as_deref().is_some_and(|t| {
        types.contains(&t) || (json_ok && t.starts_with("application/") && t.ends_with("+json"))
    });
    if fits {
        return Ok(());
    }
    let given = given.map_or("none".to_owned(), |t| format!("{t:?}"));
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "Content-Type {given} is not accepted here; send {} (curl: -H 'Content-Type: {}')",
            types.join(" or "),
            types[0]
        ),
    ))
}

/// A document body: JSON, at most `daemon.max_document_bytes`, in a body
/// of at most `http.max_body_bytes`.
async fn doc_body(state: &State, headers: &HeaderMap, body: Body) -> Result<String, ApiError> {
    content_type(headers, &["application/json"])?;
    let (max, body_max) = {
        let c = state.config.lock().expect("config");
        (c.daemon.max_document_bytes, c.http.max_body_bytes)
    };
    let too_large = |size| {
        let e = DocError::TooLarge { size, max };
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
    };
    if let Some(n) = content_length(headers)
        && n > max as u64
    {
        return Err(too_large(n as usize));
    }
    // The body may carry a little whitespace beyond the document.
    let bytes = read_body(state, headers, body, (max + 4096).min(body_max)).await?;
    if bytes.len() > max {
        return Err(too_large(bytes.len()));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request("the document is not UTF-8; JSON text is"))
}

fn etag(version: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a version is ASCII")
}

/// What a write's `If-Match` / `If-None-Match: *` ask of the record.
fn condition(headers: &HeaderMap) -> Result<Option<Cond>, ApiError> {
    if let Some(v) = headers.get(header::IF_NONE_MATCH) {
        return match v.to_str().map(str::trim) {
            Ok("*") => Ok(Some(Cond::Absent)),
            _ => Err(ApiError::bad_request(
                "a write takes If-None-Match: * only (create, unless the record exists)",
            )),
        };
    }
    condition_of(headers, header::IF_MATCH)
}

/// The ETags of `name` (its lines are one list, as RFC 9110 says): `*` is
/// any current record; otherwise the versions listed. `If-Match` compares
/// strongly, so a weak tag (`W/"…"`) matches nothing there (412);
/// `If-None-Match` weakly. A tag that is no version of ours matches nothing.
fn condition_of(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<Cond>, ApiError> {
    let lines: Vec<&str> = headers
        .get_all(&name)
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let joined = lines.join(", ");
    let text = joined.trim();
    if text == "*" {
        return Ok(Some(Cond::Present));
    }
    let weak_matches = name == header::IF_NONE_MATCH;
    let label = if weak_matches {
        "If-None-Match"
    } else {
        "If-Match"
    };
    let mut versions = Vec::new();
    for part in text.split(',').map(str::trim) {
        let (weak, quoted) = match part.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let Some(tag) = quoted.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return Err(ApiError::bad_request(format!(
                "{label} {text:?}: expected *, or ETags in double quotes (comma-separated), as a GET of the record gave"
            )));
        };
        if let (true, Some(v)) = (!weak || weak_matches, Version::parse(tag)) {
            versions.push(v);
        }
    }
    Ok(Some(Cond::Version(versions)))
}

/// A create (POST) that found its key taken: 409, not the 412 of a
/// precondition the client wrote.
fn taken(e: RpcError) -> ApiError {
    let mut err = ApiError::from(e);
    if err.status == StatusCode::PRECONDITION_FAILED {
        err.status = StatusCode::CONFLICT;
    }
    err
}

fn written(status: StatusCode, out: WriteOutput) -> Response {
    let tag = etag(&out.version);
    let mut resp = (status, axum::Json(&out)).into_response();
    resp.headers_mut().insert(header::ETAG, tag);
    resp
}

pub async fn folders(
    AxumState(state): Api,
    caller: Caller,
    q: Params,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let list = crate::ipc::folders::ls(&state)?;
    let folders: Vec<_> = list
        .folders
        .into_iter()
        .filter(|f| caller.sees(&f.id))
        .collect();
    Ok(axum::Json(serde_json::json!({ "folders": folders })).into_response())
}

pub async fn status(
    AxumState(state): Api,
    caller: Caller,
    q: Params,
) -> Result<Response, ApiError> {
    let all = flag(&query(q, &["all"])?, "all")?;
    let s = state.clone();
    let mut out = blocking(move || Ok(handlers::status(&s, StatusParams { all })?)).await?;
    out.folders.retain(|f| caller.sees(&f.id));
    if caller.grant.is_some() {
        // Where the daemon's files are is the local user's business.
        out.daemon.socket = Default::default();
        out.daemon.config = Default::default();
        out.daemon.http_socket = None;
    }
    Ok(axum::Json(out).into_response())
}

pub async fn databases(
    AxumState(state): Api,
    caller: Caller,
    Path(f): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = query(q, &["all"])?;
    let folder = caller.folder(&state, &f, false)?;
    let all = flag(&q, "all")?;
    let p = LsParams {
        folder: Some(folder.path),
        db: None,
        collection: None,
        prefix: String::new(),
        after: None,
        limit: 0,
        max_bytes: None,
        keys_only: false,
        all,
    };
    let s = state.clone();
    let out = blocking(move || Ok(handlers::ls(&s, p)?)).await?;
    Ok(axum::Json(serde_json::json!({ "databases": out.databases })).into_response())
}

pub async fn collections(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db)): Path<(String, String)>,
    q: Params,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let db = name("database", &db)?;
    let folder = caller.folder(&state, &f, false)?;
    let p = LsParams {
        folder: Some(folder.path),
        db: Some(db),
        collection: None,
        prefix: String::new(),
        after: None,
        limit: 0,
        max_bytes: None,
        keys_only: false,
        all: false,
    };
    let s = state.clone();
    let out = blocking(move || Ok(handlers::ls(&s, p)?)).await?;
    Ok(axum::Json(serde_json::json!({ "collections": out.collections })).into_response())
}

pub async fn list(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll)): Path<(String, String, String)>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = query(q, &["prefix", "limit", "after", "keys_only"])?;
    let db = name("database", &db)?;
    let collection = name("collection", &coll)?;
    let folder = caller.folder(&state, &f, false)?;
    let limit = page_limit(&q, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    // An empty `after` is the first page (a loop may start with no `next`).
    let after = q
        .get("after")
        .filter(|a| !a.is_empty())
        .map(|a| key(a))
        .transpose()?;
    let p = LsParams {
        folder: Some(folder.path),
        db: Some(db),
        collection: Some(collection),
        prefix: q.get("prefix").cloned().unwrap_or_default(),
        after,
        limit,
        max_bytes: Some(PAGE_BYTES),
        keys_only: flag(&q, "keys_only")?,
        all: false,
    };
    let s = state.clone();
    let out = blocking(move || Ok(handlers::ls(&s, p)?)).await?;
    let records = out.records.unwrap_or_default();
    // A full page (by count or by size) may have more after it: the next
    // page starts after its last key. A short one is the end.
    let size: usize = records
        .iter()
        .filter_map(|r| r.doc.as_ref())
        .map(|d| d.get().len())
        .sum();
    let next = match records.len() == limit || size >= PAGE_BYTES {
        true => records.last().map(|r| r.key.to_string()),
        false => None,
    };
    // Serialized as they are: a document at the deepest nesting allowed
    // would not go through a `serde_json::Value` (its recursion limit).
    #[derive(serde::Serialize)]
    struct Page {
        records: Vec<syncdb_core::ipc::RecordEntry>,
        next: Option<String>,
    }
    Ok(axum::Json(Page { records, next }).into_response())
}

pub async fn get(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll, k)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let (db, collection, key) = (name("database", &db)?, name("collection", &coll)?, key(&k)?);
    let folder = caller.folder(&state, &f, false)?;
    // The document as stored: JSON by construction, sent without a copy.
    let out = handlers::record(&state, &folder, &db, &collection, &key)?;
    let tag = etag(&out.version.to_string());
    if let Some(Cond::Version(any)) = condition_of(&headers, header::IF_MATCH)?
        && !any.contains(&out.version)
    {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "record {collection}/{key} is at version {} now",
                out.version
            ),
        ));
    }
    // If-None-Match compares weakly: W/"v" and "v" are the same version.
    let unchanged = match condition_of(&headers, header::IF_NONE_MATCH)? {
        Some(Cond::Present) => true,
        Some(Cond::Version(any)) => any.contains(&out.version),
        _ => false,
    };
    if unchanged {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        resp.headers_mut().insert(header::ETAG, tag);
        return Ok(resp);
    }
    let mut resp = Response::new(Body::from(out.doc));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::ETAG, tag);
    h.insert("x-syncdb-seq", HeaderValue::from(out.seq));
    Ok(resp)
}

pub async fn put(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll, k)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    q: Params,
    body: Body,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let (db, collection, key) = (name("database", &db)?, name("collection", &coll)?, key(&k)?);
    let folder = caller.folder(&state, &f, true)?;
    let cond = condition(&headers)?;
    let doc = doc_body(&state, &headers, body).await?;
    let p = PutParams {
        folder: Some(folder.path),
        db,
        collection,
        key: Some(key),
        doc,
    };
    let out = handlers::put_if(&state, p, cond).await?;
    Ok(written(StatusCode::OK, out))
}

pub async fn create(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll)): Path<(String, String, String)>,
    headers: HeaderMap,
    q: Params,
    body: Body,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    if headers.contains_key(header::IF_MATCH) {
        return Err(ApiError::bad_request(
            "a POST creates a record: If-Match does not apply (PUT, PATCH or DELETE …/KEY take it)",
        ));
    }
    let (db, collection) = (name("database", &db)?, name("collection", &coll)?);
    let folder = caller.folder(&state, &f, true)?;
    let doc = doc_body(&state, &headers, body).await?;
    let p = PutParams {
        folder: Some(folder.path),
        db: db.clone(),
        collection: collection.clone(),
        key: None,
        doc,
    };
    // A create never replaces: a key (from the key path) already taken is 409.
    let out = handlers::put_if(&state, p, Some(Cond::Absent))
        .await
        .map_err(taken)?;
    let key = out.key.clone().expect("a put names its key");
    let location = format!(
        "/v1/docs/{f}/{db}/{collection}/{}",
        percent_encode(key.as_str())
    );
    let mut resp = written(StatusCode::CREATED, out);
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// A key as one URL path segment. `.` and `..` are encoded whole: as
/// they are, clients would resolve them away as "this" and "up".
pub fn percent_encode(s: &str) -> String {
    if s == "." || s == ".." {
        return "%2E".repeat(s.len());
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn patch(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll, k)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    q: Params,
    body: Body,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let (db, collection, key) = (name("database", &db)?, name("collection", &coll)?, key(&k)?);
    let folder = caller.folder(&state, &f, true)?;
    let cond = condition(&headers)?;
    let doc = doc_body(&state, &headers, body).await?;
    let p = PatchParams {
        folder: Some(folder.path),
        db,
        collection,
        key,
        doc,
    };
    let out = handlers::patch_if(&state, p, cond).await?;
    Ok(written(StatusCode::OK, out))
}

pub async fn delete(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll, k)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let (db, collection, key) = (name("database", &db)?, name("collection", &coll)?, key(&k)?);
    let folder = caller.folder(&state, &f, true)?;
    let cond = condition(&headers)?;
    let p = RecordParams {
        folder: Some(folder.path),
        db,
        collection,
        key,
    };
    let out = handlers::del_if(&state, p, cond).await?;
    Ok(written(StatusCode::OK, out))
}

/// JSON Lines, as `put --batch` reads them, in one transaction.
pub async fn bulk(
    AxumState(state): Api,
    caller: Caller,
    Path((f, db, coll)): Path<(String, String, String)>,
    headers: HeaderMap,
    q: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let q = query(q, &["format", "key_field", "dry_run"])?;
    let (db, collection) = (name("database", &db)?, name("collection", &coll)?);
    let folder = caller.folder(&state, &f, true)?;
    let format = match q.get("format").map(String::as_str) {
        None | Some("auto") => ImportFormat::Auto,
        Some("docs") => ImportFormat::Docs,
        Some("records") => ImportFormat::Records,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format={other:?}: expected auto, docs or records"
            )));
        }
    };
    content_type(
        &headers,
        &[
            "application/x-ndjson",
            "application/jsonl",
            "application/json-lines",
        ],
    )?;
    let limit = state.config.lock().expect("config").http.max_body_bytes;
    let bytes = read_body(&state, &headers, body, limit).await?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not UTF-8 (byte {}); JSON Lines are",
            e.valid_up_to()
        ))
    })?;
    let begin = ImportBeginParams {
        folder: Some(folder.path),
        db,
        collection: Some(collection),
        format,
        key_field: q.get("key_field").cloned(),
        dry_run: flag(&q, "dry_run")?,
    };
    let (mut import, _) = Import::begin(&state, begin)?;
    let lines: Vec<&str> = text.lines().collect();
    for (i, chunk) in lines.chunks(IMPORT_CHUNK).enumerate() {
        let p = ImportChunkParams {
            first_line: (i * IMPORT_CHUNK) as u64 + 1,
            lines: chunk.iter().map(|l| (*l).to_owned()).collect(),
        };
        if let Err(failure) = import.chunk(p).await {
            return Err(import.fail(&state, failure).await.into());
        }
    }
    let out = import.end(&state).await?;
    Ok(axum::Json(out).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_decoded_strictly() {
        let q: BTreeMap<_, _> =
            parse_query("prefix=a%20b+c&limit=5&flag&after=%E2%82%AC&odd=%zz%4")
                .unwrap()
                .into_iter()
                .collect();
        assert_eq!(q["prefix"], "a b c");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["flag"], "");
        assert_eq!(q["after"], "€");
        assert_eq!(q["odd"], "%zz%4", "a % that starts no escape stays");
        let twice = query(Params(parse_query("limit=1&limit=2")), &["limit"]).unwrap_err();
        assert!(twice.message.contains("twice"), "{}", twice.message);
        let (one, many) = query_repeating(
            Params(parse_query("where=a%3D1&limit=2&where=b+exists")),
            &["limit"],
            "where",
        )
        .unwrap();
        assert_eq!(one["limit"], "2");
        assert_eq!(many, ["a=1", "b exists"]);
        let e = parse_query("prefix=%ff").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
    }

    #[test]
    fn a_key_is_one_segment_that_no_client_resolves_away() {
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
        assert_eq!(percent_encode("v1.2"), "v1.2");
        assert_eq!(percent_encode(".."), "%2E%2E");
        assert_eq!(percent_encode("."), "%2E");
    }
}
