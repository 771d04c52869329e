//! History benchmark: what cleanup, compaction and backup cost, in this
//! process through the core's `Database` (the daemon's writer runs the same
//! calls). Run with `cargo bench -p syncdb --bench history` (release).
//!
//! Per engine: N puts (`SYNCDB_BENCH_RECORDS`, default 1,000,000; ~94-byte
//! documents), then a backup while a writer puts 500 records/s (its commit
//! latency before and during the backup; the backup against copying the
//! file), then deletes of 90% of the records, then the cleanup of their
//! tombstones with the same 500/s writer interleaved as the daemon's writer
//! interleaves them (a write waits for at most one step), then compaction.
//! File sizes before and after, against a plain SQLite table holding only
//! the live rows.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::*;
use syncdb_core::db::WriteOp;
use syncdb_core::history::CLEANUP_STEP;
use syncdb_core::{Database, Document, EngineKind, Key, Name};

/// One write every 2 ms: 500 records/s.
const EVERY: Duration = Duration::from_millis(2);
const BATCH: usize = 10_000;

fn name(s: &str) -> Name {
    Name::parse_as("name", s).unwrap()
}

fn doc_text(i: usize) -> String {
    format!(
        r#"{{"age":{},"city":"city-{:03}","name":"user-{i:07}","pad":"{}"}}"#,
        i % 90,
        i % 500,
        "x".repeat(30)
    )
}

fn doc(i: usize) -> Document {
    Document::parse(&doc_text(i), usize::MAX).unwrap()
}

fn put(i: usize) -> WriteOp {
    WriteOp::Put {
        collection: name("person"),
        key: Key::parse(&format!("k{i:08}")).unwrap(),
        doc: doc(i),
    }
}

fn now() -> u64 {
    syncdb_core::version::wall_clock_ms()
}

fn file_bytes(path: &Path) -> u64 {
    let side = |s: &str| std::fs::metadata(format!("{}{s}", path.display())).map_or(0, |m| m.len());
    std::fs::metadata(path).unwrap().len() + side("-wal") + side("-shm")
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
}

fn pct(v: &[Duration], p: f64) -> Duration {
    percentile(v.to_vec(), p / 100.0)
}

/// Commit latencies of a writer putting 500 records/s for `span`, keys from
/// `from` on.
fn steady_writes(db: &mut Database, from: usize, span: Duration) -> Vec<Duration> {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut i = 0;
    while start.elapsed() < span {
        let due = start + EVERY * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        db.commit(&[put(from + i)], now()).unwrap();
        out.push(due.elapsed());
        i += 1;
    }
    out
}

struct Figures {
    engine: EngineKind,
    before: u64,
    dead: u64,
    after: u64,
    baseline: u64,
    backup: Duration,
    cp: Duration,
    idle_p99: Duration,
    backup_p99: Duration,
    backup_max: Duration,
    cleanup: Duration,
    removed: u64,
    cleanup_p50: Duration,
    cleanup_p99: Duration,
    cleanup_max: Duration,
    compact: Duration,
}

