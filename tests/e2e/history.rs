//! History that does not grow forever, end to end: tombstones forgotten
//! behind the horizon, a replica retired while away that comes back and
//! rebuilds, compaction, backup and restore, and export round trips.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Home, Hub, converged};

/// No retention: what every replica holds may go at once (a standalone
/// folder waits for no one).
const NOW: &str = "[history]\nretention_ms = 0\nclock_margin_ms = 0\ncheck_ms = 3600000\n";

/// A hub that retires replicas unseen for 3 s and hears from live ones
/// every 300 ms.
const HUB: &str = "[history]\nretention_ms = 3000\nclock_margin_ms = 0\ncheck_ms = 300\n";
const RETENTION: Duration = Duration::from_millis(3000);

fn standalone(engine: &str, config: &str) -> Home {
    let home = Home::new();
    home.set_config(config);
    home.run(&["init", "--engine", engine, "-q"]).ok();
    home
}

/// `n` records `{"n":i,"pad":"xxx…"}` as JSON Lines.
fn lines(n: usize, pad: usize) -> String {
    let pad = "x".repeat(pad);
    (0..n)
        .map(|i| format!("{{\"_id\":\"{i}\",\"n\":{i},\"pad\":\"{pad}\"}}\n"))
        .collect()
}

/// A client's own token file: its replicas are bound to it on the hub.
fn token_of(client: &Home) -> std::path::PathBuf {
    let config = std::fs::read_to_string(client.home().join("config/config.toml")).unwrap();
    let line = config
        .lines()
        .find(|l| l.starts_with("token_file = "))
        .unwrap();
    std::path::PathBuf::from(line.split('"').nth(1).unwrap())
}

fn missing(home: &Home, address: &str) -> bool {
    home.run(&["get", address]).code == 3
}

