//! Hubs over one PostgreSQL store, under load. Run with `cargo bench -p
//! syncdb --bench hubs` (release build; needs PostgreSQL: the server in
//! `SYNCDB_TEST_POSTGRES`, or a throwaway cluster of its own).
//!
//! - **load**: simulated replicas — each a real SQLite database driven by
//!   the sans-IO `Session`, in this process, over a real WebSocket to a
//!   real hub daemon — spread over 3 hubs on one PostgreSQL, each putting
//!   one record every `SYNCDB_BENCH_EVERY_MS` (1000): from a put to its
//!   arrival at each other replica (p50, p99, and per write the last
//!   arrival), the hubs' CPU and memory per connection. Baseline: the same
//!   replicas and load on one file-backed hub, in the same run.
//! - **initial**: a clone of N records from a hub over PostgreSQL, against
//!   a clone of the same records from a file-backed hub, same run.
//! - **push**: 100 replicas each pushing `SYNCDB_BENCH_PUSHES` puts as
//!   fast as they can, through 1, 2 and 3 hubs over one PostgreSQL.
//!
//! `SYNCDB_BENCH_ONLY=load|initial|push` runs one; `SYNCDB_BENCH_REPLICAS`
//! (1000), `SYNCDB_BENCH_SECS` (10) and `SYNCDB_BENCH_RECORDS` (1,000,000)
//! size them.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use support::*;
use syncdb_core::db::WriteOp;
use syncdb_core::store::{EngineKind, Item};
use syncdb_core::sync::session::{Action, Local};
use syncdb_core::sync::{Message, Session, SessionConfig, wire};
use syncdb_core::{Database, Document, Key, Name, Reader, SiteId};
use syncdb_pg::cluster::TestServer;
use tokio_tungstenite::tungstenite::Message as Ws;

/// Hubs that take this many sessions, all from one address, at once.
const HUB_CONFIG: &str = "[sync]\nmax_peers = 5000\n[serve]\nmax_unauthenticated = 5000\nmax_unauthenticated_per_ip = 5000\n[daemon]\nmax_connections = 5000";

struct Hub {
    home: Home,
    url: String,
}

impl Hub {
    /// A hub serving from `store`, or from files (with `folder` made here).
    fn start(store: Option<&str>) -> (Hub, Option<String>) {
        let home = Home::with_config(HUB_CONFIG);
        let id = match store {
            None => Some(home.run(&["init", "-q"]).trim().to_owned()),
            Some(_) => None,
        };
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        if let Some(store) = store {
            args.extend(["--store", store]);
        }
        let url = home
            .run(&args)
            .trim()
            .trim_start_matches("serving on ")
            .to_owned();
        (Hub { home, url }, id)
    }

    fn token(&self) -> String {
        self.home.run(&["token", "create", "-q"]).trim().to_owned()
    }

    fn pid(&self) -> u32 {
        self.home.daemon_pid()
    }
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time of every PostgreSQL process on this machine (the bench's
/// server is taken to be the only one running).
fn postgres_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // A backend may end between the listing and the read.
        if comm.trim() == "postgres"
            && let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        {
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let ticks = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            // SAFETY: sysconf has no preconditions.
            let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
            total += Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz.max(1));
        }
    }
    total
}

/// One simulated replica: its database and what it saw.
struct Replica {
    db: Database,
    name: Name,
}

struct ReplicaLocal<'a> {
    reader: Reader,
    site: SiteId,
    name: &'a Name,
}

impl Local for ReplicaLocal<'_> {
    fn databases(&mut self) -> Result<Vec<(Name, SiteId)>, String> {
        Ok(vec![(self.name.clone(), self.site)])
    }

    fn open(&mut self, db: &Name) -> Result<Option<Reader>, String> {
        Ok((db == self.name).then(|| self.reader.clone()))
    }

    fn now_ms(&self) -> u64 {
        syncdb_core::version::wall_clock_ms()
    }
}

/// Arrivals one replica saw: (writer, write number, latency ms).
type Arrivals = Vec<(u32, u32, u32)>;

/// What a run of simulated replicas is asked to do.
#[derive(Clone)]
struct Load {
    folder: String,
    /// Put one record every this long; `None`: none.
    every: Option<Duration>,
    /// Or push this many puts as fast as the session takes them.
    burst: usize,
    /// Writing stops then; the replica keeps receiving until `until`.
    write_until: Instant,
    until: Instant,
}

