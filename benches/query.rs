//! Query benchmark: what `syncdb find` costs on a large collection, against
//! plain SQLite over the same rows in the same run. Run with
//! `cargo bench -p syncdb --bench query` (release).
//!
//! N generated documents (`SYNCDB_BENCH_RECORDS`, default 1,000,000) go into
//! a redb folder and into a SQLite table `t(key, doc)`. The query is
//! selective: names starting with `user-000001` (10 matches). syncdb has no
//! indexes yet, so it scans; SQLite runs the same filter as a scan
//! (`json_extract` in the WHERE) and, for the target indexes will be held
//! to, through an expression index. Medians of 5, the whole `syncdb find`
//! process included.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

const RUNS: usize = 5;

fn sqlite(dir: &Path, docs: &[String]) -> (Duration, Duration, usize) {
    let conn = rusqlite::Connection::open(dir.join("q.sqlite")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536;
         CREATE TABLE t (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;",
    )
    .unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut stmt = conn.prepare("INSERT INTO t VALUES (?1, ?2)").unwrap();
        for (i, doc) in docs.iter().enumerate() {
            stmt.execute((format!("k{i:08}"), doc)).unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    let run = |sql: &str| {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let mut stmt = conn.prepare(sql).unwrap();
            let rows: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            times.push(start.elapsed());
            found = rows.len();
        }
        (median(times), found)
    };
    let (scan, found) = run(
        "SELECT key, doc FROM t WHERE json_extract(doc, '$.name') >= 'user-000001' AND json_extract(doc, '$.name') < 'user-000002' ORDER BY key",
    );
    conn.execute_batch("CREATE INDEX by_name ON t (json_extract(doc, '$.name'))")
        .unwrap();
    let (indexed, again) = run(
        "SELECT key, doc FROM t WHERE json_extract(doc, '$.name') >= 'user-000001' AND json_extract(doc, '$.name') < 'user-000002' ORDER BY key",
    );
    assert_eq!(found, again);
    (scan, indexed, found)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("docs.jsonl");
    let docs = generate(&file, n);
    let (sqlite_scan, sqlite_indexed, found) = sqlite(work.path(), &docs);
    assert!(n >= 20, "SYNCDB_BENCH_RECORDS: at least 20");
    assert_eq!(found, 10);

    let home = Home::new();
    home.run(&["init", "--engine", "redb", "-q"]);
    home.run(&["put", "bench/docs", "--batch", file.to_str().unwrap(), "-q"]);
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = home.run(&[
            "find",
            "bench/docs",
            "--where",
            r#"name prefix "user-000001""#,
            "--json",
        ]);
        times.push(start.elapsed());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["records"].as_array().unwrap().len(), found);
    }
    let find = median(times);
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("## A selective query ({found} matches) over {n} documents\n");
    println!("| what | median of {RUNS} | records scanned/s | ratio to SQLite's scan |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| SQLite, `json_extract` filter, full scan (baseline) | {} | {:.0} | 1.00 |",
        ms(sqlite_scan),
        rate(sqlite_scan)
    );
    println!(
        "| SQLite, the same through an expression index | {} | – | {:.6} |",
        ms(sqlite_indexed),
        sqlite_indexed.as_secs_f64() / sqlite_scan.as_secs_f64()
    );
    println!(
        "| `syncdb find --where 'name prefix …'` (scan, whole process) | {} | {:.0} | {:.2} |",
        ms(find),
        rate(find),
        find.as_secs_f64() / sqlite_scan.as_secs_f64()
    );
}
