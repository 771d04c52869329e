//! `syncdb index`, end to end: queries through an index answer exactly as
//! the same queries did by reading the whole collection; an index follows
//! every write (local, synced, deleted, dropped) and a schema's
//! declarations; a build killed with -9 resumes and stays in step; bad
//! input is refused with what is wrong.

use serde_json::{Value, json};

use crate::support::*;

/// 400 people with `age`, `city`, `meta.rank` and `email` on some, and a
/// string `age` on one.
fn people(home: &Home, n: usize) {
    let cities = ["Lisbon", "London", "Paris", "Porto"];
    let mut lines = String::new();
    for i in 0..n {
        let mut doc = json!({
            "_id": format!("p{i:04}"),
            "age": 20 + (i * 7) % 70,
            "city": cities[i % 4],
            "meta": {"rank": (i * 13) % 5},
        });
        if i % 3 != 0 {
            doc["email"] = json!(format!("p{i}@example.com"));
        }
        if i == 7 {
            doc["age"] = json!("unknown");
        }
        lines.push_str(&format!("{doc}\n"));
    }
    let file = home.dir.path().join("people.jsonl");
    std::fs::write(&file, lines).unwrap();
    home.run(&["put", "crm/person", "--batch", file.to_str().unwrap(), "-q"])
        .ok();
}

