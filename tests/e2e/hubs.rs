//! Hubs over one PostgreSQL store (`serve --store`): several hub daemons,
//! each with a home of its own, serve the same folders from the same
//! tables. Clients on different hubs see each other's writes live, a
//! client fails over to the next hub of its remote without downloading
//! again, a revocation through one hub holds on all, and a server that
//! goes away is refused with its reason and then resumed. Without a
//! PostgreSQL server (and `SYNCDB_REQUIRE_POSTGRES` unset) each test says
//! SKIPPED and passes.

use std::time::Duration;

use syncdb_pg::cluster::TestServer;

use crate::support::*;

const QUICK: &str = "[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 400";

/// A hub daemon serving from the store `url` on a free loopback port.
struct StoreHub {
    home: Home,
    addr: String,
}

/// Hubs work out horizons often, so that a replica a hub has not served
/// meets one (and is outdated unless the hubs share their registries).
const HUB: &str =
    "[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 400\n[history]\ncheck_ms = 100";

impl StoreHub {
    fn new(url: &str) -> StoreHub {
        StoreHub::with_config(url, HUB)
    }

    fn with_config(url: &str, config: &str) -> StoreHub {
        let home = Home::new();
        home.set_config(config);
        let served = home
            .run(&["serve", "--addr", "127.0.0.1:0", "--store", url, "--json"])
            .json();
        let addr = served["addr"].as_str().unwrap().to_owned();
        StoreHub { home, addr }
    }

    fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// A token made through this hub, in a 0600 file.
    fn token_file(&self, args: &[&str]) -> std::path::PathBuf {
        let mut all = vec!["token", "create", "-q"];
        all.extend_from_slice(args);
        let token = self.home.run(&all).ok().trim().to_owned();
        let path = self.home.folder().join(format!("token-{}", &token[4..12]));
        std::fs::write(&path, token).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        path
    }

    /// A `/metrics` counter of this hub.
    fn metric(&self, name: &str) -> u64 {
        let (_, body) = http_get(&self.addr, "/metrics");
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {body}"))
    }
}

/// A home with a folder of its own that syncs through `urls` (the first,
/// then the failovers) with `token`; the folder's id.
fn writer(urls: &[String], token: &std::path::Path) -> (Home, String) {
    writer_with(urls, token, QUICK)
}

/// [`writer`] with this config.
fn writer_with(urls: &[String], token: &std::path::Path, config: &str) -> (Home, String) {
    let home = Home::new();
    home.set_config(config);
    let id = home.run(&["init", "-q"]).ok().trim().to_owned();
    let mut args = vec!["remote", "add", "hub", &urls[0]];
    for url in &urls[1..] {
        args.extend(["--failover", url]);
    }
    args.extend(["--token-file", token.to_str().unwrap(), "-q"]);
    home.run(&args).ok();
    (home, id)
}

/// A clone of folder `id` through `urls` with `token`.
fn clone(urls: &[String], id: &str, token: &std::path::Path) -> Home {
    let home = Home::new();
    home.set_config(QUICK);
    let f = home.folder();
    let mut args = vec!["clone", &urls[0], id, f.to_str().unwrap()];
    for url in &urls[1..] {
        args.extend(["--failover", url]);
    }
    args.extend(["--token-file", token.to_str().unwrap(), "-q"]);
    home.run(&args).ok();
    home
}

fn arrives(home: &Home, address: &str, doc: serde_json::Value) {
    eventually(Duration::from_secs(20), || {
        let out = home.run(&["get", address]);
        (out.code == 0 && serde_json::from_str::<serde_json::Value>(&out.stdout).ok()? == doc)
            .then_some(())
    });
}

