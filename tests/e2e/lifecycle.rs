//! The lifecycle of databases and folders: what creates a database (a
//! write, never a read), what a failed write leaves (nothing), what a drop
//! leaves (a hidden, compacted file whose marker still wins merges), and
//! how registered folders are listed, moved and forgotten — a failed clone
//! included.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;
use crate::terminal::Tty;

/// The files in `dir` whose names start with `name.` (a database and its
/// side files).
fn files_of(dir: &Path, name: &str) -> Vec<String> {
    let prefix = format!("{name}.");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    found.sort();
    found
}

fn database_names(h: &Home, args: &[&str]) -> Vec<String> {
    h.run(args)
        .json_lines()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

fn reads_never_create_a_database(engine: &str) {
    let h = Home::with_folder(engine);
    h.put("crm/person/1", "{}");
    for args in [
        vec!["get", "cmr/person/1"],
        vec!["ls", "cmr"],
        vec!["ls", "cmr/person"],
        vec!["watch", "cmr"],
        vec!["watch", "cmr/person", "--since", "0"],
        vec!["watch", "cmr/person/1"],
        vec!["digest", "cmr"],
        vec!["repair", "cmr"],
        vec!["patch", "cmr/person/1", "{}"],
        vec!["del", "cmr/person/1"],
        vec!["drop", "cmr"],
        vec!["drop", "cmr/person", "--yes"],
    ] {
        let out = h.run(&args);
        assert_eq!(out.code, 3, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("no database cmr"),
            "{args:?} names it: {out:?}"
        );
        assert_eq!(
            files_of(&h.folder(), "cmr"),
            Vec::<String>::new(),
            "{args:?}"
        );
    }
    // The folder-wide reads do not create one either.
    for args in [vec!["ls"], vec!["status"], vec!["digest"]] {
        h.run(&args).ok();
    }
    assert_eq!(files_of(&h.folder(), "cmr"), Vec::<String>::new());
    assert_eq!(database_names(&h, &["ls", "--all", "--json"]), ["crm"]);
}

#[test]
fn reads_never_create_a_database_redb() {
    reads_never_create_a_database("redb");
}

#[test]
fn reads_never_create_a_database_sqlite() {
    reads_never_create_a_database("sqlite");
}

#[test]
fn a_write_that_creates_a_database_says_so() {
    let h = Home::with_folder("redb");
    let first = h.run(&["put", "cmr/person/1", "{}", "--json"]).json();
    assert_eq!(first["created_database"], true, "{first}");
    let again = h.run(&["put", "cmr/person/2", "{}", "--json"]).json();
    assert_eq!(again.get("created_database"), None, "{again}");

    let batch = h
        .run_stdin(
            &["put", "new/c", "--batch", "-", "--json"],
            b"{\"_id\":\"1\"}\n",
        )
        .json();
    assert_eq!(batch["created_database"], true, "{batch}");
    assert_eq!(batch["imported"], 1);

    // For scripts without --json, stdout and stderr stay as they were.
    let plain = h.run(&["put", "other/c/1", "{}"]);
    assert_eq!(plain.ok(), "1");
    assert!(!plain.stderr.contains("created"), "{plain:?}");

    // A person at a terminal sees the typo.
    let Some(tty) = Tty::start(&h, 100, 10, "put typo/person/1 '{}'") else {
        return;
    };
    let (code, screen) = tty.exit();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("created database typo"), "{screen}");
    let Some(tty) = Tty::start(&h, 100, 10, "put typo/person/2 '{}'") else {
        return;
    };
    let (code, screen) = tty.exit();
    assert_eq!(code, 0, "{screen}");
    assert!(
        !screen.contains("created database"),
        "only the first: {screen}"
    );
}

