//! Every route of the API, once: the router is built from this table and
//! the OpenAPI document is written from it.

use std::sync::Arc;

use axum::routing::{self, MethodRouter};

use super::{changes, docs, find, kv, openapi, page};
use crate::state::State;

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Query parameters: name and what it does.
    pub query: &'static [(&'static str, &'static str)],
    /// The request body's media type, if it takes one.
    pub body: Option<&'static str>,
    /// Statuses it answers with, and when.
    pub responses: &'static [(u16, &'static str)],
    /// Whether it needs a token over TCP.
    pub token: bool,
    pub handler: fn() -> MethodRouter<Arc<State>>,
}

const READ: &[(u16, &str)] = &[
    (200, "found"),
    (400, "a bad name, key or query parameter"),
    (401, "no valid token"),
    (403, "the token does not open this folder"),
    (404, "no such folder, database or record"),
];
const WRITE: &[(u16, &str)] = &[
    (200, "written (durably)"),
    (
        400,
        "a bad name, key or document, or one the schema refuses: nothing written",
    ),
    (401, "no valid token"),
    (
        403,
        "a read-only token or replica, or another folder: nothing written",
    ),
    (404, "no such record (patch, delete)"),
    (409, "create: the key is taken"),
    (
        412,
        "If-Match no longer matches the record's ETag: nothing written",
    ),
    (413, "the document is over daemon.max_document_bytes"),
    (415, "the body is not application/json"),
];
const CHANGES_QUERY: &[(&str, &str)] = &[
    (
        "since",
        "cursor to start after: a seq for one database, DB:SEQ,... for a folder, or `now`; default: the beginning",
    ),
    (
        "feed",
        "normal (one page), longpoll (waits for the first event), sse, or jsonl; `Accept: text/event-stream` picks sse",
    ),
    (
        "limit",
        "most events in a page (normal, longpoll); default 1000, at most 10000",
    ),
    ("timeout", "longest a long poll waits, ms; default 30000"),
    (
        "heartbeat",
        "ms between keep-alive lines of a stream; default 15000",
    ),
    (
        "where",
        "a collection's stream only: a live query, its current result then how it changes (each event has result enter, change or leave); FIELD OP VALUE as /v1/find takes it, repeatable",
    ),
];
const CHANGES: &[(u16, &str)] = &[
    (200, "events, and the cursor to resume from"),
    (400, "a bad cursor or parameter"),
    (401, "no valid token"),
    (403, "the token does not open this folder"),
    (404, "no such folder or database"),
];

const KV: &[(u16, &str)] = &[
    (200, "as nkvd answers"),
    (
        400,
        "as nkvd: MISSING_KEY_PARAM, EMPTY_KEY, MAXIMUM_KEY_LENGTH_REACHED, MISSING_VALUE_PARAM, MAXIMUM_VALUE_LENGTH_REACHED",
    ),
    (401, "no valid token"),
    (
        403,
        "the token does not open this folder, or is read-only (writes)",
    ),
    (
        404,
        "as nkvd: MISSING_RECORD, or a path nkvd has no handler for",
    ),
];
const KEY: &[(&str, &str)] = &[("k", "the key: 1 to 63 UTF-16 units")];
const KEY_VALUE: &[(&str, &str)] = &[
    ("k", "the key: 1 to 63 UTF-16 units"),
    ("v", "the value: up to 255 UTF-16 units"),
];

macro_rules! kv {
    ($path:literal, $handler:path, $summary:literal, $query:expr) => {
        Route {
            method: "ANY",
            path: $path,
            summary: $summary,
            query: $query,
            body: None,
            responses: KV,
            token: true,
            handler: || routing::any($handler),
        }
    };
}

macro_rules! route {
    ($method:literal, $fn:ident, $path:literal, $handler:path, $summary:literal, $query:expr, $body:expr, $responses:expr) => {
        Route {
            method: $method,
            path: $path,
            summary: $summary,
            query: $query,
            body: $body,
            responses: $responses,
            token: true,
            handler: || routing::$fn($handler),
        }
    };
}

