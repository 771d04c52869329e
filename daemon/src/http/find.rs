//! Queries over HTTP: `GET /v1/find/F/DB/COLL?where=…`, answered as
//! `syncdb find --json` is (the same conditions, order, pages and plan).

use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::response::{IntoResponse, Response};
use syncdb_core::ipc::FindParams;

use super::auth::Caller;
use super::docs::{Params, blocking, flag, name, page_limit, query_repeating};
use super::error::{ApiError, Path};
use crate::state::State;

/// Most records in a page, and the default.
const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

pub async fn find(
    AxumState(state): AxumState<Arc<State>>,
    caller: Caller,
    Path((f, db, coll)): Path<(String, String, String)>,
    q: Params,
) -> Result<Response, ApiError> {
    let allowed = ["order_by", "desc", "limit", "cursor", "count"];
    let (q, conditions) = query_repeating(q, &allowed, "where")?;
    let p = FindParams {
        db: name("database", &db)?,
        collection: name("collection", &coll)?,
        folder: Some(caller.folder(&state, &f, false)?.path),
        conditions,
        order_by: q.get("order_by").cloned(),
        desc: flag(&q, "desc")?,
        limit: page_limit(&q, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE),
        cursor: q.get("cursor").filter(|c| !c.is_empty()).cloned(),
        count: flag(&q, "count")?,
    };
    let out = blocking(move || Ok(crate::ipc::find::find(&state, p)?)).await?;
    Ok(axum::Json(out).into_response())
}
