//! `syncdb reset DB`: discard this replica of a database and pull it again.
//! A sync runs first so local writes reach a remote; the daemon counts
//! what none has acknowledged and refuses unless `--force`; a sync after
//! the reset returns once the database is here again.

use syncdb_core::Name;
use syncdb_core::ipc::{Reset, ResetParams};

use super::Ctx;
use crate::exit::Result;
use crate::output;

pub fn run(ctx: &Ctx, db: &str, force: bool, timeout: u64) -> Result<()> {
    let db = Name::parse_as("database", db)?;
    let folder = ctx.folder()?;
    // Best effort: a remote that cannot be reached leaves writes unpushed,
    // which the daemon counts and reports below.
    let pushed = super::sync::once_quietly(ctx, timeout);
    if let Err(e) = &pushed {
        output::note(&ctx.global, format!("could not sync first: {}", e.message));
    }
    let params = ResetParams {
        folder,
        db,
        force,
        timeout_secs: timeout,
    };
    let out = ctx.client()?.call::<Reset>(&params)?;
    super::sync::once_quietly(ctx, timeout).map_err(|e| {
        crate::exit::CliError::new(
            e.exit,
            format!(
                "reset {}, but pulling it again has not finished: {}; it is pulled once the remote can be reached",
                out.db, e.message
            ),
        )
    })?;
    if ctx.global.json {
        return output::json(&out);
    }
    let lost = match out.discarded {
        0 => String::new(),
        n => format!(
            "; discarded {} made here",
            syncdb_core::words::count(n, "write")
        ),
    };
    output::line(format!(
        "reset {}: pulled it again from {}{lost}",
        out.db,
        out.remotes.join(", ")
    ))
}
