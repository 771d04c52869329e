//! `find`: the records of a collection that meet every `--where`, in key
//! order or by a field, a page at a time; `Reader::find` plans and runs it.

use syncdb_core::find::Query;
use syncdb_core::ipc::{FindOutput, FindParams, FoundRecord, QueryPlan, RpcError};
use syncdb_core::query::{Condition, Cursor, Order};

use super::errors::{bad_input, replica_error};
use super::handlers::replica;
use crate::state::State;

/// Blocking: reads the collection. Run it off the async workers.
pub fn find(state: &State, p: FindParams) -> Result<FindOutput, RpcError> {
    if p.limit == 0 {
        return Err(bad_input("limit: at least 1 record a page"));
    }
    let conditions = Condition::parse_all(&p.conditions).map_err(bad_input)?;
    let order = Order::parse(p.order_by.as_deref(), p.desc).map_err(bad_input)?;
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c, &order))
        .transpose()
        .map_err(bad_input)?;
    let folder = state.resolve(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    let query = Query {
        conditions,
        order,
        limit: p.limit,
        cursor,
        count: p.count,
    };
    let found = replica
        .reader
        .find(&p.collection, &query)
        .map_err(|e| replica_error(replica.store_error(e)))?;
    let order = &query.order;
    let plan = QueryPlan {
        method: if found.plan.index.is_some() {
            "index"
        } else {
            "scan"
        }
        .into(),
        index: found.plan.index.as_ref().map(|i| format!("{}/{i}", p.db)),
        ordered: found.plan.ordered,
        residual: found.plan.residual as u64,
        building: found.plan.building.clone(),
        conditions: query.conditions.iter().map(ToString::to_string).collect(),
        order: match (&order.by, order.desc) {
            (Some(f), false) => format!("{f}, then key"),
            (Some(f), true) => format!("{f} descending, then key"),
            (None, false) => "key".into(),
            (None, true) => "key descending".into(),
        },
        examined: found.plan.examined,
        matched: found.plan.matched,
    };
    let records = found
        .hits
        .into_iter()
        .map(|h| {
            Ok(FoundRecord {
                doc: serde_json::value::RawValue::from_string(h.text).map_err(|e| {
                    RpcError::new(syncdb_core::ipc::ErrorCode::Storage, e.to_string())
                })?,
                key: h.key,
                version: h.version.to_string(),
            })
        })
        .collect::<Result<_, RpcError>>()?;
    Ok(FindOutput {
        records,
        next: found.next.map(|c| c.encode(order)),
        count: found.count,
        plan,
    })
}
