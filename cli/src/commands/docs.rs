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
        clap_complete::generate(shell, &mut visible(&Cli::command()), "syncdb", &mut out);
        let name = match shell {
            Shell::Bash => "syncdb.bash",
            Shell::Zsh => "_syncdb",
            Shell::Fish => "syncdb.fish",
            Shell::PowerShell => "_syncdb.ps1",
            _ => "syncdb.elv",
        };
        write(&completions.join(name), &out)?;
    }
    // `help` would get a page of its own, and the exit codes and environment
    // of `--help` have sections of their own below.
    let mut cmd = Cli::command()
        .disable_help_subcommand(true)
        .after_long_help(None::<&str>);
    cmd.build();
    man_pages(&cmd, "syncdb", &man)
}

/// The command line as a person may type it: clap_complete offers hidden
/// subcommands and flags (`__docs`, `daemon run --log-file`) too, and
/// `Command` has no way to remove one, so the tree is rebuilt without them.
fn visible(cmd: &clap::Command) -> clap::Command {
    let mut out = clap::Command::new(cmd.get_name().to_owned())
        .propagate_version(cmd.is_propagate_version_set());
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    if let Some(version) = cmd.get_version() {
        out = out.version(version.to_owned());
    }
    out = out.args(cmd.get_arguments().filter(|a| !a.is_hide_set()).cloned());
    out.subcommands(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(visible),
    )
}

/// `(name, what)` rows as a man page's tagged paragraphs.
fn section(out: &mut Vec<u8>, title: &str, rows: impl IntoIterator<Item = (String, String)>) {
    out.extend_from_slice(format!(".SH \"{title}\"\n").as_bytes());
    for (name, what) in rows {
        out.extend_from_slice(format!(".TP\n{}\n{}\n", roff(&name), roff(&what)).as_bytes());
    }
}

/// Escapes what roff would read as a request or an escape.
fn roff(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    match text.starts_with(['.', '\'']) {
        true => format!("\\&{text}"),
        false => text,
    }
}

/// `syncdb.1`, then one page per subcommand (`syncdb-remote-add.1`).
fn man_pages(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let page = cmd.clone().name(name.to_owned());
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| CliError::failed(e.to_string()))?;
    if name == "syncdb" {
        use crate::args::{ENVIRONMENT, EXIT_CODES, FILES};
        let mut codes: Vec<(String, String)> = Vec::new();
        for line in EXIT_CODES.lines().skip(1) {
            match line.trim().split_once(char::is_whitespace) {
                Some((code, what)) if line.starts_with("  ") && !line.starts_with("   ") => {
                    codes.push((code.to_owned(), what.trim().to_owned()))
                }
                // A continuation line of the code above.
                _ => {
                    if let Some((_, what)) = codes.last_mut() {
                        what.push(' ');
                        what.push_str(line.trim());
                    }
                }
            }
        }
        section(&mut out, "EXIT STATUS", codes);
        let owned = |rows: &[(&str, &str)]| -> Vec<(String, String)> {
            rows.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        section(&mut out, "ENVIRONMENT", owned(ENVIRONMENT));
        section(&mut out, "FILES", owned(FILES));
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
