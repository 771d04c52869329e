//! `syncdb daemon run | start | stop | status`.

use std::time::Duration;

use syncdb_core::config::Config;
use syncdb_core::ipc::{Empty, Shutdown};

use super::Ctx;
use crate::args::DaemonCommand;
use crate::client::{Client, wait_until_stopped};
use crate::exit::{CliError, Result};
use crate::output;

pub fn run(ctx: &Ctx, cmd: DaemonCommand) -> Result<()> {
    match cmd {
        DaemonCommand::Run => foreground(ctx),
        DaemonCommand::Start => {
            let client = ctx.client()?;
            report(ctx, &client)
        }
        DaemonCommand::Stop => {
            let mut client = match Client::connect(&ctx.paths, false) {
                Ok(c) => c,
                Err(_) => {
                    output::note(&ctx.global, "the daemon is not running");
                    return Ok(());
                }
            };
            client.call::<Shutdown>(&Empty {})?;
            wait_until_stopped(&ctx.paths, Duration::from_secs(30))?;
            output::note(
                &ctx.global,
                format!("stopped daemon (pid {})", client.daemon.pid),
            );
            Ok(())
        }
        DaemonCommand::Status => {
            let client = Client::connect(&ctx.paths, false)?;
            report(ctx, &client)
        }
    }
}

fn report(ctx: &Ctx, client: &Client) -> Result<()> {
    if ctx.global.json {
        return output::json(&client.daemon);
    }
    output::line(format!(
        "running, pid {}, version {}",
        client.daemon.pid, client.daemon.version
    ))
}

/// Runs the daemon in this process, logging to stderr, until SIGTERM/SIGINT.
fn foreground(ctx: &Ctx) -> Result<()> {
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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    syncdb_daemon::run_foreground(ctx.paths.clone()).map_err(|e| {
        tracing::error!(error = %e, "daemon failed");
        CliError::failed(e.to_string())
    })
}