fn run(engine: EngineKind, n: usize, dir: &Path) -> Figures {
    let path = dir.join(format!("h.{}", engine.extension()));
    let mut db = Database::open(engine, &path).unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(BATCH) {
        let ops: Vec<WriteOp> = chunk.iter().map(|&i| put(i)).collect();
        db.commit(&ops, now()).unwrap();
    }
    let before = file_bytes(&path);

    // Backup while a writer puts 500/s.
    let idle = steady_writes(&mut db, n, Duration::from_secs(2));
    let reader = db.reader();
    let dest = dir.join(format!("backup.{}", engine.extension()));
    let writer = std::thread::spawn(move || {
        let lat = steady_writes(&mut db, n + 10_000, Duration::from_secs(3));
        (db, lat)
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    reader.backup_to(&dest).unwrap();
    let backup = started.elapsed();
    let (mut db, during) = writer.join().unwrap();
    drop(reader);
    let started = Instant::now();
    std::fs::copy(&path, dir.join("copy")).unwrap();
    let cp = started.elapsed();
    assert!(
        Database::open(engine, &dest)
            .unwrap()
            .reader()
            .record_count()
            .unwrap()
            >= n as u64
    );

    // Delete 90%, then clean up with the writer interleaved.
    let dead_n = n * 9 / 10;
    for chunk in (0..dead_n).collect::<Vec<_>>().chunks(BATCH) {
        let ops: Vec<WriteOp> = chunk
            .iter()
            .map(|&i| WriteOp::Delete {
                collection: name("person"),
                key: Key::parse(&format!("k{i:08}")).unwrap(),
            })
            .collect();
        db.commit(&ops, now()).unwrap();
    }
    let dead = file_bytes(&path);
    std::thread::sleep(Duration::from_millis(5));
    db.raise_horizon(now()).unwrap();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut next_write = Instant::now();
    let mut key = n + 100_000;
    let mut removed = 0;
    while db.cleaning() {
        if Instant::now() >= next_write {
            db.commit(&[put(key)], now()).unwrap();
            latencies.push(next_write.elapsed());
            key += 1;
            next_write += EVERY;
            continue;
        }
        removed += db.cleanup_step(CLEANUP_STEP).unwrap().removed;
    }
    let cleanup = started.elapsed();
    let started = Instant::now();
    db.compact().unwrap();
    let compact = started.elapsed();
    drop(db);
    let after = file_bytes(&path);
    let live = Database::open(engine, &path)
        .unwrap()
        .reader()
        .record_count()
        .unwrap();

    // The floor: a plain SQLite table of the live rows only.
    let base_path = dir.join(format!("base-{}.sqlite", engine.extension()));
    let conn = rusqlite::Connection::open(&base_path).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (key TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID; BEGIN",
    )
    .unwrap();
    {
        let mut stmt = conn.prepare("INSERT INTO t VALUES (?1, ?2)").unwrap();
        for i in dead_n..n {
            stmt.execute((format!("k{i:08}"), doc_text(i))).unwrap();
        }
    }
    conn.execute_batch("COMMIT; VACUUM").unwrap();
    drop(conn);
    assert!(live >= (n - dead_n) as u64);
    Figures {
        engine,
        before,
        dead,
        after,
        baseline: file_bytes(&base_path),
        backup,
        cp,
        idle_p99: pct(&idle, 99.0),
        backup_p99: pct(&during, 99.0),
        backup_max: *during.iter().max().unwrap(),
        cleanup,
        removed,
        cleanup_p50: pct(&latencies, 50.0),
        cleanup_p99: pct(&latencies, 99.0),
        cleanup_max: *latencies.iter().max().unwrap_or(&Duration::ZERO),
        compact,
    }
}

fn main() {
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let all: Vec<Figures> = EngineKind::ALL
        .into_iter()
        .map(|e| run(e, n, dir.path()))
        .collect();
    println!(
        "\n### Storage: {n} puts, {} deletes, cleanup, compaction\n",
        n * 9 / 10
    );
    println!(
        "| engine | after the puts | after the deletes | after cleanup + compaction | plain SQLite table of the live rows (baseline) | ratio to baseline |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for f in &all {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} |",
            f.engine,
            mib(f.before),
            mib(f.dead),
            mib(f.after),
            mib(f.baseline),
            f.after as f64 / f.baseline as f64
        );
    }
    println!("\n### Backup of {n} records while a writer puts 500 records/s\n");
    println!(
        "| engine | backup | `cp` of the file (baseline) | ratio | writer p99 before | writer p99 during | writer max during |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for f in &all {
        println!(
            "| {} | {} | {} | {:.2} | {} | {} | {} |",
            f.engine,
            ms(f.backup),
            ms(f.cp),
            f.backup.as_secs_f64() / f.cp.as_secs_f64(),
            ms(f.idle_p99),
            ms(f.backup_p99),
            ms(f.backup_max)
        );
    }
    println!(
        "\n### Cleanup of {} tombstones with a writer at 500 records/s\n",
        n * 9 / 10
    );
    println!(
        "| engine | cleanup | tombstones/s | writer p50 | writer p99 | writer max | writer p99 with no cleanup (baseline) | compaction (writes wait) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for f in &all {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            f.engine,
            ms(f.cleanup),
            f.removed as f64 / f.cleanup.as_secs_f64(),
            ms(f.cleanup_p50),
            ms(f.cleanup_p99),
            ms(f.cleanup_max),
            ms(f.idle_p99),
            ms(f.compact)
        );
    }
}
