//! Query benchmark: what `syncdb find` costs on a large collection, with
//! and without an index, against plain SQLite over the same rows in the
//! same run; and what one index costs an import. Run with
//! `cargo bench -p syncdb --bench query` (release).
//!
//! N generated documents (`SYNCDB_BENCH_RECORDS`, default 1,000,000) go into
//! redb databases and into a SQLite table `t(key, doc)`. The query is
//! selective: names starting with `user-000001` (10 matches). SQLite runs
//! it as a scan (`json_extract` in the WHERE) and through an expression
//! index; syncdb as a scan and through `index create … name`, both as the
//! whole `syncdb find` process and in this process through the core's
//! `Reader::find` on the closed file (the fair match for SQLite's in-process
//! query). Imports of the same file into a collection without and with an
//! index alternate, three rounds.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

const RUNS: usize = 5;
/// Imports without and with an index, alternating.
const ROUNDS: usize = 3;
/// Runs of the queries that take well under a millisecond.
const FAST_RUNS: usize = 101;
const QUERY: &str = r#"name prefix "user-000001""#;

/// Medians of `runs` timings of `f`.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    (median(times), last.expect("at least one run"))
}

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
    let run = |sql: &str, runs: usize| {
        timed(runs, || {
            let mut stmt = conn.prepare_cached(sql).unwrap();
            let rows: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.len()
        })
    };
    let (scan, found) = run(
        "SELECT key, doc FROM t WHERE json_extract(doc, '$.name') >= 'user-000001' AND json_extract(doc, '$.name') < 'user-000002' ORDER BY key",
        RUNS,
    );
    conn.execute_batch("CREATE INDEX by_name ON t (json_extract(doc, '$.name'))")
        .unwrap();
    let (indexed, again) = run(
        "SELECT key, doc FROM t WHERE json_extract(doc, '$.name') >= 'user-000001' AND json_extract(doc, '$.name') < 'user-000002' ORDER BY key",
        FAST_RUNS,
    );
    assert_eq!(found, again);
    (scan, indexed, found)
}

fn find(home: &Home, db: &str, expected: usize) -> serde_json::Value {
    let out = home.run(&["find", &format!("{db}/docs"), "--where", QUERY, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), expected);
    v
}

/// `put --batch` of the file into `db/docs`, with an index on `name`
/// made first when `indexed`; its time.
fn import(home: &Home, db: &str, file: &Path, indexed: bool) -> Duration {
    let coll = format!("{db}/docs");
    // A database exists once written; the index goes on before the import.
    home.run(&["put", &format!("{db}/setup/x"), "{}", "-q"]);
    if indexed {
        home.run(&["index", "create", &coll, "name", "-q"]);
    }
    let start = Instant::now();
    home.run(&["put", &coll, "--batch", file.to_str().unwrap(), "-q"]);
    start.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    assert!(n >= 20, "SYNCDB_BENCH_RECORDS: at least 20");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("docs.jsonl");
    let docs = generate(&file, n);
    let (sqlite_scan, sqlite_indexed, found) = sqlite(work.path(), &docs);
    assert_eq!(found, 10);
    drop(docs);

    let home = Home::new();
    home.run(&["init", "--engine", "redb", "-q"]);
    let mut plain = Vec::new();
    let mut with_index = Vec::new();
    // A-B, B-A, A-B: imports slow down as the daemon holds more, and the
    // order within a round alternates so that drift falls on both sides.
    for round in 0..ROUNDS {
        let mut pair = [false, true];
        if round % 2 == 1 {
            pair.reverse();
        }
        for indexed in pair {
            let db = format!("{}{round}", if indexed { "indexed" } else { "plain" });
            let took = import(&home, &db, &file, indexed);
            if indexed {
                with_index.push(took);
            } else {
                plain.push(took);
            }
        }
    }
    let (scan, _) = timed(RUNS, || find(&home, "plain0", found));
    let start = Instant::now();
    home.run(&["index", "create", "plain0/docs", "name", "-q"]);
    let build = start.elapsed();
    let (process, _) = timed(21, || home.run(&["--version"]));
    let (through, plan) = timed(21, || find(&home, "plain0", found));
    let explain = home.run(&[
        "find",
        "plain0/docs",
        "--where",
        QUERY,
        "--explain",
        "--json",
    ]);
    let explain: serde_json::Value = serde_json::from_str(&explain).unwrap();
    assert_eq!(explain["plan"]["index"], "plain0/docs(name)");
    drop(plan);
    home.run(&["daemon", "stop"]);

    // The same query in this process, on the closed file.
    let db = syncdb_core::Database::open(
        syncdb_core::EngineKind::Redb,
        &home.folder().join("plain0.redb"),
    )
    .unwrap();
    let reader = db.reader();
    let query = syncdb_core::find::Query {
        conditions: vec![syncdb_core::query::Condition::parse(QUERY).unwrap()],
        limit: 1000,
        ..Default::default()
    };
    let collection = syncdb_core::Name::parse_as("collection", "docs").unwrap();
    let (core, hits) = timed(FAST_RUNS, || reader.find(&collection, &query).unwrap());
    assert_eq!(hits.hits.len(), found);
    assert_eq!(hits.plan.index.as_deref(), Some("docs(name)"));

    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("## A selective query ({found} matches) over {n} documents\n");
    println!("| what | median | records scanned/s | ratio |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| SQLite, `json_extract` filter, full scan (baseline of the scans) | {} | {:.0} | 1.00 |",
        ms(sqlite_scan),
        rate(sqlite_scan)
    );
    println!(
        "| `syncdb find --where 'name prefix …'`, scan, whole process | {} | {:.0} | {:.2} |",
        ms(scan),
        rate(scan),
        ratio(scan, sqlite_scan)
    );
    println!(
        "| SQLite through an expression index (baseline of the indexed) | {} | – | 1.00 |",
        ms(sqlite_indexed)
    );
    println!(
        "| `Reader::find` through `index create … name`, in process | {} | – | {:.2} |",
        ms(core),
        ratio(core, sqlite_indexed)
    );
    println!(
        "| `syncdb find` through the index, whole process | {} | – | {:.2} × `syncdb --version` ({}) |",
        ms(through),
        ratio(through, process),
        ms(process)
    );
    println!("\n## What one index costs `put --batch` of {n} documents\n");
    println!("| round | without an index | with an index on `name` | ratio |");
    println!("| --- | --- | --- | --- |");
    for (i, (p, w)) in plain.iter().zip(&with_index).enumerate() {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.2} |",
            i + 1,
            p.as_secs_f64(),
            w.as_secs_f64(),
            ratio(*w, *p)
        );
    }
    let mut ratios: Vec<f64> = plain
        .iter()
        .zip(&with_index)
        .map(|(p, w)| ratio(*w, *p))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (p, w): (Duration, Duration) = (plain.iter().sum(), with_index.iter().sum());
    println!(
        "| all | {:.2} s | {:.2} s | {:.2} (median of the rounds: {:.2}) |",
        p.as_secs_f64(),
        w.as_secs_f64(),
        ratio(w, p),
        ratios[ratios.len() / 2]
    );
    println!(
        "\nBuilding the index over the {n} records already there (`index create`, which waits): {:.2} s, {:.0} records/s.",
        build.as_secs_f64(),
        rate(build)
    );
}
