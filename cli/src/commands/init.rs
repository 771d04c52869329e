//! `syncdb init [DIR] [--engine E]`: make a folder and register it.

use std::path::PathBuf;

use syncdb_core::EngineKind;
use syncdb_core::ipc::{Init, InitParams};

use super::Ctx;
use crate::exit::{CliError, Result};
use crate::output;

pub fn run(ctx: &Ctx, dir: Option<PathBuf>, engine: Option<EngineKind>) -> Result<()> {
    let dir = match dir {
        Some(d) => d,
        None => std::env::current_dir()
            .map_err(|e| CliError::failed(format!("cannot read the working directory: {e}")))?,
    };
    // Connect (starting the daemon) first: a folder inside a SYNCDB_HOME
    // that does not exist yet (the quick start) then finds the home made
    // private by syncdb, not made 0755 as a parent of the folder.
    let mut client = ctx.client()?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", dir.display())))?;
    let path = std::fs::canonicalize(&dir)
        .map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
    let info = client.call::<Init>(&InitParams { path, engine })?;
    // An existing folder keeps its engine (its databases are files of that
    // engine): a different --engine is not applied, and says so.
    let ignored = engine.filter(|e| !info.created && *e != info.engine);
    if let Some(asked) = ignored {
        output::note(
            &ctx.global,
            format!(
                "note: --engine {asked} ignored: {} is already a folder with engine {}; its engine does not change",
                info.path.display(),
                info.engine
            ),
        );
    }
    if ctx.global.json {
        return output::json(&info);
    }
    let verb = if info.created {
        "created"
    } else {
        "already a folder:"
    };
    output::note(
        &ctx.global,
        format!("{verb} {} (engine {})", info.path.display(), info.engine),
    );
    output::line(&info.id)
}
