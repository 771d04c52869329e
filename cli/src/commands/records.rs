//! `syncdb get | patch | del | drop`: one record or one scope at a time.

use syncdb_core::Address;
use syncdb_core::ipc::{
    Del, DropCheck, DropParams, DropScope, Get, Patch, PatchParams, RecordParams,
};

use super::{Ctx, confirm, read_input};
use crate::exit::{CliError, Result};
use crate::output;

fn record_params(ctx: &Ctx, address: &str) -> Result<RecordParams> {
    let (db, collection, key) = Address::parse_record(address)?;
    Ok(RecordParams {
        folder: ctx.folder()?,
        db,
        collection,
        key,
    })
}

pub fn get(ctx: &Ctx, address: &str) -> Result<()> {
    let params = record_params(ctx, address)?;
    let out = ctx.client()?.call::<Get>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    output::line(out.doc.get())
}

pub fn patch(ctx: &Ctx, address: &str, input: Option<&str>) -> Result<()> {
    let (db, collection, key) = Address::parse_record(address)?;
    let doc = read_input(&ctx.global, input)?;
    let params = PatchParams {
        folder: ctx.folder()?,
        db,
        collection,
        key,
        doc,
    };
    let out = ctx.client()?.call::<Patch>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    output::note(&ctx.global, format!("patched {address}"));
    Ok(())
}

pub fn del(ctx: &Ctx, address: &str) -> Result<()> {
    let params = record_params(ctx, address)?;
    let out = ctx.client()?.call::<Del>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    output::note(&ctx.global, format!("deleted {address}"));
    Ok(())
}

pub fn drop(ctx: &Ctx, address: &str, yes: bool) -> Result<()> {
    let parsed = Address::parse(address)?;
    if parsed.key.is_some() {
        return Err(CliError::usage(format!(
            "drop takes DB or DB/COLL, not a record ({address}); use `syncdb del` for one record"
        )));
    }
    let params = DropParams {
        folder: ctx.folder()?,
        db: parsed.db,
        collection: parsed.collection,
    };
    let mut client = ctx.client()?;
    // A drop reaches every replica and cannot be undone: one that removes
    // records is confirmed by a person, or asked for with --yes.
    if !yes {
        let n = client.call::<DropCheck>(&params)?.records;
        if n > 0 {
            let what = match &params.collection {
                Some(_) => "collection",
                None => "database",
            };
            confirm(&format!(
                "drop {what} {address} ({}) here and on every machine the folder syncs with",
                syncdb_core::words::count(n, "record")
            ))?;
        }
    }
    let out = client.call::<DropScope>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    output::note(&ctx.global, format!("dropped {address}"));
    Ok(())
}
