//! HTTP API benchmarks: what an application pays to go through HTTP instead
//! of the daemon's own socket, how many reads it serves, and how fast a
//! write reaches many change-feed subscribers. Run with
//! `cargo bench -p syncdb --bench http` (release).
//!
//! The real binary and daemon on a temporary home (redb), the API on a
//! loopback port with a token, raw HTTP/1.1 keep-alive connections from
//! this process:
//!
//! - PUT round trip, durable, one connection: against `put` on the local
//!   socket, interleaved in blocks in the same run; medians and their ratio.
//! - GET of one record from 32 keep-alive clients for a few seconds:
//!   requests/s, against the hub's `/healthz` (the same listener and HTTP
//!   stack, no token, no storage) on the same daemon; medians of 3 runs.
//! - Server-Sent Events: subscribers to one collection; each put is timed
//!   from just before it is sent on the local socket until each subscriber
//!   has read its event (so the put's own durable commit is included);
//!   p50/p99 over every delivery; the same from the first subscriber's
//!   delivery of that put (the fan-out without the commit, whose fsync
//!   stalls on this disk now and then); and the daemon's resident memory
//!   per subscriber. `SYNCDB_BENCH_SUBSCRIBERS` sets how many (default 1,000).
//!
//! `SYNCDB_BENCH_ONLY=put,get,sse` runs some of the three.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FOLDER: &str = "f";

struct Served {
    home: Home,
    api: String,
    hub: String,
    token: String,
}

fn serve() -> Served {
    let home = Home::new();
    home.run(&["init", "--engine", "redb", "-q"]);
    let api = json_field(
        &home.run(&["http", "--addr", "127.0.0.1:0", "--json"]),
        "addr",
    );
    let hub = json_field(
        &home.run(&["serve", "--addr", "127.0.0.1:0", "--json"]),
        "addr",
    );
    let token = home.run(&["token", "create", "-q"]).trim().to_owned();
    Served {
        home,
        api,
        hub,
        token,
    }
}

fn json_field(out: &str, name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    v[name].as_str().unwrap().to_owned()
}

/// One blocking keep-alive connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            reader: BufReader::new(s),
        }
    }

    /// Sends `req` and reads the response: its status and body.
    fn call(&mut self, req: &[u8]) -> (u16, Vec<u8>) {
        self.reader.get_mut().write_all(req).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut len = None;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case("content-length")
            {
                len = Some(v.trim().parse::<usize>().unwrap());
            }
        }
        let mut body = vec![0; len.expect("a response with Content-Length")];
        self.reader.read_exact(&mut body).unwrap();
        (status, body)
    }
}

fn put_request(token: &str, key: &str, doc: &str) -> Vec<u8> {
    format!(
        "PUT /v1/docs/{FOLDER}/bench/docs/{key} HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{doc}",
        doc.len()
    )
    .into_bytes()
}

fn get_request(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: b\r\n{auth}\r\n").into_bytes()
}

fn rpc_put(i: usize, key: &str, doc: &str) -> String {
    let doc = serde_json::to_string(doc).unwrap();
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"put\",\"params\":{{\"folder\":null,\"db\":\"bench\",\"collection\":\"docs\",\"key\":\"{key}\",\"doc\":{doc}}}}}\n"
    )
}

