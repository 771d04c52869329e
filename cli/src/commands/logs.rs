//! `syncdb logs [-f]`: the background daemon's log (the state dir's
//! `daemon.log`, rotated at a bounded size); `-f` follows it, across rotations.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use super::Ctx;
use crate::exit::{CliError, Result};
use crate::output;

pub fn run(ctx: &Ctx, follow: bool, lines: usize) -> Result<()> {
    let path = ctx.paths.log_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !follow => {
            return Err(CliError::new(
                crate::exit::Exit::NotFound,
                format!("no daemon log yet at {}", path.display()),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(CliError::failed(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let all: Vec<&str> = text.lines().collect();
    for line in &all[all.len().saturating_sub(lines)..] {
        output::line(line)?;
    }
    output::flush()?;
    if !follow {
        return Ok(());
    }
    let mut offset = text.len() as u64;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len < offset {
            offset = 0; // rotated: the new file starts from the beginning
        }
        if len == offset {
            continue;
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| CliError::failed(e.to_string()))?;
        let mut more = String::new();
        file.read_to_string(&mut more)
            .map_err(|e| CliError::failed(e.to_string()))?;
        offset += more.len() as u64;
        for line in more.lines() {
            output::line(line)?;
        }
        output::flush()?;
    }
}
