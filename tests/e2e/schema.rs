//! Schemas from the command: files checked offline, errors that point at
//! the line and column, and what the check reports of a good file.

use std::time::Duration;

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
            "s.toml:4:10: collections.p.schema: a `$ref` to a file or URL is not allowed: a schema must be self-contained",
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

/// Version 1 of a schema with a checked `person` and a re-keyed `org`.
const V1: &str = r#"name = "crm"
version = 1

[collections.person]
schema = { type = "object", required = ["name"], properties = { name = { type = "string" }, age = { type = "integer", minimum = 0 } } }

[collections.org]
key_path = "meta.id"
"#;

/// Starts `home` syncing with `hub`, as remote `hub`.
fn connect(hub: &Hub, home: &Home) {
    let token = hub.token_file(&[]);
    let token = token.to_str().unwrap();
    home.run(&["remote", "add", "hub", &hub.url(), "--token-file", token])
        .ok();
}

fn schema_file(home: &Home, name: &str, text: &str) -> String {
    let path = home.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn local_writes_that_break_the_schema_are_refused_with_the_pointer_and_write_nothing() {
    let home = Home::with_folder("redb");
    let v1 = schema_file(&home, "v1.toml", V1);
    let set = home.run(&["schema", "set", "crm", &v1]).ok().to_owned();
    assert!(set.starts_with("crm: schema crm v1 ("), "{set}");
    home.put("crm/person/1", r#"{"name":"Ada","age":36}"#);

    // A put: the address, the pointer, the rule; exit 2; nothing written.
    let bad = home.run(&["put", "crm/person/2", r#"{"name":"Bob","age":-1}"#]);
    bad.fails(
        2,
        "record crm/person/2 breaks schema crm v1: at /age: -1 is less than the minimum of 0",
    );
    home.run(&["get", "crm/person/2"]).fails(3, "no record");
    // A patch is checked on the merged result.
    let patch = home.run(&["patch", "crm/person/1", r#"{"name":null}"#]);
    patch.fails(
        2,
        "record crm/person/1 breaks schema crm v1: the document: \"name\" is a required property",
    );
    assert_eq!(home.get("crm/person/1")["name"], "Ada");
    // A batch with one bad line writes nothing, and names the line.
    let lines = "{\"_id\":\"3\",\"name\":\"C\"}\n{\"_id\":\"4\",\"name\":\"D\"}\n{\"_id\":\"5\",\"name\":7}\n";
    let batch = home.run_stdin(&["put", "crm/person", "--batch"], lines.as_bytes());
    batch.fails(
        2,
        "line 3: record crm/person/5 breaks schema crm v1: at /name: 7 is not of type \"string\"",
    );
    assert_eq!(home.records("crm/person").len(), 1, "nothing of the batch");
    // The schema's own collection is not for put.
    home.run(&["put", "crm/_schema/x", "{}"])
        .fails(2, "collection _schema of crm holds the database's schema");
    // The key path comes from the schema.
    let key = home.put("crm/org", r#"{"meta":{"id":"acme"},"n":1}"#);
    assert_eq!(key, "acme");

    // Versions: lower refused, same with other content refused, same is a no-op.
    let v0 = schema_file(&home, "v0.toml", &V1.replace("version = 1", "version = 0"));
    home.run(&["schema", "set", "crm", &v0])
        .fails(2, "version must be a whole number from 1 up");
    let other = schema_file(
        &home,
        "other.toml",
        &V1.replace("minimum = 0", "minimum = 1"),
    );
    home.run(&["schema", "set", "crm", &other]).fails(
        2,
        "the database has schema version 1 already, with other content",
    );
    let again = home.run(&["schema", "set", "crm", &v1]).ok().to_owned();
    assert!(
        again.contains("already has schema crm v1") && again.contains("nothing changed"),
        "{again}"
    );
    let v2 = schema_file(&home, "v2.toml", &V1.replace("version = 1", "version = 2"));
    home.run(&["schema", "set", "crm", &v2]).ok();
    home.run(&["schema", "set", "crm", &v1])
        .fails(2, "the database is at schema version 2; version 1 is older");

    let show = home.run(&["schema", "show", "crm", "--json"]).json();
    assert_eq!(show["schema"]["version"], 2);
    assert_eq!(show["versions"], serde_json::json!([1, 2]));
    let status = home.run(&["status"]).ok().to_owned();
    assert!(status.contains("schema v2"), "{status}");
    home.run(&["schema", "check", "crm", "--data"]).ok();
}

#[test]
fn a_data_dropping_step_needs_allow_data_loss_and_says_how_many_records() {
    let home = Home::with_folder("sqlite");
    let v1 = schema_file(&home, "v1.toml", V1);
    home.run(&["schema", "set", "crm", &v1]).ok();
    for i in 0..3 {
        home.put(
            &format!("crm/person/{i}"),
            &format!(r#"{{"name":"p{i}","legacy":{i}}}"#),
        );
    }
    home.put("crm/person/9", r#"{"name":"no legacy"}"#);
    let v2 = format!(
        "{}\n[[migrate]]\nop = \"remove_field\"\ncollection = \"person\"\nfield = \"legacy\"\n",
        V1.replace("version = 1", "version = 2")
    );
    let v2 = schema_file(&home, "v2.toml", &v2);
    let diff = home.run(&["schema", "diff", "crm", &v2]).ok().to_owned();
    assert!(diff.contains("v1 ("), "{diff}");
    assert!(
        diff.contains("step: remove field person.legacy (3 records, drops data in 3 records)"),
        "{diff}"
    );
    home.run(&["schema", "set", "crm", &v2]).fails(
        2,
        "its steps would lose data: remove field person.legacy (3 records); see `syncdb schema diff`, then set it again with --allow-data-loss",
    );
    assert_eq!(home.get("crm/person/1")["legacy"], 1, "nothing changed");
    let done = home
        .run(&["schema", "set", "crm", &v2, "--allow-data-loss"])
        .ok()
        .to_owned();
    assert!(done.contains("v1 (") && done.contains("→ v2 ("), "{done}");
    for (_, doc) in home.records("crm/person") {
        assert!(doc.get("legacy").is_none(), "{doc}");
    }
}

#[test]
fn schema_versions_converge_on_the_highest_and_migrations_run_on_every_replica() {
    let hub = Hub::new("redb");
    let a = hub.client("");
    let b = hub.client("");
    let v1 = schema_file(&a, "v1.toml", V1);
    a.run(&["schema", "set", "crm", &v1]).ok();
    for i in 0..5 {
        a.put(
            &format!("crm/person/{i}"),
            &format!(r#"{{"name":"p{i}","fullname":"P {i}"}}"#),
        );
    }
    a.run(&["sync", "--once", "--timeout", "30"]).ok();
    b.run(&["sync", "--once", "--timeout", "30"]).ok();
    assert_eq!(
        b.run(&["schema", "show", "crm", "--json"]).json()["schema"]["version"],
        1
    );

    // v2 renames fullname to name (the newer value wins) and sets a default.
    let v2 = format!(
        "{}\n[[migrate]]\nop = \"rename_field\"\ncollection = \"person\"\nfrom = \"fullname\"\nto = \"name\"\n\n[[migrate]]\nop = \"set_default\"\ncollection = \"person\"\nfield = \"active\"\nvalue = true\n",
        V1.replace("version = 1", "version = 2")
    );
    let v2a = schema_file(&a, "v2.toml", &v2);
    let v2b = schema_file(&b, "v2.toml", &v2);
    // Both clients move to v2 at once: the steps run on both, and merge.
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.run(&["schema", "set", "crm", &v2a, "--allow-data-loss"]));
        let tb = s.spawn(|| b.run(&["schema", "set", "crm", &v2b, "--allow-data-loss"]));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    ra.ok();
    rb.ok();
    converged(&[&a, &b, &hub.home]);
    for home in [&a, &b, &hub.home] {
        let docs = home.records("crm/person");
        assert_eq!(docs.len(), 5);
        for (key, doc) in docs {
            assert_eq!(doc["name"], format!("P {key}"), "{doc}");
            assert_eq!(doc["active"], true, "{doc}");
            assert!(doc.get("fullname").is_none(), "{doc}");
        }
        let show = home.run(&["schema", "show", "crm", "--json"]).json();
        assert_eq!(show["schema"]["version"], 2);
    }
}

#[test]
fn the_same_version_with_other_content_stops_only_that_database_on_both_sides() {
    let hub = Hub::new("redb");
    let a = hub.client("");
    let v1 = schema_file(&a, "v1.toml", V1);
    a.run(&["schema", "set", "crm", &v1]).ok();
    a.put("crm/person/1", r#"{"name":"from a"}"#);
    a.run(&["sync", "--once", "--timeout", "30"]).ok();

    // b edits version 1 apart, offline, then connects.
    let b = hub.follower("");
    let other = schema_file(&b, "other.toml", &V1.replace("minimum = 0", "minimum = 18"));
    b.run(&["schema", "set", "crm", &other]).ok();
    b.put("notes/n/1", r#"{"text":"still syncs"}"#);
    connect(&hub, &b);
    let once = b.run(&["sync", "--once", "--timeout", "30"]);
    once.fails(
        1,
        "schema conflict: crm has schema version 1 here and on the peer, with different content",
    );
    // Visible on both sides; the other database syncs.
    let status = b.run(&["status"]).ok().to_owned();
    assert!(
        status.contains("not syncing with hub: schema conflict"),
        "{status}"
    );
    let remotes = b.run(&["remote", "ls"]).ok().to_owned();
    assert!(
        remotes.contains("crm not syncing: schema conflict"),
        "{remotes}"
    );
    eventually(Duration::from_secs(30), || {
        let s = hub.home.run(&["status"]).ok().to_owned();
        s.contains("not syncing with peer with token").then_some(())
    });
    eventually(Duration::from_secs(30), || {
        (a.run(&["get", "notes/n/1"]).code == 0).then_some(())
    });
    b.run(&["get", "crm/person/1"]).fails(3, "no record");
    // `sync --once` still waits for the databases that sync, then fails.
    let lines: String = (0..3000)
        .map(|i| format!("{{\"_id\":\"{i}\",\"n\":{i}}}\n"))
        .collect();
    b.run_stdin(&["put", "notes/bulk", "--batch", "-"], lines.as_bytes())
        .ok();
    b.run(&["sync", "--once", "--timeout", "30"])
        .fails(1, "schema conflict");
    assert_eq!(
        hub.home.records("notes/bulk").len(),
        3000,
        "the other database is across"
    );

    // A higher version on one side ends it: both sync again, at v2.
    let v2 = schema_file(&b, "v2.toml", &V1.replace("version = 1", "version = 2"));
    b.run(&["schema", "set", "crm", &v2]).ok();
    b.run(&["sync", "--once", "--timeout", "30"]).ok();
    converged(&[&a, &b, &hub.home]);
    assert_eq!(b.get("crm/person/1")["name"], "from a");
    assert_eq!(
        a.run(&["schema", "show", "crm", "--json"]).json()["schema"]["version"],
        2
    );
}

#[test]
fn reset_pulls_a_replica_again_and_refuses_to_lose_unpushed_writes() {
    let hub = Hub::new("redb");
    let a = hub.client("");
    for i in 0..20 {
        a.put(&format!("crm/person/{i}"), &format!(r#"{{"name":"p{i}"}}"#));
    }
    a.run(&["sync", "--once", "--timeout", "30"]).ok();
    let before = a.digests();
    let out = a.run(&["reset", "crm", "--timeout", "30"]).ok().to_owned();
    assert_eq!(out, "reset crm: pulled it again from origin");
    assert_eq!(a.digests(), before, "the same data, pulled again");
    assert_eq!(a.records("crm/person").len(), 20);

    // With the hub gone, a write made here would be lost: refused.
    hub.home.kill_daemon();
    a.put("crm/person/new", r#"{"name":"only here"}"#);
    let refused = a.run(&["reset", "crm", "--timeout", "5"]);
    refused.fails(
        1,
        "1 write to crm made here is not on a remote yet: a reset would lose it",
    );
    assert_eq!(a.get("crm/person/new")["name"], "only here");
    a.run(&["reset", "nope", "--timeout", "5"])
        .fails(3, "no database nope");
}

#[test]
fn a_merge_is_never_refused_and_what_breaks_the_schema_is_counted_and_listed() {
    let hub = Hub::new("sqlite");
    let a = hub.client("");
    let v1 = schema_file(&a, "v1.toml", V1);
    a.run(&["schema", "set", "crm", &v1]).ok();
    a.run(&["sync", "--once", "--timeout", "30"]).ok();
    // b writes before it has the schema, then syncs: its records merge.
    let b = hub.follower("");
    b.put("crm/person/bad", r#"{"name":"Eve","age":-5}"#);
    b.put("crm/person/good", r#"{"name":"Fay"}"#);
    connect(&hub, &b);
    b.run(&["sync", "--once", "--timeout", "30"]).ok();
    a.run(&["sync", "--once", "--timeout", "30"]).ok();
    converged(&[&a, &b, &hub.home]);
    for home in [&a, &b, &hub.home] {
        assert_eq!(home.get("crm/person/bad")["age"], -5, "merged, not refused");
        let listed = home.run(&["schema", "check", "crm", "--data"]);
        listed.fails(2, "1 record of crm breaks its schema");
        assert!(
            listed
                .stdout
                .contains("crm/person/bad at /age: -5 is less than the minimum of 0"),
            "{}",
            listed.stdout
        );
        let status = home.run(&["status"]).ok().to_owned();
        assert!(status.contains("1 record breaks the schema"), "{status}");
    }
    // A local write to it must fix it; one that does is taken.
    b.run(&["patch", "crm/person/bad", r#"{"name":"Eve2"}"#])
        .fails(2, "at /age: -5 is less than the minimum of 0");
    b.run(&["patch", "crm/person/bad", r#"{"age":5}"#]).ok();
    b.run(&["schema", "check", "crm", "--data"]).ok();
}

#[test]
fn two_clients_setting_one_version_at_once_never_lose_a_schema_in_silence() {
    let hub = Hub::new("redb");
    let a = hub.client("");
    let b = hub.client("");
    for round in 0..3 {
        let db = format!("race{round}");
        a.put(&format!("{db}/x/1"), "{}");
        a.run(&["sync", "--once", "--timeout", "30"]).ok();
        b.run(&["sync", "--once", "--timeout", "30"]).ok();
        let text = V1.replace("name = \"crm\"", &format!("name = \"{db}\""));
        let fa = schema_file(&a, "a.toml", &text);
        let fb = schema_file(&b, "b.toml", &format!("strict = true\n{text}"));
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| a.run(&["schema", "set", &db, &fa]));
            let tb = s.spawn(|| b.run(&["schema", "set", &db, &fb]));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        let show =
            |h: &Home| h.run(&["schema", "show", &db, "--json"]).json()["schema"]["hash"].clone();
        if ra.code == 0 && rb.code == 0 {
            // Both took: each keeps its own, and the database stops, visibly.
            let once = |h: &Home| h.run(&["sync", "--once", "--timeout", "30"]);
            let (oa, ob) = (once(&a), once(&b));
            assert!(
                [&oa, &ob]
                    .iter()
                    .any(|o| o.code == 1 && o.stderr.contains("schema conflict")),
                "a: {oa:?}\nb: {ob:?}"
            );
            let ours = |r: &Run| r.stdout.split(['(', ')']).nth(1).map(str::to_owned);
            let (ha, hb) = (show(&a), show(&b));
            assert_ne!(ha, hb, "neither schema was replaced by the other");
            assert!(
                ha.as_str().unwrap().starts_with(&ours(&ra).unwrap()),
                "{ra:?}"
            );
            assert!(
                hb.as_str().unwrap().starts_with(&ours(&rb).unwrap()),
                "{rb:?}"
            );
            // A version 2 from one side ends it, for the next round.
            let v2 = schema_file(&a, "a2.toml", &text.replace("version = 1", "version = 2"));
            a.run(&["schema", "set", &db, &v2]).ok();
            a.run(&["sync", "--once", "--timeout", "30"]).ok();
            b.run(&["sync", "--once", "--timeout", "30"]).ok();
            assert_eq!(show(&a), show(&b));
        } else {
            // One came second and was refused here: one schema everywhere.
            let refused = if ra.code == 0 { &rb } else { &ra };
            refused.fails(2, "already, with other content");
            a.run(&["sync", "--once", "--timeout", "30"]).ok();
            b.run(&["sync", "--once", "--timeout", "30"]).ok();
            assert_eq!(show(&a), show(&b));
        }
    }
}

#[test]
fn a_schema_must_fit_its_database_and_a_record_keeps_its_key_path() {
    let home = Home::new();
    home.set_config("[daemon]\nmax_document_bytes = 2048\n");
    home.run(&["init", home.folder().to_str().unwrap(), "-q"])
        .ok();
    let v1 = schema_file(&home, "v1.toml", V1);
    home.run(&["schema", "set", "notes", &v1]).fails(
        2,
        "the schema is named crm, not notes: set it on database crm, or name it notes",
    );
    home.run(&["ls"]).ok();
    home.run(&["get", "notes/x/1"])
        .fails(3, "no database notes");
    let big = format!(
        "{V1}\n[collections.big]\nschema = {{ description = \"{}\" }}\n",
        "x".repeat(3000)
    );
    let big = schema_file(&home, "big.toml", &big);
    home.run(&["schema", "set", "crm", &big]).fails(
        2,
        "over the 2048-byte limit of a record (daemon.max_document_bytes)",
    );
    // diff before the database exists; diff of an older version exits 2.
    let diff = home.run(&["schema", "diff", "crm", &v1]).ok().to_owned();
    assert!(diff.contains("there is no database crm yet"), "{diff}");
    home.run(&["schema", "set", "crm", &v1]).ok();
    let v2 = schema_file(&home, "v2.toml", &V1.replace("version = 1", "version = 2"));
    home.run(&["schema", "set", "crm", &v2]).ok();
    home.run(&["schema", "diff", "crm", &v1]).fails(
        2,
        "`schema set crm FILE` would refuse it: its version is older",
    );
    // The address's key must agree with the key path.
    home.run(&["put", "crm/org/other", r#"{"meta":{"id":"acme"}}"#])
        .fails(
            2,
            "the key \"other\" differs from the document's meta.id (\"acme\")",
        );
    // Dropped, then given a schema: the database is back, and listed.
    home.run(&["drop", "crm", "--yes"]).ok();
    home.run(&["schema", "set", "crm", &v1]).ok();
    let ls = home.run(&["ls"]).ok().to_owned();
    assert!(ls.contains("crm"), "{ls}");
}
