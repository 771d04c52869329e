//! Promises kept when tried from outside: the `sync --once` barrier,
//! read-only replicas, revocation, replica identity, what a handshake may
//! create, values from the network, and clients facing a hub that stalls or
//! refuses. Each test is the regression for one way these broke.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use syncdb_core::record::{Field, RecordState, Whole, WholeOp};
use syncdb_core::sync::wire::{self, DbAd, Hello, Welcome};
use syncdb_core::sync::{Message, PROTOCOL_VERSION, Reject};
use syncdb_core::{Item, Key, SiteId, Version};
use tungstenite::Message as Ws;

use crate::faultproxy::{FaultProxy, Script};
use crate::faults_net::{remote_status, write_batch};
use crate::net_bad_input::{End, Socket, end_of, frame, name, open, token};
use crate::support::*;

const QUICK: &str = "[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 400";

/// A clone of `hub`'s folder reaching it at `url`, on `engine`.
fn clone_via(hub: &Hub, url: &str, engine: &str, config: &str) -> Home {
    clone_with(hub, url, &hub.token_file(&[]), engine, config)
}

/// The same with a given token file.
fn clone_with(hub: &Hub, url: &str, token: &std::path::Path, engine: &str, config: &str) -> Home {
    let c = Home::new();
    c.set_config(config);
    let f = c.folder();
    c.run(&[
        "clone",
        url,
        &hub.folder_id,
        f.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
        "--engine",
        engine,
        "-q",
    ])
    .ok();
    c
}

fn record_count(h: &Home, coll: &str) -> usize {
    let run = h.run(&["ls", &format!("crm/{coll}"), "--keys"]);
    if run.code == 3 {
        return 0; // no such database or collection yet
    }
    run.ok().lines().filter(|l| !l.is_empty()).count()
}

/// Item 1: with a live connection and latency between client and hub,
/// `sync --once` on B returns only once everything the hub had when it
/// started is applied on B, and everything B wrote before is on the hub.
fn sync_once_is_a_barrier(engine: &str, sizes: &[usize]) {
    let hub = Hub::with_config(engine, QUICK);
    hub.home.put("crm/seed/0", "{}");
    let a = clone_via(&hub, &hub.url(), engine, QUICK);
    let proxy = FaultProxy::start(&hub.addr);
    proxy.set_default(Script::default().delay(25));
    let b = clone_via(&hub, &proxy.url(), engine, QUICK);
    for (round, &n) in sizes.iter().enumerate() {
        let coll = format!("bulk{round}");
        write_batch(&a, &coll, "k", n);
        a.run(&["sync", "--once", "-q"]).ok();
        assert_eq!(record_count(&hub.home, &coll), n, "the hub has A's import");
        b.run(&["sync", "--once", "-q"]).ok();
        assert_eq!(
            record_count(&b, &coll),
            n,
            "B's sync --once exited 0 with all of the hub's records here"
        );
        // And the other way: B's writes are on the hub when it exits 0.
        let mine = format!("mine{round}");
        write_batch(&b, &mine, "m", n / 10 + 1);
        b.run(&["sync", "--once", "-q"]).ok();
        assert_eq!(record_count(&hub.home, &mine), n / 10 + 1);
    }
    assert_eq!(hub.home.digests(), b.digests());
}

#[test]
fn sync_once_is_a_barrier_over_a_slow_link_redb() {
    sync_once_is_a_barrier("redb", &[1, 5000, 300]);
}

#[test]
fn sync_once_is_a_barrier_over_a_slow_link_sqlite() {
    sync_once_is_a_barrier("sqlite", &[2048, 7]);
}

/// Item 2: a replica whose token is read-only refuses local writes, says
/// why, and shows it; its `sync --once` still pulls.
#[test]
fn a_read_only_replica_refuses_local_writes_and_shows_it() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"n":1}"#);
    let ro = hub.token_file(&["--read-only"]);
    let r = clone_with(&hub, &hub.url(), &ro, "redb", "");
    for args in [
        vec!["put", "crm/person/2", "{}"],
        vec!["patch", "crm/person/1", r#"{"n":2}"#],
        vec!["del", "crm/person/1"],
        vec!["drop", "crm"],
    ] {
        r.run(&args).fails(2, "read-only replica");
    }
    r.run_stdin(&["put", "crm/person", "--batch", "-"], b"{\"_id\":\"x\"}\n")
        .fails(2, "read-only replica");
    assert_eq!(r.get("crm/person/1"), serde_json::json!({"n":1}));
    assert_eq!(remote_status(&r)["read_only"], true);
    assert!(r.run(&["remote", "ls"]).ok().contains("read-only"));
    assert!(r.run(&["status"]).ok().contains("read-only"));
    hub.home.put("crm/person/3", "{}");
    r.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(
        r.digests(),
        hub.home.digests(),
        "pulls, and nothing diverged"
    );
}