#[test]
fn cleanup_forgets_tombstones_and_compaction_gives_the_space_back() {
    for engine in ["redb", "sqlite"] {
        let h = standalone(engine, NOW);
        h.run_stdin(
            &["put", "crm/person", "--batch", "-q"],
            lines(400, 2000).as_bytes(),
        )
        .ok();
        for i in 0..300 {
            h.run(&["del", &format!("crm/person/{i}")]).ok();
        }
        h.run(&["patch", "crm/person/350", r#"{"pad":null}"#]).ok();
        let out = h.run(&["cleanup", "crm", "--json"]).json();
        let d = &out["databases"][0];
        assert_eq!(d["db"], "crm", "{engine}");
        // 300 deleted records and one removed field.
        assert_eq!(d["removed"], 301, "{engine}: {out}");
        assert!(d["horizon"].as_u64().unwrap() > 0, "{engine}: {out}");
        assert_eq!(
            h.run(&["cleanup", "crm", "--json"]).json()["databases"][0]["removed"],
            0
        );
        // What is visible did not change.
        assert_eq!(h.records("crm/person").len(), 100, "{engine}");
        assert!(missing(&h, "crm/person/0"), "{engine}");
        assert_eq!(h.get("crm/person/350")["n"], 350);
        assert!(h.get("crm/person/350").get("pad").is_none());
        let compacted = h.run(&["compact", "crm", "--json"]).json();
        let c = &compacted["databases"][0];
        let (before, after) = (
            c["bytes_before"].as_u64().unwrap(),
            c["bytes_after"].as_u64().unwrap(),
        );
        assert!(after < before / 2, "{engine}: {compacted}");
        assert_eq!(h.records("crm/person").len(), 100, "{engine}");
        // Writes go on, and the records came through a restart whole.
        h.put("crm/person/0", r#"{"back":true}"#);
        h.kill_daemon();
        assert_eq!(h.get("crm/person/0")["back"], true, "{engine}");
        assert_eq!(h.records("crm/person").len(), 101, "{engine}");
        let text = h.run(&["cleanup"]).ok().to_owned();
        assert!(text.contains("crm: horizon "), "{text}");
    }
}

#[test]
fn a_replica_away_across_a_cleanup_rebuilds_keeping_its_own_writes() {
    for engine in ["redb", "sqlite"] {
        let hub = Hub::with_config(engine, HUB);
        let a = hub.client("");
        let b = hub.client("");
        for i in 1..=5 {
            a.put(&format!("crm/person/{i}"), &format!(r#"{{"n":{i}}}"#));
        }
        a.run(&["sync", "--once", "-q"]).ok();
        b.run(&["sync", "--once", "-q"]).ok();
        assert_eq!(b.records("crm/person").len(), 5);
        let token = token_of(&b);
        let add = [
            "remote",
            "add",
            "origin",
            &hub.url(),
            "--token-file",
            token.to_str().unwrap(),
        ];
        // B goes away; meanwhile the hub and A delete, and B writes.
        b.run(&["remote", "rm", "origin"]).ok();
        hub.home.run(&["del", "crm/person/1"]).ok();
        a.run(&["del", "crm/person/2"]).ok();
        a.run(&["sync", "--once", "-q"]).ok();
        b.put("crm/person/9", r#"{"offline":true}"#);
        b.run(&["del", "crm/person/3"]).ok();
        b.run(&["patch", "crm/person/4", r#"{"edited":"by b"}"#])
            .ok();
        // Later than B's offline delete of it: the hub's put wins.
        hub.home.put("crm/person/3", r#"{"n":33}"#);
        std::thread::sleep(RETENTION + Duration::from_millis(500));
        a.run(&["sync", "--once", "-q"]).ok();
        let out = hub.home.run(&["cleanup", "crm", "--json"]).json();
        // The hub cleans up by itself every check_ms; this makes sure.
        let d = &out["databases"][0];
        assert_eq!(
            d["removed_total"], 2,
            "{engine}: the two deletes are forgotten: {out}"
        );
        let listed = hub.home.run(&["replica", "ls", "crm", "--json"]).json();
        let states: Vec<&str> = listed["databases"][0]["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["state"].as_str().unwrap())
            .collect();
        assert_eq!(
            states.iter().filter(|s| **s == "retired").count(),
            1,
            "{listed}"
        );
        let status = hub.home.run(&["status"]).ok().to_owned();
        assert!(status.contains("retired, last seen"), "{status}");
        // B comes back: it rebuilds, and the deletes stay deleted.
        b.run(&add).ok();
        b.run(&["sync", "--once", "-q", "--timeout", "30"]).ok();
        a.run(&["sync", "--once", "-q"]).ok();
        b.run(&["sync", "--once", "-q"]).ok();
        let log = b.run(&["logs", "-n", "400"]).ok().to_owned();
        assert!(
            log.contains("rebuilt an outdated replica"),
            "{engine}: {log}"
        );
        for h in [&hub.home, &a, &b] {
            let keys: Vec<String> = h
                .records("crm/person")
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(keys, ["3", "4", "5", "9"], "{engine}");
            assert_eq!(h.get("crm/person/3")["n"], 33, "{engine}");
            assert_eq!(h.get("crm/person/9")["offline"], true, "{engine}");
            assert_eq!(h.get("crm/person/4")["edited"], "by b", "{engine}");
            assert_eq!(h.get("crm/person/4")["n"], 4, "{engine}");
        }
        // B is live again on the hub.
        let listed = hub.home.run(&["replica", "ls", "crm", "--json"]).json();
        let live = listed["databases"][0]["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["state"] == "live")
            .count();
        assert_eq!(live, 2, "{listed}");
    }
}

/// A replica that has synced with a hub keeps its hub's horizon after its
/// last remote goes: its own tombstones stay until a hub holds them, so a
/// delete made while it synced with no one is not undone when it comes
/// back, however short its own retention.
#[test]
fn a_former_client_keeps_its_deletes_until_a_hub_holds_them() {
    let hub = Hub::with_config("redb", HUB);
    let b = hub.client(NOW);
    b.put("crm/person/1", "{}");
    b.put("crm/person/2", "{}");
    b.run(&["sync", "--once", "-q"]).ok();
    let token = token_of(&b);
    b.run(&["remote", "rm", "origin"]).ok();
    b.run(&["del", "crm/person/1"]).ok();
    let out = b.run(&["cleanup", "--json"]).json();
    let d = &out["databases"][0];
    assert_eq!(
        (d["removed"].as_u64(), d["follows_hub"].as_bool()),
        (Some(0), Some(true)),
        "{out}"
    );
    let token = token.to_str().unwrap();
    b.run(&["remote", "add", "origin", &hub.url(), "--token-file", token])
        .ok();
    b.run(&["sync", "--once", "-q"]).ok();
    assert!(missing(&hub.home, "crm/person/1"));
    assert!(missing(&b, "crm/person/1"));
    assert_eq!(hub.home.records("crm/person").len(), 1);
}

#[test]
fn replica_rm_retires_by_hand_and_refuses_what_it_does_not_know() {
    let hub = Hub::with_config("redb", HUB);
    let a = hub.client("");
    a.put("crm/person/1", "{}");
    a.run(&["sync", "--once", "-q"]).ok();
    let listed = hub.home.run(&["replica", "ls", "crm", "--json"]).json();
    let site = listed["databases"][0]["replicas"][0]["site"]
        .as_str()
        .unwrap()
        .to_owned();
    hub.home
        .run(&["replica", "rm", "crm", "zz"])
        .fails(2, "at least 4 hex digits");
    hub.home
        .run(&["replica", "rm", "crm", "0000ffff"])
        .fails(3, "has no replica");
    hub.home
        .run(&["replica", "rm", "nope", &site])
        .fails(3, "nope");
    hub.home.run(&["replica", "rm", "crm", &site[..8]]).ok();
    let listed = hub.home.run(&["replica", "ls", "crm", "--json"]).json();
    assert_eq!(listed["databases"][0]["replicas"][0]["state"], "retired");
}

fn manifest(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn backup_writes_checked_copies_and_restore_rejoins_without_resurrecting() {
    for engine in ["redb", "sqlite"] {
        let hub = Hub::with_config(engine, HUB);
        let a = hub.client("");
        for i in 1..=10 {
            a.put(&format!("crm/person/{i}"), &format!(r#"{{"n":{i}}}"#));
        }
        a.put("notes/n/1", "{}");
        a.run(&["sync", "--once", "-q"]).ok();
        let dir = a.home().join("../backup");
        let out = a
            .run(&["backup", "--all", dir.to_str().unwrap(), "--json"])
            .json();
        let m = manifest(&dir);
        assert_eq!(out["manifest"], m);
        let crm = m["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["db"] == "crm")
            .unwrap()
            .clone();
        assert_eq!(crm["records"], 10);
        assert_eq!(crm["sha256"].as_str().unwrap().len(), 64);
        let old_site = crm["site"].as_str().unwrap().to_owned();
        // Not into a directory that holds something.
        a.run(&["backup", "crm", dir.to_str().unwrap()])
            .fails(2, "not empty");

        // After the backup: a delete, forgotten once the retention passed.
        a.run(&["del", "crm/person/1"]).ok();
        a.run(&["sync", "--once", "-q"]).ok();
        std::thread::sleep(RETENTION + Duration::from_millis(500));
        a.run(&["sync", "--once", "-q"]).ok();
        let cleaned = hub.home.run(&["cleanup", "crm", "--json"]).json();
        assert_eq!(
            cleaned["databases"][0]["removed_total"], 1,
            "{engine}: {cleaned}"
        );

        // A damaged copy is refused, and nothing changes.
        let bad = a.home().join("../bad");
        copy_dir(&dir, &bad);
        let file = bad.join(crm["file"].as_str().unwrap());
        let mut bytes = std::fs::read(&file).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0xff;
        std::fs::write(&file, bytes).unwrap();
        a.run(&["restore", bad.to_str().unwrap(), "crm", "--force"])
            .fails(2, "checksum");
        assert_eq!(a.records("crm/person").len(), 9);
        a.run(&["restore", dir.to_str().unwrap(), "crm"])
            .fails(2, "exists");

        let restored = a
            .run(&["restore", dir.to_str().unwrap(), "crm", "--force", "--json"])
            .json();
        let r = &restored["databases"][0];
        assert_eq!(r["former_site"], old_site.as_str());
        assert_ne!(
            r["site"],
            old_site.as_str(),
            "a restored copy gets a new site id"
        );
        assert!(r["replaced"].as_str().unwrap().contains("replaced-"));
        a.run(&["sync", "--once", "-q", "--timeout", "30"]).ok();
        a.run(&["sync", "--once", "-q"]).ok();
        // The delete made after the backup stays: the copy rebuilt.
        let logs = |h: &Home| h.run(&["logs", "-n", "60"]).ok().to_owned();
        assert!(
            missing(&a, "crm/person/1"),
            "{engine}: {}\n---hub---\n{}",
            logs(&a),
            logs(&hub.home)
        );
        assert!(missing(&hub.home, "crm/person/1"), "{engine}");
        assert_eq!(a.records("crm/person").len(), 9, "{engine}");
        converged(&[&hub.home, &a]);
        let ls = a.run(&["replica", "ls", "crm", "--json"]).json();
        assert_eq!(ls["databases"][0]["site"], r["site"]);
        assert_eq!(ls["databases"][0]["former"][0], old_site.as_str());
        // Writes from the restored replica reach the hub.
        a.put("crm/person/11", "{}");
        a.run(&["sync", "--once", "-q"]).ok();
        assert_eq!(hub.home.records("crm/person").len(), 10, "{engine}");
    }
}

/// A hub restored from a backup ends the sessions it serves for the
/// folder: its clients say hello again, pull the restored copy (a new
/// replica) from the start and push back their own writes it lacks, while
/// writes made on the hub after the restore reach them. A write another
/// client relays is left out until its writer returns with it.
#[test]
fn a_hub_restored_under_connected_clients_resyncs_them() {
    let hub = Hub::with_config("redb", "");
    let a = hub.client("");
    let b = hub.client("");
    for i in 1..=3 {
        a.put(&format!("crm/person/{i}"), "{}");
    }
    a.run(&["sync", "--once", "-q"]).ok();
    b.run(&["sync", "--once", "-q"]).ok();
    let dir = hub.home.home().join("../hub-backup");
    hub.home
        .run(&["backup", "crm", dir.to_str().unwrap(), "-q"])
        .ok();
    for i in 4..=5 {
        a.put(&format!("crm/person/{i}"), "{}");
    }
    a.run(&["sync", "--once", "-q"]).ok();
    b.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(b.records("crm/person").len(), 5);

    // a is away; b stays connected across the restore.
    a.run(&["daemon", "stop"]).ok();
    let logs = |h: &Home| h.run(&["logs", "-n", "40"]).ok().to_owned();
    hub.home
        .run(&["restore", dir.to_str().unwrap(), "crm", "--force", "-q"])
        .ok();
    hub.home.put("crm/person/h1", "{}");
    // b, idle, gets what the hub wrote after the restore. a's writes the
    // copy lacks are in b's feed too, but only a may bring them back.
    b.run(&["sync", "--once", "-q", "--timeout", "30"]).ok();
    assert!(!missing(&b, "crm/person/h1"), "{}", logs(&hub.home));
    assert!(missing(&hub.home, "crm/person/4"));
    assert!(logs(&hub.home).contains("in another replica's name"));
    a.put("crm/person/a6", "{}");
    a.run(&["sync", "--once", "-q", "--timeout", "30"]).ok();
    b.put("crm/person/b1", "{}");
    b.run(&["sync", "--once", "-q"]).ok();
    a.run(&["sync", "--once", "-q"]).ok();
    assert!(
        logs(&hub.home).contains("was replaced on the hub"),
        "the hub ended its sessions: {}",
        logs(&hub.home)
    );
    // a's writes the backup lacked came back; the hub's and b's reached all.
    let all = hub.home.records("crm/person");
    assert_eq!(all.len(), 8, "{all:?}\n{}", logs(&hub.home));
    converged(&[&hub.home, &a, &b]);
}

/// After a hub restore, writes a client relays for a replica that never
/// comes back are left out — and offered again once that replica's token
/// is revoked: the client's session ends, and the next sends them again
/// (the hub's checkpoint stayed before them). Nothing acknowledged is
/// lost, no delete comes back.
#[test]
fn relays_left_out_after_a_restore_are_taken_once_their_writers_token_is_revoked() {
    let hub = Hub::with_config("redb", "");
    let a = hub.client("");
    let b = hub.client("");
    for i in 1..=3 {
        a.put(&format!("crm/p/{i}"), "{}");
    }
    a.run(&["sync", "--once", "-q"]).ok();
    let dir = hub.home.home().join("../bk");
    hub.home
        .run(&["backup", "crm", dir.to_str().unwrap(), "-q"])
        .ok();
    a.put("crm/p/a2", "{}");
    a.run(&["del", "crm/p/2"]).ok();
    a.run(&["sync", "--once", "-q"]).ok();
    b.run(&["sync", "--once", "-q"]).ok();
    // a is gone for good.
    a.run(&["daemon", "stop"]).ok();
    hub.home
        .run(&["restore", dir.to_str().unwrap(), "crm", "--force", "-q"])
        .ok();
    b.run(&["sync", "--once", "-q", "--timeout", "30"]).ok();
    assert!(missing(&hub.home, "crm/p/a2"), "left out while a is known");
    assert!(!missing(&hub.home, "crm/p/2"));

    let token = std::fs::read_to_string(token_of(&a)).unwrap();
    let id = token.trim().split('_').nth(1).unwrap().to_owned();
    hub.home.run(&["token", "revoke", &id]).ok();
    let logs = |h: &Home| h.run(&["logs", "-n", "40"]).ok().to_owned();
    crate::support::eventually(Duration::from_secs(20), || {
        b.run(&["sync", "--once", "-q", "--timeout", "30"]).ok();
        (!missing(&hub.home, "crm/p/a2")).then_some(())
    });
    assert!(logs(&hub.home).contains("connect again"));
    assert!(missing(&hub.home, "crm/p/2"), "the delete holds");
    converged(&[&hub.home, &b]);
}

/// Writes racing a `restore --force` land in the restored database or are
/// refused (exit 4, try again): none is acknowledged into the file moved
/// aside, whichever engine.
#[test]
fn a_write_acknowledged_during_a_restore_is_in_the_database_after_it() {
    for engine in ["redb", "sqlite"] {
        let h = standalone(engine, "");
        h.run_stdin(
            &["put", "crm/person", "--batch", "-q"],
            lines(2000, 200).as_bytes(),
        )
        .ok();
        let dir = h.home().join(format!("../backup-{engine}"));
        h.run(&["backup", "crm", dir.to_str().unwrap(), "-q"]).ok();
        let writer = {
            let home = h.home().to_owned();
            let folder = h.folder();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0..150 {
                    let out = std::process::Command::new(crate::support::BIN)
                        .env("SYNCDB_HOME", &home)
                        .current_dir(&folder)
                        .args(["put", &format!("crm/w/{i}"), "{}"])
                        .output()
                        .unwrap();
                    match out.status.code() {
                        Some(0) => acked.push(i),
                        Some(4) => {}
                        other => panic!(
                            "put {i}: exit {other:?}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        ),
                    }
                }
                acked
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        h.run(&["restore", dir.to_str().unwrap(), "--force", "-q"])
            .ok();
        let acked = writer.join().unwrap();
        let kept: std::collections::BTreeSet<usize> = h
            .records("crm/w")
            .into_iter()
            .map(|(k, _)| k.parse().unwrap())
            .collect();
        // Those acknowledged before the swap are in the copy moved aside.
        let first_after = acked.iter().position(|i| kept.contains(i));
        if let Some(at) = first_after {
            let lost: Vec<&usize> = acked[at..].iter().filter(|i| !kept.contains(i)).collect();
            assert!(
                lost.is_empty(),
                "{engine}: acknowledged after the restore began writing here, and lost: {lost:?}"
            );
        }
        assert!(
            acked.last().is_some_and(|i| kept.contains(i)),
            "{engine}: the last write is in the restored database"
        );
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn restore_refuses_what_is_not_a_backup() {
    let h = standalone("redb", NOW);
    h.put("crm/person/1", "{}");
    let empty = h.home().join("../empty");
    h.run(&["restore", empty.to_str().unwrap()])
        .fails(3, "manifest.json");
    std::fs::create_dir_all(&empty).unwrap();
    h.run(&["restore", empty.to_str().unwrap()])
        .fails(3, "manifest.json");
    // Far larger than a manifest: refused unread.
    let big = std::fs::File::create(empty.join("manifest.json")).unwrap();
    big.set_len(64 << 20).unwrap();
    h.run(&["restore", empty.to_str().unwrap()])
        .fails(2, "more than a manifest holds");
    std::fs::write(empty.join("manifest.json"), "{\"format\": 9}").unwrap();
    h.run(&["restore", empty.to_str().unwrap()])
        .fails(2, "not a syncdb backup manifest");
    let dir = h.home().join("../b");
    h.run(&["backup", "crm", dir.to_str().unwrap()]).ok();
    h.run(&["restore", dir.to_str().unwrap(), "other"])
        .fails(3, "holds no database other");
    // A manifest that names a file outside the backup is refused.
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        text.replace("crm.redb", "../crm.redb"),
    )
    .unwrap();
    h.run(&["restore", dir.to_str().unwrap(), "--force"])
        .fails(2, "expected crm.redb");
    // A database listed twice (the second could pass for another).
    let mut m: Value = serde_json::from_str(&text).unwrap();
    let entry = m["databases"][0].clone();
    m["databases"].as_array_mut().unwrap().push(entry);
    std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
    h.run(&["restore", dir.to_str().unwrap()])
        .fails(2, "listed twice");
    h.run(&["backup"]).fails(2, "backup DB DEST");
    assert_eq!(h.records("crm/person").len(), 1);
}

/// Horizon checks every few milliseconds do not keep a database alive
/// that a failed import made: it goes, as the import promises.
#[test]
fn frequent_horizon_checks_leave_no_database_behind_a_failed_import() {
    let h = standalone(
        "redb",
        "[history]\ncheck_ms = 5\n[daemon]\nmax_document_bytes = 1024\n",
    );
    let big = format!("{{\"_id\":\"1\",\"s\":\"{}\"}}\n", "x".repeat(2048));
    for i in 0..5 {
        h.run_stdin(&["put", &format!("t{i}/c"), "--batch"], big.as_bytes())
            .fails(2, "document too large");
    }
    assert_eq!(h.run(&["ls"]).ok(), "");
}

/// A backup that cannot be whole leaves nothing behind: no directory, no
/// copy without its manifest.
#[test]
fn a_failed_backup_leaves_no_debris() {
    let h = standalone("redb", NOW);
    h.put("crm/person/1", "{}");
    let dest = h.home().join("../none");
    h.run(&["backup", "nodb", dest.to_str().unwrap()])
        .fails(3, "nodb");
    assert!(!dest.exists());
    std::fs::write(h.folder().join("broken.redb"), vec![7u8; 8192]).unwrap();
    h.run(&["backup", "--all", dest.to_str().unwrap()])
        .fails(1, "broken");
    assert!(!dest.exists());
    // Not among the databases it copies.
    let inside = h.folder().join("backups/monday");
    h.run(&["backup", "crm", inside.to_str().unwrap()])
        .fails(2, "inside the folder");
    assert!(!h.folder().join("backups").exists());
    let file = h.home().join("../a-file");
    std::fs::write(&file, "x").unwrap();
    h.run(&["backup", "crm", file.to_str().unwrap()])
        .fails(2, "is a file");
    // Over every database, a damaged one does not stop the others.
    h.run(&["cleanup"])
        .fails(1, "the other databases were cleaned up");
    h.run(&["compact"]).fails(1, "broken");
    // A backup killed midway leaves only its staging directory, which the
    // next backup into the same place clears.
    let partial = dest.join(".syncdb-partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("crm.redb"), "half").unwrap();
    h.run(&["backup", "crm", dest.to_str().unwrap(), "-q"]).ok();
    assert!(dest.join("manifest.json").exists());
    assert!(!partial.exists());
    h.run(&["restore", dest.to_str().unwrap(), "crm", "--force", "-q"])
        .ok();
    // What a restore killed midway leaves goes when the daemon next starts.
    let staged = h.folder().join(".crm.redb.restoring");
    std::fs::copy(dest.join("crm.redb"), &staged).unwrap();
    h.kill_daemon();
    h.run(&["status", "-q"]).ok();
    assert!(!staged.exists());
    assert_eq!(h.records("crm/person").len(), 1);
}

/// Documents with every JSON type, and keys with odd characters.
const ODD: &str = r##"{"key":"a b","doc":{"null":null,"t":true,"f":false,"int":-42,"big":123456789012345678901234567890,"float":1.5e300,"tiny":5e-324,"s":"q\"uote\\back\u0000nul\ttab é 😀","arr":[1,[2,[]],{}],"obj":{"nested":{"deep":[null]}},"empty":""}}
{"key":"ü ñ 日本","doc":{"x":0.1}}
{"key":"'quote\" \\back","doc":{}}
{"key":"-dash.dot_under~tilde","doc":{"a":[]}}
{"key":"#?&=%","doc":{"b":{}}}
"##;

#[test]
fn export_and_import_round_trip_every_json_type_and_odd_keys() {
    let h = standalone("sqlite", NOW);
    h.run_stdin(&["put", "crm/person", "--batch", "-q"], ODD.as_bytes())
        .ok();
    h.put("crm/task/1", r#"{"done":false}"#);
    let before = h.run(&["ls", "crm/person", "--json"]).ok().to_owned();
    assert_eq!(before.lines().count(), 5);

    let coll = h.run(&["export", "crm/person"]).ok().to_owned();
    h.run_stdin(&["put", "copy/person", "--batch", "-q"], coll.as_bytes())
        .ok();
    assert_eq!(h.run(&["ls", "copy/person", "--json"]).ok(), before);
    // Export of the copy is byte for byte the export of the original.
    assert_eq!(h.run(&["export", "copy/person"]).ok(), coll);

    let file = h.home().join("../crm.jsonl");
    h.run(&["export", "crm", "-o", file.to_str().unwrap()]).ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert!(
        text.lines().all(|l| l.starts_with("{\"collection\":")),
        "{text}"
    );
    let out = h
        .run(&["put", "whole", "--batch", file.to_str().unwrap(), "--json"])
        .json();
    assert_eq!(out["imported"], 6);
    assert_eq!(h.run(&["ls", "whole/person", "--json"]).ok(), before);
    assert_eq!(h.get("whole/task/1")["done"], false);
    assert_eq!(
        out["collections"],
        serde_json::json!({"person": 5, "task": 1})
    );
    // Lines of collections in any order: one import, one transaction, and
    // a summary by collection.
    let mixed = "{\"collection\":\"a\",\"key\":\"1\",\"doc\":{}}\n\
                 {\"collection\":\"b\",\"key\":\"1\",\"doc\":{}}\n\n\
                 {\"collection\":\"a\",\"key\":\"2\",\"doc\":{\"n\":1}}\n";
    let said = h.run_stdin(&["put", "mixed", "--batch"], mixed.as_bytes());
    said.ok();
    assert!(
        said.stderr
            .contains("imported 3 records into mixed (a: 2, b: 1)"),
        "{}",
        said.stderr
    );
    assert_eq!(h.records("mixed/a").len(), 2);
    assert_eq!(h.records("mixed/b").len(), 1);
    // A bad line anywhere writes nothing, not even the lines before it in
    // other collections, and says where and what.
    for (bad, why) in [
        (
            "{\"key\":\"1\",\"doc\":{}}",
            "\"collection\" must be a string",
        ),
        ("{\"collection\":\"b\",\"key\":\"1\",\"doc\":5}", "\"doc\""),
        (
            "{\"collection\":\"b\",\"key\":1,\"doc\":{}}",
            "\"key\" must be a string",
        ),
        (
            "{\"collection\":\"b\",\"key\":\"1\",\"doc\":{},\"x\":1}",
            "unknown field \"x\"",
        ),
        (
            "{\"collection\":\"_schema\",\"key\":\"1\",\"doc\":{}}",
            "holds the database's schema",
        ),
    ] {
        let input = format!("{{\"collection\":\"a\",\"key\":\"9\",\"doc\":{{}}}}\n{bad}\n");
        let e = h.run_stdin(&["put", "mixed", "--batch"], input.as_bytes());
        e.fails(2, "line 2");
        assert!(
            e.stderr.contains(why) && e.stderr.contains("nothing was imported"),
            "{bad}: {}",
            e.stderr
        );
        assert_eq!(h.records("mixed/a").len(), 2, "{bad}");
        h.run_stdin(&["put", "fresh", "--batch"], input.as_bytes())
            .fails(2, why);
        h.run(&["get", "fresh/a/9"]).fails(3, "");
    }
    let empty = h.run_stdin(&["put", "mixed", "--batch"], b"");
    empty.ok();
    assert!(
        empty.stderr.contains("imported 0 records into mixed\n"),
        "{}",
        empty.stderr
    );
    // An empty import makes no database; a byte-order mark is no line.
    h.run_stdin(&["put", "none/c", "--batch"], b"").ok();
    h.run(&["ls", "none"]).fails(3, "none");
    h.run_stdin(
        &["put", "bom/c", "--batch"],
        "\u{feff}{\"_id\":\"1\"}\n".as_bytes(),
    )
    .ok();
    assert_eq!(h.records("bom/c").len(), 1);
    // Shaped as a record but not one: refused, not stored under a new key.
    h.run_stdin(&["put", "bom/c", "--batch"], b"{\"key\":1,\"doc\":{}}\n")
        .fails(2, "looks like a record");
    h.run(&["export", "crm/person/a b"])
        .fails(2, "not a record");
}

/// A million records out and back in: `export | put --batch` keeps every
/// one, and the copy's export is the original's, byte for byte.
#[test]
fn a_million_records_round_trip() {
    const N: usize = 1_000_000;
    let h = standalone("redb", NOW);
    let input: String = (0..N)
        .map(|i| {
            format!(
                "{{\"key\":\"k{i:07}\",\"doc\":{{\"n\":{i},\"s\":\"v{}\"}}}}\n",
                i % 97
            )
        })
        .collect();
    let file = h.home().join("../in.jsonl");
    std::fs::write(&file, &input).unwrap();
    h.run(&["put", "big/r", "--batch", file.to_str().unwrap(), "-q"])
        .ok();
    let out = h.home().join("../out.jsonl");
    h.run(&["export", "big/r", "-o", out.to_str().unwrap()])
        .ok();
    let exported = std::fs::read_to_string(&out).unwrap();
    assert_eq!(exported.len(), input.len());
    assert!(exported == input, "the export is the input, line for line");
    h.run(&["put", "copy/r", "--batch", out.to_str().unwrap(), "-q"])
        .ok();
    let again = h.home().join("../again.jsonl");
    h.run(&["export", "copy/r", "-o", again.to_str().unwrap()])
        .ok();
    assert!(std::fs::read_to_string(&again).unwrap() == input);
}
