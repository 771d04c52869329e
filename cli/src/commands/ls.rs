//! `syncdb ls`: databases, collections, or records (paged from the daemon so
//! a large collection streams instead of piling up in memory).
//! With `--json`: one JSON object per line.

use syncdb_core::ipc::{Ls, LsParams};
use syncdb_core::words::plural;
use syncdb_core::{Address, Key};

use super::Ctx;
use crate::exit::Result;
use crate::output;

const PAGE: usize = 1000;

pub fn run(
    ctx: &Ctx,
    address: Option<&str>,
    prefix: &str,
    limit: Option<usize>,
    keys_only: bool,
    all: bool,
) -> Result<()> {
    let parsed = address.map(Address::parse).transpose()?;
    let (db, collection) = match parsed {
        Some(a) if a.key.is_some() => {
            return Err(crate::exit::CliError::usage(format!(
                "ls takes nothing, DB or DB/COLL, not a record; use `syncdb get {a}`"
            )));
        }
        Some(a) => (Some(a.db), a.collection),
        None => (None, None),
    };
    let folder = ctx.folder()?;
    let mut client = ctx.client()?;
    let mut params = LsParams {
        folder,
        db,
        collection,
        prefix: prefix.to_owned(),
        after: None,
        limit: PAGE,
        max_bytes: None,
        keys_only,
        all,
    };
    let mut remaining = limit.unwrap_or(usize::MAX);
    loop {
        params.limit = remaining.min(PAGE);
        if params.limit == 0 {
            return output::flush();
        }
        let out = client.call::<Ls>(&params)?;
        if let Some(dbs) = out.databases {
            for d in dbs {
                if ctx.global.json {
                    output::json(&d)?;
                } else if let Some(err) = &d.error {
                    output::line(format!("{:<24} {:<7} error: {err}", d.name, d.engine))?;
                } else if d.dropped {
                    output::line(format!(
                        "{:<24} {:<7} dropped  seq {:<10} {}",
                        d.name,
                        d.engine,
                        d.seq,
                        output::human_bytes(d.bytes)
                    ))?;
                } else {
                    output::line(format!(
                        "{:<24} {:<7} {:>10} {:<7}  seq {:<10} {}",
                        d.name,
                        d.engine,
                        d.records,
                        plural(d.records, "record"),
                        d.seq,
                        output::human_bytes(d.bytes)
                    ))?;
                }
            }
            return output::flush();
        }
        if let Some(colls) = out.collections {
            for c in colls {
                if ctx.global.json {
                    output::json(&c)?;
                } else {
                    output::line(format!(
                        "{:<24} {:>10} {}",
                        c.name,
                        c.records,
                        plural(c.records, "record")
                    ))?;
                }
            }
            return output::flush();
        }
        let records = out.records.unwrap_or_default();
        let got = records.len();
        let mut last: Option<Key> = None;
        for r in records {
            if ctx.global.json {
                output::json(&r)?;
            } else if let Some(doc) = &r.doc {
                output::line(format!("{}\t{}", r.key, doc.get()))?;
            } else {
                output::line(&r.key)?;
            }
            last = Some(r.key);
        }
        remaining -= got;
        if got < params.limit {
            return output::flush();
        }
        params.after = last;
    }
}
