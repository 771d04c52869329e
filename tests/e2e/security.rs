//! Who may talk to the daemon and what it gives away: peers of another uid
//! are refused even when the socket's mode is wrong, tokens never show up in
//! logs, status or config, and a read-only folder is refused cleanly.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::support::*;

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `cmd` as uid/gid `NOBODY` (only possible as root).
fn as_nobody(cmd: &mut Command) -> &mut Command {
    // SAFETY: setgid/setuid are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgid(NOBODY) != 0 || libc::setuid(NOBODY) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_peer_of_another_user_is_refused_even_when_the_socket_is_open() {
    if !is_root() {
        eprintln!("skipped: acting as another user needs root (CI runs as root)");
        return;
    }
    let h = Home::with_folder("redb");
    h.put("crm/p/1", "{}");
    // Undo the file-mode protections on purpose: only the uid check is left.
    for dir in [h.dir.path().to_owned(), h.home(), h.folder()] {
        chmod(&dir, 0o755);
    }
    chmod(&h.home().join("run"), 0o777);
    chmod(&h.socket(), 0o666);
    let out = as_nobody(&mut h.cmd(&["get", "crm/p/1"])).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing was read");
    let log = h.run(&["logs", "-n", "200"]).ok().to_owned();
    assert!(
        log.contains("refused a local connection from another user"),
        "{log}"
    );
    assert_eq!(
        h.get("crm/p/1"),
        serde_json::json!({}),
        "the owner is still served"
    );
}

#[test]
fn tokens_never_show_up_in_logs_status_or_config() {
    let hub = Hub::new("redb");
    hub.home.put("crm/p/1", "{}");
    let good = hub.token_file(&[]);
    let secret = std::fs::read_to_string(&good).unwrap();
    let c = hub.client("");
    let wrong = c.dir.path().join("wrong.token");
    std::fs::write(&wrong, format!("{}0", &secret[..secret.len() - 1])).unwrap();
    chmod(&wrong, 0o600);
    c.run(&[
        "remote",
        "add",
        "bad",
        &hub.url(),
        "--token-file",
        wrong.to_str().unwrap(),
    ])
    .ok();
    c.run(&["sync", "bad", "--once"]).fails(1, "unauthorized");
    let secret_part = secret.rsplit('_').next().unwrap().trim().to_owned();
    let wrong_text = std::fs::read_to_string(&wrong).unwrap();
    let wrong_part = wrong_text.rsplit('_').next().unwrap().trim().to_owned();
    let mut seen = String::new();
    for h in [&hub.home, &c] {
        seen += &h.run(&["logs", "-n", "100000"]).stdout;
        seen += &h.run(&["status", "--json"]).stdout;
        seen += &h.run(&["remote", "ls", "--json"]).stdout;
        seen += &std::fs::read_to_string(h.home().join("config/config.toml")).unwrap();
    }
    seen += &hub.home.run(&["token", "ls", "--json"]).stdout;
    seen += &std::fs::read_to_string(hub.home.home().join("data/tokens.toml")).unwrap();
    assert!(!seen.contains(&secret_part), "the good token leaked");
    assert!(!seen.contains(&wrong_part), "the wrong token leaked");
    assert!(
        seen.contains("unauthorized"),
        "the refusal itself is logged"
    );
}

#[test]
fn a_read_only_folder_refuses_new_databases_and_keeps_serving_reads() {
    let h = Home::new();
    let run = |args: &[&str]| -> Run {
        let mut cmd = h.cmd(args);
        if is_root() {
            as_nobody(&mut cmd); // root ignores file modes; nobody does not
        }
        Run::from(cmd.output().unwrap())
    };
    if is_root() {
        for dir in [h.dir.path().to_owned(), h.folder()] {
            std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
    run(&["init"]).ok();
    run(&["put", "crm/p/1", r#"{"kept":true}"#]).ok();
    chmod(&h.folder(), 0o555);
    let refused = run(&["put", "notes/p/1", "{}"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("Permission denied") && refused.stderr.contains("notes"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        run(&["get", "crm/p/1"]).ok(),
        r#"{"kept":true}"#,
        "reads are still served"
    );
    assert!(!h.folder().join("notes.redb").exists(), "nothing half-made");
    chmod(&h.folder(), 0o755);
    run(&["put", "notes/p/1", "{}"]).ok();
    run(&["daemon", "stop"]).ok();
}
