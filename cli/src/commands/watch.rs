//! `syncdb watch`: JSON Lines of changes as they commit, until interrupted.

use serde::Deserialize;
use serde_json::value::RawValue;
use syncdb_core::Address;
use syncdb_core::ipc::{Watch, WatchParams};

use super::Ctx;
use crate::exit::{CliError, Result};
use crate::output;

#[derive(Deserialize)]
struct Note<'a> {
    #[serde(borrow)]
    event: &'a RawValue,
}

pub fn run(ctx: &Ctx, address: Option<&str>, since: Option<u64>) -> Result<()> {
    let parsed = address.map(Address::parse).transpose()?;
    let (db, collection, key) = match parsed {
        Some(a) => (Some(a.db), a.collection, a.key),
        None => (None, None, None),
    };
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
