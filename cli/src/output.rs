//! What the command prints: human text or `--json`, on stdout; errors on
//! stderr; progress bars only on a terminal and never with `--quiet` or
//! `--json`. Nothing here uses colour, so `NO_COLOR` has nothing to remove.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::exit::{CliError, Exit, Result};

/// Writes one line to stdout. A closed pipe ends the command quietly.
pub fn line(text: impl std::fmt::Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(pipe)?;
    Ok(())
}

/// Writes `value` as one JSON line to stdout.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    line(serde_json::to_string(value).expect("output serializes"))
}

pub fn flush() -> Result<()> {
    std::io::stdout().flush().map_err(pipe)
}

fn pipe(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::new(Exit::Ok, "")
    } else {
        CliError::failed(format!("cannot write output: {e}"))
    }
}

pub fn print_error(e: &CliError, json: bool) {
    let mut err = std::io::stderr().lock();
    if json {
        let value = serde_json::json!({"error": {"message": e.message, "exit": e.exit as u8}});
        let _ = writeln!(err, "{value}");
    } else {
        let _ = writeln!(err, "syncdb: {}", e.message);
    }
}

/// A note for people (stderr), silent with `--quiet` or `--json`.
pub fn note(global: &crate::args::Global, text: impl std::fmt::Display) {
    if !global.quiet && !global.json {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

/// A line for people on stderr, whatever the flags (callers decide).
pub fn note_always(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Whether progress bars may be drawn: for people at a terminal only (stdout
/// and stderr both terminals), never with `--quiet` or `--json`.
pub fn bars_allowed(global: &crate::args::Global) -> bool {
    !global.quiet
        && !global.json
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
}

/// The width of the terminal on stderr, if it is one.
pub fn terminal_width() -> Option<u16> {
    #[cfg(unix)]
    {
        // SAFETY: TIOCGWINSZ writes a winsize into the struct given; no other effect.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        (ok && size.ws_col > 0).then_some(size.ws_col)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// A progress bar on stderr when it is a terminal and output is for people.
/// It fits the terminal: on a narrower one the bar goes, then the speed;
/// the message (what is being done) is cut to what is left.
pub fn progress(global: &crate::args::Global, total_bytes: Option<u64>) -> ProgressBar {
    let visible = bars_allowed(global);
    let cols = terminal_width().unwrap_or(80);
    let template = match total_bytes {
        Some(_) if cols >= 100 => {
            "{msg} {wide_bar} {bytes} / {total_bytes} ({bytes_per_sec}, eta {eta})"
        }
        Some(_) if cols >= 72 => "{wide_msg} {bytes} / {total_bytes} ({bytes_per_sec}, eta {eta})",
        Some(_) => "{wide_msg} {bytes} / {total_bytes}",
        None => "{spinner} {bytes} ({bytes_per_sec}) {wide_msg}",
    };
    let style = ProgressStyle::with_template(template).expect("valid template");
    let bar = match total_bytes {
        Some(total) => ProgressBar::new(total).with_style(style),
        None => ProgressBar::new_spinner().with_style(style),
    };
    bar.set_draw_target(if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    bar
}

/// A spinner with `message` on stderr (when bars are allowed), ticking by
/// itself while a long call to the daemon runs.
pub fn spinner(global: &crate::args::Global, message: String) -> ProgressBar {
    let bar = progress(global, None);
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

/// A table for people: a header row, then the rows, each column as wide as
/// its widest cell (two spaces between columns; the last is not padded).
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(header).chain(rows) {
        let last = row.len().saturating_sub(1);
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        line(text)?;
    }
    Ok(())
}

/// `1.5 MiB`-style sizes for tables.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
