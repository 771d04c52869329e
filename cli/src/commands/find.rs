//! `syncdb find`: records by their fields. The conditions are read here
//! first, so a bad one is refused (exit 2) before the daemon is asked.

use syncdb_core::Address;
use syncdb_core::ipc::{Find, FindParams};
use syncdb_core::query::{Condition, Cursor, Order};
use syncdb_core::words::plural;

use super::Ctx;
use crate::exit::{CliError, Result};
use crate::output;

/// What the command line asked.
pub struct Asked {
    pub conditions: Vec<String>,
    pub order_by: Option<String>,
    pub desc: bool,
    pub limit: usize,
    pub cursor: Option<String>,
    pub count: bool,
    pub explain: bool,
}

pub fn run(ctx: &Ctx, address: &str, a: Asked) -> Result<()> {
    let (db, collection, key) = Address::parse_collection(address)?;
    if key.is_some() {
        return Err(CliError::usage(format!(
            "find takes DB/COLL, not a record ({address}); use `syncdb get {address}`"
        )));
    }
    Condition::parse_all(&a.conditions).map_err(CliError::usage)?;
    let order = Order::parse(a.order_by.as_deref(), a.desc).map_err(CliError::usage)?;
    if let Some(c) = &a.cursor {
        Cursor::decode(c, &order).map_err(CliError::usage)?;
    }
    let params = FindParams {
        folder: ctx.folder()?,
        db,
        collection,
        conditions: a.conditions,
        order_by: a.order_by,
        desc: a.desc,
        limit: a.limit,
        cursor: a.cursor,
        count: a.count,
    };
    let out = ctx.client()?.call::<Find>(&params)?;
    let json = ctx.global.json;
    if a.explain {
        if json {
            let mut v = serde_json::json!({ "plan": out.plan });
            if let Some(n) = out.count {
                v["count"] = n.into();
            }
            return output::json(&v);
        }
        if let Some(n) = out.count {
            output::line(format!("count: {n}"))?;
        }
        let p = &out.plan;
        let plan = match &p.index {
            None => "scan (read the whole collection)".to_owned(),
            Some(i) => {
                let how = match (p.ordered, p.residual) {
                    (true, 0) => "read in the query's order, deciding every condition".to_owned(),
                    (true, n) => format!(
                        "read in the query's order; {n} condition(s) checked on each record"
                    ),
                    (false, 0) => "deciding every condition; the matches sorted after".to_owned(),
                    (false, n) => {
                        format!("{n} condition(s) checked on each record; the matches sorted after")
                    }
                };
                format!("index {i}, {how}")
            }
        };
        output::line(format!("plan: {plan}"))?;
        output::line(format!(
            "read: {} {}, {} matched",
            p.examined,
            plural(p.examined, "record"),
            p.matched
        ))?;
        output::line(format!(
            "where: {}",
            match p.conditions.is_empty() {
                true => "(every record)".to_owned(),
                false => p.conditions.join(" and "),
            }
        ))?;
        output::line(format!("order: {}", p.order))?;
        if !p.building.is_empty() {
            output::line(format!(
                "not used yet (still building): {}",
                p.building.join("; ")
            ))?;
        }
        return Ok(());
    }
    if let Some(n) = out.count {
        return match json {
            true => output::json(&serde_json::json!({ "count": n })),
            false => output::line(n),
        };
    }
    if json {
        // Written as stored (a `json!` value would read every document
        // as a float-bound value, and `1e400` is not one).
        #[derive(serde::Serialize)]
        struct Page<'a> {
            records: &'a [syncdb_core::ipc::FoundRecord],
            next: &'a Option<String>,
        }
        return output::json(&Page {
            records: &out.records,
            next: &out.next,
        });
    }
    for r in &out.records {
        output::line(format!("{}\t{}", r.key, r.doc.get()))?;
    }
    output::flush()?;
    if let Some(next) = out.next {
        output::note(&ctx.global, format!("more: --cursor {next}"));
    }
    Ok(())
}
