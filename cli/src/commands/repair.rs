//! `syncdb repair DB`: move a damaged database file aside and get the
//! database back from the folder's remotes, or say that there are none.

use syncdb_core::Name;
use syncdb_core::ipc::{Repair, RepairParams};

use super::Ctx;
use crate::exit::Result;
use crate::output;

pub fn run(ctx: &Ctx, db: &str) -> Result<()> {
    let db = Name::parse_as("database", db)?;
    let params = RepairParams {
        folder: ctx.folder()?,
        db,
    };
    let out = ctx.client()?.call::<Repair>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    for (from, to) in &out.moved {
        output::line(format!(
            "moved {} aside to {}",
            from.display(),
            to.display()
        ))?;
    }
    let kept = out.moved.first().map(|(_, to)| to.display().to_string());
    if out.remotes.is_empty() {
        output::line(format!(
            "this folder has no remote: {} starts empty, and its old data is only in {} (and on replicas that sync from this daemon, which send theirs back when they connect)",
            out.db,
            kept.unwrap_or_default()
        ))
    } else {
        output::line(format!(
            "pulling {} again from {}; `syncdb sync --once` returns once it is here",
            out.db,
            out.remotes.join(", ")
        ))
    }
}
