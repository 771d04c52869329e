//! Local-core benchmark: the real `syncdb` binary and daemon on a temporary
//! home. Run with `cargo bench -p syncdb --bench local` (release build).
//!
//! Figures (medians), each with a baseline measured in the same run:
//! - `put --batch` of N generated ~100-byte documents, per engine: records/s,
//!   daemon peak RSS, and the time ratio to a plain SQLite bulk insert of the
//!   same rows in one transaction;
//! - `syncdb get` of one record, whole process: median, against
//!   `syncdb --version` (process start alone);
//! - one `put` round trip over the socket (no process start): median and p99,
//!   against a `hello` round trip (no write).
//!
//! `SYNCDB_BENCH_RECORDS` sets N (default 1,000,000).

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::*;

/// The floor: the same rows into a plain SQLite table, one transaction.
fn sqlite_baseline(dir: &Path, docs: &[String]) -> Duration {
    let path = dir.join("baseline.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;
         CREATE TABLE t (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;",
    )
    .unwrap();
    let start = Instant::now();
    let txn = conn.transaction().unwrap();
    {
        let mut stmt = txn
            .prepare("INSERT INTO t (key, doc) VALUES (?1, ?2)")
            .unwrap();
        for doc in docs {
            stmt.execute((uuid::Uuid::now_v7().to_string(), doc))
                .unwrap();
        }
    }
    txn.commit().unwrap();
    start.elapsed()
}

fn import(engine: &str, file: &Path, n: usize) -> (Duration, f64) {
    let home = Home::new();
    home.run(&["init", "--engine", engine]);
    let start = Instant::now();
    let out = home.run(&[
        "put",
        "bench/docs",
        "--batch",
        file.to_str().unwrap(),
        "--json",
    ]);
    let took = start.elapsed();
    assert!(out.contains(&format!("\"imported\":{n}")), "{out}");
    (took, peak_rss_mib(home.daemon_pid()))
}

fn process_latency(home: &Home, args: &[&str], runs: usize) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = home.cmd(args).stdout(Stdio::null()).status().unwrap();
            assert!(out.success());
            start.elapsed()
        })
        .collect();
    median(samples)
}

/// Sends `line` and reads one response line, `runs` times; the latencies.
fn socket_round_trips(
    socket: &Path,
    lines: impl Fn(usize) -> String,
    runs: usize,
) -> Vec<Duration> {
    let mut rpc = Rpc::connect(socket);
    (0..runs)
        .map(|i| {
            let line = lines(i);
            let start = Instant::now();
            let answer = rpc.call(&line);
            let took = start.elapsed();
            assert!(answer.contains("\"result\""), "{answer}");
            took
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / nextest probing: nothing to list
    }
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("docs.jsonl");
    let docs = generate(&file, n);
    let avg = std::fs::metadata(&file).unwrap().len() as f64 / n as f64;
    println!("## put --batch of {n} documents ({avg:.0} bytes each on average)\n");
    let baseline = sqlite_baseline(work.path(), &docs);
    drop(docs);
    println!("| what | time | records/s | daemon peak RSS | time / SQLite baseline |");
    println!("| --- | --- | --- | --- | --- |");
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "| plain SQLite table, one transaction (baseline) | {:.2} s | {:.0} | – | 1.00 |",
        baseline.as_secs_f64(),
        rate(baseline)
    );
    for engine in ["redb", "sqlite"] {
        let (took, rss) = import(engine, &file, n);
        println!(
            "| syncdb put --batch, {engine} | {:.2} s | {:.0} | {rss:.0} MiB | {:.2} |",
            took.as_secs_f64(),
            rate(took),
            took.as_secs_f64() / baseline.as_secs_f64()
        );
    }

    println!("\n## latency (redb)\n");
    let home = Home::new();
    home.run(&["init"]);
    home.run(&["put", "crm/person/42", r#"{"name":"Ada"}"#]);
    let runs = 200;
    let version = process_latency(&home, &["--version"], runs);
    let get = process_latency(&home, &["get", "crm/person/42"], runs);
    let hello = socket_round_trips(
        &home.socket(),
        |i| {
            format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"hello\",\"params\":{{\"client_version\":\"b\",\"ipc_version\":1}}}}\n"
            )
        },
        2000,
    );
    let puts = socket_round_trips(
        &home.socket(),
        |i| {
            format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"put\",\"params\":{{\"folder\":null,\"db\":\"crm\",\"collection\":\"person\",\"key\":\"k{i}\",\"doc\":\"{{\\\"n\\\":{i}}}\"}}}}\n"
            )
        },
        2000,
    );
    println!("| what | median | p99 | ratio to baseline |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| `syncdb --version`, whole process (baseline) | {} | – | 1.00 |",
        ms(version)
    );
    println!(
        "| `syncdb get`, whole process | {} | – | {:.2} |",
        ms(get),
        get.as_secs_f64() / version.as_secs_f64()
    );
    latency_rows(
        ("`hello` round trip on the socket", hello),
        ("`put` round trip on the socket, durable", puts),
    );
}
