//! What one PostgreSQL server bounds, measured at the store: commits of
//! one put per transaction to one database (one writer, then two stores
//! writing it at once, as two hubs would), and chunks of 1,000 records
//! applied per transaction — each against redb and SQLite files in the
//! same run, the baselines. The server is a throwaway cluster on this
//! machine (or `SYNCDB_TEST_POSTGRES`), default settings.
//!
//! `cargo bench -p syncdb-pg --bench store`; `SYNCDB_BENCH_COMMITS=N` and
//! `SYNCDB_BENCH_RECORDS=N` change the counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use syncdb_core::{Database, Document, EngineKind, Key, Name, WriteOp};
use syncdb_pg::PgStore;
use syncdb_pg::cluster::TestServer;

const T0: u64 = 1_700_000_000_000;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn put(key: String) -> WriteOp {
    WriteOp::Put {
        collection: Name::parse_as("collection", "person").unwrap(),
        key: Key::parse(&key).unwrap(),
        doc: Document::parse(
            r#"{"name":"Ada Lovelace","age":36,"tags":["a","b"]}"#,
            usize::MAX,
        )
        .unwrap(),
    }
}

/// Median and p99 of one-put commits, and commits per second.
fn commits(db: &mut Database, n: usize, tag: &str) -> (Duration, Duration, f64) {
    let mut took = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        db.commit(&[put(format!("{tag}-{i}"))], T0 + i as u64)
            .unwrap();
        took.push(t.elapsed());
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    took.sort();
    (took[n / 2], took[n * 99 / 100], rate)
}

/// Records per second applied in transactions of 1,000 puts.
fn chunks(db: &mut Database, records: usize) -> f64 {
    let started = Instant::now();
    for c in 0..records.div_ceil(1000) {
        let ops: Vec<WriteOp> = (0..1000).map(|i| put(format!("c{c}-{i}"))).collect();
        db.commit(&ops, T0 + c as u64).unwrap();
    }
    records as f64 / started.elapsed().as_secs_f64()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let Some(server) = TestServer::get() else {
        eprintln!("no PostgreSQL server: nothing measured");
        return;
    };
    let n = count("SYNCDB_BENCH_COMMITS", 2000);
    let records = count("SYNCDB_BENCH_RECORDS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = PgStore::connect(&server.url()).unwrap();
    let pg =
        |name: &str| Database::from_engine(Arc::new(store.open("bench", name).unwrap())).unwrap();
    let file = |kind: EngineKind, name: &str| {
        Database::open(
            kind,
            &dir.path().join(format!("{name}.{}", kind.extension())),
        )
        .unwrap()
    };

    println!("### one put per transaction, {n} commits to one database\n");
    println!("| store | median | p99 | commits/s | rate / redb |");
    println!("| --- | --- | --- | --- | --- |");
    let (m, p, redb_rate) = commits(&mut file(EngineKind::Redb, "c"), n, "r");
    println!(
        "| redb file (baseline) | {} | {} | {redb_rate:.0} | 1.00 |",
        ms(m),
        ms(p)
    );
    let (m, p, r) = commits(&mut file(EngineKind::Sqlite, "c"), n, "s");
    println!(
        "| SQLite file | {} | {} | {r:.0} | {:.2} |",
        ms(m),
        ms(p),
        r / redb_rate
    );
    let (m, p, r) = commits(&mut pg("c"), n, "p");
    println!(
        "| PostgreSQL, one writer | {} | {} | {r:.0} | {:.2} |",
        ms(m),
        ms(p),
        r / redb_rate
    );
    // Two stores (two hubs) writing the same database at once.
    let other = PgStore::connect(&server.url()).unwrap();
    let started = Instant::now();
    let writers: Vec<_> = [store.clone(), other]
        .into_iter()
        .enumerate()
        .map(|(w, s)| {
            std::thread::spawn(move || {
                let mut db =
                    Database::from_engine(Arc::new(s.open("bench", "two").unwrap())).unwrap();
                commits(&mut db, n / 2, &format!("w{w}"))
            })
        })
        .collect();
    let each: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let r = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "| PostgreSQL, two stores on one database | {} | {} | {r:.0} (both) | {:.2} |",
        ms(each[0].0.max(each[1].0)),
        ms(each[0].1.max(each[1].1)),
        r / redb_rate
    );

    println!("\n### {records} records in transactions of 1,000\n");
    println!("| store | records/s | rate / redb |");
    println!("| --- | --- | --- |");
    let redb = chunks(&mut file(EngineKind::Redb, "k"), records);
    println!("| redb file (baseline) | {redb:.0} | 1.00 |");
    let r = chunks(&mut file(EngineKind::Sqlite, "k"), records);
    println!("| SQLite file | {r:.0} | {:.2} |", r / redb);
    let r = chunks(&mut pg("k"), records);
    println!("| PostgreSQL | {r:.0} | {:.2} |", r / redb);
}
