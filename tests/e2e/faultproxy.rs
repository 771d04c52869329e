//! A fault-injecting TCP proxy for the tests (RELIABILITY.md §2, "The test
//! proxy"). It listens on loopback, forwards each connection it accepts to
//! one upstream address (the hub), and applies the script the test chose for
//! that connection: cut after n bytes in one direction (then FIN or RST to
//! both sides), delay each forwarded read, throttle, forward in small
//! slices, or blackhole (accept, forward nothing). Scripts queued with
//! [`FaultProxy::script_next`] go to the next connections in accept order;
//! later ones get the default ([`FaultProxy::behave`] makes it "forward
//! faithfully"). Every cut is logged with its byte offset. Plain std
//! threads, two per connection; everything stops when the proxy is dropped.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Which way bytes flow through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client → hub.
    Up,
    /// Hub → client.
    Down,
}

/// How a cut ends a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// An orderly FIN to both sides.
    Fin,
    /// A reset to both sides (SO_LINGER 0, then close).
    Rst,
}

/// What the proxy does to one connection; `Script::default()` forwards faithfully.
#[derive(Clone, Debug, Default)]
pub struct Script {
    cut: Option<(Dir, u64, Close)>,
    delay: Option<Duration>,
    throttle: Option<u64>,
    slice: Option<usize>,
    blackhole: bool,
}

impl Script {
    /// Forwards exactly `n` bytes in `dir`, then ends the connection both ways.
    pub fn cut_after(dir: Dir, n: u64, how: Close) -> Script {
        Script {
            cut: Some((dir, n, how)),
            ..Script::default()
        }
    }

    /// The cut this script makes, if any: (direction, offset, how).
    pub fn cut_point(&self) -> Option<(Dir, u64, Close)> {
        self.cut
    }

    /// Accepts, and never forwards a byte either way.
    pub fn blackhole() -> Script {
        Script {
            blackhole: true,
            ..Script::default()
        }
    }

    /// Waits `ms` before forwarding each read, both ways.
    pub fn delay(mut self, ms: u64) -> Script {
        self.delay = Some(Duration::from_millis(ms));
        self
    }

    /// At most `bytes_per_sec` each way.
    pub fn throttle(mut self, bytes_per_sec: u64) -> Script {
        self.throttle = Some(bytes_per_sec.max(1));
        self
    }

    /// Forwards in writes of at most `bytes`.
    pub fn slice(mut self, bytes: usize) -> Script {
        self.slice = Some(bytes.max(1));
        self
    }
}

/// One cut: the connection (numbered from 0 in accept order), the direction,
/// and how many bytes had been forwarded that way when it was cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub conn: usize,
    pub dir: Dir,
    pub at: u64,
    pub how: Close,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: SocketAddr,
    stop: AtomicBool,
    /// Bytes forwarded up and down, and the writes they took.
    up: AtomicU64,
    down: AtomicU64,
    writes: AtomicU64,
    plan: Mutex<Plan>,
}

#[derive(Default)]
struct Plan {
    next: VecDeque<Script>,
    default: Script,
    accepted: usize,
    cuts: Vec<Cut>,
    live: Vec<Weak<Conn>>,
}

/// One proxied connection. The forwarding threads own it; when both are
/// done the sockets close (with a reset if a cut asked for one).
struct Conn {
    id: usize,
    client: TcpStream,
    /// None when blackholed from the start: the hub never hears of it.
    hub: Option<TcpStream>,
    /// Forwards nothing more, for good (a cut, or a partition).
    dark: AtomicBool,
}

impl Conn {
    fn sockets(&self) -> impl Iterator<Item = &TcpStream> {
        std::iter::once(&self.client).chain(self.hub.as_ref())
    }

    fn kill(&self, how: Close) {
        self.dark.store(true, Ordering::SeqCst);
        for s in self.sockets() {
            match how {
                Close::Fin => {
                    let _ = s.shutdown(Shutdown::Both);
                }
                Close::Rst => {
                    set_linger_zero(s);
                    // Wakes our readers without sending anything; the
                    // close that follows sends the reset.
                    let _ = s.shutdown(Shutdown::Read);
                }
            }
        }
    }
}

