//! The daemon as a process: one per home, private socket, clean stop on
//! SIGTERM, auto-start races, many concurrent clients.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

#[test]
fn a_second_daemon_exits_with_a_clear_message() {
    let h = Home::with_folder("redb");
    let pid = h.daemon_pid().expect("started by init");
    let out = h.run(&["daemon", "run"]);
    out.fails(1, "another syncdb daemon is already running");
    assert!(out.stderr.contains(&pid.to_string()), "{}", out.stderr);
    assert_eq!(h.daemon_pid(), Some(pid), "the first one is unaffected");
}

#[test]
fn socket_is_private() {
    let h = Home::with_folder("redb");
    let dir_mode = std::fs::metadata(h.home().join("run"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let sock_mode = std::fs::metadata(h.socket()).unwrap().permissions().mode() & 0o777;
    assert_eq!(sock_mode, 0o600);
    h.put("crm/p/1", "{}");
    let db_mode = std::fs::metadata(h.folder().join("crm.redb"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(
        db_mode, 0o600,
        "the daemon's umask keeps database files private"
    );
}

#[test]
fn daemon_run_stops_cleanly_on_sigterm_and_sigint() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let h = Home::new();
        let child = h
            .cmd(&["daemon", "run"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        eventually(Duration::from_secs(10), || {
            h.socket().exists().then_some(())
        });
        h.run(&["init"]).ok();
        h.put("crm/p/1", "{}");
        kill(child.id() as i32, signal);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "clean exit on signal {signal}");
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            log.contains("daemon listening") && log.contains("daemon stopped"),
            "{log}"
        );
        assert!(!h.socket().exists(), "socket removed");
    }
}

#[test]
fn stale_socket_after_kill_9_is_replaced() {
    let h = Home::with_folder("redb");
    h.put("crm/p/1", "{}");
    h.kill_daemon();
    assert!(h.socket().exists(), "kill -9 leaves the socket file");
    assert_eq!(h.get("crm/p/1"), serde_json::json!({}));
}

#[test]
fn daemon_stop_start_and_status() {
    let h = Home::new();
    h.run(&["daemon", "status"]).fails(4, "not running");
    let started = h.run(&["daemon", "start"]);
    assert!(started.ok().starts_with("running, pid"));
    let pid = h.daemon_pid().unwrap();
    h.run(&["daemon", "start"]).ok();
    assert_eq!(h.daemon_pid(), Some(pid), "start is idempotent");
    h.run(&["daemon", "stop"]).ok();
    wait_gone(pid);
    h.run(&["daemon", "status"]).fails(4, "not running");
    h.run(&["daemon", "stop"]).ok();
}

#[test]
fn racing_commands_on_a_cold_home_start_exactly_one_daemon() {
    let h = Home::with_folder("redb");
    h.run(&["daemon", "stop"]).ok();
    let children: Vec<_> = (0..8)
        .map(|_| {
            h.cmd(&["status", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let pids: Vec<i64> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["daemon"]["pid"].as_i64().unwrap()
        })
        .collect();
    assert!(
        pids.windows(2).all(|w| w[0] == w[1]),
        "one daemon answered all: {pids:?}"
    );
}

#[test]
fn many_clients_writing_at_once_lose_nothing() {
    let h = Home::with_folder("redb");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let bin = BIN.to_owned();
            let home = h.home();
            let folder = h.folder();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let out = std::process::Command::new(&bin)
                        .args([
                            "put",
                            &format!("crm/p/{t}-{i}"),
                            &format!(r#"{{"t":{t},"i":{i}}}"#),
                        ])
                        .env("SYNCDB_HOME", &home)
                        .current_dir(&folder)
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let records = h.records("crm/p");
    assert_eq!(records.len(), 200);
    let status = h.run(&["ls", "--json"]).json_lines();
    assert_eq!(
        status[0]["seq"], 200,
        "one seq per write, none lost or repeated"
    );
}

#[test]
fn daemon_stop_is_quick_when_idle() {
    let h = Home::with_folder("redb");
    h.put("crm/p/1", "{}");
    let mut took = Vec::new();
    for _ in 0..3 {
        h.run(&["daemon", "start"]).ok();
        let t = std::time::Instant::now();
        h.run(&["daemon", "stop"]).ok();
        took.push(t.elapsed());
        assert_eq!(h.daemon_pid(), None, "stopped when the command returns");
    }
    took.sort();
    // The goal is under 100 ms; the bound leaves room for a loaded CI
    // machine while failing the old fixed 2 s drain.
    assert!(
        took[1] < Duration::from_millis(1000),
        "median stop took {:?} ({took:?})",
        took[1]
    );
}

/// A stand-in daemon that answers `hello` like the real one, then hangs up
/// on the next request without answering: a daemon dying mid-request.
fn dying_daemon(h: &Home) -> std::thread::JoinHandle<()> {
    use std::io::{BufRead, BufReader, Write};
    let real = Home::new();
    let hello = real.run(&["daemon", "start", "--json"]).json();
    real.run(&["daemon", "stop"]).ok();
    let run = h.home().join("run");
    std::fs::create_dir_all(&run).unwrap();
    for dir in [h.home(), run] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let listener = std::os::unix::net::UnixListener::bind(h.socket()).unwrap();
    std::thread::spawn(move || {
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let id = serde_json::from_str::<serde_json::Value>(&line).unwrap()["id"].clone();
            let answer = serde_json::json!({"jsonrpc": "2.0", "id": id, "result": hello});
            writeln!(&stream, "{answer}").unwrap();
            line.clear();
            reader.read_line(&mut line).unwrap(); // the request: never answered
            drop(stream);
        }
    })
}

#[test]
fn a_write_cut_off_by_a_dying_daemon_says_it_may_or_may_not_have_been_applied() {
    let h = Home::new();
    let fake = dying_daemon(&h);
    let put = h.run(&["put", "crm/p/1", "{}"]);
    put.fails(
        4,
        "the daemon stopped before answering: the write may or may not have been applied",
    );
    let get = h.run(&["get", "crm/p/1"]);
    get.fails(4, "the daemon stopped before answering");
    assert!(
        !get.stderr.contains("write"),
        "a read says nothing about writes: {}",
        get.stderr
    );
    fake.join().unwrap();
}
