//! `syncdb cleanup`, `replica ls | rm` and `compact`: a database's history
//! and its file's space (the daemon's `ipc/history.rs`).

use syncdb_core::Name;
use syncdb_core::ipc::{
    Cleanup, Compact, DbScopeParams, Empty, ReplicaLs, ReplicaRm, ReplicaRmParams,
};
use syncdb_core::words::{count, utc};

use super::Ctx;
use crate::args::ReplicaCommand;
use crate::exit::Result;
use crate::output;

fn scope(ctx: &Ctx, db: Option<&str>) -> Result<DbScopeParams> {
    Ok(DbScopeParams {
        folder: ctx.folder()?,
        db: db.map(|d| Name::parse_as("database", d)).transpose()?,
    })
}

fn horizon(ms: u64) -> String {
    match ms {
        0 => "none yet".into(),
        ms => utc(ms),
    }
}

pub fn cleanup(ctx: &Ctx, db: Option<&str>) -> Result<()> {
    let p = scope(ctx, db)?;
    let bar = output::spinner(&ctx.global, "cleaning up".into());
    let out = ctx.client()?.call::<Cleanup>(&p);
    bar.finish_and_clear();
    let out = out?;
    if ctx.global.json {
        return output::json(&out);
    }
    for d in &out.databases {
        let whose = if d.follows_hub { " (the hub's)" } else { "" };
        let mut line = format!(
            "{}: horizon {}{whose}; forgot {} ({} in all), in {} ms",
            d.db,
            horizon(d.horizon),
            count(d.removed, "tombstone"),
            d.removed_total,
            d.ms
        );
        if !d.retired.is_empty() {
            line.push_str(&format!("; retired {}", d.retired.join(", ")));
        }
        output::line(line)?;
    }
    output::flush()
}

pub fn replica(ctx: &Ctx, cmd: ReplicaCommand) -> Result<()> {
    match cmd {
        ReplicaCommand::Ls { db } => {
            let out = ctx
                .client()?
                .call::<ReplicaLs>(&scope(ctx, db.as_deref())?)?;
            if ctx.global.json {
                return output::json(&out);
            }
            for d in &out.databases {
                let whose = if d.follows_hub { " (the hub's)" } else { "" };
                output::line(format!(
                    "{}: replica {} here, horizon {}{whose}",
                    d.db,
                    d.site,
                    horizon(d.horizon)
                ))?;
                for r in &d.replicas {
                    output::line(format!(
                        "  {}  {:<7}  last seen {}  applied our feed through seq {}",
                        r.site,
                        r.state,
                        utc(r.last_seen_ms),
                        r.acked
                    ))?;
                }
            }
            output::flush()
        }
        ReplicaCommand::Rm { db, site } => {
            let p = ReplicaRmParams {
                folder: ctx.folder()?,
                db: Name::parse_as("database", &db)?,
                site,
            };
            let _: Empty = ctx.client()?.call::<ReplicaRm>(&p)?;
            if ctx.global.json {
                return output::json(&Empty {});
            }
            output::note(
                &ctx.global,
                format!(
                    "replica {} of {} retired: it no longer holds cleanup back, and rebuilds if it comes back after one",
                    p.site, p.db
                ),
            );
            Ok(())
        }
    }
}

pub fn compact(ctx: &Ctx, db: Option<&str>) -> Result<()> {
    let p = scope(ctx, db)?;
    let bar = output::spinner(&ctx.global, "compacting".into());
    let out = ctx.client()?.call::<Compact>(&p);
    bar.finish_and_clear();
    let out = out?;
    if ctx.global.json {
        return output::json(&out);
    }
    for d in &out.databases {
        output::line(format!(
            "{}: {} -> {} in {} ms",
            d.db,
            output::human_bytes(d.bytes_before),
            output::human_bytes(d.bytes_after),
            d.ms
        ))?;
    }
    output::flush()
}