/// Item 3: a frozen hub does not pass for caught up, and `--timeout` bounds
/// the wait with a message that says what is missing.
#[test]
fn sync_once_against_a_frozen_hub_fails_at_its_timeout() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let c = hub.client(QUICK);
    c.run(&["sync", "--once", "-q"]).ok();
    let pid = hub.home.daemon_pid().unwrap();
    kill(pid, libc::SIGSTOP);
    let started = Instant::now();
    let run = c.run(&["sync", "--once", "--timeout", "2"]);
    let took = started.elapsed();
    // With something to push, too.
    c.put("crm/person/2", "{}");
    let pushing = c.run(&["sync", "--once", "--timeout", "1"]);
    kill(pid, libc::SIGCONT);
    run.fails(1, "not caught up within 2s");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    pushing.fails(1, "not caught up within 1s");
    c.run(&["sync", "--once", "--timeout", "30"]).ok();
    assert_eq!(c.digests(), hub.home.digests());
    c.run(&["sync", "--timeout", "3"]).fails(2, "--once");
}

/// Item 4: revoking a token ends the sessions using it within a second,
/// and `serve --stop` ends every served session; clients show why.
#[test]
fn revoking_a_token_or_stopping_serving_ends_live_sessions() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let token_path = hub.token_file(&[]);
    let id = token(token_path.clone())[4..12].to_owned();
    let c = clone_with(&hub, &hub.url(), &token_path, "redb", "");
    let other = hub.client("");
    assert_eq!(remote_status(&c)["connected"], true);
    let started = Instant::now();
    hub.home.run(&["token", "revoke", &id]).ok();
    let error = eventually(Duration::from_secs(5), || {
        remote_status(&c)["error"]
            .as_str()
            .filter(|e| e.contains("revoked"))
            .map(str::to_owned)
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "{took:?}: {error}");
    eprintln!("revoke → session ended: {took:?}");
    // The revoked client no longer gets the hub's writes; the other does.
    hub.home.put("crm/person/2", "{}");
    other.run(&["sync", "--once", "-q"]).ok();
    std::thread::sleep(Duration::from_millis(300));
    c.run(&["get", "crm/person/2"]).fails(3, "no record");
    c.run(&["sync", "--once"]).fails(1, "unauthorized");

    // The status moves on to "cannot reach" as the client redials, so the
    // reason is read from its log.
    hub.home.run(&["serve", "--stop"]).ok();
    eventually(Duration::from_secs(2), || {
        let log = other.run(&["logs", "-n", "1000"]).stdout;
        log.contains("the hub stopped serving").then_some(())
    });
}

fn site_of(version: &str) -> SiteId {
    SiteId::from_hex(version.rsplit('.').next().unwrap()).unwrap()
}

fn hello_with(hub: &Hub, token: &str, databases: Vec<DbAd>) -> Message {
    Message::Hello(Hello {
        version: PROTOCOL_VERSION,
        folder: hub.folder_id.clone(),
        token: token.into(),
        databases,
        schema_format: syncdb_core::schema::FORMAT,
    })
}

/// Sends a `Hello`; returns the socket once `Welcome` came, or the reason.
fn handshake(hub: &Hub, hello: Message) -> Result<(Socket, Welcome), End> {
    let mut ws = open(hub);
    ws.send(frame(&hello)).unwrap();
    match ws.read() {
        Ok(Ws::Binary(b)) => match wire::decode(&b).unwrap() {
            Message::Welcome(w) => Ok((ws, w)),
            Message::Reject(r) => Err(End::Rejected(r)),
            other => panic!("{other:?}"),
        },
        other => Err(End::Closed(format!("{other:?}"))),
    }
}

