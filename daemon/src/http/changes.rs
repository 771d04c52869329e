//! The change feed over HTTP: the events `watch` prints, for a folder, a
//! database, a collection or a key, from a cursor. As one JSON page, a long
//! poll that waits for the first event, Server-Sent Events (each `id` is the
//! cursor after that event, so `Last-Event-ID` resumes with no gap and no
//! duplicate) or JSON Lines.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use syncdb_core::ipc::Event;

use super::auth::Caller;
use super::docs::{Params, blocking, key, name, number, page_limit, query_repeating};
use super::error::{ApiError, Path};
use crate::feed::{Feed, Scope, Since};
use crate::live::Source;
use crate::state::State;

type Api = AxumState<Arc<State>>;

const DEFAULT_PAGE: usize = 1000;
const MAX_PAGE: usize = 10_000;
const DEFAULT_WAIT_MS: u64 = 30_000;
const MAX_WAIT_MS: u64 = 300_000;
const DEFAULT_HEARTBEAT_MS: u64 = 15_000;
/// Events a stream takes from the feed at a time.
const STREAM_BATCH: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Page,
    LongPoll,
    Sse,
    Lines,
}

const QUERY: &[&str] = &["since", "feed", "limit", "timeout", "heartbeat"];

pub async fn folder(
    state: Api,
    caller: Caller,
    Path(f): Path<String>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    changes(state, caller, f, Scope::default(), headers, q).await
}

pub async fn database(
    state: Api,
    caller: Caller,
    Path((f, db)): Path<(String, String)>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let scope = Scope {
        db: Some(name("database", &db)?),
        ..Scope::default()
    };
    changes(state, caller, f, scope, headers, q).await
}

pub async fn collection(
    state: Api,
    caller: Caller,
    Path((f, db, coll)): Path<(String, String, String)>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let scope = Scope {
        db: Some(name("database", &db)?),
        collection: Some(name("collection", &coll)?),
        key: None,
    };
    changes(state, caller, f, scope, headers, q).await
}

pub async fn record(
    state: Api,
    caller: Caller,
    Path((f, db, coll, k)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let scope = Scope {
        db: Some(name("database", &db)?),
        collection: Some(name("collection", &coll)?),
        key: Some(key(&k)?),
    };
    changes(state, caller, f, scope, headers, q).await
}

async fn changes(
    AxumState(state): Api,
    caller: Caller,
    f: String,
    scope: Scope,
    headers: HeaderMap,
    q: Params,
) -> Result<Response, ApiError> {
    let (q, conditions) = query_repeating(q, QUERY, "where")?;
    let folder = caller.folder(&state, &f, false)?;
    let wants_sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let mode = match q.get("feed").map(String::as_str) {
        None if wants_sse => Mode::Sse,
        None | Some("normal") => Mode::Page,
        Some("longpoll") => Mode::LongPoll,
        Some("sse") | Some("eventsource") => Mode::Sse,
        Some("jsonl") | Some("continuous") => Mode::Lines,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "feed={other:?}: expected normal, longpoll, sse or jsonl"
            )));
        }
    };
    // An event stream resumes after the last event it got.
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|_| mode == Mode::Sse)
        .map(str::to_owned);
    let since = match resume.as_deref().or(q.get("since").map(String::as_str)) {
        Some("now") => Since::Now,
        None => Since::Seqs(BTreeMap::new()),
        Some(text) => Since::parse(text, scope.db.as_ref())?,
    };
    let limit = page_limit(&q, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    let ms = |name: &str, default: u64| {
        number(&q, name, MAX_WAIT_MS)
            .map_err(|mut e| {
                e.message.push_str(" (milliseconds)");
                e
            })
            .map(|n| Duration::from_millis(n.unwrap_or(default)))
    };
    let wait = ms("timeout", DEFAULT_WAIT_MS)?;
    let heartbeat = ms("heartbeat", DEFAULT_HEARTBEAT_MS)?.max(Duration::from_millis(100));
    if !conditions.is_empty() {
        // A live query: the collection's result now, then how it changes.
        let (Some(db), Some(collection), None) = (scope.db, scope.collection, &scope.key) else {
            return Err(ApiError::bad_request(
                "where makes a live query of one collection: /v1/changes/F/DB/COLL",
            ));
        };
        if !matches!(mode, Mode::Sse | Mode::Lines) || resume.is_some() || q.contains_key("since") {
            return Err(ApiError::bad_request(
                "a live query (where) streams from its current result: feed=sse or jsonl, no since, no Last-Event-ID",
            ));
        }
        let source = Source::live(&state, folder, db, collection, conditions).await?;
        return Ok(stream(state, caller, source, mode, heartbeat));
    }
    let s = state.clone();
    let feed = blocking(move || Ok(Feed::open(&s, folder, scope, since)?)).await?;
    match mode {
        Mode::Page | Mode::LongPoll => {
            let (mut feed, mut events) = blocking(move || {
                let mut feed = feed;
                let events = feed.backlog(limit)?;
                Ok((feed, events))
            })
            .await?;
            if events.is_empty() && mode == Mode::LongPoll {
                tokio::select! {
                    got = feed.next(limit) => events = got?,
                    _ = tokio::time::sleep(wait) => {}
                    _ = state.stopped() => {}
                }
            }
            // Serialized as they are: a document at the deepest nesting
            // allowed would not go through a `serde_json::Value`.
            #[derive(serde::Serialize)]
            struct Page {
                events: Vec<syncdb_core::ipc::Event>,
                cursor: String,
            }
            let cursor = feed.cursor();
            Ok(axum::Json(Page { events, cursor }).into_response())
        }
        Mode::Sse | Mode::Lines => Ok(stream(
            state,
            caller,
            Source::Feed(Box::new(feed)),
            mode,
            heartbeat,
        )),
    }
}