impl Replica {
    fn local(&self) -> ReplicaLocal<'_> {
        ReplicaLocal {
            reader: self.db.reader(),
            site: self.db.site(),
            name: &self.name,
        }
    }

    fn put(&mut self, me: u32, n: u32) {
        let doc = format!(
            "{{\"t\":{},\"w\":{me},\"n\":{n}}}",
            syncdb_core::version::wall_clock_ms()
        );
        let op = WriteOp::Put {
            collection: Name::parse_as("collection", "c").unwrap(),
            key: Key::parse(&format!("r{me}-{n}")).unwrap(),
            doc: Document::parse(&doc, 1 << 20).unwrap(),
        };
        self.db
            .commit(&[op], syncdb_core::version::wall_clock_ms())
            .unwrap();
    }
}

/// Runs one replica against `url` until `load.until`: the arrivals it saw
/// and the puts it made.
async fn replica(
    me: u32,
    dir: std::path::PathBuf,
    url: String,
    token: String,
    load: Load,
) -> (Arrivals, u32) {
    let path = dir.join(format!("r{me}.sqlite"));
    let db = Database::open(EngineKind::Sqlite, &path).unwrap();
    let mut r = Replica {
        db,
        name: Name::parse_as("database", "load").unwrap(),
    };
    let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(wire::MAX_FRAME_BYTES))
        .max_frame_size(Some(wire::MAX_FRAME_BYTES));
    let (mut ws, _) = loop {
        let ws_url = format!("{url}/v1/sync");
        match tokio_tungstenite::connect_async_with_config(&ws_url, Some(ws_config), true).await {
            Ok(ws) => break ws,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let cfg = SessionConfig::from(&syncdb_core::config::Config::default());
    let (mut session, first) = Session::connect(cfg, &load.folder, &token, &mut r.local());
    let mut pending: std::collections::VecDeque<Action> = first.into();
    let mut arrivals = Arrivals::new();
    let mut trace: Vec<String> = Vec::new();
    let mut made = 0u32;
    let mut tick = load.every.map(|every| {
        // Spread over the period, so puts do not all come at once.
        let phase = every.mul_f64(f64::from(me % 1000) / 1000.0);
        tokio::time::interval_at(tokio::time::Instant::now() + phase, every)
    });
    let until = tokio::time::Instant::from_std(load.until);
    loop {
        while let Some(action) = pending.pop_front() {
            match action {
                Action::Send(msg) => {
                    let frame = wire::encode(&msg).unwrap();
                    if ws.send(Ws::Binary(frame.into())).await.is_err() {
                        return (arrivals, made);
                    }
                }
                Action::Apply {
                    db,
                    peer,
                    items,
                    end_seq,
                    checkpoint,
                } => {
                    let now = syncdb_core::version::wall_clock_ms();
                    for item in &items {
                        if let Item::Record { state, .. } = item
                            && let Some(doc) = state.visible_json()
                            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&doc)
                            && let (Some(t), Some(w), Some(n)) =
                                (v["t"].as_u64(), v["w"].as_u64(), v["n"].as_u64())
                        {
                            arrivals.push((w as u32, n as u32, now.saturating_sub(t) as u32));
                        }
                    }
                    let known = session.peer_schema(&db).cloned();
                    let (_, echoes) =
                        r.db.apply_chunk_from(now, peer, &items, checkpoint, known.as_ref())
                            .unwrap();
                    pending.extend(session.applied(&db, end_seq, echoes));
                }
                Action::Close(reject) | Action::Closed(reject) => {
                    panic!("replica {me}: session ended: {reject}; {trace:?}")
                }
                _ => {}
            }
        }
        let writing = std::time::Instant::now() < load.write_until;
        if load.burst > 0 && session.is_open() {
            if (made as usize) < load.burst {
                r.put(me, made);
                made += 1;
                let name = r.name.clone();
                pending.extend(session.local_commit(&name, &mut r.local()));
                continue;
            }
            // Every put is acknowledged: the hub has committed it.
            if session.push_acked(&r.name) == Some(r.db.high_seq()) {
                return (arrivals, made);
            }
        }
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Ws::Binary(bytes))) => {
                    let msg: Message = wire::decode(&bytes).unwrap();
                    let brief = match &msg {
                        Message::Chunk { items, end_seq, .. } => format!("Chunk({} to {end_seq})", items.len()),
                        Message::Welcome(w) => format!("Welcome({:?})", w.databases.iter().map(|d| (d.name.to_string(), d.site.to_hex())).collect::<Vec<_>>()),
                        other => format!("{other:?}"),
                    };
                    // The last few, for the message of a session that ends.
                    if trace.len() == 8 {
                        trace.remove(0);
                    }
                    trace.push(brief);
                    pending.extend(session.on_message(msg, &mut r.local()));
                }
                Some(Ok(_)) => {}
                _ => return (arrivals, made),
            },
            _ = async { tick.as_mut().unwrap().tick().await }, if tick.is_some() && writing => {
                r.put(me, made);
                made += 1;
                let name = r.name.clone();
                pending.extend(session.local_commit(&name, &mut r.local()));
            },
            () = tokio::time::sleep_until(until) => return (arrivals, made),
        }
    }
}