#[track_caller]
fn forbidden(end: End, needle: &str) {
    match end {
        End::Rejected(Reject::Forbidden(m)) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected forbidden ({needle}), got {other:?}"),
    }
}

/// Item 5: a token holder who claims another replica's site (public: the
/// suffix of its versions) is refused, so it cannot move the hub's
/// checkpoint for that replica past writes the hub never received.
#[test]
fn a_token_holder_cannot_act_as_another_replica() {
    let hub = Hub::new("redb");
    let victim = hub.client("");
    victim.put("crm/person/1", r#"{"by":"victim"}"#);
    victim.run(&["sync", "--once", "-q"]).ok();
    let version = victim.run(&["get", "crm/person/1", "--json"]).json()["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let victim_site = site_of(&version);
    let attacker = token(hub.token_file(&[]));

    // Claimed in the Hello: refused before anything is accepted.
    let claim = vec![DbAd {
        rejoin: None,
        name: name("crm"),
        site: victim_site,
        schema: None,
    }];
    let end = handshake(&hub, hello_with(&hub, &attacker, claim)).unwrap_err();
    forbidden(end, "belongs to another credential");

    // Claimed in a Want after an honest handshake: refused too.
    let (mut ws, _) = handshake(&hub, hello_with(&hub, &attacker, vec![])).unwrap();
    ws.send(frame(&Message::Want {
        db: name("crm"),
        site: victim_site,
        since: 0,
    }))
    .unwrap();
    forbidden(end_of(&mut ws), "belongs to another credential");

    // The hub's own replica cannot be claimed either.
    let hub_version = {
        hub.home.put("crm/person/9", "{}");
        hub.home.run(&["get", "crm/person/9", "--json"]).json()["version"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let own = vec![DbAd {
        rejoin: None,
        name: name("crm"),
        site: site_of(&hub_version),
        schema: None,
    }];
    forbidden(
        handshake(&hub, hello_with(&hub, &attacker, own)).unwrap_err(),
        "this hub's own",
    );

    // The victim's later writes still reach the hub.
    victim.put("crm/person/2", r#"{"by":"victim"}"#);
    victim.run(&["sync", "--once", "-q"]).ok();
    hub.home.get("crm/person/2");
    assert_eq!(victim.digests(), hub.home.digests());
}

fn db_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".redb") || n.ends_with(".sqlite"))
        .collect();
    names.sort();
    names
}

fn ads(prefix: &str, n: usize) -> Vec<DbAd> {
    (0..n)
        .map(|i| {
            let mut site = [0x5a; 16];
            site[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            site[8] = prefix.len() as u8;
            DbAd {
                rejoin: None,
                name: name(&format!("{prefix}{i}")),
                site: SiteId(site),
                schema: None,
            }
        })
        .collect()
}

fn one_record(site: SiteId, field: &str, value: &str) -> Item {
    let version = Version {
        hlc: syncdb_core::version::wall_clock_ms() << 16,
        site,
    };
    let mut state = RecordState {
        whole: Some(Whole {
            op: WholeOp::Put,
            version,
        }),
        ..RecordState::default()
    };
    state.fields.insert(
        field.to_owned(),
        Field {
            value: Some(value.into()),
            version,
        },
    );
    Item::Record {
        collection: name("person"),
        key: Key::parse("1").unwrap(),
        state,
    }
}

/// Item 6: naming databases creates nothing; a database comes into being
/// only when a writer's data for it arrives, up to `sync.max_databases`.
#[test]
fn a_handshake_creates_no_databases_and_data_creates_them_up_to_the_cap() {
    let root = tempfile::Builder::new()
        .prefix("sdbroot")
        .tempdir_in("/tmp")
        .unwrap();
    let hub = Hub::with_config("redb", "[sync]\nmax_databases = 3\nmax_created_folders = 2");
    hub.home.put("crm/person/1", "{}");
    hub.home
        .run(&[
            "serve",
            "--addr",
            &hub.addr,
            "--create-folders",
            root.path().to_str().unwrap(),
        ])
        .ok();
    let folder = hub.home.folder();
    let before = db_files(&folder);
    let ro = token(hub.token_file(&["--read-only"]));
    let rw = token(hub.token_file(&[]));

    // A read-only token: its databases are not even asked for.
    let (mut ws, welcome) = handshake(&hub, hello_with(&hub, &ro, ads("ro", 3))).unwrap();
    assert_eq!(welcome.databases.len(), 1, "only crm exists");
    ws.close(None).ok();
    // Nor does it make folders under --create-folders.
    let mut unknown = hello_with(&hub, &ro, vec![]);
    if let Message::Hello(h) = &mut unknown {
        h.folder = "00000000-0000-4000-8000-0000000000aa".into();
    }
    assert!(matches!(
        handshake(&hub, unknown).unwrap_err(),
        End::Rejected(Reject::UnknownFolder(_))
    ));
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);

    // A writer naming more databases than a folder may hold: refused.
    forbidden(
        handshake(&hub, hello_with(&hub, &rw, ads("w", 4))).unwrap_err(),
        "sync.max_databases",
    );
    // Naming some, sending no data: nothing is created.
    let dbs = ads("d", 3);
    let (mut ws, _) = handshake(&hub, hello_with(&hub, &rw, dbs.clone())).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(db_files(&folder), before, "named, not created");
    // Data creates them, up to the cap (crm is one of the three).
    for (i, ad) in dbs.iter().enumerate() {
        ws.send(frame(&Message::Chunk {
            db: ad.name.clone(),
            items: vec![one_record(ad.site, "n", "1")],
            end_seq: 1,
            remaining: 0,
        }))
        .unwrap();
        if i < 2 {
            eventually(Duration::from_secs(5), || {
                db_files(&folder)
                    .contains(&format!("{}.redb", ad.name))
                    .then_some(())
            });
        }
    }
    forbidden(end_of(&mut ws), "the most sync may create");
    assert_eq!(db_files(&folder).len(), 3);
    assert_eq!(hub.home.get("d0/person/1"), serde_json::json!({"n":1}));

    // A writer makes folders on first contact, up to sync.max_created_folders.
    for i in 0..3 {
        let mut new = hello_with(&hub, &rw, vec![]);
        if let Message::Hello(h) = &mut new {
            h.folder = format!("00000000-0000-4000-8000-00000000000{i}");
        }
        match (i, handshake(&hub, new)) {
            (0 | 1, Ok(_)) => {}
            (2, Err(end)) => forbidden(end, "sync.max_created_folders"),
            (_, other) => panic!("folder {i}: {:?}", other.err()),
        }
    }
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 2);
}

/// Item 6, the other way: a hub's `Welcome` naming databases creates none
/// on the client, and one naming more than the cap is refused.
#[test]
fn a_welcome_naming_databases_creates_none_on_the_client() {
    for (count, refused) in [(5, false), (1001, true)] {
        let fake = FakeHub::start(move |mut ws| {
            let _ = ws.read();
            let welcome = Message::Welcome(Welcome {
                version: PROTOCOL_VERSION,
                databases: ads("evil", count),
                read_only: false,
                schema_format: syncdb_core::schema::FORMAT,
            });
            let _ = ws.send(frame(&welcome));
            std::thread::sleep(Duration::from_secs(3));
        });
        let c = Home::with_folder("redb");
        c.set_config(QUICK);
        c.run(&["remote", "add", "evil", &fake.url()]).ok();
        let run = c.run(&["sync", "--once", "--timeout", "2"]);
        if refused {
            run.fails(1, "sync.max_databases");
        } else {
            run.fails(1, "not caught up within 2s");
        }
        assert_eq!(db_files(&c.folder()), Vec::<String>::new());
    }
}

/// Item 8: values from the network pass the checks local input passes; a
/// bad one ends the session and is stored nowhere.
#[test]
fn invalid_values_from_the_network_are_refused_and_never_stored() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/0", "{}");
    let rw = token(hub.token_file(&[]));
    let before = hub.home.digests();
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let big = format!("\"{}\"", "x".repeat(17 << 20));
    for (i, bad) in [
        "}{",
        "1\n",
        r#"1,"admin":true"#,
        "",
        deep.as_str(),
        big.as_str(),
    ]
    .into_iter()
    .enumerate()
    {
        let ad = ads(&format!("v{i}x"), 1).remove(0);
        let site = ad.site;
        let crm = DbAd {
            rejoin: None,
            name: name("crm"),
            site,
            schema: None,
        };
        let (mut ws, _) = handshake(&hub, hello_with(&hub, &rw, vec![crm])).unwrap();
        ws.send(frame(&Message::Chunk {
            db: name("crm"),
            items: vec![one_record(site, "evil", bad)],
            end_seq: 1,
            remaining: 0,
        }))
        .unwrap();
        match end_of(&mut ws) {
            End::Rejected(Reject::Protocol(m)) => {
                assert!(m.contains("crm/person/1"), "{m}")
            }
            other => panic!("value {:.20?}: {other:?}", bad),
        }
    }
    assert_eq!(hub.home.digests(), before);
    hub.home.run(&["get", "crm/person/1"]).fails(3, "no record");
    assert_eq!(record_count(&hub.home, "person"), 1);
}

