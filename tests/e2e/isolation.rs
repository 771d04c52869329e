//! One bad thing must not take down the rest: a damaged database file is
//! refused alone, with a message that names it and the way back
//! (`syncdb repair`), while every other database keeps working; and
//! `repair` brings the database back from a remote, or says there is none.

use std::path::Path;
use std::time::Duration;

use crate::support::*;

/// The ways a database file gets damaged.
#[derive(Clone, Copy, Debug)]
enum Damage {
    /// Bytes flipped all through the file past its header.
    Flipped,
    /// Cut to half its length.
    Truncated,
    ZeroLength,
    /// A directory where the file should be.
    Directory,
    /// A symlink where the file should be (to a healthy copy elsewhere).
    Symlink,
}

const ALL: [Damage; 5] = [
    Damage::Flipped,
    Damage::Truncated,
    Damage::ZeroLength,
    Damage::Directory,
    Damage::Symlink,
];

fn damage(path: &Path, how: Damage) {
    let bytes = std::fs::read(path).unwrap();
    match how {
        Damage::Flipped => {
            let mut b = bytes;
            for i in (512..b.len()).step_by(61) {
                b[i] ^= 0xff;
            }
            std::fs::write(path, b).unwrap();
        }
        Damage::Truncated => std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap(),
        Damage::ZeroLength => std::fs::write(path, b"").unwrap(),
        Damage::Directory => {
            std::fs::remove_file(path).unwrap();
            std::fs::create_dir(path).unwrap();
        }
        Damage::Symlink => {
            let elsewhere = path.with_extension("elsewhere");
            std::fs::rename(path, &elsewhere).unwrap();
            std::os::unix::fs::symlink(&elsewhere, path).unwrap();
        }
    }
}

/// A folder of `engine` with databases `crm` (100 records) and `other`,
/// the daemon stopped so the files can be damaged behind its back.
fn two_databases(engine: &str) -> Home {
    let h = Home::with_folder(engine);
    let lines: String = (0..100)
        .map(|i| format!("{{\"_id\":\"{i}\",\"pad\":\"{}\"}}\n", "x".repeat(300 + i)))
        .collect();
    h.run_stdin(&["put", "crm/p", "--batch", "-"], lines.as_bytes())
        .ok();
    h.put("other/p/1", r#"{"ok":1}"#);
    h.run(&["daemon", "stop"]).ok();
    h
}

#[track_caller]
fn assert_refused_with_advice(out: &Run, file: &Path) {
    assert_eq!(out.code, 1, "stdout {} stderr {}", out.stdout, out.stderr);
    for needle in [
        &file.display().to_string(),
        "is damaged",
        "syncdb repair crm",
    ] {
        assert!(out.stderr.contains(needle), "{needle:?} in {}", out.stderr);
    }
}

#[test]
fn a_damaged_database_is_refused_alone_and_every_other_keeps_working() {
    for engine in ["redb", "sqlite"] {
        for how in ALL {
            eprintln!("{engine} {how:?}");
            let h = two_databases(engine);
            let file = h.folder().join(format!("crm.{engine}"));
            damage(&file, how);
            for _restart in 0..2 {
                // Reading every record of it is refused, with the way back.
                assert_refused_with_advice(&h.run(&["ls", "crm/p"]), &file);
                // Again: one refusal does not wedge anything.
                assert_refused_with_advice(&h.run(&["ls", "crm/p"]), &file);
                assert_eq!(h.get("other/p/1"), serde_json::json!({"ok": 1}));
                h.put("other/p/2", "{}");
                let status = h.run(&["status", "--json"]).json();
                let dbs = status["folders"][0]["databases"]
                    .as_array()
                    .unwrap()
                    .clone();
                let by_name = |n: &str| dbs.iter().find(|d| d["name"] == n).cloned();
                let crm = by_name("crm").expect("the damaged database is listed");
                assert!(
                    crm["error"].as_str().unwrap().contains("syncdb repair crm"),
                    "{crm}"
                );
                let other = by_name("other").expect("the other database is listed");
                assert!(other.get("error").is_none(), "{other}");
                assert!(other["records"].as_u64().unwrap() >= 1, "{other}");
                h.run(&["daemon", "status"]).ok();
                h.run(&["daemon", "stop"]).ok();
            }
            assert_eq!(h.records("other/p").len(), 2, "{engine} {how:?}");
        }
    }
}

#[test]
fn repair_moves_a_damaged_file_aside_and_says_when_there_is_no_remote() {
    let h = two_databases("sqlite");
    let file = h.folder().join("crm.sqlite");
    damage(&file, Damage::ZeroLength);
    // A WAL left beside it moves with it, where SQLite looks for it.
    std::fs::write(h.folder().join("crm.sqlite-wal"), b"wal bytes").unwrap();
    let healthy = h.run(&["repair", "other"]);
    healthy.fails(2, "not damaged");
    assert!(
        h.folder().join("other.sqlite").exists(),
        "a healthy one stays"
    );

    let out = h.run(&["repair", "crm", "--json"]).json();
    let moved = out["moved"].as_array().unwrap();
    assert_eq!(moved.len(), 2, "{out}");
    let kept = moved[0][1].as_str().unwrap().to_owned();
    assert!(kept.contains("crm.sqlite.damaged-"), "{kept}");
    assert!(Path::new(&kept).exists() && !file.exists());
    assert_eq!(
        std::fs::read(format!("{kept}-wal")).unwrap(),
        b"wal bytes",
        "the WAL went along"
    );
    assert_eq!(out["remotes"], serde_json::json!([]));

    damage(&h.folder().join("other.sqlite"), Damage::Truncated);
    h.run(&["daemon", "stop"]).ok();
    let text = h.run(&["repair", "other"]);
    assert!(
        text.ok().contains("no remote") && text.stdout.contains("other.sqlite.damaged-"),
        "{}",
        text.stdout
    );
    // The database starts again, empty; the moved files are not databases.
    h.put("crm/p/new", "{}");
    let names: Vec<String> = h
        .run(&["ls", "--json"])
        .json_lines()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["crm"]);
    h.run(&["repair", "nosuch"]).fails(3, "no database nosuch");
}

