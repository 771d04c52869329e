//! The hub's listener tried from outside: connections that never
//! authenticate (silent, slow-loris, idle websockets, stalled TLS) are closed
//! at their deadlines and capped, so they cannot starve real clients, the
//! hub's sync or its local CLI; `serve` run again, moved, or configured on a
//! busy address keeps (or comes back to) serving.
//!
//! Hostile connections come from 127.0.0.2 and up (all of 127/8 is
//! loopback), real clients from 127.0.0.1, so the per-address cap is tested
//! as it works: against the attacker's address, not everyone's.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::faults_net::{hub_metric, run_within};
use crate::support::*;

/// A TCP connection to `addr` from the source address `src`.
fn connect_from(src: Ipv4Addr, addr: &str) -> TcpStream {
    let dst: SocketAddrV4 = addr.parse().unwrap();
    let sockaddr = |a: SocketAddrV4| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor we own; the addresses are
    // valid sockaddr_in values that outlive the calls.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = TcpStream::from_raw_fd(fd);
        let from = sockaddr(SocketAddrV4::new(src, 0));
        let rc = libc::bind(fd, &from as *const _ as *const libc::sockaddr, len);
        assert_eq!(rc, 0, "bind {src}: {}", std::io::Error::last_os_error());
        let to = sockaddr(dst);
        let rc = libc::connect(fd, &to as *const _ as *const libc::sockaddr, len);
        assert_eq!(rc, 0, "connect {addr}: {}", std::io::Error::last_os_error());
        stream
    }
}

/// The `n`th hostile source address: 127.0.0.2 and up.
fn hostile_ip(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + n as u8)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Connects and sends nothing.
    Silent,
    /// Sends request headers one byte every 300 ms, never finishing them.
    SlowLoris,
    /// Upgrades to a WebSocket, then never says Hello.
    IdleWebSocket,
    /// Sends the first bytes of a TLS ClientHello, then stalls.
    PartialClientHello,
    /// Finishes the TLS handshake, then sends nothing.
    TlsThenSilent,
}

const UPGRADE: &[u8] = b"GET /v1/sync HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const LORIS: &[u8] = b"GET /v1/sync HTTP/1.1\r\nHost: hub\r\nX-Padding: ";

/// A hostile connection and when the hub closed it.
struct Hostile {
    kind: Kind,
    stream: TcpStream,
    opened: Instant,
    sent: usize,
    got: Vec<u8>,
    closed: Option<Duration>,
}

impl Hostile {
    fn open(kind: Kind, src: Ipv4Addr, addr: &str) -> Hostile {
        let mut stream = connect_from(src, addr);
        let opened = Instant::now();
        match kind {
            Kind::IdleWebSocket => stream.write_all(UPGRADE).unwrap(),
            Kind::SlowLoris => stream.write_all(&LORIS[..1]).unwrap(),
            // A TLS record header announcing a handshake message it never sends.
            Kind::PartialClientHello => stream.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap(),
            _ => {}
        }
        stream.set_nonblocking(true).unwrap();
        Hostile {
            kind,
            stream,
            opened,
            sent: (kind == Kind::SlowLoris) as usize,
            got: Vec::new(),
            closed: None,
        }
    }

    /// Checks (without blocking) whether the hub has closed it; keeps a
    /// slow-loris trickling.
    fn poll(&mut self) {
        if self.closed.is_some() {
            return;
        }
        let due = (self.opened.elapsed().as_millis() / 300) as usize + 1;
        if self.kind == Kind::SlowLoris && self.sent < due {
            let byte = LORIS.get(self.sent).copied().unwrap_or(b'a');
            match self.stream.write(&[byte]) {
                Ok(_) => self.sent += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return self.closed = Some(self.opened.elapsed()),
            }
        }
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return self.closed = Some(self.opened.elapsed()),
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => return self.closed = Some(self.opened.elapsed()),
            }
        }
    }
}

