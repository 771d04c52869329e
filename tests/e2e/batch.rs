//! `put --batch` beyond plain documents: a listing imports back under its
//! keys, keys taken from a named field, and a dry run that writes nothing.

use crate::support::*;

fn listing(home: &Home, dir: &str, address: &str) -> String {
    home.run(&["-C", dir, "ls", address, "--json"])
        .ok()
        .to_owned()
}

#[test]
fn a_listing_imports_back_under_its_keys_with_the_same_documents() {
    let home = Home::with_folder("redb");
    home.put("crm/person/42", r#"{"name":"Ada","tags":["x",{"y":1.50}]}"#);
    home.put("crm/person/7", r#"{"name":"Bob"}"#);
    // A document that merely has a `key` field is not a record.
    home.put("crm/person/k", r#"{"key":"other","n":1}"#);
    let other = home.dir.path().join("g");
    let other = other.to_str().unwrap();
    home.run(&["init", other, "--engine", "sqlite"]).ok();
    let here = home.folder();
    let listed = listing(&home, here.to_str().unwrap(), "crm/person");

    let out = home.run_stdin(
        &["-C", other, "put", "crm/person", "--batch", "-"],
        listed.as_bytes(),
    );
    assert!(out.stderr.contains("imported 3 records"), "{}", out.stderr);
    out.ok();
    assert_eq!(listing(&home, other, "crm/person"), listed);
    assert_eq!(
        home.run(&["-C", other, "get", "crm/person/42"]).json(),
        serde_json::json!({"name":"Ada","tags":["x",{"y":1.50}]})
    );
}

#[test]
fn format_decides_what_a_record_shaped_line_is() {
    let home = Home::with_folder("redb");
    let line = r#"{"key":"42","doc":{"name":"Ada"}}"#;
    let out = home.run_stdin(
        &["put", "crm/raw", "--batch", "-", "--format", "docs"],
        line.as_bytes(),
    );
    out.ok();
    let records = home.records("crm/raw");
    assert_eq!(records.len(), 1);
    assert_ne!(records[0].0, "42", "docs keeps the wrapper as the document");
    assert_eq!(records[0].1["key"], "42");

    // With records, a plain document is refused by line, and nothing lands.
    let out = home.run_stdin(
        &["put", "crm/rec", "--batch", "-", "--format", "records"],
        format!("{line}\n{{\"name\":\"Bob\"}}\n").as_bytes(),
    );
    out.fails(2, "line 2: missing \"key\" or \"doc\"");
    assert!(
        out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );
    assert!(home.run(&["get", "crm/rec/42"]).code != 0);

    let out = home.run(&["put", "crm/x", "--batch", "-", "--format", "csv"]);
    out.fails(2, "[possible values: auto, docs, records]");
    let out = home.run(&[
        "put",
        "crm/x",
        "--batch",
        "-",
        "--format",
        "records",
        "--key-field",
        "id",
    ]);
    out.fails(2, "--key-field is for documents");
}

#[test]
fn key_field_names_where_each_key_is_and_a_line_without_it_is_refused() {
    let home = Home::with_folder("sqlite");
    let lines = "{\"email\":\"ada@x\",\"n\":1}\n{\"email\":\"bob@x\",\"n\":2}\n";
    home.run_stdin(
        &["put", "crm/person", "--batch", "-", "--key-field", "email"],
        lines.as_bytes(),
    )
    .ok();
    let keys: Vec<String> = home
        .records("crm/person")
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(keys, ["ada@x", "bob@x"]);

    let out = home.run_stdin(
        &["put", "crm/person", "--batch", "-", "--key-field", "email"],
        b"{\"email\":\"cy@x\"}\n{\"_id\":\"9\"}\n",
    );
    out.fails(2, "line 2: no field \"email\" to take the key from");
    assert_eq!(
        home.records("crm/person").len(),
        2,
        "nothing of the batch landed"
    );
    home.run(&["put", "crm/person", "--batch", "-", "--key-field", ""])
        .fails(2, "--key-field needs a field name");

    // A dotted path reaches into an object, as a schema's key path does;
    // so does the config's daemon.key_path for a single put.
    home.run_stdin(
        &["put", "crm/org", "--batch", "-", "--key-field", "meta.id"],
        b"{\"meta\":{\"id\":\"o1\"},\"n\":1}\n",
    )
    .ok();
    assert_eq!(home.records("crm/org")[0].0, "o1");
    home.run_stdin(
        &["put", "crm/org", "--batch", "-", "--key-field", "meta.id"],
        b"{\"meta\":{\"key\":\"o2\"}}\n",
    )
    .fails(2, "line 1: no field \"meta.id\"");
    home.run(&["daemon", "stop"]).ok();
    let config = home.home().join("config/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("key_path = \"_id\"\n"), "{text}");
    let text = text.replacen("key_path = \"_id\"\n", "key_path = \"meta.id\"\n", 1);
    std::fs::write(&config, text).unwrap();
    assert_eq!(home.put("crm/org", r#"{"meta":{"id":"o3"}}"#), "o3");
}

#[test]
fn a_dry_run_counts_checks_and_writes_nothing() {
    let home = Home::with_folder("sqlite");
    let lines = "{\"n\":1}\n\n{\"n\":2}\n{\"_id\":\"7\",\"n\":3}\n";
    let out = home.run_stdin(
        &["put", "new/person", "--batch", "-", "--dry-run"],
        lines.as_bytes(),
    );
    assert_eq!(
        out.ok(),
        "would import 3 records into new/person (dry run: nothing was written)"
    );
    assert_eq!(home.run(&["ls"]).ok(), "", "no database was created");
    let files: Vec<_> = std::fs::read_dir(home.folder())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(files.is_empty(), "a dry run leaves no file: {files:?}");

    // A bad line fails the dry run as it would fail the import.
    let out = home.run_stdin(
        &["put", "new/person", "--batch", "-", "--dry-run"],
        b"{\"n\":1}\n{\"n\":tru}\n",
    );
    out.fails(2, "line 2, column 9: expected a JSON value");

    // On an existing database: the count, and its records untouched.
    home.put("crm/person/1", r#"{"v":"old"}"#);
    let out = home.run_stdin(
        &["put", "crm/person", "--batch", "-", "--dry-run", "--json"],
        b"{\"_id\":\"1\",\"v\":\"new\"}\n",
    );
    assert_eq!(out.json()["imported"], 1);
    assert_eq!(out.json()["dry_run"], true);
    assert_eq!(home.get("crm/person/1"), serde_json::json!({"v":"old"}));
    home.run(&["put", "crm/person/1", "{}", "--dry-run"])
        .fails(2, "--batch");
}
