//! `syncdb find`, end to end: conditions, orders and pages checked against
//! what the test itself computes from the records it wrote; pages that do
//! not repeat or skip across a concurrent write; bad queries refused.

use serde_json::{Value, json};

use crate::support::*;

const CITIES: [&str; 4] = ["Lisbon", "London", "Paris", "Porto"];

/// 300 people: `age` 20..90, `city`, `email` on two in three, `tags` on
/// some, one with a string age.
fn people(home: &Home) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    let mut lines = String::new();
    for i in 0..300 {
        let mut doc = json!({ "age": 20 + (i * 7) % 70, "city": CITIES[i % 4] });
        if i % 3 != 0 {
            doc["email"] = json!(format!("p{i}@example.com"));
        }
        if i % 10 == 0 {
            doc["tags"] = json!(["vip"]);
        }
        if i == 299 {
            doc["age"] = json!("unknown");
        }
        let key = format!("p{i:03}");
        let mut line = doc.clone();
        line["_id"] = json!(key);
        lines.push_str(&format!("{line}\n"));
        all.push((key, doc));
    }
    let file = home.dir.path().join("people.jsonl");
    std::fs::write(&file, lines).unwrap();
    home.run(&["put", "crm/person", "--batch", file.to_str().unwrap(), "-q"])
        .ok();
    all
}

/// Every page of `find ARGS --json`, each after the one before by its
/// cursor: the keys in the order given. `between` sees the keys so far
/// after each page.
fn walk(home: &Home, args: &[&str], mut between: impl FnMut(&[String])) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut all = vec!["find", "--json"];
        all.extend_from_slice(args);
        if let Some(c) = &cursor {
            all.extend(["--cursor", c.as_str()]);
        }
        let page = home.run(&all).json();
        seen.extend(keys(&page));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
        between(&seen);
    }
}

