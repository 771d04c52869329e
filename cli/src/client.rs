//! The command's side of the local socket: connect (starting the daemon if
//! needed), say hello and check versions, then call methods and read streams.
//! Blocking I/O: one command makes a handful of calls, so no async runtime.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use interprocess::local_socket::{GenericFilePath, Stream, prelude::*};
use serde_json::value::RawValue;
use syncdb_core::ipc::{
    Empty, Hello, HelloOutput, HelloParams, IPC_VERSION, ImportChunk, Incoming, LineBuffer, Method,
    Shutdown, WRITE_METHODS, request_line,
};
use syncdb_core::paths::Paths;

use crate::exit::{CliError, Result};

/// How long to wait for a daemon we started to answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Responses are bounded by what the daemon sends; this only guards memory.
const MAX_LINE: usize = 256 << 20;

pub struct Client {
    stream: Stream,
    lines: LineBuffer,
    buf: Vec<u8>,
    next_id: u64,
    pub daemon: HelloOutput,
}

fn connect_socket(socket: &Path) -> std::io::Result<Stream> {
    Stream::connect(socket.to_fs_name::<GenericFilePath>()?)
}

impl Client {
    /// Connects to the daemon of `paths`, starting it if `autostart` and it
    /// is not running, and restarting it if it is another version.
    pub fn connect(paths: &Paths, autostart: bool) -> Result<Client> {
        // A daemon killed a moment ago may still hold its socket while its
        // threads exit: a connection that dies during hello is retried.
        let mut attempt = 0;
        loop {
            match Self::connect_once(paths, autostart) {
                Err(e) if e.exit == crate::exit::Exit::Unreachable && attempt < 3 && autostart => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50 * attempt));
                }
                other => return other,
            }
        }
    }

    fn connect_once(paths: &Paths, autostart: bool) -> Result<Client> {
        // A home someone else made is not used, not even to start a daemon in.
        paths.check().map_err(|e| CliError::failed(e.to_string()))?;
        let socket = paths
            .socket()
            .map_err(|e| CliError::unreachable(e.to_string()))?;
        let stream = match connect_socket(&socket) {
            Ok(s) => s,
            Err(e) if !autostart => {
                return Err(CliError::unreachable(format!(
                    "the daemon is not running (socket {}: {e}); start it with `syncdb daemon start`",
                    socket.display()
                )));
            }
            Err(_) => start_daemon(paths, &socket)?,
        };
        check_daemon_is_ours(&stream, &socket)?;
        let client = Client::hello(stream)?;
        if client.daemon.ipc_version == IPC_VERSION && client.daemon.version == crate::VERSION {
            return Ok(client);
        }
        if !autostart {
            return Ok(client);
        }
        let old = format!(
            "{} (IPC {})",
            client.daemon.version, client.daemon.ipc_version
        );
        client.restart(paths, &socket).map_err(|e| {
            CliError::unreachable(format!(
                "daemon {old} is running but this is syncdb {}; restarting it failed: {e}; stop it with `syncdb daemon stop`",
                crate::VERSION
            ))
        })
    }

    fn hello(stream: Stream) -> Result<Client> {
        let mut client = Client {
            stream,
            lines: LineBuffer::new(MAX_LINE),
            buf: vec![0; 64 * 1024],
            next_id: 1,
            daemon: HelloOutput {
                version: String::new(),
                ipc_version: 0,
                pid: 0,
                serve: None,
            },
        };
        client.daemon = client.call::<Hello>(&HelloParams {
            client_version: crate::VERSION.to_owned(),
            ipc_version: IPC_VERSION,
        })?;
        Ok(client)
    }

    /// Stops this (other-version) daemon and starts ours.
    fn restart(mut self, paths: &Paths, socket: &Path) -> Result<Client> {
        self.call::<Shutdown>(&Empty {})?;
        wait_until_stopped(paths, Duration::from_secs(10))?;
        Client::hello(start_daemon(paths, socket)?)
    }

    /// Calls `M` and waits for its result; notifications are ignored.
    pub fn call<M: Method>(&mut self, params: &M::Params) -> Result<M::Output> {
        self.stream::<M>(params, |_| Ok(()))
    }

    /// Calls `M`, handing each notification's params to `on_note`, until the
    /// final response.
    pub fn stream<M: Method>(
        &mut self,
        params: &M::Params,
        mut on_note: impl FnMut(&RawValue) -> Result<()>,
    ) -> Result<M::Output> {
        let id = self.next_id;
        self.next_id += 1;
        self.stream
            .write_all(&request_line(id, M::NAME, params))
            .map_err(|e| lost(&e))?;
        loop {
            let msg = self.read_message().map_err(|e| cut_off::<M>(e))?;
            if msg.method.is_some() {
                if let Some(p) = &msg.params {
                    on_note(p)?;
                }
                continue;
            }
            if msg.id.as_ref().and_then(|v| v.as_u64()) != Some(id) {
                if let Some(err) = msg.error {
                    return Err(err.into()); // e.g. "too many connections", id null
                }
                continue;
            }
            if let Some(err) = msg.error {
                return Err(err.into());
            }
            let raw = msg.result.as_deref().map_or("null", RawValue::get);
            return serde_json::from_str(raw).map_err(|e| {
                CliError::failed(format!(
                    "unexpected answer from the daemon to {}: {e}",
                    M::NAME
                ))
            });
        }
    }

    fn read_message(&mut self) -> Result<Incoming> {
        loop {
            if let Some(line) = self
                .lines
                .next_line()
                .map_err(|e| CliError::failed(e.to_string()))?
            {
                return serde_json::from_slice(line).map_err(|e| {
                    CliError::failed(format!("unreadable answer from the daemon: {e}"))
                });
            }
            let n = self.stream.read(&mut self.buf).map_err(|e| lost(&e))?;
            if n == 0 {
                return Err(CliError::unreachable(format!(
                    "the daemon stopped before answering ({CLOSED})"
                )));
            }
            self.lines.push(&self.buf[..n]);
        }
    }
}

