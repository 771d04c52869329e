//! `syncdb`: parse the command line, run the command, print the result or the
//! error, exit with the documented code. One exit path for every command.

mod args;
mod client;
mod commands;
mod exit;
mod logfile;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::Exit;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let json = cli.global.json;
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`syncdb ls | head`) ends output early; not an error.
        Err(e) if e.exit == Exit::Ok => ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(&e, json);
            ExitCode::from(e.exit as u8)
        }
    }
}
