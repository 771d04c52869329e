//! `syncdb index …`: a collection's secondary indexes. `create` asks the
//! daemon for the index, then (unless --no-wait) follows its build with a
//! progress bar on a terminal until queries can use it.

use std::time::Duration;

use syncdb_core::Address;
use syncdb_core::index::parse_fields;
use syncdb_core::ipc::{
    IndexCheck, IndexCreate, IndexDrop, IndexInfo, IndexLs, IndexLsParams, IndexParams,
};
use syncdb_core::words::count;

use super::Ctx;
use crate::args::IndexCommand;
use crate::exit::{CliError, Exit, Result};
use crate::output;

pub fn run(ctx: &Ctx, cmd: IndexCommand) -> Result<()> {
    match cmd {
        IndexCommand::Create {
            address,
            fields,
            no_wait,
        } => create(ctx, &address, &fields, no_wait),
        IndexCommand::Drop { address, fields } => drop(ctx, &address, &fields),
        IndexCommand::Ls { address } => ls(ctx, address.as_deref()),
        IndexCommand::Check { address } => check(ctx, address.as_deref()),
    }
}

/// `DB/COLL` and `FIELD[,FIELD…]`, checked here so a bad one is exit 2
/// before the daemon is asked.
fn params(ctx: &Ctx, address: &str, fields: &str) -> Result<IndexParams> {
    let (db, collection, key) = Address::parse_collection(address)?;
    if key.is_some() {
        return Err(CliError::usage(format!(
            "an index is of a collection: give DB/COLL, not a record ({address})"
        )));
    }
    parse_fields(fields).map_err(|e| CliError::usage(format!("index fields: {e}")))?;
    Ok(IndexParams {
        folder: ctx.folder()?,
        db,
        collection,
        fields: fields.to_owned(),
    })
}

fn name(i: &IndexInfo) -> String {
    format!("{}/{}({})", i.db, i.collection, i.fields.join(","))
}

fn create(ctx: &Ctx, address: &str, fields: &str, no_wait: bool) -> Result<()> {
    let p = params(ctx, address, fields)?;
    let mut client = ctx.client()?;
    let mut info = client.call::<IndexCreate>(&p)?;
    let created = info.created;
    if !no_wait && info.state != "ready" {
        let bar = output::progress(&ctx.global, None);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("valid template"),
        );
        let ls = IndexLsParams {
            folder: p.folder.clone(),
            db: Some(p.db.clone()),
            collection: Some(p.collection.clone()),
        };
        loop {
            bar.set_message(format!(
                "building {}: {} of {} read",
                name(&info),
                info.done,
                count(info.records, "record")
            ));
            bar.tick();
            std::thread::sleep(Duration::from_millis(100));
            let now = client.call::<IndexLs>(&ls)?;
            match now.indexes.into_iter().find(|i| i.fields == info.fields) {
                Some(i) => info = i,
                None => {
                    bar.finish_and_clear();
                    return Err(CliError::failed(format!(
                        "index {} was dropped while it was building",
                        name(&info)
                    )));
                }
            }
            if info.state == "ready" {
                break;
            }
        }
        bar.finish_and_clear();
    }
    info.created = created;
    if ctx.global.json {
        return output::json(&info);
    }
    let what = match (created, info.state.as_str()) {
        (false, "ready") => "exists, and is ready",
        (false, _) => "exists, and is building",
        (true, "ready") => "created, and ready",
        (true, _) => "created; building it in the background (`syncdb index ls` shows how far)",
    };
    output::note(&ctx.global, format!("index {} {what}", name(&info)));
    Ok(())
}

fn drop(ctx: &Ctx, address: &str, fields: &str) -> Result<()> {
    let p = params(ctx, address, fields)?;
    let info = ctx.client()?.call::<IndexDrop>(&p)?;
    if ctx.global.json {
        return output::json(&info);
    }
    output::note(&ctx.global, format!("index {} dropped", name(&info)));
    Ok(())
}

/// Nothing, `DB` or `DB/COLL`.
fn scope(ctx: &Ctx, address: Option<&str>) -> Result<IndexLsParams> {
    let (db, collection) = match address {
        None => (None, None),
        Some(a) => {
            let a = Address::parse(a)?;
            if a.key.is_some() {
                return Err(CliError::usage(
                    "give nothing, DB or DB/COLL, not a record".to_owned(),
                ));
            }
            (Some(a.db), a.collection)
        }
    };
    Ok(IndexLsParams {
        folder: ctx.folder()?,
        db,
        collection,
    })
}

fn progress(i: &IndexInfo) -> String {
    match i.state.as_str() {
        "ready" => "ready".into(),
        _ => format!("building ({} of {} read)", i.done, i.records),
    }
}

fn ls(ctx: &Ctx, address: Option<&str>) -> Result<()> {
    let out = ctx.client()?.call::<IndexLs>(&scope(ctx, address)?)?;
    if ctx.global.json {
        return output::json(&out);
    }
    if out.indexes.is_empty() {
        output::note(&ctx.global, "no indexes");
        return Ok(());
    }
    let rows = out
        .indexes
        .iter()
        .map(|i| {
            vec![
                format!("{}/{}", i.db, i.collection),
                i.fields.join(","),
                progress(i),
                i.records.to_string(),
                i.declared.map_or("-".into(), |v| format!("schema v{v}")),
            ]
        })
        .collect();
    output::table(
        &["COLLECTION", "FIELDS", "STATE", "RECORDS", "DECLARED"],
        rows,
    )
}

fn check(ctx: &Ctx, address: Option<&str>) -> Result<()> {
    let out = ctx.client()?.call::<IndexCheck>(&scope(ctx, address)?)?;
    let bad = out
        .indexes
        .iter()
        .filter(|c| !c.problems.is_empty())
        .count();
    if ctx.global.json {
        output::json(&out)?;
    } else {
        for c in &out.indexes {
            let verdict = match c.problems.is_empty() {
                true => "ok".to_owned(),
                false => c.problems.join("; "),
            };
            output::line(format!(
                "{}: {} {}, {}: {verdict}",
                name(&c.index),
                syncdb_core::words::thousands(c.entries),
                if c.entries == 1 { "entry" } else { "entries" },
                progress(&c.index)
            ))?;
        }
        if out.indexes.is_empty() {
            output::note(&ctx.global, "no indexes");
        }
    }
    match bad {
        0 => Ok(()),
        n => Err(CliError::new(
            Exit::Error,
            match n {
                1 => "1 index is out of step with its records; drop it and create it again"
                    .to_owned(),
                n => format!(
                    "{n} indexes are out of step with their records; drop them and create them again"
                ),
            },
        )),
    }
}
