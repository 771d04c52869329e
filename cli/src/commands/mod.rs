//! One file per command; this file resolves what every command shares (paths,
//! the folder, the daemon connection) and dispatches.

mod backup;
mod config;
mod daemon;
mod docs;
mod export;
mod find;
mod folder;
mod history;
mod index;
mod init;
mod logs;
mod ls;
mod put;
mod records;
mod remote;
mod repair;
mod reset;
mod schema;
mod service;
mod status;
mod sync;
mod watch;

use std::path::PathBuf;

use syncdb_core::folder::Folder;
use syncdb_core::paths::Paths;

use crate::args::{Cli, Command, Global};
use crate::client::Client;
use crate::exit::{CliError, Result};

/// What every command gets.
pub struct Ctx {
    pub global: Global,
    pub paths: Paths,
}

impl Ctx {
    /// The folder the command is about: the nearest one at or above `-C DIR`
    /// (or the working directory); `None` lets the daemon use its only one.
    pub fn folder(&self) -> Result<Option<PathBuf>> {
        let base = match &self.global.dir {
            Some(dir) => std::path::absolute(dir)
                .map_err(|e| CliError::usage(format!("-C {}: {e}", dir.display())))?,
            None => std::env::current_dir()
                .map_err(|e| CliError::failed(format!("cannot read the working directory: {e}")))?,
        };
        if let Some(dir) = &self.global.dir
            && !base.is_dir()
        {
            return Err(CliError::usage(format!(
                "-C {}: no such directory",
                dir.display()
            )));
        }
        Ok(Folder::find_upwards(&base))
    }

    /// A connection to the daemon, started if needed.
    pub fn client(&self) -> Result<Client> {
        Client::connect(&self.paths, true)
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let paths = Paths::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    let ctx = Ctx {
        global: cli.global,
        paths,
    };
    match cli.command {
        Command::Init { dir, engine } => init::run(&ctx, dir, engine),
        Command::Put {
            address,
            input,
            batch,
            import,
        } => {
            if batch {
                put::batch(&ctx, &address, input.as_deref(), import)
            } else {
                put::one(&ctx, &address, input.as_deref())
            }
        }
        Command::Patch { address, input } => records::patch(&ctx, &address, input.as_deref()),
        Command::Get { address } => records::get(&ctx, &address),
        Command::Del { address } => records::del(&ctx, &address),
        Command::Drop { address, yes } => records::drop(&ctx, &address, yes),
        Command::Ls {
            address,
            prefix,
            limit,
            keys,
            all,
        } => ls::run(&ctx, address.as_deref(), &prefix, limit, keys, all),
        Command::Find {
            address,
            conditions,
            order_by,
            desc,
            limit,
            cursor,
            count,
            explain,
        } => find::run(
            &ctx,
            &address,
            find::Asked {
                conditions,
                order_by,
                desc,
                limit: limit as usize,
                cursor,
                count,
                explain,
            },
        ),
        Command::Watch {
            address,
            since,
            conditions,
        } => watch::run(&ctx, address.as_deref(), since, conditions),
        Command::Status { all } => status::run(&ctx, all),
        Command::Folder(cmd) => folder::run(&ctx, cmd),
        Command::Remote(cmd) => remote::run(&ctx, cmd),
        Command::Clone {
            url,
            folder_id,
            dir,
            failover,
            token_file,
            ca_file,
            engine,
        } => {
            let urls = std::iter::once(url).chain(failover).collect();
            sync::clone(&ctx, urls, folder_id, dir, token_file, ca_file, engine)
        }
        Command::Sync {
            remote,
            once,
            timeout,
        } => sync::run(&ctx, remote, once, timeout),
        Command::Digest { db } => sync::digest(&ctx, db),
        Command::Repair { db } => repair::run(&ctx, &db),
        Command::Cleanup { db } => history::cleanup(&ctx, db.as_deref()),
        Command::Replica(cmd) => history::replica(&ctx, cmd),
        Command::Compact { db } => history::compact(&ctx, db.as_deref()),
        Command::Backup { db, dest, all } => backup::backup(&ctx, db.as_deref(), dest, all),
        Command::Restore { src, db, force } => backup::restore(&ctx, &src, db.as_deref(), force),
        Command::Export { address, output } => export::run(&ctx, &address, output.as_deref()),
        Command::Reset { db, force, timeout } => reset::run(&ctx, &db, force, timeout),
        Command::Serve(args) => remote::serve(&ctx, args),
        Command::Http {
            addr,
            tls_cert,
            tls_key,
            insecure,
            cors_origins,
            stop,
        } => remote::http(&ctx, addr, tls_cert, tls_key, insecure, cors_origins, stop),
        Command::Token(cmd) => remote::token(&ctx, cmd),
        Command::Service(cmd) => service::run(&ctx, cmd),
        Command::Config(cmd) => config::run(&ctx, cmd),
        Command::Schema(cmd) => schema::run(&ctx, cmd),
        Command::Index(cmd) => index::run(&ctx, cmd),
        Command::Logs { follow, lines } => logs::run(&ctx, follow, lines),
        Command::Docs { dir } => docs::run(&dir),
        Command::Daemon(cmd) => daemon::run(&ctx, cmd),
    }
}

/// An absolute form of a path the user gave (relative to the working directory).
pub fn absolute(path: &std::path::Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

/// The document argument: inline JSON, or stdin for `-` or nothing.
pub fn read_input(global: &Global, input: Option<&str>) -> Result<String> {
    match input {
        Some("-") | None => {
            stdin_prompt(global, input, "the document")?;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                CliError::usage(format!("cannot read the document from stdin: {e}"))
            })?;
            Ok(text)
        }
        Some(text) => Ok(text.to_owned()),
    }
}

/// Before reading input from stdin: a terminal there means a person, who
/// would otherwise see a command waiting silently. With no input argument
/// that is almost surely a mistake; with `-` it is asked for, so say how to
/// end it.
pub fn stdin_prompt(global: &Global, input: Option<&str>, what: &str) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Ok(());
    }
    if input.is_none() {
        return Err(CliError::usage(format!(
            "no input given and stdin is a terminal: pass {what} as an argument, pipe it in, \
             or give - to type it here"
        )));
    }
    crate::output::note(
        global,
        format!("reading {what} from the terminal; end it with Ctrl-D"),
    );
    Ok(())
}

/// Asks a person to confirm what cannot be undone: on a terminal (stdin
/// and stderr) it asks and reads y/N; elsewhere it refuses (exit 2) and
/// says to pass `--yes`. `what` completes "this will …".
pub fn confirm(what: &str) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(CliError::usage(format!(
            "this would {what}; pass --yes to do it without a terminal to confirm on (nothing was changed)"
        )));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "This will {what}. Continue? [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    match answer.trim() {
        "y" | "Y" | "yes" | "YES" | "Yes" => Ok(()),
        _ => Err(CliError::usage("not confirmed; nothing was changed")),
    }
}