/// Polls every connection until all are closed or `within` has passed.
fn watch(mut conns: Vec<Hostile>, within: Duration) -> Vec<Hostile> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline && conns.iter().any(|c| c.closed.is_none()) {
        for c in &mut conns {
            c.poll();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    conns
}

/// Asserts that every connection of `kind` was closed between `lo` and `hi`
/// after it opened.
#[track_caller]
fn closed_within(conns: &[Hostile], kind: Kind, lo: Duration, hi: Duration) {
    let of_kind: Vec<_> = conns.iter().filter(|c| c.kind == kind).collect();
    assert!(!of_kind.is_empty());
    for c in of_kind {
        let closed = c
            .closed
            .unwrap_or_else(|| panic!("a {kind:?} connection was never closed"));
        assert!(
            closed >= lo && closed <= hi,
            "a {kind:?} connection closed after {closed:?}, expected {lo:?}..{hi:?}"
        );
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[track_caller]
fn assert_healthy(addr: &str) {
    assert_eq!(http_get(addr, "/healthz").0, "HTTP/1.1 200 OK");
}

#[test]
fn silent_slow_loris_and_idle_websocket_connections_are_closed_at_their_deadlines() {
    let hub = Hub::with_config(
        "redb",
        "[serve]\nfirst_byte_ms = 1000\nheaders_ms = 2500\nhello_ms = 2500\n",
    );
    let mut conns = Vec::new();
    for i in 0..10 {
        for kind in [Kind::Silent, Kind::SlowLoris, Kind::IdleWebSocket] {
            conns.push(Hostile::open(kind, hostile_ip(i % 3), &hub.addr));
        }
    }
    let conns = watch(conns, secs(8.0));
    closed_within(&conns, Kind::Silent, secs(0.9), secs(2.0));
    // The header deadline runs from the first byte, however it trickles.
    closed_within(&conns, Kind::SlowLoris, secs(2.4), secs(3.8));
    closed_within(&conns, Kind::IdleWebSocket, secs(2.4), secs(3.8));
    for c in conns.iter().filter(|c| c.kind == Kind::IdleWebSocket) {
        let text = String::from_utf8_lossy(&c.got);
        assert!(text.starts_with("HTTP/1.1 101"), "upgraded: {text}");
    }
    assert_healthy(&hub.addr);
    let client = hub.client("");
    hub.home.put("crm/p/1", "{}");
    converged(&[&hub.home, &client]);
}

/// The hub daemon again, with at most `fds` open descriptors (as a systemd
/// unit or a small ulimit would give it).
fn restart_with_fd_limit(home: &Home, fds: u64) {
    home.run(&["daemon", "stop"]).ok();
    let mut cmd = home.cmd(&["daemon", "start"]);
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: fds,
                rlim_max: fds,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Run::from(cmd.output().unwrap()).ok();
}

#[test]
fn a_flood_of_450_unauthenticated_connections_leaves_sync_and_the_local_cli_working() {
    // Default caps; deadlines short so the test is quick. With 400
    // descriptors, 450 connections held open used to exhaust the daemon.
    let hub = Hub::with_config(
        "redb",
        "[serve]\nfirst_byte_ms = 8000\nheaders_ms = 8000\nhello_ms = 8000\n",
    );
    hub.home.put("crm/p/0", r#"{"before":true}"#);
    restart_with_fd_limit(&hub.home, 400);
    let live = hub.client("");
    converged(&[&hub.home, &live]);

    let started = Instant::now();
    let kinds = [Kind::Silent, Kind::SlowLoris, Kind::IdleWebSocket];
    let conns: Vec<_> = (0..450)
        .map(|i| Hostile::open(kinds[i % 3], hostile_ip(i % 15), &hub.addr))
        .collect();
    eprintln!("450 connections opened in {:?}", started.elapsed());
    let watcher = std::thread::spawn(move || watch(conns, secs(20.0)));
    let held = hub_metric(&hub, "syncdb_unauthenticated_connections");
    assert!(held <= 256, "capped by serve.max_unauthenticated: {held}");

    // While they are open: the local CLI answers, the live client syncs both
    // ways, and a new client from another address connects and catches up.
    let quick = secs(3.0);
    run_within(&hub.home, &["status"], quick).ok();
    run_within(
        &hub.home,
        &["put", "crm/p/1", r#"{"during":"flood"}"#],
        quick,
    )
    .ok();
    run_within(&live, &["put", "crm/p/2", r#"{"from":"live"}"#], quick).ok();
    let newcomer = hub.client("");
    let all = converged(&[&hub.home, &live, &newcomer]);
    assert!(
        started.elapsed() < secs(8.0),
        "all that happened during the flood, took {:?}",
        started.elapsed()
    );
    assert_eq!(newcomer.records("crm/p").len(), 3);

    let conns = watcher.join().unwrap();
    for kind in kinds {
        // Closed at the deadline, or earlier to make room for newer ones.
        closed_within(&conns, kind, secs(0.0), secs(9.5));
    }
    assert_eq!(
        hub_metric(&hub, "syncdb_unauthenticated_connections"),
        1,
        "none left but this scrape"
    );
    assert_eq!(converged(&[&hub.home, &live, &newcomer]), all);
}

#[test]
fn unauthenticated_connections_are_capped_per_address_and_the_oldest_make_room() {
    let hub = Hub::with_config(
        "redb",
        "[serve]\nfirst_byte_ms = 30000\nmax_unauthenticated = 12\nmax_unauthenticated_per_ip = 5\n",
    );
    // Five from one address, then (past their grace to send a request)
    // three more: the newest five are held, the three oldest closed at once
    // to make room for them.
    let mut conns: Vec<_> = (0..5)
        .map(|_| Hostile::open(Kind::Silent, hostile_ip(0), &hub.addr))
        .collect();
    std::thread::sleep(secs(0.4));
    conns.extend((0..3).map(|_| Hostile::open(Kind::Silent, hostile_ip(0), &hub.addr)));
    let conns = watch(conns, secs(1.0));
    let open: Vec<bool> = conns.iter().map(|c| c.closed.is_none()).collect();
    assert_eq!(open, [false, false, false, true, true, true, true, true]);
    for c in conns.iter().filter(|c| c.closed.is_some()) {
        assert!(c.closed.unwrap() < secs(0.5), "closed at once");
    }
    assert_healthy(&hub.addr); // another address is not affected

    // Fill the cap of 12 from other addresses; a real client still gets in,
    // and it is the oldest that were closed to make room.
    let mut more: Vec<_> = conns.into_iter().filter(|c| c.closed.is_none()).collect();
    more.extend((1..3).flat_map(|a| {
        let addr = hub.addr.clone();
        (0..5).map(move |_| Hostile::open(Kind::Silent, hostile_ip(a), &addr))
    }));
    let more = watch(more, secs(0.5));
    let closed: Vec<bool> = more.iter().map(|c| c.closed.is_some()).collect();
    let mut expected = vec![false; 15];
    expected[..3].fill(true);
    assert_eq!(
        closed, expected,
        "the three oldest made room for the last three"
    );
    let client = hub.client("");
    hub.home.put("crm/p/1", "{}");
    converged(&[&hub.home, &client]);
    let more = watch(more, secs(0.5));
    let oldest_closed = more.iter().take_while(|c| c.closed.is_some()).count();
    assert_eq!(
        oldest_closed, 4,
        "the real client took the oldest one's place"
    );
    let log = hub.home.run(&["logs", "-n", "500"]).ok().to_owned();
    assert!(log.contains("serve.max_unauthenticated_per_ip"), "{log}");
    assert!(
        log.contains("(serve.max_unauthenticated = 12); closed the oldest"),
        "{log}"
    );
}

#[test]
fn idle_websockets_do_not_take_session_slots() {
    let hub = Hub::with_config("redb", "[sync]\nmax_peers = 2\n[serve]\nhello_ms = 30000\n");
    hub.home.put("crm/p/1", r#"{"n":1}"#);
    let idle: Vec<_> = (0..6)
        .map(|i| Hostile::open(Kind::IdleWebSocket, hostile_ip(i), &hub.addr))
        .collect();
    let idle = watch(idle, secs(0.5));
    assert!(idle.iter().all(|c| c.closed.is_none()));
    // Both real clients get a session although six websockets wait.
    let a = hub.client("");
    let b = hub.client("");
    converged(&[&hub.home, &a, &b]);
    // A third is refused: the two sessions hold both slots.
    let c = hub.follower("");
    let token = hub.token_file(&[]);
    c.run(&[
        "remote",
        "add",
        "hub",
        &hub.url(),
        "--token-file",
        token.to_str().unwrap(),
    ])
    .ok();
    let refused = c.run(&["sync", "--once"]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(c.digests().is_empty(), "nothing synced");
    drop(idle);
}

/// A private CA and a certificate for 127.0.0.1 signed by it, as files;
/// the CA's DER for a test's own TLS client.
fn tls_files(
    dir: &std::path::Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
    Vec<u8>,
) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let (ca_file, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (ca_file, cert, key, ca.der().to_vec())
}

/// A TCP connection from `src` on which a TLS handshake has completed; the
/// raw stream is returned (the hub's close then shows as an alert and EOF).
fn tls_then_silent(src: Ipv4Addr, addr: &str, config: &Arc<rustls::ClientConfig>) -> Hostile {
    let mut tcp = connect_from(src, addr);
    let opened = Instant::now();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = rustls::ClientConnection::new(config.clone(), name).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).unwrap();
    }
    tcp.set_nonblocking(true).unwrap();
    Hostile {
        kind: Kind::TlsThenSilent,
        stream: tcp,
        opened,
        sent: 0,
        got: Vec::new(),
        closed: None,
    }
}

#[test]
fn tls_connections_stalled_before_during_or_after_the_handshake_are_closed_at_their_deadlines() {
    let hub = Hub::with_config(
        "redb",
        "[serve]\nfirst_byte_ms = 1000\ntls_handshake_ms = 2000\nheaders_ms = 2500\n",
    );
    hub.home.put("crm/p/1", r#"{"over":"tls"}"#);
    let (ca_file, cert, key, ca_der) = tls_files(hub.home.dir.path());
    let served = hub.serve_tls(&hub.addr, &cert, &key);
    let url = served["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("wss://{}", hub.addr),
        "TLS on the same address"
    );

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(ca_der))
        .unwrap();
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let mut conns = Vec::new();
    for i in 0..10 {
        let src = hostile_ip(i % 3);
        conns.push(Hostile::open(Kind::Silent, src, &hub.addr));
        conns.push(Hostile::open(Kind::PartialClientHello, src, &hub.addr));
        conns.push(tls_then_silent(src, &hub.addr, &config));
    }
    let watcher = std::thread::spawn(move || watch(conns, secs(8.0)));

    // A real client syncs over wss:// meanwhile.
    let token = hub.token_file(&[]);
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
    assert_eq!(c.get("crm/p/1"), serde_json::json!({"over":"tls"}));

    let conns = watcher.join().unwrap();
    closed_within(&conns, Kind::Silent, secs(0.9), secs(2.0));
    closed_within(&conns, Kind::PartialClientHello, secs(1.9), secs(3.0));
    // The handshake took a few ms; then the header deadline.
    closed_within(&conns, Kind::TlsThenSilent, secs(2.4), secs(3.8));
}

#[test]
fn serve_again_on_the_same_address_keeps_serving_without_a_restart() {
    let hub = Hub::new("redb");
    hub.home.put("crm/p/0", "{}");
    let client = hub.client("");
    converged(&[&hub.home, &client]);
    let binds = || {
        let log = hub.home.run(&["logs", "-n", "10000"]).ok().to_owned();
        log.lines().filter(|l| l.contains("serving sync")).count()
    };
    let before = binds();
    for i in 0..4 {
        let out = hub
            .home
            .run(&["serve", "--addr", &hub.addr, "--json"])
            .json();
        assert_eq!(out["addr"], hub.addr.as_str(), "run {i}");
        assert_healthy(&hub.addr);
        let status = hub.home.run(&["status", "--json"]).json();
        assert_eq!(status["daemon"]["serving"], hub.addr.as_str(), "run {i}");
    }
    assert_eq!(
        binds(),
        before,
        "the listening socket was kept, not bound again"
    );
    hub.home.put("crm/p/1", r#"{"after":"reruns"}"#);
    converged(&[&hub.home, &client]);
    assert_eq!(client.get("crm/p/1"), serde_json::json!({"after":"reruns"}));
}

#[test]
fn serve_on_a_new_address_listens_there_before_the_old_one_closes() {
    let hub = Hub::new("redb");
    let old = hub.addr.clone();
    let moved = hub
        .home
        .run(&["serve", "--addr", "127.0.0.1:0", "--json"])
        .json();
    let new = moved["addr"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_healthy(&new);
    let refused = TcpStream::connect(&old).map(|_| ()).unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::ConnectionRefused,
        "the old one is closed"
    );

    // A busy address: refused with the reason, and the hub keeps serving.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let out = hub.home.run(&["serve", "--addr", &busy_addr]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains(&format!("cannot listen on {busy_addr}"))
            && out.stderr.contains(&format!("still serving on {new}")),
        "{}",
        out.stderr
    );
    assert_healthy(&new);
    // The config still says the working address: a restart serves it.
    hub.home.run(&["daemon", "stop"]).ok();
    hub.home.run(&["daemon", "start"]).ok();
    assert_healthy(&new);
}

#[test]
fn a_busy_serve_address_at_start_is_retried_and_shown_in_status() {
    let hub = Hub::new("redb");
    hub.home.put("crm/p/1", "{}");
    hub.home.run(&["daemon", "stop"]).ok();
    let squatter = TcpListener::bind(&hub.addr).unwrap();

    let start = hub.home.run(&["daemon", "start"]);
    let problem = format!("serve configured on {}, not listening: ", hub.addr);
    assert!(
        start.ok().contains(&problem) && start.stdout.contains("in use"),
        "{}",
        start.stdout
    );
    let human = hub.home.run(&["status"]).ok().to_owned();
    assert!(
        human.contains(&problem) && human.contains("in use"),
        "{human}"
    );
    let status = hub.home.run(&["status", "--json"]).json();
    let serve = &status["daemon"]["serve"];
    assert_eq!(serve["addr"], hub.addr.as_str());
    assert_eq!(serve["listening"], false);
    assert!(
        serve["error"].as_str().unwrap().contains("in use"),
        "{serve}"
    );
    let json = hub.home.run(&["daemon", "start", "--json"]).json();
    assert_eq!(json["serve"]["listening"], false, "{json}");

    // Once the address is free the hub listens there, by itself.
    drop(squatter);
    eventually(Duration::from_secs(10), || {
        let status = hub.home.run(&["status", "--json"]).json();
        (status["daemon"]["serving"] == hub.addr.as_str()).then_some(())
    });
    assert!(!hub.home.run(&["status"]).ok().contains("not listening"));
    let client = hub.client("");
    converged(&[&hub.home, &client]);
}

/// Found from outside: kept-alive requests restart the header deadline, so
/// a connection asking `/healthz` every second never upgraded and stayed
/// forever. `serve.unupgraded_ms` bounds its whole life.
#[test]
fn a_kept_alive_connection_that_never_upgrades_is_closed_at_its_lifetime() {
    let hub = Hub::with_config("redb", "[serve]\nheaders_ms = 1000\nunupgraded_ms = 2500\n");
    let mut stream = connect_from(hostile_ip(0), &hub.addr);
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let opened = Instant::now();
    let mut answers = 0;
    let closed = loop {
        assert!(
            opened.elapsed() < secs(8.0),
            "never closed after {answers} answers"
        );
        if stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
            .is_err()
        {
            break opened.elapsed();
        }
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => break opened.elapsed(),
            Ok(_) => answers += 1,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break opened.elapsed(),
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(answers >= 3, "it was served while alive: {answers}");
    assert!(
        closed >= secs(2.3) && closed <= secs(4.0),
        "closed after {closed:?}"
    );
    assert_healthy(&hub.addr);
}
