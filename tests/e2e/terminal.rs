//! A real terminal for what depends on one (prompts, bars, widths): the
//! command runs in a detached tmux session of a chosen size, on a tmux
//! server private to the test, and the test reads the screen as a person
//! would see it.
//!
//! Without tmux these tests say so and pass vacuously, so the README's test
//! command works on a machine with only Rust; `.ci/run` installs tmux and
//! sets `SYNCDB_REQUIRE_TMUX=1`, which turns a missing tmux into a failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

pub struct Tty {
    socket: PathBuf,
}

/// What the shell prints when the command ends, so the exit code is on screen.
const EXIT_MARK: &str = "[exit ";

impl Tty {
    /// Runs `syncdb ARGS` (shell words, already quoted) in `home`'s folder on
    /// a `cols`×`rows` terminal. `None` when tmux is absent and not required.
    pub fn start(home: &Home, cols: u16, rows: u16, args: &str) -> Option<Tty> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("SYNCDB_REQUIRE_TMUX").is_none(),
                "tmux is required (SYNCDB_REQUIRE_TMUX is set) but not installed"
            );
            eprintln!("SKIPPED: tmux is not installed; this terminal test did not run");
            return None;
        }
        let socket = home.dir.path().join("tmux.sock");
        let script = format!(
            "cd {folder} && SYNCDB_HOME={home} {BIN} {args}; echo \"{EXIT_MARK}$?]\"; sleep 3600",
            folder = home.folder().display(),
            home = home.home().display(),
        );
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .args(["sh", "-c", &script])
            .env_remove("TMUX")
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Some(Tty { socket })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen now, one line per row, trailing blanks trimmed.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// Types `text` (tmux key names such as `Enter` or `C-d` allowed).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Waits until the screen shows `needle`, and returns the screen.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> String {
        let mut last = String::new();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            eventually(Duration::from_secs(20), || {
                last = self.screen();
                last.contains(needle).then(|| last.clone())
            })
        }));
        found.unwrap_or_else(|_| panic!("the screen never showed {needle:?}:\n{last}"))
    }

    /// Waits for the command to end; its exit code and the screen.
    #[track_caller]
    pub fn exit(&self) -> (i32, String) {
        let screen = self.wait_for(EXIT_MARK);
        let code = screen
            .rsplit(EXIT_MARK)
            .next()
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse().ok())
            .expect("an exit code on screen");
        (code, screen)
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
