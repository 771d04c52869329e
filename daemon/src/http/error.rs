//! How a failure becomes an HTTP answer: a status that means what HTTP
//! means by it, and `{"error": {"status", "code", "message"}}` whose message
//! is the command's for the same mistake.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use syncdb_core::ipc::{ErrorCode, RpcError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Set on a 401: how to authenticate.
    pub challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            challenge: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A short name for the kind of failure, stable for programs.
    fn code(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PRECONDITION_FAILED => "precondition_failed",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::REQUEST_TIMEOUT => "timeout",
            StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
            StatusCode::INSUFFICIENT_STORAGE => "disk_full",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            StatusCode::BAD_GATEWAY => "remote",
            _ => "internal",
        }
    }
}

impl From<RpcError> for ApiError {
    fn from(e: RpcError) -> Self {
        let status = match e.code {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::BadInput
            | ErrorCode::InvalidParams
            | ErrorCode::ParseError
            | ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Conflict => StatusCode::PRECONDITION_FAILED,
            ErrorCode::Storage if e.message.starts_with("disk full") => {
                StatusCode::INSUFFICIENT_STORAGE
            }
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Remote => StatusCode::BAD_GATEWAY,
            ErrorCode::MethodNotFound | ErrorCode::Internal | ErrorCode::Storage => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "status": self.status.as_u16(),
                "code": self.code(),
                "message": self.message,
            }
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"syncdb\""),
            );
        }
        resp
    }
}

/// A path no route has.
pub async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route {}; the routes are listed at /v1/openapi.json",
            uri.path()
        ),
    )
}

/// A known path asked with a method it does not take.
pub async fn wrong_method(method: axum::http::Method, allow: String) -> Response {
    let message = format!("{method} is not allowed here; allowed: {allow}");
    let mut resp = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message).into_response();
    if let Ok(v) = HeaderValue::from_str(&allow) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}

/// axum's `Path`, its rejections (a segment that is not UTF-8) answered
/// as every other error is, in JSON, instead of axum's plain text.
pub struct Path<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// A handler that panicked answers 500 in JSON; its connection and the
/// daemon go on.
pub async fn catch_panics(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the daemon failed on this request (a bug: its log says where)",
        )
        .into_response(),
    }
}
