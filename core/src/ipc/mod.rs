//! The local protocol between the `syncdb` command and the daemon: JSON-RPC
//! 2.0, one message per line, over a Unix socket (a named pipe on Windows).
//!
//! Streams (`watch`) are notifications tagged with the request's id, ended by
//! exactly one final response. The first call on a connection is `hello`, so
//! either side can tell an older peer from a newer one. Every message type is
//! declared here once; the command and the daemon share them.

pub mod framing;
pub mod methods;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

pub use framing::{LineBuffer, LineTooLong};
pub use methods::*;

/// Bumped when a method changes incompatibly. A command that meets a daemon
/// with another IPC version restarts it (or says why it cannot).
pub const IPC_VERSION: u32 = 1;

/// JSON-RPC error codes: the standard ones, then syncdb's (−32000…−32099).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "i64", try_from = "i64")]
pub enum ErrorCode {
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    Internal,
    /// The record, database or folder does not exist.
    NotFound,
    /// The input was refused (bad JSON, bad name, too large): nothing written.
    BadInput,
    /// The daemon could not write (disk full, read-only, I/O error): nothing written.
    Storage,
    /// Too many connections, or the daemon is shutting down.
    Unavailable,
    /// A remote could not be reached, or refused us.
    Remote,
    /// A conditional write found the record changed (or present where it
    /// was to be absent): nothing written.
    Conflict,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::ParseError,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams,
        ErrorCode::Internal,
        ErrorCode::NotFound,
        ErrorCode::BadInput,
        ErrorCode::Storage,
        ErrorCode::Unavailable,
        ErrorCode::Remote,
        ErrorCode::Conflict,
    ];

    pub fn code(self) -> i64 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::Internal => -32603,
            ErrorCode::NotFound => -32001,
            ErrorCode::BadInput => -32002,
            ErrorCode::Storage => -32003,
            ErrorCode::Unavailable => -32004,
            ErrorCode::Remote => -32005,
            ErrorCode::Conflict => -32006,
        }
    }
}

impl From<ErrorCode> for i64 {
    fn from(c: ErrorCode) -> i64 {
        c.code()
    }
}

impl TryFrom<i64> for ErrorCode {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.code() == n)
            .ok_or_else(|| format!("unknown error code {n}"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl RpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }
}

/// A request as the daemon reads it; `params` is decoded per method.
#[derive(Debug, Deserialize)]
pub struct Request {
    pub jsonrpc: String,
    /// Echoed exactly in the response (number, string or null).
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Option<Box<RawValue>>,
}

/// Any message the command reads: a response (has `id`, no `method`) or a
/// stream notification (has `method`).
#[derive(Debug, Deserialize)]
pub struct Incoming {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub params: Option<Box<RawValue>>,
    #[serde(default)]
    pub result: Option<Box<RawValue>>,
    #[serde(default)]
    pub error: Option<RpcError>,
}

/// Serializes a request line (with the trailing newline).
pub fn request_line<P: Serialize>(id: u64, method: &str, params: &P) -> Vec<u8> {
    #[derive(Serialize)]
    struct Out<'a, P> {
        jsonrpc: &'static str,
        id: u64,
        method: &'a str,
        params: &'a P,
    }
    line(&Out {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
}

/// Serializes a success or error response line.
pub fn response_line<R: Serialize>(id: &Value, outcome: Result<R, RpcError>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Out<'a, R> {
        jsonrpc: &'static str,
        id: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<R>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<RpcError>,
    }
    let (result, error) = match outcome {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    line(&Out {
        jsonrpc: "2.0",
        id,
        result,
        error,
    })
}

/// Serializes a stream notification tagged with the request id.
pub fn notification_line<P: Serialize>(method: &str, request: &Value, params: &P) -> Vec<u8> {
    #[derive(Serialize)]
    struct Params<'a, P> {
        request: &'a Value,
        #[serde(flatten)]
        inner: &'a P,
    }
    #[derive(Serialize)]
    struct Out<'a, P> {
        jsonrpc: &'static str,
        method: &'a str,
        params: Params<'a, P>,
    }
    line(&Out {
        jsonrpc: "2.0",
        method,
        params: Params {
            request,
            inner: params,
        },
    })
}

fn line<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(msg).expect("IPC messages serialize");
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_pinned() {
        let req = request_line(7, "get", &serde_json::json!({"db": "crm"}));
        assert_eq!(
            std::str::from_utf8(&req).unwrap(),
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"get\",\"params\":{\"db\":\"crm\"}}\n"
        );
        let err = response_line::<()>(
            &Value::from("a"),
            Err(RpcError::new(ErrorCode::NotFound, "no")),
        );
        assert_eq!(
            std::str::from_utf8(&err).unwrap(),
            "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-32001,\"message\":\"no\"}}\n"
        );
        let n = notification_line(
            "watch.event",
            &Value::from(3),
            &serde_json::json!({"seq": 1}),
        );
        assert_eq!(
            std::str::from_utf8(&n).unwrap(),
            "{\"jsonrpc\":\"2.0\",\"method\":\"watch.event\",\"params\":{\"request\":3,\"seq\":1}}\n"
        );
    }

    #[test]
    fn unknown_error_codes_do_not_parse() {
        assert!(serde_json::from_str::<RpcError>(r#"{"code":5,"message":"x"}"#).is_err());
    }
}