#[test]
fn clients_of_two_hubs_over_one_store_see_each_others_writes_live() {
    let Some(pg) = TestServer::get() else { return };
    // A password in the string: trust authentication ignores it, and no
    // output may show it.
    let store = format!("{} password=s3cret-pw", pg.url());
    let (hub1, hub2) = (StoreHub::new(&store), StoreHub::new(&store));
    let (a, id) = writer(&[hub1.url()], &hub1.token_file(&[]));
    a.put("crm/people/ada", r#"{"name":"Ada"}"#);
    a.run(&["sync", "--once", "--timeout", "20"]).ok();
    // A token made through hub 2 opens a folder that hub 1 made.
    let b = clone(&[hub2.url()], &id, &hub2.token_file(&[]));
    assert_eq!(b.get("crm/people/ada")["name"], "Ada");
    // Live, both ways, across hubs: no sync command runs.
    a.put("crm/people/bob", r#"{"name":"Bob"}"#);
    arrives(&b, "crm/people/bob", serde_json::json!({"name": "Bob"}));
    b.put("crm/people/ada", r#"{"name":"Ada L."}"#);
    arrives(&a, "crm/people/ada", serde_json::json!({"name": "Ada L."}));
    converged(&[&a, &b]);

    // Each hub lists the folder as kept in the store, with both writes.
    for hub in [&hub1, &hub2] {
        let status = hub.home.run(&["status", "--json"]).json();
        let folder = &status["folders"][0];
        assert_eq!(folder["id"], id.as_str(), "{status}");
        assert_eq!(folder["engine"], "postgres", "{status}");
        assert_eq!(folder["databases"][0]["records"], 2, "{status}");
        let shown = hub.home.run(&["config", "show"]).ok().to_owned();
        assert!(shown.contains("password=***"), "{shown}");
        assert!(!shown.contains("s3cret"), "the password is shown: {shown}");
        let log = std::fs::read_to_string(hub.home.home().join("state/daemon.log")).unwrap();
        assert!(!log.contains("s3cret"), "the password is logged");
    }
}

#[test]
fn a_client_fails_over_to_the_next_hub_without_downloading_again() {
    let Some(pg) = TestServer::get() else { return };
    let (hub1, hub2) = (StoreHub::new(&pg.url()), StoreHub::new(&pg.url()));
    let (w, id) = writer(&[hub1.url()], &hub1.token_file(&[]));
    let lines: String = (0..500)
        .map(|i| format!("{{\"key\":\"k{i:03}\",\"doc\":{{\"n\":{i}}}}}\n"))
        .collect();
    w.run_stdin(&["put", "crm/items", "--batch"], lines.as_bytes())
        .ok();
    w.run(&["sync", "--once", "--timeout", "20"]).ok();
    // Hub 2 has the database open (it serves D) before C joins through
    // hub 1: what it read of the replicas then does not know C.
    let d = clone(&[hub2.url()], &id, &hub2.token_file(&[]));
    let sent_to_d = hub2.metric("syncdb_records_out_total");
    let c = clone(&[hub1.url(), hub2.url()], &id, &hub1.token_file(&[]));
    assert_eq!(c.records("crm/items").len(), 500);
    // Both hubs work out the database's horizon meanwhile: a replica hub 2
    // never served must still be known to it, through the store.
    std::thread::sleep(Duration::from_millis(600));

    // The hub it syncs through dies: it moves to the next one by itself,
    // and what it pushes reaches the store.
    let pid = hub1.home.daemon_pid().unwrap();
    kill(pid, libc::SIGKILL);
    wait_gone(pid);
    c.put("crm/items/after", r#"{"via":"hub2"}"#);
    c.run(&["sync", "--once", "--timeout", "20"]).ok();
    let status = c.run(&["status", "--json"]).json();
    let remote = &status["folders"][0]["remotes"][0];
    assert_eq!(remote["via"], hub2.url().as_str(), "{status}");
    // Its checkpoint is the database's, not the hub's: nothing came again.
    let log = std::fs::read_to_string(c.home().join("state/daemon.log")).unwrap();
    assert!(!log.contains("rebuilt an outdated replica"), "{log}");
    let resent = hub2.metric("syncdb_records_out_total") - sent_to_d;
    assert!(
        resent < 10,
        "hub 2 sent {resent} records to a client that had them"
    );

    // Hub 1 comes back; its writer gets what went through hub 2.
    hub1.home.run(&["daemon", "start", "-q"]).ok();
    arrives(&w, "crm/items/after", serde_json::json!({"via": "hub2"}));
    converged(&[&w, &c, &d]);
}

#[test]
fn a_token_revoked_through_one_hub_is_refused_by_every_hub() {
    let Some(pg) = TestServer::get() else { return };
    let (hub1, hub2) = (StoreHub::new(&pg.url()), StoreHub::new(&pg.url()));
    let (a, id) = writer(&[hub1.url()], &hub1.token_file(&[]));
    a.put("crm/people/ada", r#"{"name":"Ada"}"#);
    a.run(&["sync", "--once", "--timeout", "20"]).ok();
    let token = hub1.token_file(&[]);
    let b = clone(&[hub2.url()], &id, &token);
    let listed = hub2.home.run(&["token", "ls", "--json"]).json_lines();
    assert_eq!(listed.len(), 2, "hub 2 lists the tokens made through hub 1");

    // Revoked through hub 1: B's session on hub 2 ends at once.
    let token_id = std::fs::read_to_string(&token).unwrap()[4..12].to_owned();
    hub1.home.run(&["token", "revoke", &token_id]).ok();
    eventually(Duration::from_secs(10), || {
        let status = b.run(&["status", "--json"]).json();
        let remote = &status["folders"][0]["remotes"][0];
        let refused = remote["error"].as_str()?.contains("revoked");
        (!remote["connected"].as_bool()? && refused).then_some(())
    });
    b.put("crm/people/eve", r#"{"name":"Eve"}"#);
    b.run(&["sync", "--once", "--timeout", "5"])
        .fails(1, "revoked");
    std::thread::sleep(Duration::from_millis(500));
    a.run(&["get", "crm/people/eve"]).fails(3, "");
}

#[test]
fn hubs_refuse_while_the_store_is_down_and_resume_when_it_is_back() {
    let Some(pg) = TestServer::own() else { return };
    let cluster = pg.cluster().expect("a cluster of its own");
    let hub = StoreHub::new(&pg.url());
    let (a, id) = writer(&[hub.url()], &hub.token_file(&[]));
    a.put("crm/people/ada", r#"{"name":"Ada"}"#);
    a.run(&["sync", "--once", "--timeout", "20"]).ok();

    cluster.stop().unwrap();
    // Kept here, never acknowledged by the hub: the reason is the store's.
    a.put("crm/people/bob", r#"{"name":"Bob"}"#);
    a.run(&["sync", "--once", "--timeout", "10"])
        .fails(1, "the database server");
    let status = a.run(&["status", "--json"]).json();
    let error = status["folders"][0]["remotes"][0]["error"].to_string();
    assert!(error.contains("the hub's store"), "{status}");
    // On the hub itself too, with the code of "unavailable".
    let served = hub.home.home().join("data/served").join(&id);
    let mut put = hub.home.cmd(&["put", "crm/people/hub", r#"{"n":1}"#]);
    put.current_dir(&served);
    let out = Run::from(put.output().unwrap());
    out.fails(4, "the database server");

    cluster.restart().unwrap();
    a.run(&["sync", "--once", "--timeout", "30"]).ok();
    let b = clone(&[hub.url()], &id, &hub.token_file(&[]));
    assert_eq!(b.get("crm/people/bob")["name"], "Bob");
    converged(&[&a, &b]);
}

#[test]
fn a_stored_folder_refuses_what_works_on_files_and_bad_stores_are_refused() {
    let Some(pg) = TestServer::get() else { return };
    let hub = StoreHub::new(&pg.url());
    let (a, id) = writer(&[hub.url()], &hub.token_file(&[]));
    a.put("crm/people/ada", r#"{"name":"Ada"}"#);
    a.run(&["sync", "--once", "--timeout", "20"]).ok();
    let served = hub.home.home().join("data/served").join(&id);
    let backup = hub.home.folder().join("backup");
    let backup = backup.to_str().unwrap();
    for args in [
        vec!["backup", "crm", backup],
        vec!["restore", backup],
        vec!["compact"],
        vec!["repair", "crm"],
        vec!["reset", "crm"],
    ] {
        let mut cmd = hub.home.cmd(&args);
        cmd.current_dir(&served);
        Run::from(cmd.output().unwrap()).fails(2, "pg_dump");
    }
    let folder = served.to_str().unwrap();
    hub.home
        .run(&["folder", "rm", folder, "--delete-files", "--yes"])
        .fails(2, "pg_dump");
    // Reads and writes on the hub go to the store.
    let mut get = hub.home.cmd(&["get", "crm/people/ada"]);
    get.current_dir(&served);
    assert!(Run::from(get.output().unwrap()).ok().contains("Ada"));

    let other = Home::new();
    other
        .run(&["serve", "--addr", "127.0.0.1:0", "--store", "nonsense=1"])
        .fails(2, "bad connection string");
    other
        .run(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--store",
            "host=127.0.0.1 port=1 user=x dbname=x",
        ])
        .fails(4, "cannot use the store");
    // Nothing was kept of either.
    let config = other.run(&["config", "show"]).ok().to_owned();
    assert!(!config.contains("store ="), "{config}");
    // A daemon serving from one store refuses another.
    hub.home
        .run(&["serve", "--store", "host=127.0.0.1 port=1 user=x dbname=y"])
        .fails(2, "another store");
}

#[test]
fn a_hub_killed_in_the_middle_of_a_push_loses_nothing() {
    let Some(pg) = TestServer::get() else { return };
    let (hub1, hub2) = (StoreHub::new(&pg.url()), StoreHub::new(&pg.url()));
    let token = hub1.token_file(&[]);
    // Small chunks, so that the push below takes many transactions.
    let small = format!("{QUICK}\nchunk_records = 20");
    let (a, id) = writer_with(&[hub1.url(), hub2.url()], &token, &small);
    a.put("crm/items/first", r#"{"n":0}"#);
    a.run(&["sync", "--once", "--timeout", "20"]).ok();
    let lines: String = (0..3000)
        .map(|i| format!("{{\"key\":\"k{i:04}\",\"doc\":{{\"n\":{i}}}}}\n"))
        .collect();
    a.run_stdin(&["put", "crm/items", "--batch", "-q"], lines.as_bytes())
        .ok();
    // Killed once the 3,000 records stream to it, chunk by chunk.
    eventually(Duration::from_secs(20), || {
        (hub1.metric("syncdb_records_in_total") > 1).then_some(())
    });
    let pid = hub1.home.daemon_pid().unwrap();
    kill(pid, libc::SIGKILL);
    wait_gone(pid);
    a.run(&["sync", "--once", "--timeout", "30"]).ok();
    let taken = hub2.metric("syncdb_records_in_total");
    assert!(
        taken > 0 && taken < 3000,
        "hub 2 took {taken} records: the kill was not in the middle of the push"
    );
    // Everything is in the store: a clone through hub 2 has it all.
    let b = clone(&[hub2.url()], &id, &hub2.token_file(&[]));
    assert_eq!(b.records("crm/items").len(), 3001);
    converged(&[&a, &b]);
}

#[test]
fn a_clone_goes_on_through_the_next_hub_when_its_hub_dies_midway() {
    let Some(pg) = TestServer::get() else { return };
    let (hub1, hub2) = (StoreHub::new(&pg.url()), StoreHub::new(&pg.url()));
    let (w, id) = writer(&[hub1.url()], &hub1.token_file(&[]));
    let lines: String = (0..20_000)
        .map(|i| format!("{{\"key\":\"k{i:05}\",\"doc\":{{\"n\":{i}}}}}\n"))
        .collect();
    w.run_stdin(&["put", "crm/items", "--batch", "-q"], lines.as_bytes())
        .ok();
    w.run(&["sync", "--once", "--timeout", "60"]).ok();

    let c = Home::new();
    c.set_config(QUICK);
    let token = hub1.token_file(&[]);
    let f = c.folder();
    let (url1, url2) = (hub1.url(), hub2.url());
    let mut cloning = c.cmd(&[
        "clone",
        &url1,
        &id,
        f.to_str().unwrap(),
        "--failover",
        &url2,
        "--token-file",
        token.to_str().unwrap(),
        "-q",
    ]);
    let child = cloning
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Hub 1 dies once it has sent part of the database.
    eventually(Duration::from_secs(30), || {
        (hub1.metric("syncdb_records_out_total") > 0).then_some(())
    });
    let pid = hub1.home.daemon_pid().unwrap();
    kill(pid, libc::SIGKILL);
    wait_gone(pid);
    let out = Run::from(child.wait_with_output().unwrap());
    out.ok();
    let log = std::fs::read_to_string(c.home().join("state/daemon.log")).unwrap();
    assert!(!log.contains("rebuilt an outdated replica"), "{log}");
    assert!(
        hub2.metric("syncdb_records_out_total") < 20_000,
        "hub 2 sent all of it again"
    );
    assert_eq!(c.records("crm/items").len(), 20_000);
}

#[test]
fn hubs_over_one_store_keep_each_others_replicas_live() {
    let Some(pg) = TestServer::get() else { return };
    // A short retention: a hub that knew only its own sessions' replicas
    // would retire the other hub's within the test, and forget tombstones
    // they may not have.
    let config = format!("{HUB}\nretention_ms = 2000\nclock_margin_ms = 100");
    let hub1 = StoreHub::with_config(&pg.url(), &config);
    let hub2 = StoreHub::with_config(&pg.url(), &config);
    let (a, id) = writer(&[hub1.url()], &hub1.token_file(&[]));
    a.put("crm/people/ada", r#"{"name":"Ada"}"#);
    a.run(&["sync", "--once", "--timeout", "20"]).ok();
    let d = clone(&[hub2.url()], &id, &hub2.token_file(&[]));
    let site_of = |home: &Home| {
        let out = home.run(&["replica", "ls", "crm", "--json"]).json();
        out["databases"][0]["site"].as_str().unwrap().to_owned()
    };
    let (site_a, site_d) = (site_of(&a), site_of(&d));
    std::thread::sleep(Duration::from_secs(5));
    for (hub, other) in [(&hub2, &site_a), (&hub1, &site_d)] {
        let served = hub.home.home().join("data/served").join(&id);
        let mut ls = hub.home.cmd(&["replica", "ls", "crm", "--json"]);
        ls.current_dir(&served);
        let out = Run::from(ls.output().unwrap()).json();
        let replicas = &out["databases"][0]["replicas"];
        let state = replicas
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["site"] == other.as_str())
            .map(|r| r["state"].clone());
        assert_eq!(
            state,
            Some(serde_json::json!("live")),
            "a replica live on the other hub: {out}"
        );
    }
    // And a delete through one hub reaches the other hub's client.
    d.run(&["del", "crm/people/ada"]).ok();
    eventually(Duration::from_secs(20), || {
        (a.run(&["get", "crm/people/ada"]).code == 3).then_some(())
    });
    converged(&[&a, &d]);
}