fn set_linger_zero(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid fd and a pointer to a correctly sized `linger`.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

impl FaultProxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream` ("HOST:PORT").
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.parse().expect("upstream is HOST:PORT"),
            stop: AtomicBool::new(false),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            plan: Mutex::new(Plan::default()),
        });
        let s = shared.clone();
        let acceptor = std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(client) = client {
                    accept(&s, client);
                }
            }
        });
        FaultProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The next connections get these scripts, one each, in accept order.
    pub fn script_next(&self, scripts: impl IntoIterator<Item = Script>) {
        self.plan().next.extend(scripts);
    }

    /// Connections after the queued scripts get `script`.
    pub fn set_default(&self, script: Script) {
        self.plan().default = script;
    }

    /// The proxy behaves: queued scripts are dropped and later connections
    /// are forwarded faithfully. Connections already dark stay dark.
    pub fn behave(&self) {
        let mut plan = self.plan();
        plan.next.clear();
        plan.default = Script::default();
    }

    /// A partition: open connections go silent for good (nothing more is
    /// forwarded, nothing is closed), and new ones are blackholed.
    pub fn partition(&self) {
        let mut plan = self.plan();
        plan.next.clear();
        plan.default = Script::blackhole();
        for conn in plan.live.iter().filter_map(Weak::upgrade) {
            conn.dark.store(true, Ordering::SeqCst);
        }
    }

    /// Every cut so far, in the order they happened.
    pub fn cuts(&self) -> Vec<Cut> {
        self.plan().cuts.clone()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.plan().accepted
    }

    /// Bytes forwarded in `dir` so far, over all connections.
    pub fn bytes(&self, dir: Dir) -> u64 {
        match dir {
            Dir::Up => self.shared.up.load(Ordering::SeqCst),
            Dir::Down => self.shared.down.load(Ordering::SeqCst),
        }
    }

    /// Writes the forwarding took so far (slicing makes more of them).
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(Ordering::SeqCst)
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.shared.plan.lock().unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for conn in self.plan().live.iter().filter_map(Weak::upgrade) {
            conn.kill(Close::Fin);
        }
        let _ = TcpStream::connect(self.addr); // wakes the acceptor
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

fn accept(shared: &Arc<Shared>, client: TcpStream) {
    let (id, script) = {
        let mut plan = shared.plan.lock().unwrap();
        let id = plan.accepted;
        plan.accepted += 1;
        let script = plan
            .next
            .pop_front()
            .unwrap_or_else(|| plan.default.clone());
        (id, script)
    };
    let hub = if script.blackhole {
        None
    } else {
        match TcpStream::connect(shared.upstream) {
            Ok(hub) => Some(hub),
            Err(_) => return, // upstream down: the client sees its connection close
        }
    };
    for s in std::iter::once(&client).chain(hub.as_ref()) {
        let _ = s.set_nodelay(true); // so slices travel as slices
    }
    let conn = Arc::new(Conn {
        id,
        client,
        hub,
        dark: AtomicBool::new(script.blackhole),
    });
    {
        let mut plan = shared.plan.lock().unwrap();
        plan.live.retain(|c| c.strong_count() > 0);
        plan.live.push(Arc::downgrade(&conn));
    }
    for dir in [Dir::Up, Dir::Down] {
        if dir == Dir::Down && conn.hub.is_none() {
            continue;
        }
        let (shared, conn, script) = (shared.clone(), conn.clone(), script.clone());
        std::thread::spawn(move || forward(&shared, &conn, dir, &script));
    }
}

/// Copies one direction of `conn` under `script` until either side ends.
fn forward(shared: &Shared, conn: &Conn, dir: Dir, script: &Script) {
    let (mut from, to) = match dir {
        Dir::Up => (&conn.client, conn.hub.as_ref()),
        Dir::Down => (conn.hub.as_ref().expect("a hub side"), Some(&conn.client)),
    };
    let counter = match dir {
        Dir::Up => &shared.up,
        Dir::Down => &shared.down,
    };
    let cut = script.cut.filter(|c| c.0 == dir);
    let dark = || conn.dark.load(Ordering::SeqCst);
    // When the throttle lets the next byte through.
    let mut free_at = Instant::now();
    let mut passed = 0u64;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(n) if n > 0 => n,
            // The sender finished (or failed): pass that on, unless dark.
            ended => {
                match (ended, to) {
                    _ if dark() => {}
                    (Ok(_), Some(to)) => {
                        let _ = to.shutdown(Shutdown::Write);
                    }
                    _ => conn.kill(Close::Fin),
                }
                return;
            }
        };
        // Dark: read and drop, so the sender sees nothing wrong.
        let Some(mut to) = to.filter(|_| !dark()) else {
            continue;
        };
        let mut data = &buf[..n];
        let cut_here = cut.filter(|&(_, at, _)| passed + n as u64 >= at);
        if let Some((_, at, _)) = cut_here {
            data = &data[..(at - passed) as usize];
        }
        if let Some(d) = script.delay {
            std::thread::sleep(d);
        }
        // A throttled link trickles: pieces of ~50 ms worth, not bursts.
        let piece = match (script.slice, script.throttle) {
            (Some(n), _) => n,
            (None, Some(bps)) => (bps / 20).max(1) as usize,
            (None, None) => usize::MAX,
        };
        for piece in data.chunks(piece) {
            if to.write_all(piece).is_err() {
                conn.kill(Close::Fin);
                return;
            }
            passed += piece.len() as u64;
            counter.fetch_add(piece.len() as u64, Ordering::SeqCst);
            shared.writes.fetch_add(1, Ordering::SeqCst);
            if let Some(bps) = script.throttle {
                let cost = Duration::from_secs_f64(piece.len() as f64 / bps as f64);
                free_at = free_at.max(Instant::now()) + cost; // no credit for idle time
                std::thread::sleep(free_at.saturating_duration_since(Instant::now()));
            }
        }
        if let Some((dir, at, how)) = cut_here {
            shared.plan.lock().unwrap().cuts.push(Cut {
                conn: conn.id,
                dir,
                at,
                how,
            });
            conn.kill(how);
            return;
        }
    }
}
