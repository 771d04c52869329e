//! Network faults between a client daemon and its hub (RELIABILITY.md §2:
//! F6 cuts, F7 slow links, F10 partitions, F14 many writers), through the
//! fault proxy. After every case: the sync completes (I6), digests are equal
//! (I2) and every acknowledged write is present exactly once (I1, I3).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::faultproxy::{Close, Dir, FaultProxy, Script};
use crate::support::*;

/// Small chunks, so cuts land inside them; quick reconnects.
const CONFIG: &str = "[sync]\nchunk_records = 50\nreconnect_min_ms = 20\nreconnect_max_ms = 200";

/// How many fault cases to run: `SYNCDB_FAULT_CASES`, or `ci` by default.
fn fault_cases(ci: usize) -> usize {
    std::env::var("SYNCDB_FAULT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci)
}

/// The seed: `SYNCDB_FAULT_SEED` (decimal or 0x-hex), or `ci` by default.
fn fault_seed(ci: u64) -> u64 {
    let Ok(v) = std::env::var("SYNCDB_FAULT_SEED") else {
        return ci;
    };
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    }
    .expect("SYNCDB_FAULT_SEED is a number")
}

/// Writes `n` records `{prefix}{i}` to `crm/{coll}` in one batch.
pub(crate) fn write_batch(h: &Home, coll: &str, prefix: &str, n: usize) {
    let lines: String = (0..n)
        .map(|i| format!("{{\"_id\":\"{prefix}{i:05}\",\"n\":{i}}}\n"))
        .collect();
    h.run_stdin(
        &["put", &format!("crm/{coll}"), "--batch", "-", "-q"],
        lines.as_bytes(),
    )
    .ok();
}

/// A hub holding `records` records in `crm/bulk`.
fn loaded_hub(records: usize) -> Hub {
    let hub = Hub::with_config("redb", CONFIG);
    write_batch(&hub.home, "bulk", "k", records);
    hub
}

/// A client of `hub`'s folder reaching it at `url` (the proxy), holding
/// `own` records of its own in `crm/mine` to push. It starts syncing at once.
fn proxied_client(hub: &Hub, url: &str, own: usize) -> Home {
    let token = hub.token_file(&[]);
    let c = hub.follower(CONFIG);
    if own > 0 {
        write_batch(&c, "mine", "m", own);
    }
    c.run(&[
        "remote",
        "add",
        "hub",
        url,
        "--token-file",
        token.to_str().unwrap(),
    ])
    .ok();
    c
}

