//! Bad input through the command: each row is refused with a clear message
//! and the documented exit code, and nothing stored changes.

use crate::support::*;

/// (arguments, stdin, exit code, what stderr must say)
const ROWS: &[(&[&str], &str, i32, &str)] = &[
    (
        &["put", "crm/person/1", r#"{"x":"#],
        "",
        2,
        "invalid JSON at line 1 column 5",
    ),
    (
        &["put", "crm/person/1", "{x:1}"],
        "",
        2,
        "invalid JSON at line 1 column 2",
    ),
    (
        &["put", "crm/person/1", "{} {}"],
        "",
        2,
        "more text after the JSON value",
    ),
    (
        &["put", "crm/person/1", "{\n\"a\":\n}"],
        "",
        2,
        "line 3 column 1",
    ),
    (
        &["put", "crm/person/1", "[1]"],
        "",
        2,
        "must be a JSON object",
    ),
    (
        &["put", "crm/person/1", "\"s\""],
        "",
        2,
        "must be a JSON object",
    ),
    (
        &["put", "crm/person/1", "42"],
        "",
        2,
        "must be a JSON object",
    ),
    (
        &["put", "crm/person/1", "null"],
        "",
        2,
        "must be a JSON object",
    ),
    (&["put", "crm/person/1", "-"], "", 2, "invalid JSON"),
    (
        &["put", "crm/../x", "{}"],
        "",
        2,
        "allowed: 1-64 characters",
    ),
    (
        &["put", "crm/a b/1", "{}"],
        "",
        2,
        "allowed: 1-64 characters",
    ),
    (&["put", "-crm/p/1", "{}"], "", 2, ""),
    (&["put", "/abs/p/1", "{}"], "", 2, "it is empty"),
    (&["put", "crm", "{}"], "", 2, "expected DB/COLL"),
    (&["get", "crm/person"], "", 2, "expected DB/COLL/KEY"),
    (&["put", "crm/CON:x/1", "{}"], "", 2, "allowed"),
    (
        &["put", "crm/person/1", "{}", "--no-such-flag"],
        "",
        2,
        "unexpected argument",
    ),
    (
        &["put", "crm/person", "--batch", "-"],
        "{\"a\":1}\n[2]\n",
        2,
        "line 2: a document must be a JSON object",
    ),
    (
        &["put", "crm/person/1", "--batch", "-"],
        "{}\n",
        2,
        "put --batch takes DB/COLL",
    ),
    (&["ls", "crm/person/1"], "", 2, "not a record"),
    (
        &["watch", "--since", "3"],
        "",
        2,
        "--since needs a database",
    ),
    (
        &["init", "--engine", "mysql"],
        "",
        2,
        "[possible values: redb, sqlite]",
    ),
];

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let h = Home::with_folder("redb");
    h.put("crm/person/1", r#"{"keep":true}"#);
    let before = h.records("crm/person");
    let seq_before = h.run(&["ls", "--json"]).json_lines();
    for (args, stdin, code, needle) in ROWS {
        let out = h.run_stdin(args, stdin.as_bytes());
        assert_eq!(out.code, *code, "{args:?}: stderr {}", out.stderr);
        assert!(
            out.stderr.contains(needle),
            "{args:?}: stderr should say {needle:?}: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?}: nothing on stdout: {}",
            out.stdout
        );
    }
    assert_eq!(h.records("crm/person"), before);
    assert_eq!(
        h.run(&["ls", "--json"]).json_lines(),
        seq_before,
        "no seq moved"
    );
}

#[test]
fn oversize_documents_are_refused_by_the_configured_limit() {
    let h = Home::new();
    h.set_config("[daemon]\nmax_document_bytes = 1000");
    h.run(&["init"]).ok();
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(2000));
    h.run(&["put", "crm/p/1", &big])
        .fails(2, "document too large (2008 > 1000 bytes)");
    let out = h.run_stdin(
        &["put", "crm/p", "--batch", "-"],
        format!("{{}}\n{big}\n").as_bytes(),
    );
    out.fails(2, "line 2: document too large");
    // Nothing was imported, so not even the database it began is left.
    h.run(&["ls", "crm/p"]).fails(3, "no database crm");
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    h.run(&["put", "crm/p/1", &deep])
        .fails(2, "nested deeper than 128 levels");
}

#[test]
fn errors_are_json_with_json_flag() {
    let h = Home::with_folder("redb");
    let out = h.run(&["get", "crm/p/1", "--json"]);
    assert_eq!(out.code, 3);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(err["error"]["exit"], 3);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no database crm")
    );
}

#[test]
fn a_bad_config_is_refused_naming_the_line() {
    let h = Home::new();
    h.set_config("engine = \"redb\"\n[daemon]\nmax_connections = \"many\"");
    let out = h.run(&["daemon", "run"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("config.toml:3:"), "{}", out.stderr);
}