fn keys(out: &Value) -> Vec<String> {
    out["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn find_returns_what_the_conditions_select_in_the_order_asked() {
    let home = Home::with_folder("redb");
    let all = people(&home);
    let age = |d: &Value| d["age"].as_i64();

    let out = home
        .run(&[
            "find",
            "crm/person",
            "--where",
            "age >= 60",
            "--where",
            r#"city = "London""#,
            "--json",
        ])
        .json();
    let expected: Vec<String> = all
        .iter()
        .filter(|(_, d)| age(d).is_some_and(|a| a >= 60) && d["city"] == "London")
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(keys(&out), expected, "in key order");
    let first = &out["records"][0];
    assert!(
        first["version"].as_str().is_some_and(|v| v.contains('.')),
        "{first}"
    );
    assert_eq!(first["doc"]["city"], "London");
    assert_eq!(out["next"], Value::Null);

    // A string sorts after every number: `age > 80` includes it.
    let over = home
        .run(&["find", "crm/person", "--where", "age > 80", "--count"])
        .ok()
        .trim()
        .parse::<usize>()
        .unwrap();
    let expected = all
        .iter()
        .filter(|(_, d)| age(d).is_none_or(|a| a > 80))
        .count();
    assert_eq!(over, expected);

    // Missing fields, in, prefix, exists.
    let count = |conds: &[&str]| {
        let mut args = vec!["find", "crm/person", "--count"];
        for c in conds {
            args.extend(["--where", c]);
        }
        home.run(&args).ok().trim().parse::<usize>().unwrap()
    };
    assert_eq!(count(&["email exists false"]), 100);
    assert_eq!(count(&["email != \"p1@example.com\""]), 299);
    assert_eq!(count(&[r#"tags = ["vip"]"#]), 30);
    assert_eq!(count(&[r#"city in ["Paris", "Porto"]"#]), 150);
    assert_eq!(count(&[r#"city prefix "Lis""#, "email exists"]), 50);

    // By a field, largest first, paged by cursor: every record once, in
    // the order the test computes.
    let mut expected: Vec<(Value, String)> = all
        .iter()
        .map(|(k, d)| (d["age"].clone(), k.clone()))
        .collect();
    expected.sort_by(|a, b| {
        let rank = |v: &Value| (v.is_string(), v.as_i64().unwrap_or(0));
        rank(&b.0).cmp(&rank(&a.0)).then(b.1.cmp(&a.1))
    });
    let expected: Vec<String> = expected.into_iter().map(|(_, k)| k).collect();
    let seen = walk(
        &home,
        &["crm/person", "--order-by", "age", "--desc", "--limit", "40"],
        |seen| {
            if seen.len() == 120 {
                // Written between pages: one that sorts before the cursor (not
                // seen again), one after it (seen once, as now).
                home.put("crm/person/p000", r#"{"age": 1000}"#);
                home.put("crm/person/zz", r#"{"age": 0}"#);
            }
        },
    );
    // p000 (age 20, not yet seen) moved before the cursor: not seen; zz
    // (age 0) sorts last: seen at the end; every other record once, in order.
    let mut unchanged = expected.clone();
    unchanged.retain(|k| k != "p000");
    unchanged.push("zz".into());
    assert_eq!(seen, unchanged);

    // Human output: key TAB document; the cursor on stderr.
    let out = home.run(&["find", "crm/person", "--where", "age = 20", "--limit", "2"]);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len(), 2);
    // (p000 is 1000 now: p010 is the first of age 20.)
    assert!(lines[0].starts_with("p010\t{"), "{lines:?}");
    assert!(out.stderr.contains("more: --cursor "), "{}", out.stderr);

    let plan = home
        .run(&[
            "find",
            "crm/person",
            "--where",
            "age >= 60",
            "--explain",
            "--json",
        ])
        .json();
    assert_eq!(plan["plan"]["method"], "scan");
    assert_eq!(plan["plan"]["examined"], 301);
    assert_eq!(plan["plan"]["conditions"], json!(["age >= 60"]));
    let both = home
        .run(&[
            "find",
            "crm/person",
            "--where",
            "age >= 60",
            "--explain",
            "--count",
            "--json",
        ])
        .json();
    assert_eq!(both["count"], both["plan"]["matched"]);
}

#[test]
fn bad_queries_are_refused_with_what_is_wrong() {
    let home = Home::with_folder("redb");
    home.put("crm/person/ada", r#"{"age": 36}"#);
    for (args, needle) in [
        (vec!["--where", "age >== 30"], "unknown operator \">==\""),
        (vec!["--where", "age ~ 30"], "unknown operator \"~\""),
        (vec!["--where", "city = London"], "double quotes"),
        (vec!["--where", "age >= {"], "is not JSON"),
        (vec!["--where", "a..b = 1"], "not a field path"),
        (vec!["--where", "tags in 3"], "a JSON array"),
        (vec!["--order-by", "a b"], "--order-by"),
        (vec!["--cursor", "nope"], "not one a page gave"),
        (vec!["--limit", "0"], "0"),
    ] {
        let mut all = vec!["find", "crm/person"];
        all.extend(args.iter().copied());
        home.run(&all).fails(2, needle);
    }
    home.run(&["find", "crm/person/ada"])
        .fails(2, "not a record");
    home.run(&["find", "nosuch/person", "--where", "a = 1"])
        .fails(3, "no database nosuch");
    assert_eq!(home.get("crm/person/ada"), json!({"age": 36}));
}

/// Reads a child's stdout lines as JSON, one at a time, with a deadline.
struct Lines {
    child: std::process::Child,
    rx: std::sync::mpsc::Receiver<String>,
}

impl Lines {
    fn spawn(mut cmd: std::process::Command) -> Lines {
        let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Lines { child, rx }
    }

    /// The next event as (result, op, key, age).
    fn next(&self) -> (String, String, String, Value) {
        let line = self
            .rx
            .recv_timeout(std::time::Duration::from_secs(15))
            .expect("an event within 15 s");
        let e: Value = serde_json::from_str(&line).unwrap();
        (
            e["result"].as_str().unwrap_or("").to_owned(),
            e["op"].as_str().unwrap().to_owned(),
            e["key"].as_str().unwrap_or("").to_owned(),
            e["doc"]["age"].clone(),
        )
    }

    fn quiet_for(&self, d: std::time::Duration) {
        if let Ok(line) = self.rx.recv_timeout(d) {
            panic!("no event expected, got {line}");
        }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_live_query_starts_with_its_result_and_follows_local_and_remote_changes() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/a", r#"{"age": 40}"#);
    hub.home.put("crm/person/b", r#"{"age": 20}"#);
    hub.home.put("crm/person/c", r#"{"age": 50}"#);
    let client = hub.client("");
    let ev = |r: &str, op: &str, k: &str, age: Value| (r.into(), op.into(), k.into(), age);

    let live = Lines::spawn(client.cmd(&["watch", "crm/person", "--where", "age >= 30"]));
    assert_eq!(live.next(), ev("enter", "put", "a", json!(40)));
    assert_eq!(live.next(), ev("enter", "put", "c", json!(50)));

    client.put("crm/person/b", r#"{"age": 35}"#);
    assert_eq!(live.next(), ev("enter", "put", "b", json!(35)));
    client
        .run(&["patch", "crm/person/a", r#"{"age": 45}"#])
        .ok();
    assert_eq!(live.next(), ev("change", "put", "a", json!(45)));
    client.put("crm/person/c", r#"{"age": 10}"#);
    assert_eq!(live.next(), ev("leave", "put", "c", json!(10)));
    client.put("crm/person/e", r#"{"age": 5}"#);
    client.run(&["del", "crm/person/a"]).ok();
    assert_eq!(
        live.next(),
        ev("leave", "delete", "a", Value::Null),
        "e never entered"
    );
    // A write on the hub arrives by sync.
    hub.home.put("crm/person/d", r#"{"age": 99}"#);
    assert_eq!(live.next(), ev("enter", "put", "d", json!(99)));
    client.run(&["drop", "crm/person", "--yes"]).ok();
    assert_eq!(live.next(), ev("leave", "drop", "b", Value::Null));
    assert_eq!(live.next(), ev("leave", "drop", "d", Value::Null));
    live.quiet_for(std::time::Duration::from_millis(300));

    client
        .run(&["watch", "crm/person/a", "--where", "age > 1"])
        .fails(2, "one collection");
    client
        .run(&["watch", "crm/person", "--where", "age >>> 1"])
        .fails(2, "unknown operator");
}

/// Random puts, patches and deletes under a live query: the result the
/// stream builds (enter and change add, leave removes) is `find`'s at the
/// end, and no event contradicts the ones before it.
#[test]
fn a_live_query_replays_to_what_find_returns() {
    let home = Home::with_folder("redb");
    for i in 0..10 {
        home.put(
            &format!("crm/person/k{i}"),
            &format!(r#"{{"age":{}}}"#, i * 11),
        );
    }
    let live = Lines::spawn(home.cmd(&["watch", "crm/person", "--where", "age >= 50"]));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..120 {
        let key = format!("crm/person/k{}", rand(16));
        match rand(4) {
            0 => {
                let _ = home.cmd(&["del", &key]).output();
            }
            1 => {
                let _ = home
                    .cmd(&["patch", &key, &format!(r#"{{"age":{}}}"#, rand(100))])
                    .output();
            }
            _ => {
                home.put(&key, &format!(r#"{{"age":{},"n":{}}}"#, rand(100), rand(9)));
            }
        }
    }
    let expected = home
        .run(&["find", "crm/person", "--where", "age >= 50", "--json"])
        .json()["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_owned(), r["doc"].clone()))
        .collect::<std::collections::BTreeMap<_, _>>();
    let mut members = std::collections::BTreeMap::new();
    while let Ok(line) = live.rx.recv_timeout(std::time::Duration::from_secs(2)) {
        let e: Value = serde_json::from_str(&line).unwrap();
        let key = e["key"].as_str().unwrap().to_owned();
        let result = e["result"].as_str().unwrap();
        let was = members.contains_key(&key);
        match result {
            "enter" => assert!(!was, "{key} entered twice: {line}"),
            "change" | "leave" => assert!(was, "{key} not in the result: {line}"),
            other => panic!("result {other}"),
        }
        if result == "leave" {
            members.remove(&key);
        } else {
            members.insert(key, e["doc"].clone());
        }
    }
    assert_eq!(members, expected);
}

/// A sorted query reads the whole collection, however many pages of the
/// store that takes, and a walk by cursor visits every record once.
#[test]
fn a_sorted_query_reads_past_one_store_page() {
    let home = Home::with_folder("redb");
    let lines: String = (0..3000)
        .map(|i| format!("{{\"_id\":\"k{i:04}\",\"n\":{}}}\n", 3000 - i))
        .collect();
    let file = home.dir.path().join("rev.jsonl");
    std::fs::write(&file, lines).unwrap();
    home.run(&["put", "rev/r", "--batch", file.to_str().unwrap(), "-q"])
        .ok();
    let first = home
        .run(&["find", "rev/r", "--order-by", "n", "--limit", "1", "--json"])
        .json();
    assert_eq!(keys(&first), ["k2999"]);
    let last = home
        .run(&["find", "rev/r", "--desc", "--limit", "1", "--json"])
        .json();
    assert_eq!(keys(&last), ["k2999"]);
    let seen = walk(
        &home,
        &["rev/r", "--order-by", "n", "--limit", "700"],
        |_| {},
    );
    let expected: Vec<String> = (0..3000).rev().map(|i| format!("k{i:04}")).collect();
    assert_eq!(seen, expected);
    // A cursor belongs to its order.
    let c = cursor_of(&home);
    home.run(&["find", "rev/r", "--order-by", "k", "--cursor", &c])
        .fails(2, "another order");
}

fn cursor_of(home: &Home) -> String {
    home.run(&["find", "rev/r", "--order-by", "n", "--limit", "5", "--json"])
        .json()["next"]
        .as_str()
        .unwrap()
        .to_owned()
}
