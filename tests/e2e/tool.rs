//! syncdb as a tool on a real machine: user service files, completions and
//! man pages in step with the command line, config commands, logs, quiet
//! output for scripts, and the README's CI recipe run for real.

use std::path::{Path, PathBuf};

use crate::support::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().strip_prefix(dir).unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn completions_and_man_pages_match_the_command_line() {
    let h = Home::new();
    let out = h.dir.path().join("docs");
    h.run(&["__docs", out.to_str().unwrap()]).ok();
    for sub in ["completions", "man"] {
        let (fresh, committed) = (out.join(sub), repo().join(sub));
        assert_eq!(
            files(&fresh),
            files(&committed),
            "{sub}/ differs; run `cargo run -p syncdb -- __docs .`"
        );
        for f in files(&fresh) {
            assert!(
                std::fs::read(fresh.join(&f)).unwrap()
                    == std::fs::read(committed.join(&f)).unwrap(),
                "{sub}/{} is stale; run `cargo run -p syncdb -- __docs .`",
                f.display()
            );
        }
    }
    let man = std::fs::read_to_string(repo().join("man/syncdb.1")).unwrap();
    assert!(man.contains("syncdb\\-sync(1)"), "subcommands are listed");
    assert!(
        !man.contains("syncdb\\-help"),
        "no page is named that does not exist"
    );
    for section in ["EXIT STATUS", "ENVIRONMENT", "FILES"] {
        assert_eq!(
            man.matches(&format!(".SH \"{section}\"")).count(),
            1,
            "{section}"
        );
    }
    assert_eq!(
        man.matches("not found (get, del").count(),
        1,
        "exit codes once"
    );
    assert!(man.contains("SYNCDB_HOME") && man.contains("config.toml"));
    for name in files(&repo().join("completions")) {
        let text = std::fs::read_to_string(repo().join("completions").join(&name)).unwrap();
        let name = name.display();
        assert!(text.contains("remote") && text.contains("batch"), "{name}");
        for hidden in ["__docs", "log-file"] {
            assert!(!text.contains(hidden), "{name} offers the hidden {hidden}");
        }
    }
    let bash = std::fs::read_to_string(repo().join("completions/syncdb.bash")).unwrap();
    for values in ["redb sqlite", "auto docs records", "systemd launchd"] {
        assert!(
            bash.contains(&format!("-W \"{values}\"")),
            "bash offers {values}"
        );
    }
}