fn put_round_trips(s: &Served) {
    let mut rpc = s.home.rpc();
    let mut http = Conn::open(&s.api);
    let (mut local, mut over_http) = (Vec::new(), Vec::new());
    for block in 0..10 {
        for j in 0..100 {
            let i = block * 100 + j;
            let line = rpc_put(i, &format!("s{i}"), &format!(r#"{{"n":{i}}}"#));
            let t = Instant::now();
            let answer = rpc.call(&line);
            local.push(t.elapsed());
            assert!(answer.contains("\"result\""), "{answer}");
        }
        for j in 0..100 {
            let i = block * 100 + j;
            let req = put_request(&s.token, &format!("h{i}"), &format!(r#"{{"n":{i}}}"#));
            let t = Instant::now();
            let (status, body) = http.call(&req);
            over_http.push(t.elapsed());
            assert!(
                status == 200 || status == 201,
                "{status} {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    println!("## PUT round trip, durable, one client (1,000 each, interleaved)\n");
    println!("| what | median | p99 | ratio to baseline |");
    println!("| --- | --- | --- | --- |");
    latency_rows(
        ("`put` on the local socket", local),
        ("`PUT /v1/docs/…` over HTTP/1.1 keep-alive", over_http),
    );
    println!();
}

/// Requests per second that `clients` keep-alive connections sending
/// `req` in a loop get through in `run`; every answer must be 200.
fn throughput(rt: &tokio::runtime::Runtime, addr: &str, req: Vec<u8>, clients: usize) -> f64 {
    let run = Duration::from_secs(3);
    rt.block_on(async {
        let req = std::sync::Arc::new(req);
        let start = Instant::now() + Duration::from_millis(300); // connect first
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (req, addr) = (req.clone(), addr.to_owned());
                tokio::spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = Vec::with_capacity(4096);
                    tokio::time::sleep_until(start.into()).await;
                    let mut done = 0u64;
                    while start.elapsed() < run {
                        s.write_all(&req).await.unwrap();
                        read_response(&mut s, &mut buf).await;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total as f64 / run.as_secs_f64()
    })
}

/// Reads one whole response with Content-Length into `buf`; asserts 200.
async fn read_response(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) {
    buf.clear();
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let len: usize = head
                .split("\r\n")
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                        .map(|(_, v)| v.trim().parse().unwrap())
                })
                .expect("Content-Length");
            while buf.len() < end + 4 + len {
                read_more(s, buf).await;
            }
            assert_eq!(buf.len(), end + 4 + len, "one response at a time");
            return;
        }
        read_more(s, buf).await;
    }
}

async fn read_more(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    let n = s.read(&mut chunk).await.unwrap();
    assert!(n > 0, "the daemon closed a connection");
    buf.extend_from_slice(&chunk[..n]);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn get_throughput(s: &Served, rt: &tokio::runtime::Runtime) {
    s.home
        .run(&["put", "bench/docs/one", r#"{"name":"Ada","n":1}"#]);
    let get = get_request(&format!("/v1/docs/{FOLDER}/bench/docs/one"), Some(&s.token));
    let health = get_request("/healthz", None);
    let (mut base, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        base.push(throughput(rt, &s.hub, health.clone(), 32));
        reads.push(throughput(rt, &s.api, get.clone(), 32));
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (base, reads) = (med(base), med(reads));
    println!("## GET of one record, 32 keep-alive clients (3 s runs, median of 3)\n");
    println!("| what | requests/s | ratio to baseline |");
    println!("| --- | --- | --- |");
    println!("| hub's `/healthz`, no token, no storage (baseline) | {base:.0} | 1.00 |");
    println!(
        "| `GET /v1/docs/…` with a token | {reads:.0} | {:.2} |",
        reads / base
    );
    println!();
}

/// The daemon's resident memory now, in KiB.
fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn sse_fan_out(s: &Served, rt: &tokio::runtime::Runtime) {
    let subscribers = env_number("SYNCDB_BENCH_SUBSCRIBERS", 1000);
    let puts = 100;
    let pid = s.home.daemon_pid();
    let before = rss_kib(pid);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let req = get_request(
        &format!("/v1/changes/{FOLDER}/bench/live?feed=sse&since=now"),
        Some(&s.token),
    );
    // Opened one by one: each is past its token check before the next.
    let streams: Vec<_> = rt.block_on(async {
        let mut open = Vec::new();
        for _ in 0..subscribers {
            let mut c = tokio::net::TcpStream::connect(&s.api).await.unwrap();
            c.write_all(&req).await.unwrap();
            let mut buf = Vec::new();
            while find(&buf, b"syncdb change feed").is_none() {
                read_more(&mut c, &mut buf).await;
            }
            assert!(buf.starts_with(b"HTTP/1.1 200"));
            open.push(c);
        }
        open
    });
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib(pid);
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut c| {
            let tx = tx.clone();
            rt.spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = vec![0u8; 8192];
                loop {
                    let n = c.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    let at = Instant::now();
                    buf.extend_from_slice(&chunk[..n]);
                    // Each event names its key, "e<N>".
                    while let Some(i) = find(&buf, b"\"key\":\"e") {
                        let digits: Vec<u8> = buf[i + 8..]
                            .iter()
                            .take_while(|b| b.is_ascii_digit())
                            .copied()
                            .collect();
                        if i + 8 + digits.len() >= buf.len() {
                            break; // the rest of the number is still coming
                        }
                        let n = std::str::from_utf8(&digits).unwrap().parse().unwrap();
                        let _ = tx.send((n, at));
                        buf.drain(..i + 8 + digits.len());
                    }
                }
            })
        })
        .collect();
    let mut rpc = s.home.rpc();
    let (mut delivered, mut acks, mut spread) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..puts {
        let line = rpc_put(n, &format!("e{n}"), &format!(r#"{{"n":{n}}}"#));
        let line = line.replace("\"docs\"", "\"live\"");
        let sent = Instant::now();
        let answer = rpc.call(&line);
        acks.push(sent.elapsed());
        assert!(answer.contains("\"result\""), "{answer}");
        let mut got = 0;
        let mut arrivals = Vec::with_capacity(subscribers);
        let deadline = Instant::now() + Duration::from_secs(20);
        while got < subscribers {
            let (key, at) = rt
                .block_on(async { tokio::time::timeout_at(deadline.into(), rx.recv()).await })
                .unwrap_or_else(|_| panic!("put {n}: {got} of {subscribers} delivered in 20 s"))
                .unwrap();
            assert_eq!(key, n, "events arrive in order, once");
            delivered.push(at - sent);
            arrivals.push(at);
            got += 1;
        }
        let first = *arrivals.iter().min().unwrap();
        spread.extend(arrivals.iter().map(|at| *at - first));
        std::thread::sleep(Duration::from_millis(50));
    }
    for r in readers {
        r.abort();
    }
    println!("## Server-Sent Events: {subscribers} subscribers to one collection, {puts} puts\n");
    println!("| what | p50 | p99 | max |");
    println!("| --- | --- | --- | --- |");
    let row = |name: &str, v: &Vec<Duration>| {
        println!(
            "| {name} | {} | {} | {} |",
            ms(percentile(v.clone(), 0.5)),
            ms(percentile(v.clone(), 0.99)),
            ms(*v.iter().max().unwrap())
        );
    };
    row("`put` acknowledged on the local socket (baseline)", &acks);
    row(
        "event read by each subscriber, from before the put",
        &delivered,
    );
    row(
        "the same, from the first subscriber's (the fan-out alone)",
        &spread,
    );
    println!(
        "\nDaemon resident memory: {:.1} MiB before, {:.1} MiB with the subscribers: {:.1} KiB each.\n",
        before / 1024.0,
        after / 1024.0,
        (after - before) / subscribers as f64
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let served = serve();
    // One thread for the clients: the daemon gets the other core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::var("SYNCDB_BENCH_ONLY").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only.split(',').any(|p| p == part);
    if run("put") {
        put_round_trips(&served);
    }
    if run("get") {
        get_throughput(&served, &rt);
    }
    if run("sse") {
        sse_fan_out(&served, &rt);
    }
}
