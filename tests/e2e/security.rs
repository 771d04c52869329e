//! Who may talk to the daemon and what it gives away: peers of another uid
//! are refused even when the socket's mode is wrong, tokens never show up in
//! logs, status or config, and a read-only folder is refused cleanly.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
    // The command may hang up (it checks the daemon's uid too) before the
    // daemon's accept has logged: wait for the line.
    eventually(Duration::from_secs(10), || {
        let log = h.run(&["logs", "-n", "200"]).ok().to_owned();
        log.contains("refused a local connection from another user")
            .then_some(())
    });
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
    // Change the last hex digit (to one it is not: "0" would keep a token
    // ending in 0 valid, a 1-in-16 flake).
    let last = if secret.ends_with('0') { "1" } else { "0" };
    std::fs::write(&wrong, format!("{}{last}", &secret[..secret.len() - 1])).unwrap();
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

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn logs_and_state_are_private_and_hold_no_token_even_at_trace_level() {
    let trace = "[daemon]\nlog = \"trace\"";
    let hub = Hub::with_config("redb", trace);
    hub.home.put("crm/p/1", "{}");
    let token = hub.token_file(&[]);
    let secret = std::fs::read_to_string(&token).unwrap();
    let c = hub.follower(trace);
    c.run(&[
        "remote",
        "add",
        "hub",
        &hub.url(),
        "--token-file",
        token.to_str().unwrap(),
    ])
    .ok();
    eventually(Duration::from_secs(30), || {
        (c.run(&["get", "crm/p/1"]).code == 0).then_some(())
    });
    let secret_part = secret.rsplit('_').next().unwrap().trim().to_owned();
    for h in [&hub.home, &c] {
        let state = h.home().join("state");
        assert_eq!(mode(&state), 0o700, "{}", state.display());
        assert_eq!(mode(&state.join("daemon.log")), 0o600);
        for dir in ["data", "config", "run"] {
            assert_eq!(mode(&h.home().join(dir)), 0o700, "{dir}");
        }
        let log = std::fs::read_to_string(state.join("daemon.log")).unwrap();
        assert!(log.contains("TRACE"), "the log runs at trace level");
        assert!(!log.contains(&secret_part), "the token leaked into the log");
    }
    let client_log = std::fs::read_to_string(c.home().join("state/daemon.log")).unwrap();
    assert!(
        client_log.contains("token: <redacted>"),
        "the Hello was logged, without its token"
    );
}

#[test]
fn a_home_others_can_write_is_refused_and_nothing_starts() {
    let h = Home::new();
    std::fs::create_dir(h.home()).unwrap();
    chmod(&h.home(), 0o777);
    let out = h.run(&["init"]);
    out.fails(1, "writable by group or others");
    assert!(
        out.stderr
            .contains(&format!("chmod 700 {}", h.home().display())),
        "{}",
        out.stderr
    );
    assert!(
        !h.home().join("run").exists(),
        "no daemon was started in it"
    );
    chmod(&h.home(), 0o700);
    h.run(&["init"]).ok();
}

#[test]
fn a_config_others_can_write_is_refused_and_its_serve_address_never_listens() {
    let h = Home::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    h.set_config(&format!("[serve]\naddr = \"127.0.0.1:{port}\""));
    let config = h.home().join("config/config.toml");
    chmod(&config, 0o666);
    let out = h.run(&["status"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains(&config.display().to_string())
            && out
                .stderr
                .contains(&format!("chmod 600 {}", config.display())),
        "names the file and the fix: {}",
        out.stderr
    );
    let fg = h.run(&["daemon", "run"]);
    fg.fails(1, "writable by group or others");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the planted serve address is not served"
    );
    chmod(&config, 0o600);
    h.run(&["status"]).ok();
}

#[test]
fn a_home_or_config_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: files of another user need root (CI runs as root)");
        return;
    }
    let h = Home::with_folder("redb");
    h.run(&["daemon", "stop"]).ok();
    let config = h.home().join("config/config.toml");
    std::os::unix::fs::chown(&config, Some(NOBODY), Some(NOBODY)).unwrap();
    h.run(&["status"]).fails(1, "belongs to uid 65534");
    std::os::unix::fs::chown(&config, Some(0), Some(0)).unwrap();
    std::os::unix::fs::chown(h.home(), Some(NOBODY), Some(NOBODY)).unwrap();
    let out = h.run(&["status"]);
    out.fails(1, "belongs to uid 65534");
    assert!(
        out.stderr.contains(&h.home().display().to_string()),
        "{}",
        out.stderr
    );
    assert_eq!(h.daemon_pid(), None, "no daemon serves from it");
}

#[test]
fn a_symlinked_daemon_lock_is_never_followed() {
    let h = Home::new();
    let run = h.home().join("run");
    std::fs::create_dir_all(&run).unwrap();
    chmod(&h.home(), 0o700);
    chmod(&run, 0o700);
    let victim = h.dir.path().join("precious.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, run.join("daemon.lock")).unwrap();
    let out = h.run(&["init"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("symbolic link"),
        "says why: {}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "keep me",
        "the link's target is untouched"
    );
    std::fs::remove_file(run.join("daemon.lock")).unwrap();
    h.run(&["init"]).ok();
}

#[test]
fn a_token_file_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: files of another user need root (CI runs as root)");
        return;
    }
    let hub = Hub::new("redb");
    let token = hub.token_file(&[]);
    std::os::unix::fs::chown(&token, Some(NOBODY), Some(NOBODY)).unwrap();
    let c = hub.follower("");
    c.run(&[
        "remote",
        "add",
        "hub",
        &hub.url(),
        "--token-file",
        token.to_str().unwrap(),
    ])
    .fails(2, "belongs to uid 65534");
}

#[test]
fn a_home_syncdb_makes_itself_is_private_even_with_the_folder_inside_it() {
    // The README's quick start: SYNCDB_HOME does not exist yet and the
    // folder is made inside it.
    let h = Home::new();
    let notes = h.home().join("notes");
    h.run(&["init", notes.to_str().unwrap()]).ok();
    h.run(&["-C", notes.to_str().unwrap(), "put", "notes/page/1", "{}"])
        .ok();
    assert_eq!(mode(&h.home()), 0o700, "the home");
    for dir in ["config", "data", "state", "run"] {
        assert_eq!(mode(&h.home().join(dir)), 0o700, "{dir}");
    }
    assert_eq!(mode(&h.home().join("state/daemon.log")), 0o600);
}

#[test]
fn a_home_that_is_a_symlink_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: files of another user need root (CI runs as root)");
        return;
    }
    let h = Home::new();
    let real = h.dir.path().join("real-home");
    std::fs::create_dir(&real).unwrap();
    chmod(&real, 0o700);
    // His link to our directory: he can re-point it at his own at any time.
    std::os::unix::fs::symlink(&real, h.home()).unwrap();
    std::os::unix::fs::lchown(h.home(), Some(NOBODY), Some(NOBODY)).unwrap();
    h.run(&["init"]).fails(1, "symbolic link made by uid 65534");
    assert!(!real.join("run").exists(), "nothing was started in it");
}