/// Every command and group of commands, from the man pages' names
/// (`syncdb-remote-add.1` is `remote add`).
fn commands() -> Vec<Vec<String>> {
    files(&repo().join("man"))
        .iter()
        .filter_map(|f| f.to_str()?.strip_suffix(".1"))
        .filter(|p| *p != "syncdb")
        .map(|p| p.split('-').skip(1).map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_command_has_help_with_an_example() {
    let h = Home::new();
    let all = commands();
    assert!(all.len() > 40, "{all:?}");
    for cmd in all {
        let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        args.push("--help");
        let out = h.run(&args);
        let help = out.ok();
        assert!(
            help.contains("Example"),
            "`syncdb {}` has no example",
            cmd.join(" ")
        );
    }
    let top = h.run(&["--help"]).ok().to_owned();
    assert!(
        top.contains("Exit codes:") && top.contains("Environment:") && top.contains("SYNCDB_HOME")
    );
}

/// A command run with a temporary user home (never the real user's files).
fn with_user_home(h: &Home, args: &[&str]) -> Run {
    let user = h.dir.path().join("user");
    let out = h
        .cmd(args)
        .env("HOME", &user)
        .env("XDG_CONFIG_HOME", user.join(".config"))
        .env("PATH", "/nonexistent") // no systemctl: install must still write the file
        .output()
        .unwrap();
    Run::from(out)
}

#[test]
fn service_files_for_systemd_and_launchd() {
    let h = Home::new();
    let unit = with_user_home(&h, &["service", "install", "--print", "--kind", "systemd"]);
    let unit = unit.ok();
    assert!(
        unit.contains(&format!("ExecStart={BIN} daemon run")),
        "{unit}"
    );
    assert!(unit.contains("Restart=on-failure") && unit.contains("WantedBy=default.target"));
    assert!(unit.contains(&format!("Environment=SYNCDB_HOME={}", h.home().display())));

    with_user_home(&h, &["service", "install", "--kind", "systemd"]).ok();
    let path = h
        .dir
        .path()
        .join("user/.config/systemd/user/syncdb.service");
    assert_eq!(std::fs::read_to_string(&path).unwrap().trim_end(), unit);
    let status = with_user_home(&h, &["service", "status", "--kind", "systemd", "--json"]).json();
    assert_eq!(status["installed"], true);
    if Path::new("/usr/bin/systemd-analyze").exists() {
        // --man=no: the man page is not installed system-wide here.
        let verify = std::process::Command::new("/usr/bin/systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&path)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&verify.stderr);
        assert!(
            verify.status.success() && said.trim().is_empty(),
            "systemd-analyze verify: {said}"
        );
    }
    with_user_home(&h, &["service", "uninstall", "--kind", "systemd"]).ok();
    assert!(!path.exists());

    let plist = with_user_home(&h, &["service", "install", "--print", "--kind", "launchd"]);
    let plist = plist.ok();
    assert!(plist.starts_with("<?xml") && plist.ends_with("</plist>"));
    assert!(plist.contains(&format!(
        "<string>{BIN}</string>\n    <string>daemon</string>\n    <string>run</string>"
    )));
    assert!(plist.contains("<key>KeepAlive</key>") && plist.contains("<key>RunAtLoad</key>"));
    assert_eq!(
        plist.matches("<dict>").count(),
        plist.matches("</dict>").count()
    );
}

#[test]
fn config_path_show_and_check() {
    let h = Home::new();
    let path = h.run(&["config", "path"]).ok().to_owned();
    assert_eq!(Path::new(&path), h.home().join("config/config.toml"));
    let shown = h.run(&["config", "show", "--json"]).json();
    assert_eq!(shown["daemon"]["max_document_bytes"], 16 * 1024 * 1024);
    assert_eq!(shown["sync"]["chunk_records"], 1024);

    let bad = h.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "engine = \"redb\"\n\n[sync]\nchunk_records = \"lots\"\n",
    )
    .unwrap();
    h.run(&["config", "check", bad.to_str().unwrap()])
        .fails(2, "bad.toml:4:");
    let example = repo().join("config.example.toml");
    assert!(
        h.run(&["config", "check", example.to_str().unwrap()])
            .ok()
            .ends_with("valid")
    );
}

#[test]
fn background_daemon_logs_to_a_file_that_logs_shows() {
    let h = Home::with_folder("redb");
    h.put("crm/p/1", "{}");
    let log = h.run(&["logs", "-n", "100"]).ok().to_owned();
    assert!(
        log.contains("daemon listening") && log.contains("opened database"),
        "{log}"
    );
    assert_eq!(h.run(&["logs", "-n", "1"]).ok().lines().count(), 1);
    assert!(h.home().join("state/daemon.log").exists());
}

#[test]
fn nothing_prints_escapes_or_bars_when_not_a_terminal() {
    let h = Home::with_folder("redb");
    let lines: String = (0..3000)
        .map(|i| format!("{{\"_id\":\"{i}\"}}\n"))
        .collect();
    let outs = [
        h.run_stdin(&["put", "crm/p", "--batch", "-"], lines.as_bytes()),
        h.run(&["ls"]),
        h.run(&["status"]),
        h.run(&["get", "crm/p/7"]),
        h.run(&["get", "crm/p/nope"]),
    ];
    for out in outs {
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains('\u{1b}'), "no escape codes: {all:?}");
        assert!(!all.contains('\r'), "no carriage-return redraws: {all:?}");
    }
    let quiet = h.run_stdin(&["put", "crm/q", "--batch", "-", "-q"], b"{}\n");
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
}

#[test]
fn the_readme_ci_recipe_publishes_and_a_later_job_reads() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let block = readme
        .split("<!-- ci-recipe:start -->")
        .nth(1)
        .and_then(|r| r.split("<!-- ci-recipe:end -->").next())
        .expect("README has the CI recipe");
    let script = block
        .trim()
        .trim_start_matches("```bash")
        .trim_end_matches("```");
    let hub = Hub::new("redb");
    let token = hub.token_file(&[]);
    let recipe = hub.home.dir.path().join("ci.sh");
    std::fs::write(&recipe, script).unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let job = |step: &str| {
        std::process::Command::new("bash")
            .arg(&recipe)
            .arg(step)
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("SYNCDB_HUB", hub.url())
            .env("SYNCDB_FOLDER", &hub.folder_id)
            .env("SYNCDB_TOKEN_FILE", &token)
            .env("BUILD_ID", "1234")
            .env_remove("SYNCDB_HOME")
            .output()
            .unwrap()
    };
    let publish = job("publish");
    assert!(
        publish.status.success(),
        "{}",
        String::from_utf8_lossy(&publish.stderr)
    );
    let read = job("read");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"status":"ok","artifact":"app-1234.tar.gz"})
    );
    assert_eq!(
        hub.home.get("ci/builds/1234")["status"],
        "ok",
        "the hub has it"
    );
}
