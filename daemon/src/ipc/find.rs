//! `find`: the records of a collection that meet every `--where`, in key
//! order or by a field, a page at a time. No index exists yet, so every
//! query reads the whole collection (a page by key stops early); the plan
//! says so.

use serde_json::Value;
use syncdb_core::ipc::{FindOutput, FindParams, FoundRecord, QueryPlan, RpcError};
use syncdb_core::query::{Condition, Cursor, Order};
use syncdb_core::{Key, Version};

use super::errors::{bad_input, replica_error};
use super::handlers::replica;
use crate::state::State;

/// Records read from the store at a time.
const SCAN_PAGE: usize = 1024;

struct Hit {
    key: Key,
    doc: Value,
    text: String,
    version: Version,
}

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

    let mut plan = QueryPlan {
        method: "scan".into(),
        conditions: conditions.iter().map(ToString::to_string).collect(),
        order: match (&order.by, order.desc) {
            (Some(f), false) => format!("{f}, then key"),
            (Some(f), true) => format!("{f} descending, then key"),
            (None, false) => "key".into(),
            (None, true) => "key descending".into(),
        },
        examined: 0,
        matched: 0,
    };
    // By key ascending, the store's own order: read from the cursor on and
    // stop at a full page. Any other order needs every match: keep the
    // best `limit` of them.
    let streams = order.by.is_none() && !order.desc && !p.count;
    let mut after = match (&cursor, streams) {
        (Some(c), true) => Some(c.key.clone()),
        _ => None,
    };
    let mut hits: Vec<Hit> = Vec::new();
    let mut more = false;
    loop {
        let (page, last) = replica
            .reader
            .scan_visible(&p.collection, after.as_ref(), SCAN_PAGE)
            .map_err(|e| replica_error(replica.store_error(e)))?;
        for (key, text, version) in page {
            plan.examined += 1;
            // A document nested deeper than serde_json reads (it accepts
            // what the store accepts but one level) matches nothing.
            let Ok(doc) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if !conditions.iter().all(|c| c.matches(&doc)) {
                continue;
            }
            plan.matched += 1;
            if p.count || cursor.as_ref().is_some_and(|c| !order.after(c, &key, &doc)) {
                continue;
            }
            if streams && hits.len() == p.limit {
                more = true;
                break;
            }
            hits.push(Hit {
                key,
                doc,
                text,
                version,
            });
            if !streams && hits.len() >= 2 * p.limit.max(64) {
                keep_best(&mut hits, &order, p.limit, &mut more);
            }
        }
        // A page by key is done once full; any other order reads on to
        // the end (what is kept so far may yet be displaced).
        match last {
            Some(last) if !(streams && more) => after = Some(last),
            _ => break,
        }
    }
    if !streams {
        keep_best(&mut hits, &order, p.limit, &mut more);
    }
    let next = match (more, hits.last()) {
        (true, Some(h)) => Some(order.cursor(&h.key, &h.doc).encode(&order)),
        _ => None,
    };
    let records = hits
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
        next,
        count: p.count.then_some(plan.matched),
        plan,
    })
}

/// Sorts `hits` by `order` and keeps the first `limit`; `more` when some
/// were left out.
fn keep_best(hits: &mut Vec<Hit>, order: &Order, limit: usize, more: &mut bool) {
    hits.sort_by(|a, b| order.compare((&a.key, &a.doc), (&b.key, &b.doc)));
    if hits.len() > limit {
        hits.truncate(limit);
        *more = true;
    }
}
