//! The local core through the command: records, keys, listings, drops,
//! imports, watch, and durability across `kill -9` — on both engines.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::*;

/// Runs each scenario once per engine, as separate tests.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod redb {
            $(#[test] fn $name() { super::$name("redb") })*
        }
        mod sqlite {
            $(#[test] fn $name() { super::$name("sqlite") })*
        }
    };
}

on_both_engines!(
    put_get_patch_del_round_trip,
    keys_come_from_address_then_id_then_uuidv7,
    ls_lists_databases_collections_and_records,
    drop_removes_older_records_and_later_writes_live,
    batch_import_is_one_transaction,
    watch_replays_then_streams_without_gap_or_duplicate,
    acknowledged_writes_survive_kill_9,
);

fn put_get_patch_del_round_trip(engine: &str) {
    let h = Home::with_folder(engine);
    assert_eq!(
        h.put(
            "crm/person/42",
            r#"{"name":"Ada","age":36,"big":12345678901234567890}"#
        ),
        "42"
    );
    assert_eq!(
        h.get("crm/person/42"),
        json!({"name":"Ada","age":36,"big":12345678901234567890u64})
    );

    h.run(&[
        "patch",
        "crm/person/42",
        r#"{"age":null,"email":"ada@example.com"}"#,
    ])
    .ok();
    assert_eq!(
        h.get("crm/person/42"),
        json!({"name":"Ada","email":"ada@example.com","big":12345678901234567890u64})
    );

    // put replaces the whole document
    h.put("crm/person/42", r#"{"name":"Ada L."}"#);
    assert_eq!(h.get("crm/person/42"), json!({"name":"Ada L."}));

    let full = h.run(&["get", "crm/person/42", "--json"]).json();
    assert_eq!(full["key"], "42");
    assert!(full["seq"].as_u64().unwrap() >= 3);

    h.run(&["del", "crm/person/42"]).ok();
    h.run(&["get", "crm/person/42"])
        .fails(3, "no record crm/person/42");
    h.run(&["del", "crm/person/42"]).fails(3, "no record");
    h.run(&["patch", "crm/person/42", "{}"])
        .fails(3, "no record");
    h.run(&["get", "nodb/person/1"])
        .fails(3, "no database nodb");
}

fn keys_come_from_address_then_id_then_uuidv7(engine: &str) {
    let h = Home::with_folder(engine);
    assert_eq!(h.put("crm/person/a1", r#"{"_id":"ignored"}"#), "a1");
    assert_eq!(h.put("crm/person", r#"{"_id":"b2","n":1}"#), "b2");
    assert_eq!(h.put("crm/person", r#"{"_id":7}"#), "7");
    let made1 = h.put("crm/person", r#"{"n":2}"#);
    let made2 = h.put("crm/person", r#"{"n":3}"#);
    for k in [&made1, &made2] {
        assert_eq!(k.len(), 36, "a UUID: {k}");
        assert_eq!(&k[14..15], "7", "version 7: {k}");
    }
    assert!(made1 < made2, "UUIDv7 keys are time-ordered");
    let stdin = h.run_stdin(&["put", "crm/person", "-"], br#"{"_id":"from-stdin"}"#);
    assert_eq!(stdin.ok(), "from-stdin");
    h.run(&["put", "crm/person", r#"{"_id":[1]}"#])
        .fails(2, "must be a string or an integer");
}

fn ls_lists_databases_collections_and_records(engine: &str) {
    let h = Home::with_folder(engine);
    for k in ["a1", "a2", "b1", "b2", "b3"] {
        h.put(&format!("crm/person/{k}"), &format!(r#"{{"k":"{k}"}}"#));
    }
    h.put("crm/org/x", "{}");
    h.put("notes/page/1", "{}");
    h.run(&["del", "crm/person/b2"]).ok();

    let dbs = h.run(&["ls", "--json"]).json_lines();
    let names: Vec<_> = dbs.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["crm", "notes"]);
    assert_eq!(dbs[0]["records"], 5);
    assert_eq!(dbs[0]["engine"], engine);

    let colls = h.run(&["ls", "crm", "--json"]).json_lines();
    assert_eq!(
        colls,
        [
            json!({"name":"org","records":1}),
            json!({"name":"person","records":4})
        ]
    );

    let keys =
        |args: &[&str]| -> Vec<String> { h.run(args).ok().lines().map(str::to_owned).collect() };
    assert_eq!(
        keys(&["ls", "crm/person", "--keys"]),
        ["a1", "a2", "b1", "b3"]
    );
    assert_eq!(
        keys(&["ls", "crm/person", "--keys", "--prefix", "b"]),
        ["b1", "b3"]
    );
    assert_eq!(
        keys(&["ls", "crm/person", "--keys", "--limit", "3"]),
        ["a1", "a2", "b1"]
    );
    assert_eq!(h.records("crm/person")[0], ("a1".into(), json!({"k":"a1"})));
    assert_eq!(keys(&["ls", "crm/person"])[0], "a1\t{\"k\":\"a1\"}");
    h.run(&["ls", "nodb"]).fails(3, "no database nodb");
}

fn drop_removes_older_records_and_later_writes_live(engine: &str) {
    let h = Home::with_folder(engine);
    h.put("crm/person/1", "{}");
    h.put("crm/org/1", "{}");
    h.run(&["drop", "crm/person", "--yes"]).ok();
    assert!(h.records("crm/person").is_empty());
    assert_eq!(
        h.records("crm/org").len(),
        1,
        "other collections are untouched"
    );
    h.put("crm/person/2", r#"{"after":true}"#);
    assert_eq!(
        h.records("crm/person"),
        [("2".into(), json!({"after":true}))]
    );

    h.run(&["drop", "crm", "--yes"]).ok();
    assert!(h.records("crm/org").is_empty() && h.records("crm/person").is_empty());
    h.put("crm/org/3", "{}");
    assert_eq!(h.records("crm/org").len(), 1);
    h.run(&["drop", "crm/person/2"])
        .fails(2, "use `syncdb del`");
    h.run(&["drop", "nodb"]).fails(3, "no database nodb");
}

fn batch_import_is_one_transaction(engine: &str) {
    let h = Home::with_folder(engine);
    let good: String = (0..2500)
        .map(|i| format!("{{\"_id\":\"k{i:05}\",\"n\":{i}}}\n"))
        .collect();
    let out = h.run_stdin(
        &["put", "crm/person", "--batch", "-", "--json"],
        good.as_bytes(),
    );
    assert_eq!(out.json()["imported"], 2500);
    assert_eq!(h.records("crm/person").len(), 2500);
    assert_eq!(h.get("crm/person/k01234"), json!({"_id":"k01234","n":1234}));

    // A bad line anywhere writes nothing, and the error names the line.
    let mut bad = String::new();
    for i in 0..5000 {
        bad.push_str(&format!("{{\"_id\":\"z{i}\"}}\n"));
    }
    bad.push_str("{\"_id\":\"oops\",\n");
    let out = h.run_stdin(&["put", "crm/person", "--batch", "-"], bad.as_bytes());
    out.fails(2, "line 5001");
    assert!(
        out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );
    assert_eq!(
        h.records("crm/person").len(),
        2500,
        "nothing of the bad batch was written"
    );
    h.run(&["get", "crm/person/z0"]).fails(3, "no record");

    // From a file, blank lines skipped, keys made when there is no _id.
    let file = h.dir.path().join("in.jsonl");
    std::fs::write(&file, "{\"a\":1}\n\n{\"a\":2}\n").unwrap();
    let out = h.run(&[
        "put",
        "notes/page",
        "--batch",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.json()["imported"], 2);
    assert_eq!(h.records("notes/page").len(), 2);
}

fn watch_replays_then_streams_without_gap_or_duplicate(engine: &str) {
    let h = Home::with_folder(engine);
    for i in 0..20 {
        h.put(&format!("crm/person/{i}"), &format!(r#"{{"v":{i}}}"#));
    }
    h.put("crm/person/3", r#"{"v":"again"}"#); // key 3 moves to the end of the feed
    let mut watch = h
        .cmd(&["watch", "crm", "--since", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let mut next =
        move || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };

    // Replay: seqs 6..=21 hold keys 5..=19 and then key 3 (its latest change).
    let mut seen = Vec::new();
    for _ in 0..16 {
        seen.push(next());
    }
    let replay_keys: Vec<_> = seen
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: Vec<String> = (5..20).map(|i| i.to_string()).collect();
    expected.push("3".into());
    assert_eq!(replay_keys, expected);
    assert_eq!(seen.last().unwrap()["doc"], json!({"v":"again"}));

    // Live: writes from another client appear, in order, once each.
    let writer = {
        let bin = BIN.to_owned();
        let home = h.home();
        let folder = h.folder();
        std::thread::spawn(move || {
            for i in 100..150 {
                let st = std::process::Command::new(&bin)
                    .args(["put", &format!("crm/person/{i}"), "{}"])
                    .env("SYNCDB_HOME", &home)
                    .current_dir(&folder)
                    .output()
                    .unwrap();
                assert!(st.status.success());
            }
        })
    };
    for i in 100..150 {
        seen.push(next());
        assert_eq!(seen.last().unwrap()["key"], i.to_string());
    }
    writer.join().unwrap();
    h.run(&["del", "crm/person/100"]).ok();
    let del = next();
    assert_eq!(
        (del["op"].as_str(), del["doc"].is_null()),
        (Some("delete"), true)
    );
    seen.push(del);
    let seqs: Vec<u64> = seen.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing seqs: {seqs:?}"
    );
    assert_eq!(seqs[0], 6);
    let _ = watch.kill();
    let _ = watch.wait();
}

fn acknowledged_writes_survive_kill_9(engine: &str) {
    let h = Home::with_folder(engine);
    for round in 0..3 {
        for i in 0..30 {
            h.put(
                &format!("crm/person/{round}-{i}"),
                &format!(r#"{{"i":{i}}}"#),
            );
        }
        let lines: String = (0..500)
            .map(|i| format!("{{\"_id\":\"b{round}-{i}\"}}\n"))
            .collect();
        h.run_stdin(&["put", "crm/bulk", "--batch", "-"], lines.as_bytes())
            .ok();
        h.kill_daemon();
        // The next command starts a new daemon, which must find every write.
        assert_eq!(h.records("crm/person").len(), 30 * (round + 1));
        assert_eq!(h.records("crm/bulk").len(), 500 * (round + 1));
        assert_eq!(h.get(&format!("crm/person/{round}-29")), json!({"i":29}));
    }
    h.run(&["daemon", "stop"]).ok();
    let file = h.folder().join(format!("crm.{engine}"));
    assert!(file.exists());
}

#[test]
fn sqlite_layout_is_readable_with_sqlite3_while_the_daemon_runs() {
    let h = Home::with_folder("sqlite");
    h.put("crm/person/1", r#"{"name":"Ada","tags":["x"]}"#);
    h.put("crm/person/2", r#"{"name":"Bob"}"#);
    h.run(&["del", "crm/person/2"]).ok();
    let db = h.folder().join("crm.sqlite");
    let q = |sql: &str| {
        let out = std::process::Command::new("sqlite3")
            .arg(&db)
            .arg(sql)
            .output()
            .expect("sqlite3 is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(
        q("select json_extract(doc,'$.name') from records where collection='person' and key='1'"),
        "Ada"
    );
    assert_eq!(q("select count(*) from documents"), "1");
    assert_eq!(
        q("select doc is null from records where key='2'"),
        "1",
        "deleted: doc is NULL"
    );
    assert_eq!(
        q("select records from collections where name='person'"),
        "1"
    );
    assert_eq!(q("pragma journal_mode"), "wal");
    assert!(h.daemon_pid().is_some(), "the daemon was running all along");
}

#[test]
fn folders_are_found_upwards_or_by_dash_c() {
    let h = Home::with_folder("redb");
    let sub = h.folder().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let out = h
        .cmd(&["put", "crm/p/1", "{}"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert!(out.status.success());
    let other = tempfile::tempdir().unwrap();
    let elsewhere = h
        .cmd(&["get", "crm/p/1"])
        .current_dir(other.path())
        .output()
        .unwrap();
    assert!(
        elsewhere.status.success(),
        "the only registered folder is used"
    );
    let f = h.folder();
    let by_c = h
        .cmd(&["-C", f.to_str().unwrap(), "get", "crm/p/1"])
        .current_dir(other.path())
        .output()
        .unwrap();
    assert!(by_c.status.success());

    // With two folders, "which one" must be said.
    let second = h.dir.path().join("g");
    h.run(&["init", second.to_str().unwrap()]).ok();
    let out = h
        .cmd(&["get", "crm/p/1"])
        .current_dir(other.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("several folders"));
    let status = h.run(&["status", "--json"]).json();
    assert_eq!(status["folders"].as_array().unwrap().len(), 2);
    // init of an existing folder keeps its id
    let id1 = h.run(&["init"]).ok().to_owned();
    let id2 = h.run(&["init"]).ok().to_owned();
    assert_eq!(id1, id2);
}