/// Records per collection of `crm`, from `ls crm --json` (none before `crm` exists).
fn counts(h: &Home) -> BTreeMap<String, u64> {
    let out = h.run(&["ls", "crm", "--json"]);
    if out.code == 3 && out.stderr.contains("no database crm") {
        return BTreeMap::new();
    }
    out.json_lines()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["records"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// (records, local seq) of database `crm`, from `ls --json`.
fn db_stats(h: &Home) -> (u64, u64) {
    let dbs = h.run(&["ls", "--json"]).json_lines();
    let crm = dbs.iter().find(|d| d["name"] == "crm").expect("crm exists");
    (
        crm["records"].as_u64().unwrap(),
        crm["seq"].as_u64().unwrap(),
    )
}

/// Runs `syncdb ARGS` in `h`; a run still going after `bound` fails the
/// test (so a sync that hangs is a failure, not a stuck test run).
pub(crate) fn run_within(h: &Home, args: &[&str], bound: Duration) -> Run {
    use std::io::Read;
    let mut child = h
        .cmd(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + bound;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`syncdb {}` still running after {bound:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A counter from the hub's `/metrics`.
pub(crate) fn hub_metric(hub: &Hub, name: &str) -> u64 {
    let (_, text) = http_get(&hub.addr, "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

/// The one remote of `h` as `status --json` shows it.
pub(crate) fn remote_status(h: &Home) -> serde_json::Value {
    h.run(&["status", "--json"]).json()["folders"][0]["remotes"][0].clone()
}

/// Where the cut points fall: a third inside the handshake (HTTP upgrade,
/// Hello/Welcome/Want: the first ~400 bytes each way), half inside the
/// first chunks (a chunk of 50 records is ~6 KB), the rest further on.
fn cut_schedule(rng: &mut Lcg, n: usize) -> Vec<Script> {
    (0..n)
        .map(|_| {
            let dir = if rng.below(2) == 0 {
                Dir::Up
            } else {
                Dir::Down
            };
            let how = if rng.below(2) == 0 {
                Close::Fin
            } else {
                Close::Rst
            };
            let at = match rng.below(6) {
                0 | 1 => rng.below(512),
                2..=4 => rng.between(512, 16 * 1024),
                _ => rng.between(16 * 1024, 96 * 1024),
            };
            Script::cut_after(dir, at, how)
        })
        .collect()
}

#[test]
fn f6_connections_cut_at_many_byte_offsets_resume_without_loss_or_duplicates() {
    let cases = fault_cases(48);
    let seed = fault_seed(0x5eed_f006);
    let started = Instant::now();
    let hub = loaded_hub(3000);
    let proxy = FaultProxy::start(&hub.addr);
    let mut rng = Lcg(seed);
    let schedule = cut_schedule(&mut rng, cases);
    let wanted: Vec<_> = schedule.iter().filter_map(Script::cut_point).collect();
    proxy.script_next(schedule);
    let c = proxied_client(&hub, &proxy.url(), 1000);
    let (mut hub_extra, mut client_extra) = (0u64, 0u64);

    // The client reconnects by itself after each cut. When the traffic
    // stops before a cut is reached (all caught up), both sides write more,
    // so every scripted cut lands on a live stream.
    let mut last = (0, 0, Instant::now());
    let mut feeds = 0;
    eventually(Duration::from_secs(60 + cases as u64 / 4), || {
        if proxy.accepted() > cases {
            return Some(()); // every scripted connection is over
        }
        let now = (proxy.bytes(Dir::Up), proxy.bytes(Dir::Down));
        if now != (last.0, last.1) {
            last = (now.0, now.1, Instant::now());
        } else if last.2.elapsed() > Duration::from_millis(300) {
            feeds += 1;
            write_batch(&hub.home, "bulk", &format!("h{feeds}-"), 300);
            write_batch(&c, "mine", &format!("c{feeds}-"), 300);
            hub_extra += 300;
            client_extra += 300;
            last.2 = Instant::now();
        }
        None
    });
    let cuts = proxy.cuts();
    let got: Vec<_> = cuts.iter().map(|c| (c.dir, c.at, c.how)).collect();
    assert_eq!(
        got, wanted,
        "each scripted connection was cut exactly where scripted (seed {seed:#x})"
    );
    if cases >= 16 {
        for dir in [Dir::Up, Dir::Down] {
            let at = |early: bool| cuts.iter().any(|c| c.dir == dir && (c.at < 512) == early);
            assert!(
                at(true) && at(false),
                "cuts in and past the handshake, {dir:?}"
            );
        }
    }
    assert!(
        cuts.iter().enumerate().all(|(i, c)| c.conn == i),
        "the first {cases} connections were the cut ones: {cuts:?}"
    );

    // The proxy behaves now: one sync completes, and both sides agree.
    run_within(&c, &["sync", "--once", "-q"], Duration::from_secs(60)).ok();
    let digests = converged(&[&hub.home, &c]);
    assert_eq!(digests.len(), 1);
    let expect = BTreeMap::from([
        ("bulk".to_owned(), 3000 + hub_extra),
        ("mine".to_owned(), 1000 + client_extra),
    ]);
    assert_eq!(counts(&c), expect, "every record reached the client once");
    assert_eq!(
        counts(&hub.home),
        expect,
        "every record reached the hub once"
    );
    let (records, seq) = db_stats(&c);
    assert_eq!(
        records,
        expect.values().sum::<u64>(),
        "no record counted twice"
    );

    // Cheap resume (I7): a cut re-sends at most what was in flight, 4
    // chunks of 50 records; everything acknowledged stays acknowledged.
    let sent = hub_metric(&hub, "syncdb_records_out_total");
    let needed = 3000 + hub_extra;
    assert!(
        sent <= needed + cases as u64 * 4 * 50,
        "{sent} records sent for {needed}"
    );

    // A further sync re-applies nothing: same digest, same local seq (I5).
    run_within(&c, &["sync", "--once", "-q"], Duration::from_secs(30)).ok();
    assert_eq!(db_stats(&c), (records, seq), "a resync changed nothing");
    assert_eq!(c.digests(), digests);
    let (early, up, rst) = (
        cuts.iter().filter(|c| c.at < 512).count(),
        cuts.iter().filter(|c| c.dir == Dir::Up).count(),
        cuts.iter().filter(|c| c.how == Close::Rst).count(),
    );
    eprintln!(
        "F6: {cases} cuts (seed {seed:#x}): {early} in the handshake, {} past it; \
         {up} up, {} down; {rst} RST, {} FIN; {feeds} feeds; \
         hub sent {sent} records for {needed}; {:?}",
        cases - early,
        cases - up,
        cases - rst,
        started.elapsed()
    );
}

/// Runs a first sync of the hub's records (and `own` client records) over
/// a link shaped by `script`; checks it completes within `bound` without a
/// reconnect and that progress never goes backwards. Returns the proxy and
/// the time the sync took.
fn sync_over_slow_link(
    hub: Hub,
    script: Script,
    own: usize,
    bound: Duration,
) -> (FaultProxy, Duration) {
    let records = counts(&hub.home)["bulk"];
    let proxy = FaultProxy::start(&hub.addr);
    proxy.set_default(script.clone());
    let started = Instant::now();
    let c = proxied_client(&hub, &proxy.url(), own);

    // Sample both sides' counts while the sync runs.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (samples, out) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let pulled = counts(&c).get("bulk").copied().unwrap_or(0);
                let pushed = counts(&hub.home).get("mine").copied().unwrap_or(0);
                seen.push((pulled, pushed));
                std::thread::sleep(Duration::from_millis(100));
            }
            seen
        });
        let out = run_within(&c, &["sync", "--once", "--json"], bound);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (sampler.join().unwrap(), out)
    });
    let took = started.elapsed();
    let lines = out.json_lines(); // the sync succeeded, within `bound`

    // Progress events per stream never go backwards.
    let mut by_stream: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for p in lines.iter().filter(|l| l["caught_up"] == false) {
        by_stream
            .entry((
                p["db"].as_str().unwrap().to_owned(),
                p["direction"].as_str().unwrap().to_owned(),
            ))
            .or_default()
            .push(p["done"].as_u64().unwrap());
    }
    for (stream, done) in &by_stream {
        assert!(
            done.windows(2).all(|w| w[0] <= w[1]),
            "progress of {stream:?} is monotone: {done:?}"
        );
    }
    // Records present on each side never go backwards either.
    assert!(
        samples
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
        "counts are monotone: {samples:?}"
    );
    // The one redial allowed: tungstenite's client refuses an HTTP upgrade
    // answer that comes in over 64 reads of under 128 bytes on average
    // ("Attack attempt detected"), which a link of one-byte slices can
    // make happen before the session starts; it redials at once.
    let log = c.run(&["logs", "-n", "500"]).stdout;
    let ended: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("sync session ended") && !l.contains("Attack attempt detected"))
        .collect();
    assert!(
        ended.is_empty() && proxy.accepted() <= 2,
        "no timeout killed the progressing connection: {ended:?}"
    );
    let mut expect = BTreeMap::from([("bulk".to_owned(), records)]);
    if own > 0 {
        expect.insert("mine".to_owned(), own as u64);
    }
    converged(&[&hub.home, &c]);
    assert_eq!(counts(&c), expect);
    assert_eq!(counts(&hub.home), expect);
    eprintln!(
        "F7 {script:?}: {took:?}, {} samples, up {} B, down {} B, {} writes",
        samples.len(),
        proxy.bytes(Dir::Up),
        proxy.bytes(Dir::Down),
        proxy.writes()
    );
    (proxy, took)
}

#[test]
fn f7_50ms_delay_per_read_still_completes_with_monotone_progress() {
    let (_, took) = sync_over_slow_link(
        loaded_hub(3000),
        Script::default().delay(50),
        500,
        Duration::from_secs(60),
    );
    // 60 chunks, 4 in flight, ≥ 100 ms per round trip: the delay was real.
    assert!(took >= Duration::from_secs(1), "delayed: {took:?}");
}

#[test]
fn f7_20kb_per_second_trickle_still_completes_with_monotone_progress() {
    let rate = 20_000;
    let (proxy, took) = sync_over_slow_link(
        loaded_hub(1000),
        Script::default().throttle(rate),
        300,
        Duration::from_secs(60),
    );
    let slowest = proxy.bytes(Dir::Up).max(proxy.bytes(Dir::Down));
    let floor = Duration::from_secs_f64(slowest as f64 / rate as f64 * 0.9);
    assert!(took >= floor, "throttled: {took:?} for {slowest} B");
}

#[test]
fn f7_1kb_per_second_trickle_of_one_large_frame_is_not_taken_for_a_dead_link() {
    // One chunk of 300 records (~35 KB) takes ~35 s to cross: longer than
    // the client's silence limit (20 s after a ping), yet bytes keep coming.
    let hub = Hub::with_config("redb", "[sync]\nchunk_records = 1000");
    write_batch(&hub.home, "bulk", "k", 300);
    let rate = 1000;
    let (proxy, took) = sync_over_slow_link(
        hub,
        Script::default().throttle(rate),
        0,
        Duration::from_secs(80),
    );
    let floor = Duration::from_secs(proxy.bytes(Dir::Down) / rate);
    assert!(took >= floor, "throttled: {took:?}");
}

#[test]
fn f7_one_byte_slices_still_complete_with_monotone_progress() {
    let (proxy, _) = sync_over_slow_link(
        loaded_hub(3000),
        Script::default().slice(1),
        500,
        Duration::from_secs(60),
    );
    let bytes = proxy.bytes(Dir::Up) + proxy.bytes(Dir::Down);
    assert_eq!(
        proxy.writes(),
        bytes,
        "every byte went in a write of its own"
    );
}

#[test]
fn f10_blackholed_client_shows_it_and_converges_after_the_partition_heals() {
    let hub = loaded_hub(200);
    let proxy = FaultProxy::start(&hub.addr);
    let c = proxied_client(&hub, &proxy.url(), 100);
    run_within(&c, &["sync", "--once", "-q"], Duration::from_secs(30)).ok();
    converged(&[&hub.home, &c]);

    // Open connections go silent, new ones hear nothing; both sides write.
    proxy.partition();
    let started = Instant::now();
    for round in 0..5 {
        write_batch(&hub.home, "part", &format!("h{round}-"), 10);
        write_batch(&c, "part", &format!("c{round}-"), 10);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Honest status: the client's writes are not across, so not caught up...
    let remote = remote_status(&c);
    assert_eq!(remote["caught_up"], false, "{remote}");
    // ...and the silent connection is noticed and reported as down.
    let remote = eventually(Duration::from_secs(60), || {
        let r = remote_status(&c);
        (r["connected"] == false).then_some(r)
    });
    eprintln!("F10: down after {:?}: {remote}", started.elapsed());
    assert!(remote["error"].is_string(), "says why: {remote}");
    assert_eq!(remote["caught_up"], false, "{remote}");
    // A sync asked for now fails with a reason instead of hanging.
    run_within(&c, &["sync", "--once"], Duration::from_secs(30)).fails(1, "cannot reach");
    // Nothing crossed the partition.
    assert_eq!(counts(&c)["part"], 50, "only the client's own writes");
    assert_eq!(counts(&hub.home)["part"], 50, "only the hub's own writes");

    // Heal: both sides get everything, including the partition's writes.
    proxy.behave();
    let healed = Instant::now();
    let digests = converged(&[&hub.home, &c]);
    eprintln!("F10: converged {:?} after the heal", healed.elapsed());
    assert_eq!(digests.len(), 1);
    for h in [&hub.home, &c] {
        assert_eq!(counts(h)["part"], 100, "both sides' partition writes");
        assert_eq!(counts(h)["bulk"], 200);
        assert_eq!(counts(h)["mine"], 100);
    }
    run_within(&c, &["sync", "--once", "-q"], Duration::from_secs(30)).ok();
    assert_eq!(
        remote_status(&c)["caught_up"],
        true,
        "caught up once healed"
    );
}

/// F14a: 16 command processes and 4 raw socket clients write to one daemon
/// at once; every write is acknowledged without a lock error, and present.
fn many_writers_on_one_daemon(engine: &str) {
    const PROCS: usize = 16;
    const PUTS: usize = 50;
    const SOCKETS: usize = 4;
    const RPCS: usize = 200;
    let h = Home::with_folder(engine);
    let started = Instant::now();
    let folder = h.folder();
    std::thread::scope(|s| {
        for t in 0..PROCS {
            let h = &h;
            s.spawn(move || {
                for i in 0..PUTS {
                    let out = h.run(&[
                        "put",
                        &format!("crm/w/p{t}-{i}"),
                        &format!(r#"{{"t":{t},"i":{i}}}"#),
                    ]);
                    // Acknowledged, and no busy/lock error reached the user.
                    assert_eq!(out.code, 0, "put p{t}-{i}: {}", out.stderr);
                    assert!(out.stderr.is_empty(), "put p{t}-{i} said: {}", out.stderr);
                }
            });
        }
        for t in 0..SOCKETS {
            let (h, folder) = (&h, &folder);
            s.spawn(move || raw_socket_puts(h, folder, t, RPCS));
        }
    });
    let mut expect: Vec<(String, serde_json::Value)> = (0..PROCS)
        .flat_map(|t| {
            (0..PUTS).map(move |i| (format!("p{t}-{i}"), serde_json::json!({"t":t,"i":i})))
        })
        .chain((0..SOCKETS).flat_map(|t| {
            (0..RPCS).map(move |i| (format!("s{t}-{i}"), serde_json::json!({"s":t,"i":i})))
        }))
        .collect();
    expect.sort_by(|a, b| a.0.cmp(&b.0));
    let mut got = h.records("crm/w");
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got.len(), expect.len(), "one record per acknowledged write");
    assert!(
        got == expect,
        "every acknowledged write is there, as written"
    );
    eprintln!(
        "F14a ({engine}): {} writes in {:?}",
        expect.len(),
        started.elapsed()
    );
}

/// Pipelined JSON-RPC `put`s over the daemon's socket; every answer is a success.
fn raw_socket_puts(h: &Home, folder: &std::path::Path, t: usize, n: usize) {
    use std::io::{BufRead, BufReader, Write};
    use syncdb_core::ipc::{HelloParams, IPC_VERSION, PutParams, request_line};
    let stream = std::os::unix::net::UnixStream::connect(h.socket()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let folder = folder.to_owned();
    let sender = std::thread::spawn(move || {
        let hello = HelloParams {
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
            ipc_version: IPC_VERSION,
        };
        writer.write_all(&request_line(0, "hello", &hello)).unwrap();
        for i in 0..n {
            let (db, collection, key) =
                syncdb_core::Address::parse_record(&format!("crm/w/s{t}-{i}")).unwrap();
            let put = PutParams {
                folder: Some(folder.clone()),
                db,
                collection,
                key: Some(key),
                doc: format!(r#"{{"s":{t},"i":{i}}}"#),
            };
            writer
                .write_all(&request_line(i as u64 + 1, "put", &put))
                .unwrap();
        }
    });
    let mut lines = BufReader::new(stream).lines();
    for id in 0..=n as u64 {
        let line = lines.next().expect("an answer per request").unwrap();
        let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["id"], id, "answers in order: {answer}");
        assert!(answer.get("error").is_none(), "socket client {t}: {answer}");
        assert!(answer.get("result").is_some(), "{answer}");
    }
    sender.join().unwrap();
}

#[test]
fn f14_16_processes_and_4_socket_clients_writing_to_one_redb_daemon_lose_nothing() {
    many_writers_on_one_daemon("redb");
}

#[test]
fn f14_16_processes_and_4_socket_clients_writing_to_one_sqlite_daemon_lose_nothing() {
    many_writers_on_one_daemon("sqlite");
}

#[test]
fn f14_hub_with_20_client_daemons_each_writing_20_records_converges_everywhere() {
    const CLIENTS: usize = 20;
    const WRITES: usize = 20;
    let started = Instant::now();
    let hub = Hub::new("redb");
    hub.home.put("crm/many/seed", "{}");
    let clients: Vec<Home> = (0..CLIENTS).map(|_| hub.client("")).collect();
    let cloned = started.elapsed();
    std::thread::scope(|s| {
        for (j, c) in clients.iter().enumerate() {
            s.spawn(move || {
                for i in 0..WRITES {
                    c.put(
                        &format!("crm/many/c{j}-{i}"),
                        &format!(r#"{{"c":{j},"i":{i}}}"#),
                    );
                }
            });
        }
    });
    let mut all: Vec<&Home> = clients.iter().collect();
    all.push(&hub.home);
    let digests = converged(&all);
    assert_eq!(digests.len(), 1, "one database, the same everywhere");
    let expect = CLIENTS * WRITES + 1;
    for (n, h) in all.iter().enumerate() {
        assert_eq!(
            counts(h)["many"],
            expect as u64,
            "replica {n} holds every client's writes"
        );
    }
    eprintln!(
        "F14b: {CLIENTS} clients cloned in {cloned:?}, converged after {:?}",
        started.elapsed()
    );
}
