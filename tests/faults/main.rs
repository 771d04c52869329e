//! Faults injected into real processes: `kill -9` at random moments, a disk
//! that fills up. What must hold afterwards is always the same: every
//! acknowledged write is present, nothing is half-written, every index is
//! in step with its records, and every database file opens cleanly. `SYNCDB_FAULT_KILLS` raises the number of
//! kill points for long local runs (the CI default is in each test).

#[path = "../e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::*;

fn env_count(default: usize) -> usize {
    std::env::var("SYNCDB_FAULT_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn batch(i: usize, n: usize) -> Vec<u8> {
    (0..n)
        .map(|j| format!("{{\"_id\":\"{i}-{j}\",\"n\":{j}}}\n"))
        .collect::<String>()
        .into_bytes()
}

/// Records per collection of `db`, from `ls DB --json`.
fn counts(h: &Home, db: &str) -> std::collections::BTreeMap<String, u64> {
    let out = h.run(&["ls", db, "--json"]);
    if out.code == 3 {
        return Default::default();
    }
    out.json_lines()
        .into_iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["records"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn kill_during_imports(engine: &str, kills: usize, seed: u64) {
    const LINES: usize = 2000;
    let h = Home::with_folder(engine);
    let start = Instant::now();
    h.run_stdin(&["put", "crm/calibrate", "--batch", "-"], &batch(0, LINES))
        .ok();
    let took = start.elapsed().as_millis() as u64;
    let mut rng = Lcg(seed);
    let mut acked = Vec::new();
    for i in 0..kills {
        let coll = format!("crm/b{i}");
        // Each import also writes its collection's index, in its transaction.
        h.run(&["index", "create", &coll, "n", "--no-wait", "-q"])
            .ok();
        let mut child = h
            .cmd(&["put", &coll, "--batch", "-", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = batch(i, LINES);
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        std::thread::sleep(Duration::from_millis(rng.below(took * 3 / 2)));
        h.kill_daemon();
        let ok = child.wait().unwrap().success();
        feeder.join().unwrap();
        if ok {
            acked.push(format!("b{i}"));
        }
        // After a restart every import is all there, or not there at all.
        let now = counts(&h, "crm");
        if let Some(&n) = now.get(&format!("b{i}")) {
            assert_eq!(
                n, LINES as u64,
                "import b{i} is atomic (engine {engine}, seed {seed})"
            );
        }
        for done in &acked {
            assert_eq!(
                now.get(done),
                Some(&(LINES as u64)),
                "acknowledged import {done} survived"
            );
        }
    }
    let partial = kills - acked.len();
    eprintln!(
        "{engine}: {kills} kills during imports; {} acknowledged, {partial} cut off",
        acked.len()
    );
    assert!(partial > 0, "some kills landed mid-import");
    // Every index is in step with its records, and answers as they do.
    h.run(&["index", "check"]).ok();
    for done in &acked {
        let n = h
            .run(&[
                "find",
                &format!("crm/{done}"),
                "--where",
                "n >= 0",
                "--count",
            ])
            .ok()
            .trim()
            .parse::<usize>();
        assert_eq!(n, Ok(LINES), "{done} through its index");
    }
    h.run(&["daemon", "stop"]).ok();
    let file = h.folder().join(format!("crm.{engine}"));
    syncdb_core::EngineKind::from_extension(engine)
        .unwrap()
        .check_file(&file)
        .unwrap();
}

#[test]
fn kill_9_during_batch_imports_redb() {
    kill_during_imports("redb", env_count(50), 0xfa01);
}

#[test]
fn kill_9_during_batch_imports_sqlite() {
    kill_during_imports("sqlite", env_count(50), 0xfa02);
}

/// A daemon whose files may not grow past `bytes` (RLIMIT_FSIZE), with
/// SIGXFSZ ignored so a write fails with EFBIG instead of killing it.
fn limited_daemon(h: &Home, bytes: u64) -> std::process::Child {
    let mut cmd = h.cmd(&["daemon", "run"]);
    cmd.stderr(Stdio::null());
    // SAFETY: setrlimit and signal are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    eventually(Duration::from_secs(10), || {
        h.socket().exists().then_some(())
    });
    child
}

fn disk_fills_and_frees(engine: &str) {
    let h = Home::new();
    let mut daemon = limited_daemon(&h, 4 << 20);
    h.run(&["init", "--engine", engine]).ok();
    for i in 0..20 {
        h.put(&format!("crm/small/{i}"), r#"{"keep":true}"#);
    }
    let big = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"_id\":\"{i}\",\"pad\":\"{}\"}}\n", "x".repeat(4000)))
            .collect::<String>()
            .into_bytes()
    };
    // 12 MB into a 4 MB limit: refused, clearly, and nothing of it written.
    let out = h.run_stdin(&["put", "crm/big", "--batch", "-"], &big(3000));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("disk full") || out.stderr.contains("disk I/O error"),
        "a clear message: {}",
        out.stderr
    );
    // The daemon is up and serves reads.
    assert_eq!(h.get("crm/small/7"), serde_json::json!({"keep":true}));
    assert_eq!(
        counts(&h, "crm").get("big"),
        None,
        "nothing of the refused import"
    );
    // Space returns (the limit is lifted on the running daemon): writes go on.
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit on our own child with valid pointers.
    let rc = unsafe {
        libc::prlimit(
            daemon.id() as i32,
            libc::RLIMIT_FSIZE,
            &unlimited,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    h.run_stdin(&["put", "crm/big", "--batch", "-"], &big(3000))
        .ok();
    h.put("crm/small/after", "{}");
    let now = counts(&h, "crm");
    assert_eq!((now.get("big"), now.get("small")), (Some(&3000), Some(&21)));
    kill(daemon.id() as i32, libc::SIGTERM);
    assert!(daemon.wait().unwrap().success());
    let file = h.folder().join(format!("crm.{engine}"));
    syncdb_core::EngineKind::from_extension(engine)
        .unwrap()
        .check_file(&file)
        .unwrap();
}

#[test]
fn a_full_disk_refuses_writes_keeps_serving_reads_and_recovers_redb() {
    disk_fills_and_frees("redb");
}

#[test]
fn a_full_disk_refuses_writes_keeps_serving_reads_and_recovers_sqlite() {
    disk_fills_and_frees("sqlite");
}

/// Writes unique keys through `home` until `stop`, returning the keys whose
/// `put` was acknowledged (exit 0): the ledger checked at the end.
fn writer(
    home: std::path::PathBuf,
    folder: std::path::PathBuf,
    name: &'static str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut acked = Vec::new();
        let mut i = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let key = format!("{name}-{i}");
            let ok = std::process::Command::new(BIN)
                .args(["put", &format!("crm/live/{key}"), "{}", "-q"])
                .env("SYNCDB_HOME", &home)
                .current_dir(&folder)
                .stdin(Stdio::null())
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ok {
                acked.push(key);
            }
            i += 1;
        }
        acked
    })
}

