//! `syncdb`: parse the command line, run the command, print the result or the
//! error, exit with the documented code. One exit path for every command.

mod args;
mod client;
mod commands;
mod exit;
mod logfile;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::exit::Exit;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
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

/// A command line clap refused, or `--help`/`--version`. With `--json`
/// anywhere on it (before `--`), scripts get the refusal as JSON on stderr
/// like every other error; help and version print as usual.
fn usage_error(e: clap::Error) -> ExitCode {
    let wants_json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if !wants_json || informational {
        e.exit();
    }
    let text = e.render().to_string();
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    let usage = paragraphs
        .iter()
        .find_map(|p| p.strip_prefix("Usage: "))
        .map(|u| u.lines().next().unwrap_or_default().trim().to_owned());
    let message = if let Some(names) = missing_subcommand(&e, &paragraphs) {
        // clap would print the whole help; a script needs what was missing.
        let names: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|c| *c != "help" && !c.starts_with("__"))
            .collect();
        format!("a subcommand is required: one of {}", names.join(", "))
    } else {
        let first = paragraphs.first().copied().unwrap_or_default();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        first.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let mut value =
        serde_json::json!({"error": {"message": message, "exit": exit::Exit::Usage as u8}});
    if let Some(usage) = usage {
        value["error"]["usage"] = usage.into();
    }
    eprintln!("{value}");
    ExitCode::from(exit::Exit::Usage as u8)
}

/// The subcommands to choose from, when what was missing is a subcommand.
fn missing_subcommand(e: &clap::Error, paragraphs: &[&str]) -> Option<Vec<String>> {
    use clap::error::{ContextKind, ContextValue};
    match e.kind() {
        ErrorKind::MissingSubcommand => match e.get(ContextKind::ValidSubcommand) {
            Some(ContextValue::Strings(names)) => Some(names.clone()),
            _ => Some(Vec::new()),
        },
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Some(
            paragraphs
                .iter()
                .find_map(|p| p.strip_prefix("Commands:"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| Some(l.split_whitespace().next()?.to_owned()))
                .collect(),
        ),
        _ => None,
    }
}