/// Runs `n` replicas spread over `urls` and returns what each saw and made.
fn run_replicas(
    rt: &tokio::runtime::Runtime,
    n: usize,
    urls: &[String],
    token: &str,
    load: &Load,
) -> Vec<(Arrivals, u32)> {
    let dir = tempfile::Builder::new()
        .prefix("sdb-load")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let url = urls[i % urls.len()].clone();
                tokio::spawn(replica(
                    i as u32,
                    dir.path().to_owned(),
                    url,
                    token.to_owned(),
                    load.clone(),
                ))
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    })
}

struct LoadResult {
    p50: String,
    p99: String,
    all_p50: String,
    all_p99: String,
    /// Puts made after the warm-up.
    made: u64,
    delivered: u64,
    expected: u64,
    hub_cpu: f64,
    pg_cpu: f64,
    rss_per_conn_kib: f64,
}

fn load_on(rt: &tokio::runtime::Runtime, hubs: &[Hub], folder: &str, n: usize) -> LoadResult {
    let secs = env_number("SYNCDB_BENCH_SECS", 10) as u64;
    let every = Duration::from_millis(env_number("SYNCDB_BENCH_EVERY_MS", 1000) as u64);
    let token = hubs[0].token();
    let urls: Vec<String> = hubs.iter().map(|h| h.url.clone()).collect();
    let rss_before: f64 = hubs.iter().map(|h| rss_mib(h.pid())).sum();
    let cpu_before: Vec<Duration> = hubs.iter().map(|h| cpu_time(h.pid())).collect();
    let pg_before = postgres_cpu();
    // Connecting and the first sync take a while with many replicas: the
    // measured writes begin once all are in (they start writing at once,
    // but arrivals are counted for writes made after the warm-up).
    let warmup = Duration::from_secs(5);
    let start = Instant::now();
    let load = Load {
        folder: folder.to_owned(),
        every: Some(every),
        burst: 0,
        write_until: start + warmup + Duration::from_secs(secs),
        until: start + warmup + Duration::from_secs(secs) + Duration::from_secs(10),
    };
    let rss_during = Arc::new(Mutex::new(0.0f64));
    let sampler = {
        let pids: Vec<u32> = hubs.iter().map(Hub::pid).collect();
        let rss_during = rss_during.clone();
        let stop = load.write_until;
        std::thread::spawn(move || {
            while Instant::now() < stop {
                let sum: f64 = pids.iter().map(|p| rss_mib(*p)).sum();
                let mut max = rss_during.lock().unwrap();
                *max = max.max(sum);
                drop(max);
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    let results = run_replicas(rt, n, &urls, &token, &load);
    sampler.join().unwrap();
    let cpu: f64 = hubs
        .iter()
        .zip(&cpu_before)
        .map(|(h, before)| (cpu_time(h.pid()) - *before).as_secs_f64())
        .sum();
    let elapsed = start.elapsed().as_secs_f64();
    let pg_cpu = (postgres_cpu().saturating_sub(pg_before)).as_secs_f64() / elapsed;
    // Writes made after the warm-up: write number n of replica w was made
    // at about phase + n × every.
    let first_counted = (warmup.as_millis() / every.as_millis().max(1)) as u32;
    let made: u64 = results
        .iter()
        .map(|(_, m)| u64::from(m.saturating_sub(first_counted)))
        .sum();
    let mut lat = Vec::new();
    let mut last: std::collections::HashMap<(u32, u32), (u32, u32)> = Default::default();
    for (arrivals, _) in &results {
        for &(w, k, ms) in arrivals {
            if k < first_counted {
                continue;
            }
            lat.push(Duration::from_millis(u64::from(ms)));
            let e = last.entry((w, k)).or_default();
            e.0 += 1;
            e.1 = e.1.max(ms);
        }
    }
    let others = (n - 1) as u32;
    let complete: Vec<Duration> = last
        .values()
        .filter(|(count, _)| *count >= others)
        .map(|(_, ms)| Duration::from_millis(u64::from(*ms)))
        .collect();
    let delivered = lat.len() as u64;
    LoadResult {
        p50: quantile(&lat, 0.5),
        p99: quantile(&lat, 0.99),
        all_p50: quantile(&complete, 0.5),
        all_p99: quantile(&complete, 0.99),
        made,
        delivered,
        expected: made * u64::from(others),
        hub_cpu: cpu / elapsed,
        pg_cpu,
        rss_per_conn_kib: (*rss_during.lock().unwrap() - rss_before) * 1024.0 / n as f64,
    }
}

/// The `p` quantile in ms, or "none" when nothing arrived.
fn quantile(v: &[Duration], p: f64) -> String {
    match v.is_empty() {
        true => "none".to_owned(),
        false => ms(percentile(v.to_vec(), p)),
    }
}

fn show_load(name: &str, n: usize, r: &LoadResult) {
    println!(
        "| {name} | {n} | {} | {} | {} | {} | {} | {:.1}% ({} of {}) | {:.0}% | {:.0}% | {:.0} KiB |",
        r.made,
        r.p50,
        r.p99,
        r.all_p50,
        r.all_p99,
        100.0 * r.delivered as f64 / r.expected.max(1) as f64,
        r.delivered,
        r.expected,
        r.hub_cpu * 100.0,
        r.pg_cpu * 100.0,
        r.rss_per_conn_kib,
    );
}

fn bench_load(rt: &tokio::runtime::Runtime, pg: &TestServer) {
    let n = env_number("SYNCDB_BENCH_REPLICAS", 1000);
    println!(
        "\n## load: {n} replicas, one put every {} ms each\n",
        env_number("SYNCDB_BENCH_EVERY_MS", 1000)
    );
    println!(
        "| hubs | replicas | puts | p50 | p99 | p50 to all | p99 to all | delivered | hub CPU | PostgreSQL CPU | hub RSS per connection |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    {
        let (hub, id) = Hub::start(None);
        let r = load_on(rt, &[hub], &id.unwrap(), n);
        show_load("1 file-backed (baseline)", n, &r);
    }
    {
        let url = pg.url();
        let hubs: Vec<Hub> = (0..3).map(|_| Hub::start(Some(&url)).0).collect();
        let folder = uuid::Uuid::new_v4().to_string();
        let r = load_on(rt, &hubs, &folder, n);
        show_load("3 over PostgreSQL", n, &r);
    }
}

fn bench_initial(pg: &TestServer) {
    let n = env_number("SYNCDB_BENCH_RECORDS", 1_000_000);
    println!("\n## initial sync of {n} records to an empty replica\n");
    let file = std::env::temp_dir().join(format!("sdb-hubs-{}.jsonl", std::process::id()));
    generate(&file, n);
    // One writer pushes the same records to a file-backed hub and to a
    // hub over PostgreSQL.
    let (file_hub, id) = Hub::start(None);
    let id = id.unwrap();
    let (pg_hub, _) = Hub::start(Some(&pg.url()));
    let writer = Home::new();
    let token_file = |hub: &Hub, home: &Home| {
        let path = home.dir.path().join(format!("tok{}", rand_suffix()));
        std::fs::write(&path, hub.token()).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        path
    };
    let f = writer.folder();
    let t = token_file(&file_hub, &writer);
    writer.run(&[
        "clone",
        &file_hub.url,
        &id,
        f.to_str().unwrap(),
        "--token-file",
        t.to_str().unwrap(),
        "-q",
    ]);
    writer.run(&["put", "bench/docs", "--batch", file.to_str().unwrap(), "-q"]);
    let t = token_file(&pg_hub, &writer);
    writer.run(&[
        "remote",
        "add",
        "pg",
        &pg_hub.url,
        "--token-file",
        t.to_str().unwrap(),
        "-q",
    ]);
    let pushed = Instant::now();
    writer.run(&["sync", "--once", "-q"]);
    let push_time = pushed.elapsed();
    let _ = std::fs::remove_file(&file);
    let mut row = Vec::new();
    for (name, hub) in [
        ("file-backed hub", &file_hub),
        ("hub over PostgreSQL", &pg_hub),
    ] {
        let c = Home::new();
        c.run(&["daemon", "start"]);
        let t = token_file(hub, &c);
        let f = c.folder();
        let start = Instant::now();
        c.run(&[
            "clone",
            &hub.url,
            &id,
            f.to_str().unwrap(),
            "--token-file",
            t.to_str().unwrap(),
            "-q",
        ]);
        let took = start.elapsed();
        let count = c.run(&["ls", "bench/docs", "--json"]).lines().count();
        assert_eq!(count, n, "{name}: the clone has every record");
        row.push((name, took));
    }
    println!("| from | time | records/s | ratio |");
    println!("| --- | --- | --- | --- |");
    let base = row[0].1.as_secs_f64();
    for (name, took) in &row {
        println!(
            "| {name} | {:.2} s | {:.0} | {:.2}× |",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            took.as_secs_f64() / base
        );
    }
    println!(
        "\n(the writer's push of the {n} records into PostgreSQL took {:.2} s: {:.0} records/s)",
        push_time.as_secs_f64(),
        n as f64 / push_time.as_secs_f64()
    );
}

fn rand_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

fn bench_push(rt: &tokio::runtime::Runtime, pg: &TestServer) {
    let replicas = env_number("SYNCDB_BENCH_PUSHERS", 100);
    let each = env_number("SYNCDB_BENCH_PUSHES", 200);
    println!(
        "\n## push throughput: {replicas} replicas, {each} puts each (one local commit per put), until the hubs acknowledged all\n"
    );
    println!("| hubs | records | time | records/s | hub CPU | PostgreSQL CPU |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for count in 1..=3 {
        let url = pg.url();
        let hubs: Vec<Hub> = (0..count).map(|_| Hub::start(Some(&url)).0).collect();
        let urls: Vec<String> = hubs.iter().map(|h| h.url.clone()).collect();
        let token = hubs[0].token();
        let cpu_before: Vec<Duration> = hubs.iter().map(|h| cpu_time(h.pid())).collect();
        let pg_before = postgres_cpu();
        let start = Instant::now();
        let load = Load {
            folder: uuid::Uuid::new_v4().to_string(),
            every: None,
            burst: each,
            write_until: start + Duration::from_secs(600),
            until: start + Duration::from_secs(600),
        };
        let results = run_replicas(rt, replicas, &urls, &token, &load);
        let took = start.elapsed();
        let total: u64 = results.iter().map(|(_, m)| u64::from(*m)).sum();
        assert_eq!(total, (replicas * each) as u64);
        let cpu: f64 = hubs
            .iter()
            .zip(&cpu_before)
            .map(|(h, b)| (cpu_time(h.pid()) - *b).as_secs_f64())
            .sum();
        let pg = postgres_cpu().saturating_sub(pg_before).as_secs_f64();
        println!(
            "| {count} | {total} | {:.2} s | {:.0} | {:.0}% | {:.0}% |",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64(),
            100.0 * cpu / took.as_secs_f64(),
            100.0 * pg / took.as_secs_f64()
        );
    }
}

fn main() {
    let Some(pg) = TestServer::get() else {
        eprintln!("no PostgreSQL server: set SYNCDB_TEST_POSTGRES or install PostgreSQL");
        std::process::exit(1);
    };
    let only = std::env::var("SYNCDB_BENCH_ONLY").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "# hubs over PostgreSQL — {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    if only.is_empty() || only == "load" {
        bench_load(&rt, &pg);
    }
    if only.is_empty() || only == "initial" {
        bench_initial(&pg);
    }
    if only.is_empty() || only == "push" {
        bench_push(&rt, &pg);
    }
}