/// A hand-driven hub: accepts WebSockets on loopback and runs `serve` on each.
struct FakeHub {
    addr: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeHub {
    fn start(serve: impl Fn(Socket) + Send + Sync + 'static) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        let serve = std::sync::Arc::new(serve);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let serve = serve.clone();
                std::thread::spawn(move || {
                    if let Ok(ws) = tungstenite::accept(stream) {
                        serve(ws);
                    }
                });
            }
        });
        FakeHub { addr, accepted }
    }

    fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Item 15: a hub that accepts the WebSocket and never answers the Hello
/// is given up on at the Welcome deadline; `sync --once` says so.
#[test]
fn a_hub_that_never_welcomes_is_given_up_on() {
    let fake = FakeHub::start(|mut ws| {
        let _ = ws.read();
        std::thread::sleep(Duration::from_secs(30));
    });
    let c = Home::with_folder("redb");
    c.run(&["remote", "add", "mute", &fake.url()]).ok();
    let started = Instant::now();
    c.run(&["sync", "--once"]).fails(1, "no Welcome");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "{took:?}");
}

/// Item 15: a session refused right after its `Welcome` backs off like any
/// other failure instead of redialing at the shortest interval.
#[test]
fn a_session_refused_after_its_welcome_backs_off() {
    let fake = FakeHub::start(|mut ws| {
        let _ = ws.read();
        let welcome = Message::Welcome(Welcome {
            version: PROTOCOL_VERSION,
            databases: vec![],
            read_only: false,
            schema_format: syncdb_core::schema::FORMAT,
        });
        let _ = ws.send(frame(&welcome));
        let reject = Message::Reject(Reject::Forbidden("go away".into()));
        let _ = ws.send(frame(&reject));
        let _ = ws.close(None);
        let _ = ws.read();
    });
    // The config before the daemon starts, so the backoff is this one.
    let c = Home::new();
    c.set_config("[sync]\nreconnect_min_ms = 50\nreconnect_max_ms = 5000");
    c.run(&["init", "--engine", "redb"]).ok();
    c.run(&["remote", "add", "grumpy", &fake.url()]).ok();
    std::thread::sleep(Duration::from_secs(3));
    let dials = fake.accepted();
    // Backing off from 50 ms: 50, 100, 200, … 1600 ms fits ~6 tries in 3 s;
    // without backoff it would be about 60.
    assert!((2..=9).contains(&dials), "{dials} connections in 3 s");
    // Between a dial's welcome and its refusal the status has no error yet.
    eventually(Duration::from_secs(5), || {
        let error = remote_status(&c)["error"].as_str()?.to_owned();
        error.contains("go away").then_some(())
    });
}