pub static ROUTES: &[Route] = &[
    route!(
        "GET",
        get,
        "/v1/folders",
        docs::folders,
        "The folders this caller may open.",
        &[],
        None,
        READ
    ),
    route!(
        "GET",
        get,
        "/v1/status",
        docs::status,
        "What `syncdb status --json` says, for the folders this caller may open.",
        &[("all", "also list dropped databases")],
        None,
        READ
    ),
    route!(
        "GET",
        get,
        "/v1/docs/{folder}",
        docs::databases,
        "The folder's databases (id, or directory name).",
        &[("all", "also list dropped databases")],
        None,
        READ
    ),
    route!(
        "GET",
        get,
        "/v1/docs/{folder}/{db}",
        docs::collections,
        "The database's collections and their record counts.",
        &[],
        None,
        READ
    ),
    route!(
        "GET",
        get,
        "/v1/docs/{folder}/{db}/{collection}",
        docs::list,
        "A page of the collection's records in key order.",
        &[
            ("prefix", "only keys that start with this"),
            ("limit", "most records, default 100, at most 1000"),
            (
                "after",
                "start after this key: the `next` of the page before"
            ),
            ("keys_only", "keys without documents")
        ],
        None,
        READ
    ),
    route!(
        "POST",
        post,
        "/v1/docs/{folder}/{db}/{collection}",
        docs::create,
        "Creates a record: its key from the key path (`_id`, or the schema's), else a new UUIDv7. 201 with Location.",
        &[],
        Some("application/json"),
        WRITE
    ),
    route!(
        "GET",
        get,
        "/v1/docs/{folder}/{db}/{collection}/{key}",
        docs::get,
        "The record's document; ETag is its version (If-None-Match gives 304).",
        &[],
        None,
        READ
    ),
    route!(
        "PUT",
        put,
        "/v1/docs/{folder}/{db}/{collection}/{key}",
        docs::put,
        "Writes the whole document; If-Match makes it conditional, If-None-Match: * only creates.",
        &[],
        Some("application/json"),
        WRITE
    ),
    route!(
        "PATCH",
        patch,
        "/v1/docs/{folder}/{db}/{collection}/{key}",
        docs::patch,
        "Sets the fields given (null removes one), on the merged record; If-Match as for PUT.",
        &[],
        Some("application/json"),
        WRITE
    ),
    route!(
        "DELETE",
        delete,
        "/v1/docs/{folder}/{db}/{collection}/{key}",
        docs::delete,
        "Deletes the record (a tombstone that syncs); If-Match as for PUT.",
        &[],
        None,
        WRITE
    ),
    route!(
        "POST",
        post,
        "/v1/bulk/{folder}/{db}/{collection}",
        docs::bulk,
        "Imports JSON Lines as `put --batch` does, in one transaction: one bad line writes nothing.",
        &[
            ("format", "auto, docs or records (as `ls --json` prints)"),
            ("key_field", "the field that holds each key"),
            ("dry_run", "check and count, write nothing")
        ],
        Some("application/x-ndjson"),
        WRITE
    ),
    route!(
        "GET",
        get,
        "/v1/find/{folder}/{db}/{collection}",
        find::find,
        "The collection's records that meet every `where`, as `syncdb find` finds them: {records: [{key, doc, version}], next, count?, plan}.",
        &[
            (
                "where",
                "a condition FIELD OP VALUE (OP: = != < <= > >= in prefix exists; VALUE JSON); repeat it: all must hold"
            ),
            (
                "order_by",
                "a field to sort by, then by key; default: by key"
            ),
            ("desc", "largest first"),
            ("limit", "most records, default 100, at most 1000"),
            ("cursor", "the `next` of the page before"),
            ("count", "only count the matches")
        ],
        None,
        READ
    ),
    route!(
        "GET",
        get,
        "/v1/changes/{folder}",
        changes::folder,
        "The folder's change feed.",
        CHANGES_QUERY,
        None,
        CHANGES
    ),
    route!(
        "GET",
        get,
        "/v1/changes/{folder}/{db}",
        changes::database,
        "A database's change feed.",
        CHANGES_QUERY,
        None,
        CHANGES
    ),
    route!(
        "GET",
        get,
        "/v1/changes/{folder}/{db}/{collection}",
        changes::collection,
        "A collection's change feed.",
        CHANGES_QUERY,
        None,
        CHANGES
    ),
    route!(
        "GET",
        get,
        "/v1/changes/{folder}/{db}/{collection}/{key}",
        changes::record,
        "One record's change feed.",
        CHANGES_QUERY,
        None,
        CHANGES
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/set",
        kv::set,
        "nkvd: sets k to v (a record {\"v\": v}).",
        KEY_VALUE
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/get",
        kv::get,
        "nkvd: the value of k, as a JSON string.",
        KEY
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/rm",
        kv::rm,
        "nkvd: removes k.",
        KEY
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/is",
        kv::is,
        "nkvd: whether k exists.",
        KEY
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/clear",
        kv::clear,
        "nkvd: removes every record (drops the collection).",
        &[]
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/getKeys",
        kv::get_keys,
        "nkvd: every key.",
        &[]
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/getValues",
        kv::get_values,
        "nkvd: every value.",
        &[]
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/getAll",
        kv::get_all,
        "nkvd: every record as {k, v}.",
        &[]
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/healthcheck",
        kv::healthcheck,
        "nkvd: {\"status\": \"ok\"}.",
        &[]
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/status",
        kv::status,
        "nkvd: version, hostname, port, limits and record count.",
        &[]
    ),
    kv!(
        "/kv/{folder}/{db}/{collection}/{*rest}",
        kv::unknown,
        "nkvd: any other path is 404 No register handler.",
        &[]
    ),
    Route {
        method: "GET",
        path: "/",
        summary: "The status page: folders, databases, remotes, the live change feed, browsing; it logs in with a token.",
        query: &[],
        body: None,
        responses: &[(200, "the page (HTML)")],
        token: false,
        handler: || routing::get(page::page),
    },
    Route {
        method: "GET",
        path: "/v1/openapi.json",
        summary: "This document.",
        query: &[],
        body: None,
        responses: &[(200, "the OpenAPI 3.1 document")],
        token: false,
        handler: || routing::get(openapi::document),
    },
];
