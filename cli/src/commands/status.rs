//! `syncdb status`: the daemon, its folders, their databases and counts.

use syncdb_core::ipc::{Status, StatusParams};

use syncdb_core::words::{count, plural};

use super::Ctx;
use crate::exit::Result;
use crate::output;

pub fn run(ctx: &Ctx, all: bool) -> Result<()> {
    let status = ctx.client()?.call::<Status>(&StatusParams { all })?;
    if ctx.global.json {
        return output::json(&status);
    }
    let d = &status.daemon;
    output::line(format!(
        "daemon   running, pid {}, version {}, up {}s",
        d.pid, d.version, d.uptime_secs
    ))?;
    output::line(format!("socket   {}", d.socket.display()))?;
    output::line(format!("config   {}", d.config.display()))?;
    if let Some(addr) = &d.serving {
        output::line(format!(
            "serving  {addr}, {}",
            count(
                u64::try_from(d.peers_connected).unwrap_or(0),
                "sync connection"
            )
        ))?;
    } else if let Some(problem) = d.serve.as_ref().and_then(|s| s.problem()) {
        output::line(format!("{problem}; retrying"))?;
    }
    if status.folders.is_empty() {
        output::line("no folders registered; create one with `syncdb init DIR`")?;
    }
    for f in &status.folders {
        let what = match f.engine {
            _ if f.missing => "missing".to_owned(),
            Some(engine) => format!("engine {engine}"),
            None => "unreadable".to_owned(),
        };
        output::line(format!(
            "\nfolder   {}  {}  ({what})",
            f.id,
            f.path.display(),
        ))?;
        if let Some(err) = &f.error {
            output::line(format!("  error: {err}"))?;
        }
        for r in &f.remotes {
            let state = super::remote::describe(r, false);
            let last = r
                .last_sync_ms
                .map(|ms| {
                    format!(
                        ", last sync {}s ago",
                        syncdb_core::version::wall_clock_ms().saturating_sub(ms) / 1000
                    )
                })
                .unwrap_or_default();
            let via = r
                .via
                .as_ref()
                .map_or(String::new(), |h| format!(" (via {h})"));
            output::line(format!("  remote {} {}{via}: {state}{last}", r.name, r.url))?;
        }
        for db in &f.databases {
            if let Some(err) = &db.error {
                output::line(format!("  {:<22} {:<7} error: {err}", db.name, db.engine))?;
                continue;
            }
            if db.dropped {
                output::line(format!("  {:<22} {:<7} dropped", db.name, db.engine))?;
                continue;
            }
            let schema = db
                .schema
                .as_ref()
                .map(|s| format!("  schema v{}", s.version))
                .unwrap_or_default();
            output::line(format!(
                "  {:<22} {:<7} {:>10} {:<7}  seq {:<10} {}{schema}",
                db.name,
                db.engine,
                db.records,
                plural(db.records, "record"),
                db.seq,
                output::human_bytes(db.bytes)
            ))?;
            if db.violations > 0 {
                output::line(format!(
                    "    {} {} the schema (`syncdb schema check {} --data`)",
                    count(db.violations, "record"),
                    if db.violations == 1 {
                        "breaks"
                    } else {
                        "break"
                    },
                    db.name
                ))?;
            }
            if let Some(why) = &db.schema_error {
                output::line(format!("    schema cannot be read here: {why}"))?;
            }
            for why in &db.stopped {
                output::line(format!("    not syncing with {why}"))?;
            }
            if db.horizon > 0 {
                output::line(format!(
                    "    history kept after {}",
                    syncdb_core::words::utc(db.horizon)
                ))?;
            }
            for r in &db.replicas {
                output::line(format!(
                    "    replica {} {}, last seen {}",
                    r.site,
                    r.state,
                    syncdb_core::words::utc(r.last_seen_ms)
                ))?;
            }
        }
    }
    Ok(())
}
