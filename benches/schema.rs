//! Schema benchmark: what checking every line against a JSON Schema costs
//! an import. Run with `cargo bench -p syncdb --bench schema` (release).
//!
//! `put --batch` of N generated documents (five properties each) into a
//! redb folder, with no schema (the baseline) and with a schema whose
//! collection has a five-property JSON Schema (types, bounds, a pattern,
//! `required`), alternating, three runs each in the same process; medians
//! and their ratio. `SYNCDB_BENCH_RECORDS` sets N (default 1,000,000).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

const SCHEMA: &str = r#"name = "bench"
version = 1

[collections.docs]
schema = { type = "object", required = ["name", "email", "age", "city", "score"], properties = { name = { type = "string", pattern = "^user-[0-9]+$" }, email = { type = "string", maxLength = 64 }, age = { type = "integer", minimum = 0, maximum = 150 }, city = { type = "string", minLength = 1 }, score = { type = "integer", minimum = 0, maximum = 1000 } } }
"#;

fn import(file: &Path, schema: Option<&Path>, n: usize) -> Duration {
    let home = Home::new();
    home.run(&["init", "--engine", "redb"]);
    if let Some(schema) = schema {
        home.run(&["schema", "set", "bench", schema.to_str().unwrap()]);
    } else {
        home.run(&["put", "bench/other/1", "{}"]); // the same database, made
    }
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
    if schema.is_some() {
        // The schema is in force: a document breaking it is refused.
        let bad = home
            .cmd(&[
                "put",
                "bench/docs/x",
                r#"{"name":"x","email":"e","age":-1,"city":"c","score":1}"#,
            ])
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    }
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("docs.jsonl");
    generate(&file, n);
    let schema = work.path().join("bench.schema.toml");
    std::fs::write(&schema, SCHEMA).unwrap();
    let (mut plain, mut checked) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(import(&file, None, n));
        checked.push(import(&file, Some(&schema), n));
    }
    let (plain, checked) = (median(plain), median(checked));
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("## put --batch of {n} documents, redb, with and without a JSON Schema\n");
    println!("| what | median of 3 | records/s | ratio to baseline |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| no schema (baseline) | {:.2} s | {:.0} | 1.00 |",
        plain.as_secs_f64(),
        rate(plain)
    );
    println!(
        "| five-property JSON Schema | {:.2} s | {:.0} | {:.2} |",
        checked.as_secs_f64(),
        rate(checked),
        checked.as_secs_f64() / plain.as_secs_f64()
    );
}