/// Queries with their flags: conditions, orders, pages.
const QUERIES: &[&[&str]] = &[
    &["--where", "age = 41"],
    &["--where", "age >= 60", "--where", r#"city = "London""#],
    &[
        "--where",
        r#"city = "London""#,
        "--order-by",
        "age",
        "--limit",
        "7",
    ],
    &[
        "--where",
        r#"city = "Paris""#,
        "--order-by",
        "age",
        "--desc",
        "--limit",
        "9",
    ],
    &[
        "--where",
        r#"city in ["Paris", "Porto"]"#,
        "--where",
        "age < 30",
    ],
    &["--where", "age > 80", "--order-by", "age", "--limit", "5"],
    &["--where", r#"email prefix "p1""#, "--limit", "11"],
    &["--where", "email exists false", "--order-by", "meta.rank"],
    &["--where", "meta.rank = 3", "--where", "age <= 30", "--desc"],
    &["--order-by", "age", "--desc", "--limit", "50"],
    &["--where", r#"city = "Lisbon""#, "--where", "age != 41"],
];

/// Every page of `find DB/COLL ARGS --json`, joined by cursor, and the
/// plan of the first page.
fn walk(home: &Home, args: &[&str]) -> (Vec<Value>, Value) {
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    let mut plan = Value::Null;
    loop {
        let mut all = vec!["find", "crm/person", "--json"];
        all.extend_from_slice(args);
        if let Some(c) = &cursor {
            all.extend(["--cursor", c.as_str()]);
        }
        let page = home.run(&all).json();
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        if plan.is_null() {
            let mut explain = all.clone();
            explain.push("--explain");
            plan = home.run(&explain).json()["plan"].clone();
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (records, plan),
        }
    }
}

fn queries_answer_alike(engine: &str) {
    let home = Home::with_folder(engine);
    people(&home, 400);
    let before: Vec<Vec<Value>> = QUERIES.iter().map(|q| walk(&home, q).0).collect();
    for fields in ["age", "city,age", "email", "meta.rank,age"] {
        home.run(&["index", "create", "crm/person", fields, "-q"])
            .ok();
    }
    let ls = home.run(&["index", "ls", "crm", "--json"]).json();
    let states: Vec<&str> = ls["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["ready"; 4], "`create` waits for the build: {ls}");
    let mut through = 0;
    for (q, expected) in QUERIES.iter().zip(&before) {
        let (got, plan) = walk(&home, q);
        assert_eq!(&got, expected, "{q:?} on {engine}: {plan}");
        assert!(!expected.is_empty(), "{q:?} selects something");
        if plan["method"] == "index" {
            through += 1;
        }
    }
    assert!(through >= 9, "most queries use an index ({through})");

    let plan = home
        .run(&[
            "find",
            "crm/person",
            "--where",
            r#"city = "London""#,
            "--order-by",
            "age",
            "--limit",
            "3",
            "--explain",
            "--json",
        ])
        .json()["plan"]
        .clone();
    assert_eq!(
        (&plan["method"], &plan["index"], &plan["ordered"]),
        (
            &json!("index"),
            &json!("crm/person(city,age)"),
            &json!(true)
        )
    );
    assert!(
        plan["examined"].as_u64().unwrap() <= 4,
        "an ordered read stops at a full page: {plan}"
    );
    let text = home.run(&["find", "crm/person", "--where", "age = 41", "--explain"]);
    assert!(
        text.ok().starts_with(
            "plan: index crm/person(age), read in the query's order, deciding every condition\nread: 40 records, 40 matched\n"
        ),
        "{}",
        text.ok()
    );

    // Dropped, the same queries scan again, with the same answers.
    home.run(&["index", "drop", "crm/person", "age", "-q"]).ok();
    let (again, plan) = walk(&home, QUERIES[0]);
    assert_eq!(again, before[0]);
    assert_eq!(plan["method"], "scan", "{plan}");
    home.run(&["index", "check", "crm"]).ok();
}

#[test]
fn queries_through_indexes_answer_as_full_reads_redb() {
    queries_answer_alike("redb");
}

#[test]
fn queries_through_indexes_answer_as_full_reads_sqlite() {
    queries_answer_alike("sqlite");
}

fn count(home: &Home, coll: &str, cond: &str) -> (u64, Value) {
    let out = home
        .run(&[
            "find",
            coll,
            "--where",
            cond,
            "--count",
            "--explain",
            "--json",
        ])
        .json();
    (out["count"].as_u64().unwrap(), out["plan"].clone())
}

#[test]
fn an_index_follows_local_writes_synced_writes_deletes_and_drops() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/a", r#"{"city":"London"}"#);
    let client = hub.client("");
    client
        .run(&["index", "create", "crm/person", "city", "-q"])
        .ok();
    let london = |h: &Home| count(h, "crm/person", r#"city = "London""#);
    assert_eq!(london(&client).0, 1);
    assert_eq!(london(&client).1["method"], "index");

    // Remote writes arrive by sync, and the index follows them.
    hub.home.put("crm/person/b", r#"{"city":"London"}"#);
    hub.home.put("crm/person/a", r#"{"city":"Paris"}"#);
    hub.home.put("crm/person/c", r#"{"city":"London"}"#);
    hub.home.run(&["del", "crm/person/c"]).ok();
    client.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(london(&client).0, 1, "only b is in London now");
    // Local writes, a patch, a delete.
    client.put("crm/person/d", r#"{"city":"London"}"#);
    client
        .run(&["patch", "crm/person/b", r#"{"city":null}"#])
        .ok();
    client.run(&["del", "crm/person/d"]).ok();
    assert_eq!(london(&client).0, 0);
    let (none, _) = count(&client, "crm/person", "city exists false");
    assert_eq!(none, 1, "b, with no city");
    // A drop on the hub empties the index here; writes after it count.
    hub.home.run(&["drop", "crm/person", "--yes"]).ok();
    hub.home.put("crm/person/e", r#"{"city":"London"}"#);
    client.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(london(&client).0, 1);
    assert_eq!(count(&client, "crm/person", "city exists").0, 1);
    let check = client.run(&["index", "check", "--json"]).json();
    assert_eq!(check["indexes"][0]["entries"], 1, "{check}");
    assert_eq!(check["indexes"][0]["problems"], json!([]));
}

#[test]
fn a_schema_declares_indexes_on_every_replica() {
    let hub = Hub::new("sqlite");
    hub.home.put("crm/person/a", r#"{"age":30}"#);
    let client = hub.client("");
    // Made by hand on the hub before a schema declares it too.
    hub.home
        .run(&["index", "create", "crm/person", "age", "-q"])
        .ok();
    let v1 = hub.home.dir.path().join("v1.toml");
    std::fs::write(
        &v1,
        "name = \"crm\"\nversion = 1\n[collections.person]\nindexes = [\"age\", \"city,age\"]\n",
    )
    .unwrap();
    hub.home
        .run(&["schema", "set", "crm", v1.to_str().unwrap()])
        .ok();
    client.run(&["sync", "--once", "-q"]).ok();
    let ls = eventually(std::time::Duration::from_secs(10), || {
        let ls = client.run(&["index", "ls", "crm/person", "--json"]).json();
        let all = ls["indexes"].as_array().unwrap().clone();
        (all.len() == 2 && all.iter().all(|i| i["state"] == "ready")).then_some(all)
    });
    assert_eq!(ls[0]["fields"], json!(["age"]));
    assert_eq!(ls[1]["declared"], 1);
    assert_eq!(
        count(&client, "crm/person", "age = 30").1["method"],
        "index"
    );
    client
        .run(&["index", "drop", "crm/person", "age"])
        .fails(2, "declared by schema version 1");
    // A version that no longer declares one removes it everywhere.
    let v2 = hub.home.dir.path().join("v2.toml");
    std::fs::write(
        &v2,
        "name = \"crm\"\nversion = 2\n[collections.person]\nindexes = [\"city,age\"]\n",
    )
    .unwrap();
    hub.home
        .run(&["schema", "set", "crm", v2.to_str().unwrap()])
        .ok();
    client.run(&["sync", "--once", "-q"]).ok();
    let ls = client.run(&["index", "ls", "crm", "--json"]).json();
    let fields: Vec<Value> = ls["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fields"].clone())
        .collect();
    assert_eq!(fields, [json!(["city", "age"])]);
    // The hub's own, made by hand, stays (no longer declared).
    let hub_ls = hub.home.run(&["index", "ls", "crm", "--json"]).json();
    let kept: Vec<(Value, Value)> = hub_ls["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["fields"].clone(),
                i.get("declared").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (json!(["age"]), Value::Null),
            (json!(["city", "age"]), json!(2))
        ]
    );
    let bad = hub.home.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"crm\"\nversion = 3\n[collections.person]\nindexes = [\"a..b\"]\n",
    )
    .unwrap();
    hub.home
        .run(&["schema", "check", bad.to_str().unwrap()])
        .fails(2, "indexes[0]");
}

#[test]
fn a_build_killed_midway_resumes_and_stays_in_step() {
    let home = Home::with_folder("redb");
    people(&home, 30_000);
    home.run(&[
        "index",
        "create",
        "crm/person",
        "city,age",
        "--no-wait",
        "-q",
    ])
    .ok();
    // Checked while it builds: what is built so far is in step.
    let early = home.run(&["index", "check", "--json"]).json();
    assert_eq!(early["indexes"][0]["problems"], json!([]), "{early}");
    home.kill_daemon();
    let ls = home.run(&["index", "ls", "--json"]).json();
    let after_kill = ls["indexes"][0]["state"].as_str().unwrap().to_owned();
    // Opening the database (the `ls` above) resumed the build.
    let done = eventually(std::time::Duration::from_secs(60), || {
        let ls = home.run(&["index", "ls", "--json"]).json();
        (ls["indexes"][0]["state"] == "ready").then_some(ls)
    });
    assert_eq!(done["indexes"][0]["records"], 30_000);
    let check = home.run(&["index", "check", "--json"]).json();
    assert_eq!(check["indexes"][0]["entries"], 30_000, "{check}");
    let (n, plan) = count(&home, "crm/person", r#"city = "Porto""#);
    assert_eq!((n, &plan["method"]), (7_500, &json!("index")));
    eprintln!("state right after the kill: {after_kill}");
}

#[test]
fn bad_index_requests_are_refused_with_what_is_wrong() {
    let home = Home::with_folder("redb");
    home.put("crm/person/a", r#"{"age":1}"#);
    for (args, code, needle) in [
        (vec!["create", "crm/person", "a..b"], 2, "not a field path"),
        (vec!["create", "crm/person", "age,age"], 2, "named twice"),
        (vec!["create", "crm/person/a", "age"], 2, "not a record"),
        (
            vec!["create", "crm", "age"],
            2,
            "does not name a collection",
        ),
        (vec!["create", "crm/_schema", "age"], 2, "schema"),
        (vec!["create", "nope/person", "age"], 3, "no database nope"),
        (vec!["drop", "crm/person", "age"], 3, "crm/person has none"),
        (vec!["ls", "crm/person/a"], 2, "not a record"),
    ] {
        let mut all = vec!["index"];
        all.extend(args.iter().copied());
        home.run(&all).fails(code, needle);
    }
    home.run(&["index", "create", "crm/person", "age", "-q"])
        .ok();
    let again = home
        .run(&["index", "create", "crm/person", "age", "--json"])
        .json();
    assert_eq!(
        (again["created"].clone(), again["state"].clone()),
        (json!(false), json!("ready"))
    );
    home.run(&["index", "drop", "crm/person", "city"])
        .fails(3, "crm/person has: age");
    // A value no float holds is printed as stored, and missing to queries.
    home.put("crm/person/huge", r#"{"age":1e400,"n":-1e400}"#);
    let out = home.run(&["find", "crm/person", "--json"]);
    assert!(
        out.ok().contains(r#"{"age":1e400,"n":-1e400}"#),
        "{}",
        out.ok()
    );
    let (n, plan) = count(&home, "crm/person", "age exists false");
    assert_eq!((n, &plan["method"]), (1, &json!("index")));
    home.run(&["find", "crm/person", "--where", "age = 1e400"])
        .fails(2, "beyond the 64-bit float range");
}
