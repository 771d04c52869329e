//! `syncdb daemon run | start | stop | status`.

use std::time::Duration;

use syncdb_core::config::Config;
use syncdb_core::ipc::{Empty, Shutdown};

use super::Ctx;

/// The background daemon's log rotates at this size, keeping this many old files.
const LOG_MAX_BYTES: u64 = 10 << 20;
const LOG_KEEP: usize = 3;
use crate::args::DaemonCommand;
use crate::client::{Client, wait_until_stopped};
use crate::exit::{CliError, Exit, Result};
use crate::output;

pub fn run(ctx: &Ctx, cmd: DaemonCommand) -> Result<()> {
    match cmd {
        DaemonCommand::Run { log_file } => foreground(ctx, log_file),
        DaemonCommand::Start => {
            let client = ctx.client()?;
            report(ctx, &client)
        }
        DaemonCommand::Stop => {
            let mut client = match Client::connect(&ctx.paths, false) {
                Ok(c) => c,
                Err(e) if e.exit == Exit::Unreachable => {
                    output::note(&ctx.global, "the daemon is not running");
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            client.call::<Shutdown>(&Empty {})?;
            let pid = client.daemon.pid;
            // Hang up before waiting: the daemon would otherwise wait for
            // this connection to end as it drains.
            drop(client);
            wait_until_stopped(&ctx.paths, Duration::from_secs(30))?;
            output::note(&ctx.global, format!("stopped daemon (pid {pid})"));
            Ok(())
        }
        DaemonCommand::Status => {
            let client = Client::connect(&ctx.paths, false)?;
            report(ctx, &client)
        }
    }
}

/// The daemon runs: says so, unless told `--quiet` (the exit code says it).
/// A serving problem is a warning: with `--quiet` it goes to stderr.
fn report(ctx: &Ctx, client: &Client) -> Result<()> {
    if ctx.global.json {
        return output::json(&client.daemon);
    }
    let problem = client.daemon.serve.as_ref().and_then(|s| s.problem());
    if ctx.global.quiet {
        if let Some(problem) = problem {
            output::note_always(format!("syncdb: warning: {problem}; retrying"));
        }
        return Ok(());
    }
    output::line(format!(
        "running, pid {}, version {}",
        client.daemon.pid, client.daemon.version
    ))?;
    if let Some(problem) = problem {
        output::line(format!("{problem}; retrying"))?;
    }
    Ok(())
}

/// Runs the daemon in this process until SIGTERM/SIGINT, logging to stderr
/// or, when started in the background, to a rotated file.
fn foreground(ctx: &Ctx, log_file: Option<std::path::PathBuf>) -> Result<()> {
    // A home someone else controls is refused before anything is read from it.
    ctx.paths
        .check()
        .map_err(|e| CliError::failed(e.to_string()))?;
    let config =
        Config::load(&ctx.paths.config_file()).map_err(|e| CliError::usage(e.to_string()))?;
    let default = match ctx.global.verbose {
        0 => config.daemon.log.clone(),
        1 => "debug".into(),
        _ => "trace".into(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&default))
        .map_err(|e| CliError::usage(format!("bad log filter {default:?}: {e}")))?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    match log_file {
        Some(path) => {
            let file =
                crate::logfile::RotatingFile::new(&path, LOG_MAX_BYTES, LOG_KEEP).map_err(|e| {
                    CliError::failed(format!("cannot open the log {}: {e}", path.display()))
                })?;
            logs.with_writer(crate::logfile::ArcFile(file)).init();
        }
        None => logs.with_writer(std::io::stderr).init(),
    }
    syncdb_daemon::run_foreground(ctx.paths.clone()).map_err(|e| {
        tracing::error!(error = %e, "daemon failed");
        CliError::failed(e.to_string())
    })
}