#[test]
fn kill_9_during_live_sync_under_load_loses_no_acknowledged_write() {
    let kills = env_count(60);
    let cfg = "[sync]\nreconnect_min_ms = 20\nreconnect_max_ms = 200";
    let hub = Hub::with_config("redb", cfg);
    let a = hub.client(cfg);
    let b = hub.client(cfg);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = [
        writer(a.home(), a.folder(), "a", stop.clone()),
        writer(b.home(), b.folder(), "b", stop.clone()),
    ];
    let mut rng = Lcg(0xfa03);
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(50 + rng.below(150)));
        match rng.below(3) {
            0 => {
                hub.home.kill_daemon();
                hub.home.run(&["daemon", "start"]).ok(); // serving resumes from the config
            }
            1 => a.kill_daemon(),
            _ => b.kill_daemon(),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    for c in [&a, &b] {
        c.run(&["sync", "--once", "-q"]).ok();
    }
    converged(&[&hub.home, &a, &b]);
    for h in [&hub.home, &a, &b] {
        let present: std::collections::BTreeSet<String> =
            h.records("crm/live").into_iter().map(|(k, _)| k).collect();
        let lost: Vec<_> = acked.iter().filter(|k| !present.contains(*k)).collect();
        assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    }
    eprintln!(
        "{kills} kills during live sync; {} acknowledged writes all present on 3 replicas",
        acked.len()
    );
    assert!(
        acked.len() > kills,
        "the writers made progress between kills"
    );
}
