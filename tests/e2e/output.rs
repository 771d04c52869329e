//! What people and scripts read: quiet that is quiet, tables with
//! headers, sizes that count SQLite's WAL, "1 record".

use crate::support::*;

#[test]
fn daemon_start_and_status_are_silent_with_quiet() {
    let h = Home::new();
    let out = h.run(&["daemon", "start", "-q"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_eq!(out.stderr, "");
    let out = h.run(&["daemon", "status", "-q"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    // Without -q it still says so.
    assert!(
        h.run(&["daemon", "status"])
            .ok()
            .starts_with("running, pid ")
    );
}

/// The column at which `header`'s word `name` starts, and every row's cell
/// there is not blank and follows a blank (aligned).
fn assert_aligned(text: &str, names: &[&str]) {
    let mut rows = text.lines();
    let header = rows.next().expect("a header row");
    let rows: Vec<&str> = rows.collect();
    assert!(!rows.is_empty(), "{text}");
    for name in names {
        let col = header
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"));
        for row in &rows {
            let before = row[..col].chars().last();
            assert_eq!(before, Some(' '), "{name} column not aligned:\n{text}");
            assert_ne!(row[col..].chars().next(), Some(' '), "{name}:\n{text}");
        }
    }
}

#[test]
fn token_ls_and_remote_ls_have_aligned_headers_and_unchanged_json() {
    let hub = Hub::new("redb");
    hub.token_file(&[]);
    hub.token_file(&["--read-only", "--folder", &hub.folder_id]);
    let text = hub.home.run(&["token", "ls"]).ok().to_owned();
    assert!(text.starts_with("ID"), "{text}");
    assert_aligned(&text, &["FOLDER", "ACCESS"]);
    assert!(
        text.contains("read-only") && text.contains("any folder"),
        "{text}"
    );
    for t in hub.home.run(&["token", "ls", "--json"]).json_lines() {
        let mut keys: Vec<&String> = t.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["created_ms", "folder", "id", "read_only"], "{t}");
    }

    let c = hub.client("");
    c.run(&["remote", "add", "second-hub", &hub.url()]).ok();
    let text = c.run(&["remote", "ls"]).ok().to_owned();
    assert!(text.starts_with("NAME"), "{text}");
    assert_aligned(&text, &["URL", "STATE"]);
    let json = c.run(&["remote", "ls", "--json"]).json_lines();
    assert_eq!(json.len(), 2);
    assert!(
        json.iter()
            .all(|r| r.get("url").is_some() && r.get("name").is_some())
    );
}

#[test]
fn sizes_count_the_sqlite_wal() {
    let h = Home::with_folder("sqlite");
    // ~1.5 MB, well under SQLite's automatic checkpoint: it sits in the WAL.
    let pad = "x".repeat(300);
    let lines: String = (0..5000)
        .map(|i| format!("{{\"_id\":\"{i}\",\"pad\":\"{pad}\"}}\n"))
        .collect();
    h.run_stdin(&["put", "crm/p", "--batch", "-", "-q"], lines.as_bytes())
        .ok();
    let wal = std::fs::metadata(h.folder().join("crm.sqlite-wal")).map_or(0, |m| m.len());
    let ls = h.run(&["ls", "--json"]).json_lines();
    let bytes = ls[0]["bytes"].as_u64().unwrap();
    assert!(bytes >= 1_500_000, "{bytes} bytes (the WAL alone: {wal})");
    let status = h.run(&["status"]).ok().to_owned();
    assert!(status.contains(" MiB"), "{status}");
}

#[test]
fn one_record_is_counted_in_the_singular() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let h = &hub.home;
    let ls = h.run(&["ls"]).ok().to_owned();
    assert!(
        ls.contains(" 1 record ") && !ls.contains("1 records"),
        "{ls}"
    );
    let colls = h.run(&["ls", "crm"]).ok().to_owned();
    assert!(colls.ends_with(" 1 record"), "{colls}");
    let digest = h.run(&["digest"]).ok().to_owned();
    assert!(digest.ends_with("(1 record)"), "{digest}");
    let status = h.run(&["status"]).ok().to_owned();
    assert!(
        status.contains(" 1 record ") && !status.contains("1 records"),
        "{status}"
    );
    let imported = h.run_stdin(&["put", "crm/x", "--batch", "-"], b"{\"_id\":\"a\"}\n");
    assert!(
        imported.stderr.contains("imported 1 record into"),
        "{imported:?}"
    );
    h.put("crm/person/2", "{}");
    assert!(h.run(&["ls"]).ok().contains(" 3 records "));
}