/// The daemon must run as this user: a socket that another user's process
/// listens on (in a home he prepared) would receive every document we send.
fn check_daemon_is_ours(stream: &Stream, socket: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let me = syncdb_core::paths::euid();
        let creds = stream.peer_creds().map_err(|e| {
            CliError::unreachable(format!(
                "cannot tell who runs the daemon on {}: {e}",
                socket.display()
            ))
        })?;
        if let Some(uid) = creds.euid()
            && uid != me
        {
            return Err(CliError::unreachable(format!(
                "the daemon on {} runs as uid {uid}, not as you (uid {me}); not talking to it. Use a SYNCDB_HOME of your own",
                socket.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (stream, socket);
    Ok(())
}

/// Why an answer never came when the daemon hung up.
const CLOSED: &str = "it closed the connection";

/// A connection lost while waiting for the answer to `M`. For a write the
/// daemon may have committed it just before it went away, or not: say so,
/// so that a script re-reads instead of guessing.
fn cut_off<M: Method>(e: CliError) -> CliError {
    if e.exit != crate::exit::Exit::Unreachable {
        return e;
    }
    if WRITE_METHODS.contains(&M::NAME) {
        // The connection closing is the whole cause: not said twice.
        let cause = match e.message.ends_with(&format!("({CLOSED})")) {
            true => CLOSED,
            false => &e.message,
        };
        CliError::unreachable(format!(
            "the daemon stopped before answering: the write may or may not have been applied ({cause})"
        ))
    } else if M::NAME == ImportChunk::NAME {
        CliError::unreachable(format!(
            "the daemon stopped during the import: nothing was imported ({})",
            e.message
        ))
    } else {
        e
    }
}

fn lost(e: &std::io::Error) -> CliError {
    CliError::unreachable(format!("lost the connection to the daemon: {e}"))
}

/// Starts `syncdb daemon run` in the background, detached from this terminal,
/// logging to the state dir, and connects once it answers. If several
/// commands race to start it, one daemon wins the lock and all connect to it.
fn start_daemon(paths: &Paths, socket: &Path) -> Result<Stream> {
    let log_from = std::fs::metadata(paths.log_file()).map_or(0, |m| m.len());
    let mut child = spawn_daemon(paths)?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut delay = Duration::from_millis(2);
    loop {
        if let Ok(stream) = connect_socket(socket) {
            return Ok(stream);
        }
        if let Ok(Some(status)) = child.try_wait() {
            // It may have lost a start race to another daemon: give that one
            // a moment. If no daemon holds the lock, it failed: say so now.
            let other = syncdb_daemon::running_pid(&paths.lock_file()).is_some();
            if other && let Ok(stream) = wait_for_socket(socket, Duration::from_secs(2)) {
                return Ok(stream);
            }
            return Err(CliError::unreachable(format!(
                "the daemon exited at start ({status}); its log {} says:\n{}",
                paths.log_file().display(),
                log_tail(&paths.log_file(), log_from)
            )));
        }
        if Instant::now() > deadline {
            return Err(CliError::unreachable(format!(
                "the daemon did not answer within {}s; see {}",
                START_TIMEOUT.as_secs(),
                paths.log_file().display()
            )));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}

fn wait_for_socket(socket: &Path, within: Duration) -> std::io::Result<Stream> {
    let deadline = Instant::now() + within;
    loop {
        match connect_socket(socket) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn spawn_daemon(paths: &Paths) -> Result<Child> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::unreachable(format!("cannot find the syncdb executable: {e}")))?;
    let log_path = paths.log_file();
    // Private: a home syncdb makes itself is 0700, its log 0600.
    syncdb_core::paths::create_private_dir(&paths.state_dir).map_err(|e| {
        CliError::unreachable(format!("cannot create {}: {e}", paths.state_dir.display()))
    })?;
    let log = syncdb_core::paths::open_private_append(&log_path)
        .map_err(|e| CliError::unreachable(format!("cannot open {}: {e}", log_path.display())))?;
    let mut cmd = Command::new(exe);
    cmd.args(["daemon", "run", "--log-file"])
        .arg(&log_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe; it detaches the daemon from
        // this terminal so Ctrl-C or closing the shell does not stop it.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    cmd.spawn()
        .map_err(|e| CliError::unreachable(format!("cannot start the daemon: {e}")))
}

/// Waits until no daemon holds the lock of `paths`.
pub fn wait_until_stopped(paths: &Paths, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    while syncdb_daemon::running_pid(&paths.lock_file()).is_some() {
        if Instant::now() > deadline {
            return Err(CliError::failed(format!(
                "the daemon did not stop within {}s",
                within.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The last lines the log got from byte `from` on: what this start wrote,
/// not what earlier failed starts did (all of it if the log was rotated).
fn log_tail(path: &Path, from: u64) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let from = usize::try_from(from).unwrap_or(0);
    let new = bytes.get(from..).unwrap_or(&bytes);
    let text = String::from_utf8_lossy(new);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}
