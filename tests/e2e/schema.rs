//! Schemas from the command: files checked offline, errors that point at
//! the line and column, and what the check reports of a good file.

use crate::support::*;

const CRM: &str = r#"name = "crm"
version = 3

[collections.person]
schema = { type = "object", required = ["name"], properties = { name = { type = "string" } } }

[collections.org]
key_path = "meta.id"
"#;

#[test]
fn schema_check_reports_a_good_file_without_a_daemon() {
    let home = Home::new();
    let file = home.dir.path().join("crm.schema.toml");
    std::fs::write(&file, CRM).unwrap();
    let file = file.to_str().unwrap();
    let out = home.run(&["schema", "check", file]);
    let text = out.ok();
    assert!(
        text.starts_with(&format!("{file}: schema crm version 3 (hash ")),
        "{text}"
    );
    assert!(
        text.contains("\n  org     key meta.id\n  person  key _id, JSON Schema"),
        "{text}"
    );
    let json = home.run(&["schema", "check", file, "--json"]).json();
    assert_eq!(json["version"], 3);
    assert_eq!(json["collections"][0]["key_path"], "meta.id");
    assert_eq!(json["hash"].as_str().unwrap().len(), 32);
    assert_eq!(home.daemon_pid(), None, "checking a file needs no daemon");

    // The same schema as JSON has the same hash; any change of content, another.
    let as_json = r#"{"name":"crm","version":3,"collections":{"org":{"key_path":"meta.id"},
        "person":{"schema":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}}}}"#;
    let same = home
        .run_stdin(&["schema", "check", "-", "--json"], as_json.as_bytes())
        .json();
    assert_eq!(same["hash"], json["hash"]);
    let changed = as_json.replace("meta.id", "meta.key");
    let other = home
        .run_stdin(&["schema", "check", "-", "--json"], changed.as_bytes())
        .json();
    assert_ne!(other["hash"], json["hash"]);
}

#[test]
fn schema_check_names_file_line_and_column_and_what_is_allowed() {
    let home = Home::new();
    let rows: &[(&str, &str)] = &[
        (
            "name = \"crm\"\nversion = 0\n",
            "s.toml:2:11: version must be a whole number from 1 up, not 0",
        ),
        (
            "name = \"crm\"\nversion = 1\ncolour = 2\n",
            "s.toml:3:1: unknown field `colour`, expected one of `name`, `version`, `strict`, `collections`",
        ),
        ("name = \"crm db\"\nversion = 1\n", "s.toml:1:8: "),
        (
            "name = \"crm\"\nversion = 1\n[collections.p]\nkey_path = \"a..b\"\n",
            "s.toml:4:12: collections.p.key_path: \"a..b\" is not a key path: allowed are",
        ),
        (
            "name = \"crm\"\nversion = 1\n[collections.p]\nschema = { type = \"nope\" }\n",
            "s.toml:4:10: collections.p.schema: not a valid JSON Schema (drafts 4, 6, 7, 2019-09 and 2020-12)",
        ),
        (
            "name = \"crm\"\nversion = 1\n[collections.p]\nschema = { \"$ref\" = \"https://example.com/x.json\" }\n",
            "s.toml:4:10: collections.p.schema: not a valid JSON Schema",
        ),
    ];
    let file = home.dir.path().join("s.toml");
    for (text, want) in rows {
        std::fs::write(&file, text).unwrap();
        let out = home.run(&["schema", "check", file.to_str().unwrap()]);
        out.fails(2, want);
        assert!(out.stdout.is_empty(), "{out:?}");
    }
    let missing = home.run(&["schema", "check", "/nonexistent/s.toml"]);
    missing.fails(2, "cannot read /nonexistent/s.toml");
    let json = home.run_stdin(
        &["schema", "check", "-"],
        b"{\"name\": \"crm\",\n \"version\": }",
    );
    json.fails(2, "-:2:13: ");
}
