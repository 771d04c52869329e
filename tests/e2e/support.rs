//! Test helpers: a temporary syncdb home with a folder, and a runner for the
//! real `syncdb` binary. Helpers hide setup, never the assertion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_syncdb");

/// A temporary `SYNCDB_HOME` and a folder inside it. Its daemon is killed on drop.
pub struct Home {
    pub dir: tempfile::TempDir,
}

/// What one `syncdb` run gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout without its last newline.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success; stderr: {}", self.stderr);
        self.stdout.trim_end_matches('\n')
    }

    /// Asserts exit `code` and that stderr mentions `needle`.
    #[track_caller]
    pub fn fails(&self, code: i32, needle: &str) {
        assert_eq!(
            self.code, code,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}: {}",
            self.stderr
        );
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).expect("stdout is one JSON value")
    }

    #[track_caller]
    pub fn json_lines(&self) -> Vec<Value> {
        self.ok()
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }
}

impl Home {
    pub fn new() -> Home {
        // Short paths: Unix socket paths must stay under ~100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("sdb")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::create_dir_all(dir.path().join("f")).unwrap();
        Home { dir }
    }

    /// A home with a folder `f` made with `engine`.
    pub fn with_folder(engine: &str) -> Home {
        let home = Home::new();
        home.run(&["init", "--engine", engine]).ok();
        home
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn folder(&self) -> PathBuf {
        self.dir.path().join("f")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("SYNCDB_HOME", self.home())
            .env_remove("RUST_LOG")
            .current_dir(self.folder())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run syncdb"))
    }

    /// Runs with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        Run::from(out)
    }

    pub fn put(&self, address: &str, doc: &str) -> String {
        self.run(&["put", address, doc]).ok().to_owned()
    }

    pub fn get(&self, address: &str) -> Value {
        let out = self.run(&["get", address]);
        serde_json::from_str(out.ok()).unwrap()
    }

    /// `ls DB/COLL --json` as (key, doc) pairs: the visible state of a collection.
    pub fn records(&self, address: &str) -> Vec<(String, Value)> {
        self.run(&["ls", address, "--json"])
            .json_lines()
            .into_iter()
            .map(|r| (r["key"].as_str().unwrap().to_owned(), r["doc"].clone()))
            .collect()
    }

    pub fn lock_file(&self) -> PathBuf {
        self.home().join("run/daemon.lock")
    }

    pub fn socket(&self) -> PathBuf {
        self.home().join("run/daemon.sock")
    }

    /// The running daemon's pid, if any.
    pub fn daemon_pid(&self) -> Option<i32> {
        let out = self.run(&["daemon", "status", "--json"]);
        (out.code == 0).then(|| out.json()["pid"].as_i64().unwrap() as i32)
    }

    /// SIGKILLs the daemon and waits until it is gone: its lock is free
    /// only once every thread has exited and closed its files.
    pub fn kill_daemon(&self) {
        if let Some(pid) = self.daemon_pid() {
            kill(pid, libc::SIGKILL);
            wait_gone(pid);
            // Gone once its lock is free (every thread has exited), or held
            // by a new daemon that another command has started since.
            eventually(Duration::from_secs(10), || {
                let holder = std::fs::read_to_string(self.lock_file()).ok();
                let other = holder.is_some_and(|p| p.trim() != pid.to_string());
                (!daemon_running(&self.lock_file()) || other).then_some(())
            });
        }
    }

    pub fn set_config(&self, text: &str) {
        let path = self.home().join("config/config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, format!("{text}\n{old}")).unwrap();
    }
}

/// A hub: a home with a folder, serving on a free loopback port.
pub struct Hub {
    pub home: Home,
    pub addr: String,
    pub folder_id: String,
}

impl Hub {
    pub fn new(engine: &str) -> Hub {
        Hub::with_config(engine, "")
    }

    pub fn with_config(engine: &str, config: &str) -> Hub {
        let home = Home::new();
        home.set_config(config);
        let folder_id = home
            .run(&["init", "--engine", engine, "-q"])
            .ok()
            .to_owned();
        let served = home
            .run(&["serve", "--addr", "127.0.0.1:0", "--json"])
            .json();
        let addr = served["addr"].as_str().unwrap().to_owned();
        Hub {
            home,
            addr,
            folder_id,
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Serves TLS on `addr` from these PEM files; `serve --json`'s answer.
    pub fn serve_tls(&self, addr: &str, cert: &Path, key: &Path) -> Value {
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        let args = [
            "serve",
            "--addr",
            addr,
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ];
        let mut args = args.to_vec();
        args.push("--json");
        self.home.run(&args).json()
    }

    /// A token in a 0600 file (extra args: --read-only, --folder ID).
    pub fn token_file(&self, args: &[&str]) -> PathBuf {
        let mut all = vec!["token", "create", "-q"];
        all.extend_from_slice(args);
        let token = self.home.run(&all).ok().to_owned();
        let path = self
            .home
            .dir
            .path()
            .join(format!("token-{}", &token[4..12]));
        std::fs::write(&path, token).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        path
    }

    /// A home whose folder `f` is the hub's folder (same id), registered but
    /// empty and not yet syncing: add a remote to start.
    pub fn follower(&self, config: &str) -> Home {
        let c = Home::new();
        c.set_config(config);
        let marker = c.folder().join(".syncdb");
        std::fs::create_dir_all(&marker).unwrap();
        let settings = format!("id = \"{}\"\nengine = \"redb\"\n", self.folder_id);
        std::fs::write(marker.join("folder.toml"), settings).unwrap();
        c.run(&["init"]).ok();
        c
    }

    /// A client home whose folder `f` is a clone of the hub's folder.
    pub fn client(&self, config: &str) -> Home {
        let token = self.token_file(&[]);
        let c = Home::new();
        c.set_config(config);
        let f = c.folder();
        c.run(&[
            "clone",
            &self.url(),
            &self.folder_id,
            f.to_str().unwrap(),
            "--token-file",
            token.to_str().unwrap(),
            "-q",
        ])
        .ok();
        c
    }
}

impl Home {
    /// `digest --json` as db name → digest.
    pub fn digests(&self) -> Vec<(String, String)> {
        self.run(&["digest", "--json"])
            .json_lines()
            .into_iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_owned(),
                    d["digest"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// Waits until every home shows the same non-empty digests; returns them.
pub fn converged(homes: &[&Home]) -> Vec<(String, String)> {
    eventually(Duration::from_secs(60), || {
        let all: Vec<_> = homes.iter().map(|h| h.digests()).collect();
        (!all[0].is_empty() && all.iter().all(|d| *d == all[0])).then(|| all[0].clone())
    })
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.lock_file())
            && let Ok(pid) = pid.trim().parse::<i32>()
            && daemon_running(&self.lock_file())
        {
            kill(pid, libc::SIGKILL);
            wait_gone(pid);
        }
    }
}

fn daemon_running(lock: &Path) -> bool {
    let Ok(file) = std::fs::File::open(lock) else {
        return false;
    };
    file.try_lock().is_err()
}

pub fn kill(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Waits until `pid` is gone (reaped by init, or a zombie of ours).
pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && !is_zombie(pid) {
        assert!(Instant::now() < deadline, "process {pid} did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// Polls `f` until it returns Some, for at most `within`.
pub fn eventually<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plain HTTP/1.1 GET on loopback: (status line, body).
pub fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

/// Random numbers from a fixed seed, so a failing run can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }

    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }
}