/// Database files the daemon of `h` holds open now.
fn open_db_files(h: &Home) -> usize {
    let pid = h.daemon_pid().unwrap();
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|p| {
            let p = p.to_string_lossy();
            p.ends_with(".redb") || p.ends_with(".sqlite")
        })
        .count()
}

/// Item 6: however many databases exist, open ones beyond
/// `daemon.max_open_databases` are closed once idle, and reopen on use.
#[test]
fn idle_databases_are_closed_so_descriptors_stay_bounded() {
    for engine in ["redb", "sqlite"] {
        let h = Home::new();
        h.set_config("[daemon]\nmax_open_databases = 4");
        h.run(&["init", "--engine", engine]).ok();
        for i in 0..40 {
            h.put(&format!("db{i}/c/k"), &format!(r#"{{"i":{i}}}"#));
        }
        // The watch-feed buffer keeps the most recent few shared for a while.
        let open = open_db_files(&h);
        eprintln!("{engine}: {open} database files open with 40 databases");
        assert!(open <= 12, "{engine}: {open} database files open");
        for i in 0..40 {
            assert_eq!(h.get(&format!("db{i}/c/k")), serde_json::json!({"i": i}));
        }
        h.put("db0/c/k2", "{}");
        assert_eq!(h.run(&["ls", "--json"]).json_lines().len(), 40, "{engine}");
    }
}

/// Found from outside: when more frames than one step takes (16) waited
/// together, the one read past the last was dropped, so a clone over a slow
/// link silently missed a chunk and still said "caught up".
#[test]
fn a_burst_of_frames_on_a_slow_link_loses_none() {
    let hub = Hub::new("redb");
    let lines: String = (0..30).map(|i| format!("{{\"_id\":\"k{i}\"}}\n")).collect();
    for db in 0..24 {
        hub.home
            .run_stdin(
                &["put", &format!("d{db}/c"), "--batch", "-", "-q"],
                lines.as_bytes(),
            )
            .ok();
    }
    let proxy = FaultProxy::start(&hub.addr);
    proxy.set_default(Script::default().delay(300));
    let token = hub.token_file(&[]);
    let c = hub.follower(QUICK);
    let url = proxy.url();
    let token = token.to_str().unwrap();
    c.run(&["remote", "add", "hub", &url, "--token-file", token])
        .ok();
    // Bounded: a lost chunk must fail the barrier, not hang the test.
    c.run(&["sync", "--once", "--timeout", "60", "-q"]).ok();
    assert_eq!(c.digests(), hub.home.digests());
}

/// Found from outside: with a site already bound to another token, a
/// replica that rewrote its own site id to a victim's could still write
/// records under it and push them under its own: the hub took them, never
/// sent them to the victim (they looked like its own), and they overrode
/// the victim's writes. A hub now takes another known replica's (or its
/// own) writes from a peer only when it holds them already; others it
/// leaves out of the chunk (an honest peer relays them only to a hub that
/// lost them, and their writer brings them back).
#[test]
fn a_replica_cannot_push_writes_in_another_replicas_name() {
    let hub = Hub::new("redb");
    hub.home.put("shared/c/seed", "{}");
    let victim = clone_via(&hub, &hub.url(), "redb", QUICK);
    victim.put("shared/c/v0", r#"{"by":"victim"}"#);
    victim.run(&["sync", "--once", "-q"]).ok();
    let version = victim.run(&["get", "shared/c/v0", "--json"]).json()["version"]
        .as_str()
        .unwrap()
        .to_owned();
    let victim_site = site_of(&version);
    let attacker = clone_via(&hub, &hub.url(), "sqlite", QUICK);
    // The attacker's relays of the hub's records are fine: it converged.
    attacker.run(&["sync", "--once", "-q"]).ok();
    attacker.run(&["daemon", "stop"]).ok();
    let file = attacker.folder().join("shared.sqlite");
    let set_site = |site: &[u8]| {
        let db = rusqlite::Connection::open(&file).unwrap();
        db.execute("UPDATE meta SET value = ?1 WHERE name = 'site'", [site])
            .unwrap();
    };
    let own: Vec<u8> = rusqlite::Connection::open(&file)
        .unwrap()
        .query_row("SELECT value FROM meta WHERE name = 'site'", [], |r| {
            r.get(0)
        })
        .unwrap();
    set_site(&victim_site.0);
    attacker.put("shared/c/v1", r#"{"by":"forged"}"#);
    attacker.run(&["daemon", "stop"]).ok();
    // The same, at the very version of the victim's write, with content
    // that would win the tie: the clock set back just below it.
    let hlc = u64::from_str_radix(version.split('.').next().unwrap(), 16).unwrap();
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute(
        "UPDATE meta SET value = ?1 WHERE name = 'hlc'",
        [(hlc - 1) as i64],
    )
    .unwrap();
    drop(db);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let offset = (hlc >> 16) as i64 - now_ms - 30_000;
    let tie = attacker
        .cmd(&["patch", "shared/c/v0", r#"{"by":"zzzz"}"#, "--json"])
        .env("SYNCDB_TEST_CLOCK_OFFSET_MS", offset.to_string())
        .output()
        .unwrap();
    let tie: serde_json::Value = serde_json::from_slice(&tie.stdout).unwrap();
    assert_eq!(tie["version"], version.as_str(), "the forgery ties: {tie}");
    attacker.run(&["daemon", "stop"]).ok();
    set_site(&own);
    attacker
        .run(&["sync", "--once", "--timeout", "10", "-q"])
        .ok();
    hub.home.run(&["get", "shared/c/v1"]).fails(3, "no record");
    assert_eq!(
        hub.home.get("shared/c/v0"),
        serde_json::json!({"by":"victim"})
    );
    let log = hub.home.run(&["logs", "-n", "50"]).ok().to_owned();
    assert!(
        log.contains("in another replica's name") && log.contains(&victim_site.to_hex()),
        "{log}"
    );
    // The victim's own writes still go through and prevail.
    victim.put("shared/c/v1", r#"{"by":"victim"}"#);
    victim.run(&["sync", "--once", "-q"]).ok();
    assert_eq!(
        hub.home.get("shared/c/v1"),
        serde_json::json!({"by":"victim"})
    );
    assert_eq!(victim.digests(), hub.home.digests());
    // With the victim's token revoked its site is free to relay, yet a
    // write at a version the hub holds, with other content, stays out.
    let config = std::fs::read_to_string(victim.home().join("config/config.toml")).unwrap();
    let token_file = config
        .lines()
        .find_map(|l| l.strip_prefix("token_file = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let token = std::fs::read_to_string(token_file).unwrap();
    let id = token.trim().split('_').nth(1).unwrap().to_owned();
    hub.home.run(&["token", "revoke", &id]).ok();
    attacker
        .run(&["sync", "--once", "--timeout", "10", "-q"])
        .ok();
    assert_eq!(
        hub.home.get("shared/c/v0"),
        serde_json::json!({"by":"victim"})
    );
}

/// A hub whose database has a schema in a format newer than this binary
/// reads: that database stops here with the reason, and the session stays
/// up for the others (no reconnect).
#[test]
fn a_schema_this_binary_cannot_read_stops_only_that_database() {
    let fake = FakeHub::start(|mut ws| {
        let _ = ws.read();
        let ad = |db: &str, schema| DbAd {
            rejoin: None,
            name: name(db),
            site: SiteId([0x77; 16]),
            schema,
        };
        let newer = syncdb_core::sync::wire::SchemaAd {
            version: 5,
            hash: "ab".repeat(16),
            format: syncdb_core::schema::FORMAT + 1,
        };
        let welcome = Message::Welcome(Welcome {
            version: PROTOCOL_VERSION,
            databases: vec![ad("crm", Some(newer)), ad("notes", None)],
            read_only: false,
            schema_format: syncdb_core::schema::FORMAT + 1,
        });
        let _ = ws.send(frame(&welcome));
        // Answers what a caught-up hub with nothing to send would.
        while let Ok(msg) = ws.read() {
            let tungstenite::Message::Binary(bytes) = msg else {
                continue;
            };
            let answer = match wire::decode(&bytes) {
                Ok(Message::Barrier { id }) => Message::BarrierAt { id, heads: vec![] },
                Ok(Message::Want { db, since, .. }) => Message::CaughtUp { db, seq: since },
                _ => continue,
            };
            let _ = ws.send(frame(&answer));
        }
    });
    let c = Home::with_folder("redb");
    c.put("crm/person/1", r#"{"name":"Ada"}"#);
    c.run(&["remote", "add", "newer", &fake.url()]).ok();
    let once = c.run(&["sync", "--once", "--timeout", "10"]);
    once.fails(
        1,
        "database crm cannot be synced with newer: the peer's schema version 5 of crm needs schema format 2, and this syncdb reads format 1: upgrade syncdb here to sync crm",
    );
    let status = c.run(&["status"]).ok().to_owned();
    assert!(
        status.contains("not syncing with newer: the peer's schema version 5"),
        "{status}"
    );
    assert!(
        remote_status(&c)["connected"].as_bool().unwrap(),
        "no reconnect: {status}"
    );
    assert_eq!(fake.accepted(), 1, "one connection");
}