/// A stream's feed, and what ends it besides its client going away.
struct Stream {
    state: Arc<State>,
    caller: Caller,
    source: Source,
    mode: Mode,
    heartbeat: Duration,
    epoch: tokio::sync::watch::Receiver<u64>,
    revocations: tokio::sync::watch::Receiver<u64>,
    done: bool,
}

fn stream(
    state: Arc<State>,
    caller: Caller,
    source: Source,
    mode: Mode,
    heartbeat: Duration,
) -> Response {
    let st = Stream {
        // What ends when its listener stops serving the API.
        epoch: match caller.on_hub {
            true => state.sync.api_epoch.subscribe(),
            false => state.http.epoch.subscribe(),
        },
        revocations: state.sync.revocations.subscribe(),
        state,
        caller,
        source,
        mode,
        heartbeat,
        done: false,
    };
    // A first chunk at once, so the client knows the stream is open.
    let first = match mode {
        Mode::Sse => Bytes::from_static(b": syncdb change feed\n\n"),
        _ => Bytes::from_static(b"\n"),
    };
    let body = futures_util::stream::unfold((st, Some(first)), |(mut st, first)| async move {
        if let Some(first) = first {
            return Some((Ok::<_, std::io::Error>(first), (st, None)));
        }
        if st.done {
            return None;
        }
        let chunk = st.next_chunk().await;
        Some((Ok(chunk), (st, None)))
    });
    let mut resp = Response::new(Body::from_stream(body));
    let h = resp.headers_mut();
    let ct = match mode {
        Mode::Sse => "text/event-stream",
        _ => "application/x-ndjson",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies that buffer would hold events back.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

impl Stream {
    /// The next bytes to send: events, a heartbeat, or the last words.
    async fn next_chunk(&mut self) -> Bytes {
        let marked = self.mode == Mode::Sse;
        tokio::select! {
            got = self.source.next_marked(STREAM_BATCH, marked) => match got {
                Ok(events) => self.encode(&events),
                Err(e) => self.end(&e.message),
            },
            _ = tokio::time::sleep(self.heartbeat) => match self.mode {
                Mode::Sse => Bytes::from_static(b": keep-alive\n\n"),
                _ => Bytes::from_static(b"\n"),
            },
            _ = self.epoch.changed() => self.end("the HTTP API stopped serving"),
            _ = self.revocations.changed() => {
                if self.caller.still_valid(&self.state) {
                    Bytes::new()
                } else {
                    self.end("the token was revoked")
                }
            }
            _ = self.state.stopped() => self.end("the daemon is shutting down"),
        }
    }

    fn end(&mut self, why: &str) -> Bytes {
        self.done = true;
        match self.mode {
            Mode::Sse => {
                let data = serde_json::json!({ "reason": why });
                Bytes::from(format!("event: end\ndata: {data}\n\n"))
            }
            _ => Bytes::new(),
        }
    }

    fn encode(&self, events: &[(Event, String)]) -> Bytes {
        let mut out = Vec::with_capacity(events.len() * 256);
        for (event, cursor) in events {
            let json = serde_json::to_string(event).expect("events serialize");
            // A live query's events have no cursor: it starts again from
            // its current result.
            if self.mode == Mode::Sse && cursor.is_empty() {
                out.extend_from_slice(format!("data: {json}\n\n").as_bytes());
            } else if self.mode == Mode::Sse {
                out.extend_from_slice(format!("id: {cursor}\ndata: {json}\n\n").as_bytes());
            } else {
                out.extend_from_slice(json.as_bytes());
                out.push(b'\n');
            }
        }
        Bytes::from(out)
    }
}