#[test]
fn repair_pulls_a_damaged_database_again_from_the_remote() {
    let hub = Hub::new("redb");
    let lines: String = (0..300)
        .map(|i| format!("{{\"_id\":\"{i}\",\"pad\":\"{}\"}}\n", "y".repeat(200)))
        .collect();
    hub.home
        .run_stdin(&["put", "crm/p", "--batch", "-"], lines.as_bytes())
        .ok();
    hub.home.put("other/p/1", "{}");
    let c = hub.client("");
    converged(&[&hub.home, &c]);
    c.run(&["daemon", "stop"]).ok();
    let file = c.folder().join("crm.redb");
    damage(&file, Damage::Flipped);
    assert_refused_with_advice(&c.run(&["ls", "crm/p"]), &file);

    let out = c.run(&["repair", "crm"]);
    assert!(
        out.ok().contains("pulling crm again from origin"),
        "{}",
        out.stdout
    );
    eventually(Duration::from_secs(60), || {
        (c.run(&["ls", "crm/p", "--keys"]).stdout.lines().count() == 300).then_some(())
    });
    let digests = converged(&[&hub.home, &c]);
    assert_eq!(digests.len(), 2, "{digests:?}");
    let moved: Vec<_> = std::fs::read_dir(c.folder())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("crm.redb.damaged-"))
        .collect();
    assert_eq!(moved.len(), 1, "the damaged file is kept aside: {moved:?}");
}

/// A damaged database on either side is left out of sync alone: the
/// folder's other databases keep syncing both ways, and `sync --once`
/// fails naming the damaged one instead of hanging or claiming success.
#[test]
fn a_damaged_database_is_left_out_of_sync_and_the_others_keep_syncing() {
    for (side, how) in [
        ("client", Damage::Flipped),
        ("client", Damage::ZeroLength),
        ("hub", Damage::Flipped),
    ] {
        let hub = Hub::new("redb");
        let lines: String = (0..300)
            .map(|i| format!("{{\"_id\":\"{i}\",\"pad\":\"{}\"}}\n", "z".repeat(200)))
            .collect();
        hub.home
            .run_stdin(&["put", "crm/p", "--batch", "-"], lines.as_bytes())
            .ok();
        hub.home.put("other/p/1", "{}");
        let c = hub.client("[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 400");
        converged(&[&hub.home, &c]);
        let damaged = if side == "client" { &c } else { &hub.home };
        damaged.run(&["daemon", "stop"]).ok();
        damage(&damaged.folder().join("crm.redb"), how);
        if side == "hub" {
            // Its serve address resumes with the daemon.
            hub.home.run(&["status"]).ok();
        }
        c.put("other/p/2", r#"{"after":"damage"}"#);
        hub.home.put("other/p/3", r#"{"after":"damage"}"#);
        let started = std::time::Instant::now();
        while !(hub.home.run(&["get", "other/p/2"]).code == 0
            && c.run(&["get", "other/p/3"]).code == 0)
        {
            if started.elapsed() > Duration::from_secs(20) {
                let logs = |h: &Home| {
                    let all = h.run(&["logs", "-n", "3000"]).stdout;
                    all.lines()
                        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                        .take(12)
                        .map(|l| format!("{l:.300}\n"))
                        .collect::<String>()
                };
                panic!(
                    "{side} {how:?}: the other database stopped syncing\nclient:\n{}\nhub:\n{}",
                    logs(&c),
                    logs(&hub.home)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The barrier waits for nothing of the damaged database, not even
        // a write here that the hub cannot take: it fails at once, naming
        // it and the way out.
        if side == "hub" {
            c.put("crm/p/new", "{}");
        }
        let out = c.run(&["sync", "--once", "--timeout", "20"]);
        assert_eq!(out.code, 1, "{side} {how:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("crm")
                && out.stderr.contains("repair")
                && !out.stderr.contains("within"),
            "{side} {how:?}: {}",
            out.stderr
        );
        damaged.run(&["repair", "crm"]).ok();
        c.run(&["sync", "--once", "--timeout", "60", "-q"]).ok();
        if side == "hub" {
            // The repaired hub starts empty and takes the client's copy.
            c.run(&["sync", "--once", "--timeout", "60", "-q"]).ok();
        }
        assert_eq!(c.digests(), hub.home.digests(), "{side} {how:?}");
    }
}
