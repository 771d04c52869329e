//! Sync benchmark: real daemons (a hub and clients) on loopback. Run with
//! `cargo bench -p syncdb --bench sync` (release build).
//!
//! - initial sync of N records (~100 bytes) from a hub to an empty replica,
//!   at chunk sizes 64, 1024 and 8192: records/s end to end and the
//!   receiver's peak RSS; baseline: the local `put --batch` of the same rows
//!   on the hub, in the same run;
//! - live latency: a put on client A until its event appears in `watch` on
//!   client B through the hub, at 1,000 puts/s: median and p99; baseline: a
//!   put until its event appears in `watch` on the same daemon;
//! - CPU used by an idle daemon holding a live connection, over 5 s,
//!   against an idle daemon with no remote.
//!
//! `SYNCDB_BENCH_RECORDS` sets N (default 1,000,000).

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::*;

fn hub_with(config: &str, file: &std::path::Path) -> (Home, String, String, Duration) {
    let hub = Home::with_config(config);
    let id = hub.run(&["init", "-q"]).trim().to_owned();
    let start = Instant::now();
    hub.run(&["put", "bench/docs", "--batch", file.to_str().unwrap(), "-q"]);
    let import = start.elapsed();
    let addr = hub
        .run(&["serve", "--addr", "127.0.0.1:0"])
        .trim()
        .trim_start_matches("serving on ws://")
        .to_owned();
    (hub, id, addr, import)
}

fn token(hub: &Home) -> std::path::PathBuf {
    let token = hub.run(&["token", "create", "-q"]);
    let path = hub.dir.path().join(format!("tok{}", &token[4..12]));
    std::fs::write(&path, token.trim()).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

fn clone(hub: &Home, id: &str, url: &str) -> (Home, Duration) {
    let tok = token(hub);
    let c = Home::new();
    c.run(&["daemon", "start"]);
    let f = c.folder();
    let start = Instant::now();
    c.run(&[
        "clone",
        url,
        id,
        f.to_str().unwrap(),
        "--token-file",
        tok.to_str().unwrap(),
        "-q",
    ]);
    (c, start.elapsed())
}

fn put_line(i: usize) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"put\",\"params\":{{\"folder\":null,\"db\":\"live\",\"collection\":\"c\",\"key\":\"k{i}\",\"doc\":\"{{}}\"}}}}\n"
    )
}

/// Puts `n` records on `writer` at `rate`/s and times each one's arrival in
/// `watch` on `watcher`; returns the latencies.
fn live_latency(writer: &Home, watcher: &Home, n: usize, rate: u64) -> Vec<Duration> {
    let mut watch = watcher.rpc();
    watch.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"watch\",\"params\":{\"folder\":null,\"db\":\"live\",\"collection\":null,\"key\":null,\"since\":null}}\n");
    let sent: std::sync::Arc<std::sync::Mutex<HashMap<String, Instant>>> = Default::default();
    let sender = {
        let sent = sent.clone();
        let mut rpc = writer.rpc();
        std::thread::spawn(move || {
            let start = Instant::now();
            for i in 0..n {
                let due = start + Duration::from_micros(i as u64 * 1_000_000 / rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                sent.lock().unwrap().insert(format!("k{i}"), Instant::now());
                let answer = rpc.call(&put_line(i));
                assert!(answer.contains("\"result\""), "{answer}");
            }
        })
    };
    let mut latencies = Vec::with_capacity(n);
    while latencies.len() < n {
        let line = watch.read().to_owned();
        let arrived = Instant::now();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let key = v["params"]["event"]["key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(t) = sent.lock().unwrap().get(&key) {
            latencies.push(arrived - *t);
        }
    }
    sender.join().unwrap();
    latencies
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("docs.jsonl");
    drop(generate(&file, n));

    println!("## initial sync of {n} records, hub → empty replica over loopback\n");
    println!("| what | time | records/s | receiver peak RSS | time / local import |");
    println!("| --- | --- | --- | --- | --- |");
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let chunks: Vec<usize> = std::env::var("SYNCDB_BENCH_CHUNKS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![64, 1024, 8192]);
    for (i, &chunk) in chunks.iter().enumerate() {
        let config = format!("[sync]\nchunk_records = {chunk}\nchunk_bytes = 16777216");
        let (hub, id, addr, import) = hub_with(&config, &file);
        if i == 0 {
            println!(
                "| local `put --batch` on the hub (baseline) | {:.2} s | {:.0} | – | 1.00 |",
                import.as_secs_f64(),
                rate(import)
            );
        }
        let (client, took) = clone(&hub, &id, &format!("ws://{addr}"));
        let rss = peak_rss_mib(client.daemon_pid());
        let count = client.run(&["digest", "bench", "--json"]);
        assert!(count.contains(&format!("\"records\":{n}")), "{count}");
        println!(
            "| `clone`, chunks of {chunk} | {:.2} s | {:.0} | {rss:.0} MiB | {:.2} |",
            took.as_secs_f64(),
            rate(took),
            took.as_secs_f64() / import.as_secs_f64()
        );
    }

    println!("\n## live: put on A → event in `watch` on B through the hub, 1,000 puts/s\n");
    let (hub, id, addr, _) = hub_with("", &work.path().join("empty.jsonl").tap_create());
    let url = format!("ws://{addr}");
    let (a, _) = clone(&hub, &id, &url);
    let (b, _) = clone(&hub, &id, &url);
    a.run(&["put", "live/c/warmup", "{}"]);
    std::thread::sleep(Duration::from_millis(500));
    let rate: u64 = std::env::var("SYNCDB_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let local = live_latency(&a, &a, 2000, rate);
    let remote = live_latency(&a, &b, 2000, rate);
    println!("| what | median | p99 | median / baseline |");
    println!("| --- | --- | --- | --- |");
    latency_rows(
        ("put → watch on the same daemon", local),
        ("put on A → watch on B via the hub", remote),
    );

    println!("\n## idle CPU over 5 s\n");
    std::thread::sleep(Duration::from_secs(1));
    let idle = Home::new();
    idle.run(&["init", "-q"]);
    let measure = |pid: u32| {
        let before = cpu_time(pid);
        std::thread::sleep(Duration::from_secs(5));
        cpu_time(pid) - before
    };
    let (bp, ap) = (idle.daemon_pid(), a.daemon_pid());
    let (base_cpu, live_cpu) = std::thread::scope(|s| {
        let x = s.spawn(|| measure(bp));
        let y = s.spawn(|| measure(ap));
        (x.join().unwrap(), y.join().unwrap())
    });
    println!("| what | CPU time in 5 s |");
    println!("| --- | --- |");
    println!(
        "| idle daemon, no remote (baseline) | {} ms |",
        base_cpu.as_millis()
    );
    println!(
        "| idle daemon with a live connection to a hub | {} ms |",
        live_cpu.as_millis()
    );
    drop((a, b, hub));
}

trait TapCreate {
    fn tap_create(self) -> Self;
}

impl TapCreate for std::path::PathBuf {
    fn tap_create(self) -> Self {
        std::fs::write(&self, "").unwrap();
        self
    }
}
