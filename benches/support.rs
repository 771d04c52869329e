//! What the benchmarks share: a temporary home running the real binary, a
//! raw JSON-RPC line client for the socket, and statistics.

#![allow(dead_code)] // each bench uses part of it

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use interprocess::local_socket::{GenericFilePath, Stream, prelude::*};

pub const BIN: &str = env!("CARGO_BIN_EXE_syncdb");

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::Builder::new()
            .prefix("sdbb")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::create_dir_all(dir.path().join("f")).unwrap();
        Home { dir }
    }

    pub fn with_config(config: &str) -> Home {
        let h = Home::new();
        h.set_config(config);
        h
    }

    pub fn set_config(&self, text: &str) {
        let path = self.dir.path().join("home/config/config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        // Keep what the daemon wrote (folders, serve) and put ours first.
        let kept: String = old
            .lines()
            .filter(|l| !l.starts_with("# syncdb config"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, format!("{text}\n{kept}\n")).unwrap();
    }

    pub fn folder(&self) -> PathBuf {
        self.dir.path().join("f")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("SYNCDB_HOME", self.dir.path().join("home"))
            .current_dir(self.folder())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn daemon_pid(&self) -> u32 {
        let lock = self.dir.path().join("home/run/daemon.lock");
        std::fs::read_to_string(lock)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("home/run/daemon.sock")
    }

    pub fn rpc(&self) -> Rpc {
        Rpc::connect(&self.socket())
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self.cmd(&["daemon", "stop"]).output();
    }
}

/// Raw JSON-RPC lines on the daemon's socket.
pub struct Rpc {
    stream: Stream,
    lines: syncdb_core::ipc::LineBuffer,
    buf: Vec<u8>,
    pub line: String,
}

impl Rpc {
    pub fn connect(socket: &std::path::Path) -> Rpc {
        let name = socket.to_fs_name::<GenericFilePath>().unwrap();
        Rpc {
            stream: Stream::connect(name).unwrap(),
            lines: syncdb_core::ipc::LineBuffer::new(1 << 30),
            buf: vec![0; 64 * 1024],
            line: String::new(),
        }
    }

    pub fn send(&mut self, line: &str) {
        (&self.stream).write_all(line.as_bytes()).unwrap();
    }

    /// Reads one line into `self.line`.
    pub fn read(&mut self) -> &str {
        loop {
            if let Some(l) = self.lines.next_line().unwrap() {
                self.line = String::from_utf8_lossy(l).into_owned();
                return &self.line;
            }
            let n = (&self.stream).read(&mut self.buf).unwrap();
            assert!(n > 0, "daemon closed the connection");
            self.lines.push(&self.buf[..n]);
        }
    }

    pub fn call(&mut self, line: &str) -> &str {
        self.send(line);
        self.read()
    }
}

/// A whole number from the environment variable `name`, or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// CPU time (user + system) a process has used, from /proc.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// N JSON Lines of about 100 bytes each, without `_id` (keys are UUIDv7).
pub fn generate(path: &std::path::Path, n: usize) -> Vec<String> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut docs = Vec::with_capacity(n);
    for i in 0..n {
        let doc = format!(
            r#"{{"name":"user-{i:07}","email":"user{i}@example.com","age":{},"city":"Lisbon","score":{}}}"#,
            20 + i % 60,
            (i * 7919) % 1000
        );
        writeln!(w, "{doc}").unwrap();
        docs.push(doc);
    }
    w.flush().unwrap();
    docs
}

/// Prints a baseline latency row and a measured one, with the median ratio.
pub fn latency_rows(baseline: (&str, Vec<Duration>), measured: (&str, Vec<Duration>)) {
    let base = median(baseline.1.clone());
    let med = median(measured.1.clone());
    println!(
        "| {} (baseline) | {} | {} | 1.00 |",
        baseline.0,
        ms(base),
        ms(percentile(baseline.1, 0.99))
    );
    println!(
        "| {} | {} | {} | {:.2} |",
        measured.0,
        ms(med),
        ms(percentile(measured.1, 0.99)),
        med.as_secs_f64() / base.as_secs_f64()
    );
}
