//! A PostgreSQL server for tests and benchmarks: the one `.ci/run` started
//! (its connection string in `SYNCDB_TEST_POSTGRES`), or else a throwaway
//! cluster of our own in a temporary directory — `initdb`, then `pg_ctl
//! start` on a free loopback port — stopped when the handle is dropped.
//! Each handle gets a database of its own, so tests never share tables.
//!
//! `initdb` refuses to run as root: as root, the cluster runs as the
//! `postgres` user the distribution's packages create.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where `.ci/run` says its server is: a libpq connection string.
pub const SERVER_ENV: &str = "SYNCDB_TEST_POSTGRES";
/// Set (to 1) where a server must be found: no server is then a failure,
/// not a skip.
pub const REQUIRE_ENV: &str = "SYNCDB_REQUIRE_POSTGRES";

/// A database on a running server, dropped with the handle (and the server
/// too, when it is our own).
pub struct TestServer {
    base: String,
    name: String,
    own: Option<Cluster>,
}

impl TestServer {
    /// A fresh database on the server, or `None` (having said why on
    /// stderr) when there is none here and none is required.
    pub fn get() -> Option<TestServer> {
        match std::env::var(SERVER_ENV) {
            Ok(base) if !base.trim().is_empty() => Self::on(Ok((base, None))),
            _ => Self::own(),
        }
    }

    /// As [`Self::get`], always on a cluster of its own (which a test may
    /// stop and start).
    pub fn own() -> Option<TestServer> {
        Self::on(Cluster::start().map(|c| (c.base_url(), Some(c))))
    }

    fn on(found: Result<(String, Option<Cluster>), String>) -> Option<TestServer> {
        let (base, own) = match found {
            Ok(found) => found,
            Err(why) if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") => {
                panic!("{REQUIRE_ENV}=1 but no PostgreSQL server: {why}")
            }
            Err(why) => {
                eprintln!(
                    "SKIPPED: no PostgreSQL server ({why}); set {SERVER_ENV} or install PostgreSQL"
                );
                return None;
            }
        };
        let name = fresh_name();
        psql_command(&base, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a test database on {base}: {e}"));
        Some(TestServer { base, name, own })
    }

    /// The connection string of this handle's database.
    pub fn url(&self) -> String {
        format!("{} dbname={}", self.base, self.name)
    }

    /// Whether the server is this handle's own (so a test may stop it).
    pub fn cluster(&self) -> Option<&Cluster> {
        self.own.as_ref()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A server of our own goes whole; on a shared one, our database.
        if self.own.is_none() {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = psql_command(&self.base, &drop);
        }
    }
}

/// A unique database name within this machine's test runs.
fn fresh_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("syncdb_test_{}_{n}_{nanos}", std::process::id())
}

/// Runs one SQL command through the store's own client (no `psql` needed).
fn psql_command(base: &str, sql: &str) -> Result<(), String> {
    let config: tokio_postgres::Config = format!("{base} dbname=postgres")
        .parse()
        .map_err(|e| format!("bad connection string: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(connection);
        let done = client.batch_execute(sql).await.map_err(|e| e.to_string());
        drop(client);
        let _ = task.await;
        done
    })
}

/// A cluster of our own, stopped (immediately) when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The user the server runs as, when we are root.
    user: Option<String>,
}

impl Cluster {
    /// Starts a cluster in a temporary directory, or says why not.
    pub fn start() -> Result<Cluster, String> {
        let bin = bin_dir().ok_or("no initdb in PATH or /usr/lib/postgresql/*/bin")?;
        let user = is_root().then(|| "postgres".to_owned());
        let dir = tempfile::Builder::new()
            .prefix("syncdb-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        if let Some(user) = &user {
            let ids = |flag: &str| -> Result<u32, String> {
                let out = Command::new("id")
                    .args([flag, user])
                    .output()
                    .map_err(|e| e.to_string())?;
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .map_err(|_| format!("no user {user} to run PostgreSQL as (we are root)"))
            };
            std::os::unix::fs::chown(dir.path(), Some(ids("-u")?), Some(ids("-g")?))
                .map_err(|e| e.to_string())?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let cluster = Cluster {
            dir,
            bin,
            port,
            user,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "syncdb",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        cluster.restart()?;
        Ok(cluster)
    }

    /// The connection string without a database name.
    pub fn base_url(&self) -> String {
        format!("host=127.0.0.1 port={} user=syncdb", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Stops the server at once (as a crash would), if it runs.
    pub fn stop(&self) -> Result<(), String> {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", path_str(&data), "-m", "immediate", "-w", "stop"],
        )
    }

    /// Starts the server (again, after [`Self::stop`]) on its port.
    pub fn restart(&self) -> Result<(), String> {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {} -h 127.0.0.1 -c max_connections=200",
            self.port,
            path_str(self.dir.path())
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-o",
                &options,
                "-w",
                "start",
            ],
        )
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        // Its own working directory: the server user may not read ours.
        let out = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{tool} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        ))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, or the newest of
/// the distribution's versioned directories.
fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let v = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((v, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}
