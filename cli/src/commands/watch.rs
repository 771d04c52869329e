//! `syncdb watch`: JSON Lines of changes as they commit (or of a live
//! query's result as it changes), until interrupted.

use serde::Deserialize;
use serde_json::value::RawValue;
use syncdb_core::Address;
use syncdb_core::ipc::{Watch, WatchParams};
use syncdb_core::query::Condition;

use super::Ctx;
use crate::exit::{CliError, Result};
use crate::output;

#[derive(Deserialize)]
struct Note<'a> {
    #[serde(borrow)]
    event: &'a RawValue,
}

pub fn run(
    ctx: &Ctx,
    address: Option<&str>,
    since: Option<u64>,
    conditions: Vec<String>,
) -> Result<()> {
    let parsed = address.map(Address::parse).transpose()?;
    let (db, collection, key) = match parsed {
        Some(a) => (Some(a.db), a.collection, a.key),
        None => (None, None, None),
    };
    if !conditions.is_empty() && (collection.is_none() || key.is_some()) {
        return Err(CliError::usage(
            "a live query (--where) watches one collection: syncdb watch DB/COLL --where COND",
        ));
    }
    Condition::parse_all(&conditions).map_err(CliError::usage)?;
    if since.is_some() && db.is_none() {
        return Err(CliError::usage(
            "--since needs a database (syncdb watch DB --since SEQ): seqs are numbered per database",
        ));
    }
    let params = WatchParams {
        folder: ctx.folder()?,
        db,
        collection,
        key,
        since,
        conditions,
    };
    let end = ctx.client()?.stream::<Watch>(&params, |note| {
        let note: Note = serde_json::from_str(note.get())
            .map_err(|e| CliError::failed(format!("unreadable event from the daemon: {e}")))?;
        output::line(note.event.get())?;
        output::flush()
    })?;
    Err(CliError::unreachable(format!(
        "watch ended: {}",
        end.reason
    )))
}
