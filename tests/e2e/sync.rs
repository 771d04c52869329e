//! Sync between real daemons over loopback: a hub and clients on temporary
//! homes. Writes reach everyone, merges agree, access is enforced, and a
//! daemon killed mid-sync resumes without losing a record.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[test]
fn three_daemons_converge_through_the_hub() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/h", r#"{"from":"hub"}"#);
    let a = hub.client("");
    let b = hub.client("engine = \"sqlite\"");
    assert_eq!(
        b.get("crm/person/h"),
        json!({"from":"hub"}),
        "clone brought the hub's data"
    );

    // Puts on each reach all.
    a.put("crm/person/a", r#"{"from":"a"}"#);
    b.put("crm/person/b", r#"{"from":"b"}"#);
    hub.home.put("crm/person/h2", r#"{"from":"hub"}"#);
    let digests = converged(&[&hub.home, &a, &b]);
    assert_eq!(digests.len(), 1);
    for h in [&hub.home, &a, &b] {
        assert_eq!(h.records("crm/person").len(), 4);
    }

    // Concurrent patches of different fields both survive.
    a.put("crm/person/x", r#"{"name":"X","n":0}"#);
    converged(&[&hub.home, &a, &b]);
    a.run(&["patch", "crm/person/x", r#"{"email":"x@a"}"#]).ok();
    b.run(&["patch", "crm/person/x", r#"{"phone":"123"}"#]).ok();
    converged(&[&hub.home, &a, &b]);
    for h in [&hub.home, &a, &b] {
        assert_eq!(
            h.get("crm/person/x"),
            json!({"name":"X","n":0,"email":"x@a","phone":"123"})
        );
    }

    // Delete/put races settle the same everywhere.
    for i in 0..5 {
        let key = format!("crm/race/{i}");
        hub.home.put(&key, r#"{"v":0}"#);
        converged(&[&hub.home, &a, &b]);
        a.run(&["del", &key]).ok();
        b.put(&key, &format!(r#"{{"v":{i}}}"#));
    }
    converged(&[&hub.home, &a, &b]);
    let race = |h: &Home| h.records("crm/race");
    assert_eq!(race(&a), race(&b));
    assert_eq!(race(&a), race(&hub.home));

    // Drops travel too.
    a.run(&["drop", "crm/race", "--yes"]).ok();
    converged(&[&hub.home, &a, &b]);
    assert!(b.records("crm/race").is_empty());

    // status shows the remote.
    let status = a.run(&["status", "--json"]).json();
    let remote = &status["folders"][0]["remotes"][0];
    assert_eq!(remote["name"], "origin");
    assert_eq!(remote["connected"], true);
    assert!(remote["last_sync_ms"].as_u64().is_some());
}

#[test]
fn watch_on_one_client_shows_the_other_clients_writes_live() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/0", "{}");
    let a = hub.client("");
    let b = hub.client("");
    let mut watch = b
        .cmd(&["watch", "crm/person"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    std::thread::sleep(Duration::from_millis(200));
    for i in 1..=20 {
        a.put(&format!("crm/person/{i}"), &format!(r#"{{"i":{i}}}"#));
    }
    let mut seen = Vec::new();
    while seen.len() < 20 {
        let event: serde_json::Value =
            serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        seen.push(event["key"].as_str().unwrap().to_owned());
    }
    let expected: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    assert_eq!(
        seen, expected,
        "A's writes appear on B, in order, once each"
    );
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn access_is_enforced_by_the_hub() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"secret":false}"#);

    // A wrong token: refused, and `sync --once` says why.
    let c = Home::new();
    let bad = c.dir.path().join("bad.token");
    std::fs::write(&bad, "sdb_00000000_ffff").unwrap();
    std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let f = c.folder();
    c.run(&[
        "clone",
        &hub.url(),
        &hub.folder_id,
        f.to_str().unwrap(),
        "--token-file",
        bad.to_str().unwrap(),
    ])
    .fails(1, "unauthorized");
    // The failed clone is undone: nothing registered retries forever.
    let status = c.run(&["status", "--json"]).json();
    assert_eq!(status["folders"], json!([]), "{status}");

    // A registered folder whose remote's token is refused shows why.
    let c = hub.follower("");
    c.run(&[
        "remote",
        "add",
        "origin",
        &hub.url(),
        "--token-file",
        bad.to_str().unwrap(),
    ])
    .ok();
    c.run(&["sync", "--once"]).fails(1, "unauthorized");
    let status = c.run(&["status", "--json"]).json();
    assert!(
        status["folders"][0]["remotes"][0]["error"]
            .as_str()
            .unwrap()
            .contains("unauthorized")
    );

    // Refused at once by the hub, the client backs off instead of redialling:
    // from 200 ms, doubling (with jitter), a few attempts in 2 s, not a dozen.
    let refusals = |h: &Home| {
        h.run(&["logs", "-n", "100000"])
            .stdout
            .matches("unauthorized")
            .count()
    };
    let before = refusals(&hub.home);
    std::thread::sleep(Duration::from_secs(2));
    let in_two_seconds = refusals(&hub.home) - before;
    assert!(
        in_two_seconds <= 6,
        "{in_two_seconds} refused attempts in 2 s"
    );

    // A world-readable token file is refused before it is used.
    let loose = hub.token_file(&[]);
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    c.run(&[
        "remote",
        "add",
        "other",
        &hub.url(),
        "--token-file",
        loose.to_str().unwrap(),
    ])
    .fails(2, "readable by others");

    // A token scoped to another folder, and an unknown folder.
    let scoped = hub.token_file(&["--folder", "00000000-0000-0000-0000-000000000000"]);
    let d = Home::new();
    let df = d.folder();
    d.run(&[
        "clone",
        &hub.url(),
        &hub.folder_id,
        df.to_str().unwrap(),
        "--token-file",
        scoped.to_str().unwrap(),
    ])
    .fails(1, "unauthorized");
    let any = hub.token_file(&[]);
    let e = Home::new();
    let ef = e.folder();
    e.run(&[
        "clone",
        &hub.url(),
        "11111111-1111-1111-1111-111111111111",
        ef.to_str().unwrap(),
        "--token-file",
        any.to_str().unwrap(),
    ])
    .fails(1, "unknown folder");

    // A read-only token pulls but never pushes.
    let ro = hub.token_file(&["--read-only"]);
    let r = Home::new();
    let rf = r.folder();
    r.run(&[
        "clone",
        &hub.url(),
        &hub.folder_id,
        rf.to_str().unwrap(),
        "--token-file",
        ro.to_str().unwrap(),
        "-q",
    ])
    .ok();
    assert_eq!(r.get("crm/person/1"), json!({"secret":false}));
    r.run(&["sync", "--once", "-q"]).ok();

    // The hub is still up and serving after all that.
    assert_eq!(http_get(&hub.addr, "/healthz").1, "ok\n");
}

#[test]
fn metrics_count_what_moved() {
    let hub = Hub::new("redb");
    for i in 0..10 {
        hub.home.put(&format!("crm/p/{i}"), "{}");
    }
    let a = hub.client("");
    converged(&[&hub.home, &a]);
    let (status, body) = http_get(&hub.addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    let value = |name: &str| -> u64 {
        body.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {body}"))
    };
    assert_eq!(value("syncdb_records_out_total"), 10);
    assert!(value("syncdb_bytes_out_total") > 0);
    assert_eq!(value("syncdb_peers_connected"), 1);
    assert!(!body.contains(&hub.folder_id), "metrics name no folders");
}

#[test]
fn sync_once_fails_when_the_remote_cannot_be_reached() {
    let c = Home::with_folder("redb");
    c.set_config("[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 100");
    c.run(&["remote", "add", "gone", "ws://127.0.0.1:9"]).ok();
    c.run(&["sync", "--once"]).fails(1, "cannot reach");
    c.run(&["remote", "add", "bad", "http://x"])
        .fails(2, "expected ws://HOST:PORT");
    c.run(&["remote", "rm", "gone"]).ok();
    c.run(&["sync", "--once"]).fails(3, "no remote");
}

const KILL_CONFIG: &str =
    "[sync]\nchunk_records = 50\nreconnect_min_ms = 20\nreconnect_max_ms = 200";
const RECORDS: usize = 20_000;

fn loaded_hub() -> Hub {
    let hub = Hub::with_config("redb", KILL_CONFIG);
    let lines: String = (0..RECORDS)
        .map(|i| format!("{{\"_id\":\"k{i:06}\",\"n\":{i}}}\n"))
        .collect();
    hub.home
        .run_stdin(&["put", "crm/bulk", "--batch", "-", "-q"], lines.as_bytes())
        .ok();
    hub
}

/// A client that follows the hub but has not synced yet.
fn fresh_client(hub: &Hub) -> Home {
    let token = hub.token_file(&[]);
    let c = hub.follower(KILL_CONFIG);
    c.run(&["daemon", "stop"]).ok();
    let add = [
        "remote",
        "add",
        "hub",
        &hub.url(),
        "--token-file",
        token.to_str().unwrap(),
    ];
    assert!(c.cmd(&add).output().unwrap().status.success());
    c
}

fn count(h: &Home) -> usize {
    h.run(&["ls", "crm", "--json"])
        .json_lines()
        .iter()
        .find(|c| c["name"] == "bulk")
        .map_or(0, |c| c["records"].as_u64().unwrap() as usize)
}

#[test]
fn receiver_killed_at_random_moments_of_a_large_sync_loses_nothing() {
    let hub = loaded_hub();
    let c = fresh_client(&hub);
    let mut rng = Lcg(0x5eed_0001);
    let mut seen = Vec::new();
    for _ in 0..20 {
        c.run(&["daemon", "start"]).ok(); // resumes syncing at once
        std::thread::sleep(Duration::from_millis(5 + rng.below(60)));
        c.kill_daemon();
        seen.push(count(&c));
        c.kill_daemon();
    }
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "never goes backwards: {seen:?}"
    );
    eprintln!("records present after each kill: {seen:?}");
    let mid_sync = seen.iter().filter(|&&n| n < RECORDS).count();
    assert!(mid_sync >= 15, "most kills landed mid-sync: {seen:?}");
    c.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(count(&c), RECORDS);
    assert_eq!(converged(&[&hub.home, &c]).len(), 1);
}

#[test]
fn hub_killed_at_random_moments_of_a_large_sync_loses_nothing() {
    let hub = loaded_hub();
    let c = fresh_client(&hub);
    c.run(&["daemon", "start"]).ok();
    let mut rng = Lcg(0x5eed_0002);
    let mut seen = Vec::new();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(10 + rng.below(60)));
        hub.home.kill_daemon();
        seen.push(count(&c));
        hub.home.run(&["daemon", "start"]).ok(); // serving comes back from the config
    }
    eprintln!("records present after each kill: {seen:?}");
    let mid_sync = seen.iter().filter(|&&n| n < RECORDS).count();
    assert!(mid_sync >= 15, "most kills landed mid-sync: {seen:?}");
    c.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(count(&c), RECORDS);
    assert_eq!(converged(&[&hub.home, &c]).len(), 1);
}

#[test]
fn tls_hub_serves_wss_to_clients_that_trust_its_certificate() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"over":"tls"}"#);
    let dir = hub.home.dir.path();
    // A private CA, and the hub's certificate signed by it.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let (ca_file, cert, pem_key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&pem_key, leaf_key.serialize_pem()).unwrap();
    let served = hub.serve_tls("127.0.0.1:0", &cert, &pem_key);
    let url = served["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    let token = hub.token_file(&[]);

    // Without trusting the certificate: refused, and the reason says so.
    let stranger = Home::new();
    let sf = stranger.folder();
    let out = stranger.run(&[
        "clone",
        &url,
        &hub.folder_id,
        sf.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
    ]);
    out.fails(1, "certificate");

    // Trusting it: the sync runs over TLS.
    let c = Home::new();
    let cf = c.folder();
    c.run(&[
        "clone",
        &url,
        &hub.folder_id,
        cf.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
        "--ca-file",
        ca_file.to_str().unwrap(),
        "-q",
    ])
    .ok();
    assert_eq!(c.get("crm/person/1"), json!({"over":"tls"}));
    c.put("crm/person/2", "{}");
    converged(&[&hub.home, &c]);

    // Plain ws:// to the TLS port does not get through.
    let plain = Home::new();
    let pf = plain.folder();
    let ws = url.replacen("wss://", "ws://", 1);
    plain
        .run(&[
            "clone",
            &ws,
            &hub.folder_id,
            pf.to_str().unwrap(),
            "--token-file",
            token.to_str().unwrap(),
        ])
        .fails(1, "cannot reach");

    // Beyond loopback without TLS is refused unless told --insecure.
    hub.home
        .run(&["serve", "--addr", "0.0.0.0:0"])
        .fails(2, "without TLS");
}

/// A client of `hub` whose daemon's clock runs `offset_ms` off.
fn skewed_client(hub: &Hub, offset_ms: i64) -> Home {
    let token = hub.token_file(&[]);
    let c = Home::new();
    c.set_config("[sync]\nreconnect_min_ms = 20\nreconnect_max_ms = 200");
    let f = c.folder();
    let out = c
        .cmd(&[
            "clone",
            &hub.url(),
            &hub.folder_id,
            f.to_str().unwrap(),
            "--token-file",
            token.to_str().unwrap(),
            "-q",
        ])
        .env("SYNCDB_TEST_CLOCK_OFFSET_MS", offset_ms.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    c
}

#[test]
fn clocks_minutes_apart_converge_and_a_clock_far_ahead_is_refused() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"v":"hub"}"#);
    let behind = skewed_client(&hub, -10 * 60 * 1000);
    let ahead = skewed_client(&hub, 10 * 60 * 1000);
    // The slow clock writes last, yet its later write wins: HLCs move past
    // every version they have seen, so causality beats wall clocks.
    ahead.put("crm/person/1", r#"{"v":"ahead"}"#);
    converged(&[&hub.home, &behind, &ahead]);
    behind.put("crm/person/1", r#"{"v":"behind, later"}"#);
    converged(&[&hub.home, &behind, &ahead]);
    assert_eq!(ahead.get("crm/person/1"), json!({"v":"behind, later"}));

    // Two hours ahead, over the one-hour bound: refused, with the reason.
    let wild = skewed_client(&hub, 2 * 3600 * 1000);
    wild.put("crm/person/2", r#"{"v":"from the future"}"#);
    wild.run(&["sync", "--once"]).fails(1, "ahead of our clock");
    // The client keeps retrying; between refusals its status shows the reason.
    eventually(Duration::from_secs(10), || {
        let status = wild.run(&["status", "--json"]).json();
        let error = status["folders"][0]["remotes"][0]["error"]
            .as_str()
            .map(str::to_owned);
        error.filter(|e| e.contains("fix the clock"))
    });
    hub.home.run(&["get", "crm/person/2"]).fails(3, "no record");
    // Nothing was poisoned: the others still write and converge.
    behind.put("crm/person/3", "{}");
    converged(&[&hub.home, &behind, &ahead]);
}