fn a_failed_import_into_a_new_database_leaves_nothing(engine: &str) {
    let h = Home::with_folder(engine);
    h.put("crm/person/1", r#"{"n":1}"#);
    let bad = b"{\"_id\":\"a\"}\n{\"_id\":\"b\"}\n{\"_id\":\"c\",}\n";
    h.run_stdin(&["put", "fresh/c", "--batch", "-"], bad)
        .fails(2, "nothing was imported");
    assert_eq!(files_of(&h.folder(), "fresh"), Vec::<String>::new());
    assert_eq!(database_names(&h, &["ls", "--all", "--json"]), ["crm"]);
    h.run(&["get", "fresh/c/a"]).fails(3, "fresh");

    // Into an existing database: it stays, as it was.
    h.run_stdin(&["put", "crm/person", "--batch", "-"], bad)
        .fails(2, "nothing was imported");
    assert_eq!(h.records("crm/person"), [("1".into(), json!({"n":1}))]);

    // A client that goes away mid-import: the database it began goes too.
    let mut child = h
        .cmd(&["put", "gone/c", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"_id\":\"x\"}\n").unwrap();
    eventually(Duration::from_secs(10), || {
        (!files_of(&h.folder(), "gone").is_empty()).then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    eventually(Duration::from_secs(10), || {
        files_of(&h.folder(), "gone").is_empty().then_some(())
    });
    // And the name is free for a later import that works.
    h.run_stdin(&["put", "gone/c", "--batch", "-"], b"{\"_id\":\"y\"}\n")
        .ok();
    assert_eq!(h.records("gone/c"), [("y".into(), json!({"_id":"y"}))]);
}

#[test]
fn a_failed_import_into_a_new_database_leaves_nothing_redb() {
    a_failed_import_into_a_new_database_leaves_nothing("redb");
}

#[test]
fn a_failed_import_into_a_new_database_leaves_nothing_sqlite() {
    a_failed_import_into_a_new_database_leaves_nothing("sqlite");
}

/// Size of the database file with SQLite's side files.
fn disk_bytes(dir: &Path, name: &str) -> u64 {
    files_of(dir, name)
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .sum()
}

fn a_drop_reclaims_space_and_hides_the_database(engine: &str) {
    let h = Home::with_folder(engine);
    h.put("empty/c/1", "{}");
    let empty = disk_bytes(&h.folder(), "empty");
    let lines: String = (0..5000)
        .map(|i| format!("{{\"_id\":\"k{i:05}\",\"pad\":\"{}\"}}\n", "x".repeat(200)))
        .collect();
    h.run_stdin(&["put", "crm/person", "--batch", "-"], lines.as_bytes())
        .ok();
    h.put("keep/c/1", "{}");
    let before = disk_bytes(&h.folder(), "crm");
    h.run(&["drop", "crm", "--yes"]).ok();
    let after = disk_bytes(&h.folder(), "crm");
    eprintln!("{engine}: one record {empty} B; 5000 records {before} B; after drop {after} B");
    assert!(
        after * 4 < before,
        "{engine}: the file shrinks after a drop: {before} -> {after} bytes"
    );

    assert!(h.records("crm/person").is_empty());
    assert_eq!(database_names(&h, &["ls", "--json"]), ["empty", "keep"]);
    // Dropped already: no second marker for every machine.
    let seq = |h: &Home| h.run(&["ls", "--all", "--json"]).json_lines()[1]["seq"].clone();
    let seq_before = seq(&h);
    h.run(&["drop", "crm", "--yes"])
        .fails(3, "database crm is dropped already: nothing to drop");
    assert_eq!(seq(&h), seq_before);
    let all = h.run(&["ls", "--all", "--json"]).json_lines();
    let crm: Vec<&Value> = all.iter().filter(|d| d["name"] == "crm").collect();
    assert_eq!(crm.len(), 1, "{all:?}");
    assert_eq!(
        (crm[0]["dropped"].clone(), crm[0]["records"].clone()),
        (json!(true), json!(0))
    );
    assert!(h.run(&["ls", "--all"]).ok().contains("dropped"));
    let status = h.run(&["status", "--json"]).json();
    let listed: Vec<_> = status["folders"][0]["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, ["empty", "keep"]);
    assert!(!h.run(&["status"]).ok().contains("crm"));
    assert!(h.run(&["status", "--all"]).ok().contains("crm"));

    // A write after the drop brings it back into the listings.
    h.put("crm/person/new", "{}");
    assert_eq!(
        database_names(&h, &["ls", "--json"]),
        ["crm", "empty", "keep"]
    );
    assert_eq!(h.records("crm/person").len(), 1);
}

#[test]
fn a_drop_reclaims_space_and_hides_the_database_redb() {
    a_drop_reclaims_space_and_hides_the_database("redb");
}

#[test]
fn a_drop_reclaims_space_and_hides_the_database_sqlite() {
    a_drop_reclaims_space_and_hides_the_database("sqlite");
}

#[test]
fn a_drop_that_removes_records_is_confirmed() {
    let h = Home::with_folder("redb");
    h.put("crm/person/1", "{}");
    h.put("crm/org/1", "{}");
    h.run(&["drop", "crm/person"]).fails(2, "pass --yes");
    h.run(&["drop", "crm", "--json"]).fails(2, "pass --yes");
    assert_eq!(h.records("crm/person").len(), 1, "nothing was dropped");
    // A collection that is not there: a typo, not a marker for every machine.
    h.run(&["drop", "crm/nothing"])
        .fails(3, "no collection nothing in crm (it has ");

    let Some(tty) = Tty::start(&h, 120, 10, "drop crm/person") else {
        return;
    };
    tty.wait_for("Continue? [y/N]");
    tty.keys(&["n", "Enter"]);
    let (code, screen) = tty.exit();
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("every machine"), "{screen}");
    assert_eq!(h.records("crm/person").len(), 1, "declined: kept");

    let Some(tty) = Tty::start(&h, 120, 10, "drop crm/person") else {
        return;
    };
    tty.wait_for("Continue? [y/N]");
    tty.keys(&["y", "Enter"]);
    let (code, screen) = tty.exit();
    assert_eq!(code, 0, "{screen}");
    assert!(h.records("crm/person").is_empty());
    assert_eq!(h.records("crm/org").len(), 1);
}

/// The compacted file keeps the marker: a write made elsewhere before the
/// drop, arriving after it, stays dropped on every replica.
#[test]
fn a_dropped_database_still_wins_over_older_writes_from_other_replicas() {
    for engine in ["redb", "sqlite"] {
        let hub = Hub::new(engine);
        hub.home.put("crm/person/1", "{}");
        let a = hub.follower("[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 400");
        let token = hub.token_file(&[]);
        let add = [
            "remote",
            "add",
            "origin",
            &hub.url(),
            "--token-file",
            token.to_str().unwrap(),
        ];
        a.run(&add).ok();
        a.run(&["sync", "--once", "-q"]).ok();
        assert_eq!(a.records("crm/person").len(), 1);
        // Offline, A writes; then the hub drops the database.
        a.run(&["remote", "rm", "origin"]).ok();
        a.put("crm/person/2", r#"{"offline":true}"#);
        std::thread::sleep(Duration::from_millis(5)); // a later millisecond for the drop
        hub.home.run(&["drop", "crm", "--yes"]).ok();
        a.run(&add).ok();
        a.run(&["sync", "--once", "-q"]).ok();
        converged(&[&hub.home, &a]);
        for h in [&hub.home, &a] {
            assert!(h.records("crm/person").is_empty(), "{engine}");
            assert_eq!(database_names(h, &["ls", "--json"]), Vec::<String>::new());
        }
    }
}

#[test]
fn init_with_another_engine_on_an_existing_folder_says_it_is_ignored() {
    let h = Home::with_folder("redb");
    let out = h.run(&["init", "--engine", "sqlite"]);
    out.ok();
    assert!(
        out.stderr.contains("--engine sqlite ignored") && out.stderr.contains("engine redb"),
        "{out:?}"
    );
    let json = h.run(&["init", "--engine", "sqlite", "--json"]).json();
    assert_eq!(
        (json["engine"].clone(), json["created"].clone()),
        (json!("redb"), json!(false))
    );
    let same = h.run(&["init", "--engine", "redb"]);
    same.ok();
    assert!(!same.stderr.contains("ignored"), "{same:?}");
    h.put("crm/p/1", "{}");
    assert_eq!(files_of(&h.folder(), "crm"), ["crm.redb"]);
}

fn folder_rows(h: &Home) -> Vec<Value> {
    h.run(&["folder", "ls", "--json"]).json_lines()
}

fn path_str(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_owned())
        .to_string_lossy()
        .into_owned()
}

#[test]
fn folder_ls_shows_each_registered_folder() {
    let hub = Hub::new("sqlite");
    let c = hub.client("");
    let other = c.dir.path().join("other");
    c.run(&["init", other.to_str().unwrap(), "--engine", "sqlite"])
        .ok();
    let rows = folder_rows(&c);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["id"], hub.folder_id.as_str());
    assert_eq!(rows[0]["path"], path_str(&c.folder()));
    assert_eq!(rows[0]["engine"], "redb");
    assert_eq!(rows[0]["remotes"][0]["name"], "origin");
    assert_eq!(rows[0]["remotes"][0]["url"], hub.url());
    assert_eq!(rows[0]["exists"], true);
    assert_eq!(rows[1]["engine"], "sqlite");
    assert_eq!(rows[1]["remotes"], json!([]));
    std::fs::remove_dir_all(&other).unwrap();
    let rows = folder_rows(&c);
    assert_eq!(rows[1]["exists"], false, "{rows:?}");
    let text = c.run(&["folder", "ls"]).ok().to_owned();
    assert!(
        text.contains("MISSING") && text.contains(&hub.folder_id),
        "{text}"
    );
}

#[test]
fn a_folder_moved_by_hand_is_reported_missing_and_repointed() {
    let h = Home::with_folder("sqlite");
    let id = h.run(&["init", "-q"]).ok().to_owned();
    h.put("crm/person/1", r#"{"n":1}"#);
    let old = path_str(&h.folder());
    let new = h.dir.path().join("moved");
    std::fs::rename(h.folder(), &new).unwrap();

    let status = h
        .cmd(&["status", "--json"])
        .current_dir(h.dir.path())
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let f = &status["folders"][0];
    assert_eq!(
        (f["missing"].clone(), f.get("engine")),
        (json!(true), None),
        "{status}"
    );
    let error = f["error"].as_str().unwrap();
    assert!(
        error.contains("missing")
            && error.contains("syncdb folder mv")
            && !error.contains("syncdb init"),
        "{error}"
    );
    let text = Run::from(
        h.cmd(&["status"])
            .current_dir(h.dir.path())
            .output()
            .unwrap(),
    );
    assert!(text.ok().contains("(missing)"), "{text:?}");

    let moved = Run::from(
        h.cmd(&["folder", "mv", &old, new.to_str().unwrap()])
            .current_dir(h.dir.path())
            .output()
            .unwrap(),
    );
    moved.ok();
    let rows = Run::from(
        h.cmd(&["folder", "ls", "--json"])
            .current_dir(h.dir.path())
            .output()
            .unwrap(),
    )
    .json_lines();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["id"].clone(), rows[0]["exists"].clone()),
        (json!(id), json!(true))
    );
    assert_eq!(rows[0]["path"], path_str(&new));
    let got = Run::from(
        h.cmd(&["-C", new.to_str().unwrap(), "get", "crm/person/1"])
            .current_dir(h.dir.path())
            .output()
            .unwrap(),
    );
    assert_eq!(got.ok(), r#"{"n":1}"#);
}

#[test]
fn folder_mv_moves_the_directory_and_it_keeps_working() {
    let h = Home::with_folder("redb");
    h.put("crm/person/1", r#"{"n":1}"#);
    let new = h.dir.path().join("elsewhere");
    let old = h.folder();
    h.run(&["folder", "mv", old.to_str().unwrap(), new.to_str().unwrap()])
        .ok();
    assert!(!old.exists() && new.join("crm.redb").is_file());
    let in_new = |args: &[&str]| {
        let mut all = vec!["-C", new.to_str().unwrap()];
        all.extend_from_slice(args);
        Run::from(h.cmd(&all).current_dir(h.dir.path()).output().unwrap())
    };
    assert_eq!(in_new(&["get", "crm/person/1"]).ok(), r#"{"n":1}"#);
    in_new(&["put", "crm/person/2", "{}"]).ok();
    assert_eq!(in_new(&["ls", "crm/person", "--keys"]).ok(), "1\n2");

    // A target that exists, or a folder that is not registered: refused.
    std::fs::create_dir_all(&old).unwrap();
    let back = Run::from(
        h.cmd(&["folder", "mv", new.to_str().unwrap(), old.to_str().unwrap()])
            .current_dir(h.dir.path())
            .output()
            .unwrap(),
    );
    back.fails(2, "already exists");
    h.run(&["folder", "mv", "/nowhere/at/all", "/tmp/x"])
        .fails(3, "no registered folder");
    assert!(new.join("crm.redb").is_file(), "nothing moved");
}

#[test]
fn folder_rm_forgets_a_folder_and_deletes_files_only_when_asked() {
    let h = Home::with_folder("sqlite");
    h.put("crm/person/1", "{}");
    let second = h.dir.path().join("second");
    h.run(&["init", second.to_str().unwrap()]).ok();
    let outside = |args: &[&str]| Run::from(h.cmd(args).current_dir("/").output().unwrap());
    outside(&["ls"]).fails(2, "several folders are registered");

    // Forgotten, files kept.
    h.run(&["folder", "rm", second.to_str().unwrap()]).ok();
    assert!(second.join(".syncdb").is_dir(), "its files stay");
    assert_eq!(folder_rows(&h).len(), 1);
    assert!(
        outside(&["ls"]).ok().contains("crm"),
        "the only folder again"
    );

    // Deleting files asks; without a terminal it needs --yes.
    let f = path_str(&h.folder());
    outside(&["folder", "rm", &f, "--delete-files"]).fails(2, "pass --yes");
    assert_eq!(folder_rows(&h).len(), 1, "still registered");
    assert!(h.folder().join("crm.sqlite").is_file());
    std::fs::write(h.folder().join("notes.txt"), "mine").unwrap();
    let out = outside(&["folder", "rm", &f, "--delete-files", "--yes", "--json"]).json();
    assert!(out["deleted"].as_array().unwrap().len() >= 2, "{out}");
    assert_eq!(files_of(&h.folder(), "crm"), Vec::<String>::new());
    assert!(!h.folder().join(".syncdb").exists());
    assert!(h.folder().join("notes.txt").is_file(), "other files stay");
    assert_eq!(folder_rows(&h), Vec::<Value>::new());
    outside(&["ls"]).fails(3, "none registered");
}

#[test]
fn a_failed_clone_leaves_nothing_registered() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let token = hub.token_file(&[]);
    let bad = hub.home.dir.path().join("bad.token");
    std::fs::write(&bad, "sdb_00000000_ffff").unwrap();
    std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("ws://{}", l.local_addr().unwrap())
    };
    let c = Home::new();
    let fresh: PathBuf = c.dir.path().join("fresh");
    let unknown = "11111111-1111-1111-1111-111111111111";
    let url = hub.url();
    let url = url.as_str();
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "unknown id",
            vec![url, unknown, "--token-file", token.to_str().unwrap()],
            "unknown folder",
        ),
        (
            "hub down",
            vec![
                &down,
                &hub.folder_id,
                "--token-file",
                token.to_str().unwrap(),
            ],
            "origin",
        ),
        ("no token", vec![url, &hub.folder_id], "unauthorized"),
        (
            "bad token",
            vec![url, &hub.folder_id, "--token-file", bad.to_str().unwrap()],
            "unauthorized",
        ),
    ];
    for (what, args, needle) in &cases {
        for dir in [&fresh, &c.folder()] {
            let mut all = vec!["clone", args[0], args[1], dir.to_str().unwrap()];
            all.extend_from_slice(&args[2..]);
            let out = c.run(&all);
            assert_eq!(out.code, 1, "{what}: {out:?}");
            assert!(
                out.stderr.contains(needle) && out.stderr.contains("undone"),
                "{what}: {out:?}"
            );
            assert_eq!(
                folder_rows(&c),
                Vec::<Value>::new(),
                "{what}: nothing registered"
            );
            assert!(!fresh.exists(), "{what}: the directory it made is gone");
            assert!(
                c.folder().is_dir(),
                "{what}: a directory that was there stays"
            );
            assert!(!c.folder().join(".syncdb").exists(), "{what}");
        }
    }
    // Nothing left retries: every command outside a folder still works,
    // and a good clone afterwards goes through.
    c.run(&["status"]).ok();
    c.run(&[
        "clone",
        &hub.url(),
        &hub.folder_id,
        fresh.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
        "-q",
    ])
    .ok();
    assert_eq!(folder_rows(&c).len(), 1);
    // A clone that fails on an existing copy leaves that copy alone.
    hub.home.run(&["serve", "--stop"]).ok();
    let again = c.run(&[
        "clone",
        &hub.url(),
        &hub.folder_id,
        fresh.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(
        folder_rows(&c).len(),
        1,
        "the existing clone stays registered"
    );
    assert!(fresh.join(".syncdb").is_dir());
}

#[test]
fn folder_rm_delete_files_asks_on_a_terminal() {
    let h = Home::with_folder("redb");
    h.put("crm/person/1", "{}");
    let f = path_str(&h.folder());
    let Some(tty) = Tty::start(&h, 160, 10, &format!("folder rm {f} --delete-files")) else {
        return;
    };
    tty.wait_for("Continue? [y/N]");
    tty.keys(&["Enter"]);
    let (code, screen) = tty.exit();
    assert_eq!(code, 2, "{screen}");
    assert!(h.folder().join("crm.redb").is_file(), "declined: kept");
    assert_eq!(folder_rows(&h).len(), 1, "and still registered");

    let Some(tty) = Tty::start(&h, 160, 10, &format!("folder rm {f} --delete-files")) else {
        return;
    };
    tty.wait_for("Continue? [y/N]");
    tty.keys(&["y", "Enter"]);
    let (code, screen) = tty.exit();
    assert_eq!(code, 0, "{screen}");
    assert!(!h.folder().exists(), "emptied, so the directory went too");
    let rows = Run::from(
        h.cmd(&["folder", "ls", "--json"])
            .current_dir("/")
            .output()
            .unwrap(),
    );
    assert_eq!(rows.json_lines(), Vec::<Value>::new());
}

#[test]
fn init_where_a_registered_folder_was_moved_by_hand_re_points_it() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let c = hub.client("");
    let new = c.dir.path().join("moved");
    std::fs::rename(c.folder(), &new).unwrap();
    let init = Run::from(
        c.cmd(&["init", new.to_str().unwrap(), "--json"])
            .current_dir("/")
            .output()
            .unwrap(),
    )
    .json();
    assert_eq!(init["id"], hub.folder_id.as_str());
    let rows = Run::from(
        c.cmd(&["folder", "ls", "--json"])
            .current_dir("/")
            .output()
            .unwrap(),
    )
    .json_lines();
    assert_eq!(rows.len(), 1, "one entry, not two for one id: {rows:?}");
    assert_eq!(rows[0]["path"], path_str(&new));
    assert_eq!(rows[0]["remotes"][0]["name"], "origin", "remotes kept");
    // It syncs from where it is now, and commands outside it find it.
    hub.home.put("crm/person/2", "{}");
    let in_new = |args: &[&str]| Run::from(c.cmd(args).current_dir(&new).output().unwrap());
    in_new(&["sync", "--once", "-q"]).ok();
    assert_eq!(in_new(&["ls", "crm/person", "--keys"]).ok(), "1\n2");
    let outside = Run::from(c.cmd(&["status"]).current_dir("/").output().unwrap());
    assert!(!outside.ok().contains("missing"), "{outside:?}");
}
