//! `syncdb __docs DIR` (hidden): writes shell completions to DIR/completions
//! and man pages to DIR/man, all generated from the clap definition. The
//! committed copies are checked by a test, so they cannot drift from the
//! command line. Regenerate with `cargo run -p syncdb -- __docs .`.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::exit::{CliError, Result};

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}

pub fn run(dir: &Path) -> Result<()> {
    let completions = dir.join("completions");
    let man = dir.join("man");
    for d in [&completions, &man] {
        std::fs::create_dir_all(d)
            .map_err(|e| CliError::failed(format!("cannot create {}: {e}", d.display())))?;
    }
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "syncdb", &mut out);
        let name = match shell {
            Shell::Bash => "syncdb.bash",
            Shell::Zsh => "_syncdb",
            Shell::Fish => "syncdb.fish",
            Shell::PowerShell => "_syncdb.ps1",
            _ => "syncdb.elv",
        };
        write(&completions.join(name), &out)?;
    }
    let mut cmd = Cli::command();
    cmd.build();
    man_pages(&cmd, "syncdb", &man)
}

/// `syncdb.1`, then one page per subcommand (`syncdb-remote-add.1`).
fn man_pages(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let page = cmd.clone().name(name.to_owned());
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| CliError::failed(e.to_string()))?;
    if name == "syncdb" {
        out.extend_from_slice(b".SH \"EXIT STATUS\"\n");
        for line in crate::args::EXIT_CODES.lines().skip(1) {
            let line = line.trim();
            if let Some((code, what)) = line.split_once(char::is_whitespace) {
                out.extend_from_slice(format!(".TP\n{code}\n{}\n", what.trim()).as_bytes());
            }
        }
    }
    write(&dir.join(format!("{name}.1")), &out)?;
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        man_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
