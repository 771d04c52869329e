//! `syncdb service install | uninstall | status [--print]`: run the daemon as
//! a systemd user service (Linux) or a launchd agent (macOS), so it starts
//! with the user's session and restarts if it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use super::Ctx;
use crate::args::{ServiceCommand, ServiceKind};
use crate::exit::{CliError, Result};
use crate::output;

const UNIT: &str = "syncdb.service";
const LABEL: &str = "dev.syncdb.daemon";

fn default_kind() -> ServiceKind {
    if cfg!(target_os = "macos") {
        ServiceKind::Launchd
    } else {
        ServiceKind::Systemd
    }
}

/// Where the service file goes, under the user's home (never system-wide).
fn file_path(kind: ServiceKind) -> Result<PathBuf> {
    let base = directories::BaseDirs::new()
        .ok_or_else(|| CliError::failed("cannot tell where your home directory is; set HOME"))?;
    Ok(match kind {
        ServiceKind::Systemd => base.config_dir().join("systemd/user").join(UNIT),
        ServiceKind::Launchd => base
            .home_dir()
            .join("Library/LaunchAgents")
            .join(format!("{LABEL}.plist")),
    })
}

fn exe() -> Result<PathBuf> {
    std::env::current_exe()
        .map_err(|e| CliError::failed(format!("cannot find the syncdb executable: {e}")))
}

/// The systemd user unit: foreground daemon, logs to the journal (stderr),
/// restarted on failure.
pub fn systemd_unit(exe: &Path, home: Option<&Path>) -> String {
    let env = home
        .map(|h| format!("Environment=SYNCDB_HOME={}\n", h.display()))
        .unwrap_or_default();
    format!(
        "[Unit]\n\
         Description=syncdb daemon: keeps folders of databases in sync\n\
         Documentation=man:syncdb(1)\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={} daemon run\n\
         {env}\
         Restart=on-failure\n\
         RestartSec=2\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        exe.display()
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The launchd agent: started at login, restarted unless it exited cleanly.
pub fn launchd_plist(exe: &Path, home: Option<&Path>, log: &Path) -> String {
    let env = home
        .map(|h| {
            format!(
                "  <key>EnvironmentVariables</key>\n  <dict>\n    <key>SYNCDB_HOME</key>\n    <string>{}</string>\n  </dict>\n",
                xml_escape(&h.display().to_string())
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \x20 <key>Label</key>\n  <string>{LABEL}</string>\n\
         \x20 <key>ProgramArguments</key>\n  <array>\n    <string>{}</string>\n    <string>daemon</string>\n    <string>run</string>\n  </array>\n\
         {env}\
         \x20 <key>RunAtLoad</key>\n  <true/>\n\
         \x20 <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n\
         \x20 <key>StandardErrorPath</key>\n  <string>{}</string>\n\
         </dict>\n</plist>\n",
        xml_escape(&exe.display().to_string()),
        xml_escape(&log.display().to_string())
    )
}

fn render(ctx: &Ctx, kind: ServiceKind) -> Result<String> {
    let home = std::env::var_os(syncdb_core::paths::HOME_ENV)
        .filter(|h| !h.is_empty())
        .map(|_| {
            ctx.paths
                .config_dir
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default()
        });
    Ok(match kind {
        ServiceKind::Systemd => systemd_unit(&exe()?, home.as_deref()),
        ServiceKind::Launchd => launchd_plist(&exe()?, home.as_deref(), &ctx.paths.log_file()),
    })
}

/// Runs a service manager command; its failure is a note, not an error (the
/// file is written either way, and may be loaded later).
fn manage(ctx: &Ctx, program: &str, args: &[&str]) -> bool {
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            output::note(
                &ctx.global,
                format!(
                    "`{program} {}` failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            );
            false
        }
        Err(e) => {
            output::note(&ctx.global, format!("`{program}` is not available ({e})"));
            false
        }
    }
}

#[derive(Serialize)]
struct ServiceStatus {
    kind: &'static str,
    file: PathBuf,
    installed: bool,
    /// What the service manager says (`active`, `inactive`, …), if it answers.
    state: Option<String>,
}

pub fn run(ctx: &Ctx, cmd: ServiceCommand) -> Result<()> {
    match cmd {
        ServiceCommand::Install { print, kind } => {
            let kind = kind.unwrap_or_else(default_kind);
            let text = render(ctx, kind)?;
            if print {
                return output::line(text.trim_end());
            }
            let path = file_path(kind)?;
            syncdb_core::folder::write_atomic(&path, text.as_bytes())
                .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
            output::note(&ctx.global, format!("wrote {}", path.display()));
            let started = match kind {
                ServiceKind::Systemd => {
                    manage(ctx, "systemctl", &["--user", "daemon-reload"])
                        && manage(ctx, "systemctl", &["--user", "enable", "--now", UNIT])
                }
                ServiceKind::Launchd => {
                    manage(ctx, "launchctl", &["load", "-w", &path.to_string_lossy()])
                }
            };
            if started {
                output::note(&ctx.global, "the daemon now starts with your session");
            } else {
                output::note(
                    &ctx.global,
                    "the service file is in place; load it when the service manager runs",
                );
            }
            Ok(())
        }
        ServiceCommand::Uninstall { kind } => {
            let kind = kind.unwrap_or_else(default_kind);
            let path = file_path(kind)?;
            match kind {
                ServiceKind::Systemd => {
                    manage(ctx, "systemctl", &["--user", "disable", "--now", UNIT]);
                }
                ServiceKind::Launchd => {
                    manage(ctx, "launchctl", &["unload", "-w", &path.to_string_lossy()]);
                }
            }
            match std::fs::remove_file(&path) {
                Ok(()) => output::note(&ctx.global, format!("removed {}", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    output::note(&ctx.global, "the service was not installed")
                }
                Err(e) => {
                    return Err(CliError::failed(format!(
                        "cannot remove {}: {e}",
                        path.display()
                    )));
                }
            }
            if kind == ServiceKind::Systemd {
                manage(ctx, "systemctl", &["--user", "daemon-reload"]);
            }
            Ok(())
        }
        ServiceCommand::Status { kind } => {
            let kind = kind.unwrap_or_else(default_kind);
            let file = file_path(kind)?;
            let state = match kind {
                ServiceKind::Systemd => Command::new("systemctl")
                    .args(["--user", "is-active", UNIT])
                    .output()
                    .ok()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                    .filter(|s| !s.is_empty()),
                ServiceKind::Launchd => None,
            };
            let status = ServiceStatus {
                kind: match kind {
                    ServiceKind::Systemd => "systemd",
                    ServiceKind::Launchd => "launchd",
                },
                installed: file.exists(),
                file,
                state,
            };
            if ctx.global.json {
                return output::json(&status);
            }
            output::line(format!(
                "{} service {}: {}{}",
                status.kind,
                status.file.display(),
                if status.installed {
                    "installed"
                } else {
                    "not installed"
                },
                status.state.map(|s| format!(", {s}")).unwrap_or_default()
            ))
        }
    }
}
