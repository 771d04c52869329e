//! What people and scripts read: progress that fits the terminal and ends
//! exact, a few lines without one, quiet that is quiet, tables with
//! headers, sizes that count SQLite's WAL, "1 record", and network errors
//! that say what is wrong and what to do.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;
use crate::terminal::Tty;

/// `n` small documents into `crm/bulk` in one import.
fn import(h: &Home, n: usize) {
    let lines: String = (0..n)
        .map(|i| format!("{{\"_id\":\"k{i:07}\",\"n\":{i}}}\n"))
        .collect();
    h.run_stdin(&["put", "crm/bulk", "--batch", "-", "-q"], lines.as_bytes())
        .ok();
}

/// Clone args for `hub` into `dir` with a fresh token.
fn clone_args(hub: &Hub, dir: &Path) -> Vec<String> {
    let token = hub.token_file(&[]);
    vec![
        "clone".into(),
        hub.url(),
        hub.folder_id.clone(),
        dir.display().to_string(),
        "--token-file".into(),
        token.display().to_string(),
    ]
}

fn run_args(h: &Home, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    h.run(&args)
}

#[test]
fn a_clone_without_a_terminal_prints_a_few_lines_per_database_and_the_exact_count() {
    const N: usize = 30_000;
    let hub = Hub::new("redb");
    import(&hub.home, N);
    let c = Home::new();
    let out = run_args(&c, &clone_args(&hub, &c.folder().join("c")));
    out.ok();
    let lines: Vec<&str> = out.stderr.lines().collect();
    eprintln!("{} lines:\n{}", lines.len(), out.stderr);
    // Start, every tenth, done: 12 at most for the one database's pull,
    // plus "cloning into" and the closing "origin: caught up".
    assert!(lines.len() <= 15, "{} lines", lines.len());
    assert!(
        lines
            .iter()
            .any(|l| *l == format!("pull crm origin: 30,000 records, caught up in {}", took(l))),
        "the last pull line has the exact count: {lines:?}"
    );
    // Nothing was pushed: no line about pushing, and no 0/0.
    assert!(!out.stderr.contains("push"), "{}", out.stderr);
    assert!(!out.stderr.contains("0 / 0"), "{}", out.stderr);
    assert!(out.stderr.contains(" / 30,000 records ("), "{}", out.stderr);
}

/// What follows "caught up in " on a line (so the assertion can name the rest).
fn took(line: &str) -> &str {
    line.split_once("caught up in ").map_or("", |(_, t)| t)
}

#[test]
fn the_last_json_progress_of_a_clone_is_exact() {
    const N: u64 = 5_000;
    let hub = Hub::new("redb");
    import(&hub.home, N as usize);
    let c = Home::new();
    let mut args = clone_args(&hub, &c.folder().join("c"));
    args.push("--json".into());
    let lines = run_args(&c, &args).json_lines();
    let last_pull = lines
        .iter()
        .rfind(|l| l["direction"] == "pull")
        .expect("pull progress");
    assert_eq!(last_pull["caught_up"], true, "{last_pull}");
    assert_eq!(last_pull["done"], N, "{last_pull}");
    assert_eq!(last_pull["total"], N, "{last_pull}");
}

/// Every screen row that shows a bar shows all of it: nothing wrapped.
fn assert_bars_fit(screen: &str, cols: usize) {
    for row in screen.lines() {
        assert!(row.chars().count() <= cols, "{row:?}");
    }
    let bar_rows: Vec<&str> = screen.lines().filter(|r| r.contains('█')).collect();
    assert!(!bar_rows.is_empty(), "no bar on screen:\n{screen}");
    for row in bar_rows {
        assert!(
            row.starts_with("pull crm origin"),
            "a wrapped bar:\n{screen}"
        );
    }
}

#[test]
fn a_clone_on_a_terminal_draws_one_bar_that_fits_and_ends_exact() {
    const N: usize = 30_000;
    let hub = Hub::new("redb");
    import(&hub.home, N);
    for cols in [80u16, 60] {
        let c = Home::new();
        let args = clone_args(&hub, &c.folder().join("c")).join(" ");
        let Some(tty) = Tty::start(&c, cols, 20, &args) else {
            return;
        };
        let (code, screen) = tty.exit();
        assert_eq!(code, 0, "{screen}");
        assert_bars_fit(&screen, usize::from(cols));
        assert!(
            screen.contains("30,000 records, caught up"),
            "the final count is exact:\n{screen}"
        );
        assert!(!screen.contains("push"), "no bar for nothing:\n{screen}");
        // Human figures: no bare counts, no four-decimal rates.
        assert!(!screen.contains("/30000"), "{screen}");
        assert!(!screen.contains(".0000/s"), "{screen}");
    }
}

#[test]
fn a_live_sync_bar_ends_at_the_exact_count_of_what_arrived() {
    const N: usize = 20_000;
    let hub = Hub::new("redb");
    let c = hub.client("");
    let Some(tty) = Tty::start(&c, 100, 20, "sync") else {
        return;
    };
    import(&hub.home, N);
    let screen = tty.wait_for("20,000 records, caught up");
    assert_bars_fit(&screen, 100);
    assert_eq!(c.records("crm/bulk").len(), N);
    // A second burst counts itself, on a bar of its own in the same place.
    let more: String = (0..5_000)
        .map(|i| format!("{{\"_id\":\"m{i}\"}}\n"))
        .collect();
    hub.home
        .run_stdin(&["put", "crm/more", "--batch", "-", "-q"], more.as_bytes())
        .ok();
    let screen = tty.wait_for("5,000 records, caught up");
    assert_bars_fit(&screen, 100);
    let bars = screen.lines().filter(|r| r.contains('█')).count();
    assert_eq!(bars, 1, "{screen}");
}

#[test]
fn an_import_bar_fits_a_narrow_terminal() {
    let h = Home::with_folder("redb");
    // Big enough to be seen while it runs (a few seconds in a debug build).
    let pad = "y".repeat(200);
    let lines: String = (0..150_000)
        .map(|i| format!("{{\"_id\":\"k{i:07}\",\"pad\":\"{pad}\"}}\n"))
        .collect();
    let file = h.dir.path().join("big.jsonl");
    std::fs::write(&file, lines).unwrap();
    let args = format!("put crm/person --batch {}", file.display());
    let Some(tty) = Tty::start(&h, 60, 10, &args) else {
        return;
    };
    let screen = tty.wait_for(" MiB / ");
    let row = screen
        .lines()
        .find(|r| r.contains(" MiB / "))
        .expect("the bar's row");
    assert!(row.starts_with("importing into crm/person"), "{screen}");
    let (code, screen) = tty.exit();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("imported 150,000 records"), "{screen}");
}

#[test]
fn daemon_start_and_status_are_silent_with_quiet() {
    let h = Home::new();
    let out = h.run(&["daemon", "start", "-q"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_eq!(out.stderr, "");
    let out = h.run(&["daemon", "status", "-q"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    // Without -q it still says so.
    assert!(
        h.run(&["daemon", "status"])
            .ok()
            .starts_with("running, pid ")
    );
}

/// The column at which `header`'s word `name` starts, and every row's cell
/// there is not blank and follows a blank (aligned).
fn assert_aligned(text: &str, names: &[&str]) {
    let mut rows = text.lines();
    let header = rows.next().expect("a header row");
    let rows: Vec<&str> = rows.collect();
    assert!(!rows.is_empty(), "{text}");
    for name in names {
        let col = header
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"));
        for row in &rows {
            let before = row[..col].chars().last();
            assert_eq!(before, Some(' '), "{name} column not aligned:\n{text}");
            assert_ne!(row[col..].chars().next(), Some(' '), "{name}:\n{text}");
        }
    }
}

#[test]
fn token_ls_and_remote_ls_have_aligned_headers_and_unchanged_json() {
    let hub = Hub::new("redb");
    hub.token_file(&[]);
    hub.token_file(&["--read-only", "--folder", &hub.folder_id]);
    let text = hub.home.run(&["token", "ls"]).ok().to_owned();
    assert!(text.starts_with("ID"), "{text}");
    assert_aligned(&text, &["FOLDER", "ACCESS"]);
    assert!(
        text.contains("read-only") && text.contains("any folder"),
        "{text}"
    );
    for t in hub.home.run(&["token", "ls", "--json"]).json_lines() {
        let mut keys: Vec<&String> = t.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["created_ms", "folder", "id", "read_only"], "{t}");
    }

    let c = hub.client("");
    c.run(&["remote", "add", "second-hub", &hub.url()]).ok();
    let text = c.run(&["remote", "ls"]).ok().to_owned();
    assert!(text.starts_with("NAME"), "{text}");
    assert_aligned(&text, &["URL", "STATE"]);
    let json = c.run(&["remote", "ls", "--json"]).json_lines();
    assert_eq!(json.len(), 2);
    assert!(
        json.iter()
            .all(|r| r.get("url").is_some() && r.get("name").is_some())
    );
}

#[test]
fn sizes_count_the_sqlite_wal() {
    let h = Home::with_folder("sqlite");
    // ~1.5 MB, well under SQLite's automatic checkpoint: it sits in the WAL.
    let pad = "x".repeat(300);
    let lines: String = (0..5000)
        .map(|i| format!("{{\"_id\":\"{i}\",\"pad\":\"{pad}\"}}\n"))
        .collect();
    h.run_stdin(&["put", "crm/p", "--batch", "-", "-q"], lines.as_bytes())
        .ok();
    let wal = std::fs::metadata(h.folder().join("crm.sqlite-wal")).map_or(0, |m| m.len());
    let ls = h.run(&["ls", "--json"]).json_lines();
    let bytes = ls[0]["bytes"].as_u64().unwrap();
    assert!(bytes >= 1_500_000, "{bytes} bytes (the WAL alone: {wal})");
    let status = h.run(&["status"]).ok().to_owned();
    assert!(status.contains(" MiB"), "{status}");
}

#[test]
fn one_record_is_counted_in_the_singular() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", "{}");
    let h = &hub.home;
    let ls = h.run(&["ls"]).ok().to_owned();
    assert!(
        ls.contains(" 1 record ") && !ls.contains("1 records"),
        "{ls}"
    );
    let colls = h.run(&["ls", "crm"]).ok().to_owned();
    assert!(colls.ends_with(" 1 record"), "{colls}");
    let digest = h.run(&["digest"]).ok().to_owned();
    assert!(digest.ends_with("(1 record)"), "{digest}");
    let status = h.run(&["status"]).ok().to_owned();
    assert!(
        status.contains(" 1 record ") && !status.contains("1 records"),
        "{status}"
    );
    let imported = h.run_stdin(&["put", "crm/x", "--batch", "-"], b"{\"_id\":\"a\"}\n");
    assert!(
        imported.stderr.contains("imported 1 record into"),
        "{imported:?}"
    );
    h.put("crm/person/2", "{}");
    assert!(h.run(&["ls"]).ok().contains(" 3 records "));
}

// --- network errors in words -------------------------------------------

#[test]
fn wss_to_a_plain_port_says_the_hub_does_not_speak_tls() {
    let hub = Hub::new("redb");
    let token = hub.token_file(&[]);
    let c = hub.follower("");
    let wss = format!("wss://{}", hub.addr);
    c.run(&[
        "remote",
        "add",
        "hub",
        &wss,
        "--token-file",
        token.to_str().unwrap(),
    ])
    .ok();
    let out = c.run(&["sync", "--once", "--timeout", "20"]);
    out.fails(1, "does not speak TLS");
    out.fails(1, &format!("use ws://{}", hub.addr));
    assert!(!out.stderr.contains("InvalidContentType"), "{}", out.stderr);
}

#[test]
fn a_host_and_port_without_a_scheme_is_a_remote_url_and_an_http_url_is_refused() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"a":1}"#);
    let token = hub.token_file(&[]);
    let c = hub.follower("");
    let port = hub.addr.rsplit_once(':').unwrap().1;
    let bare = format!("localhost:{port}");
    c.run(&[
        "remote",
        "add",
        "hub",
        &bare,
        "--token-file",
        token.to_str().unwrap(),
    ])
    .ok();
    let url = &c.run(&["remote", "ls", "--json"]).json_lines()[0]["url"];
    assert_eq!(url, &format!("ws://localhost:{port}"));
    c.run(&["sync", "--once", "--timeout", "30", "-q"]).ok();
    assert_eq!(c.get("crm/person/1"), serde_json::json!({"a":1}));

    let http = format!("http://{}", hub.addr);
    let out = c.run(&["remote", "add", "web", &http]);
    out.fails(2, "WebSocket, not HTTP");
    out.fails(2, "ws://HOST:PORT");
    c.run(&["remote", "add", "web", "localhost:port"])
        .fails(2, "is not a port");
    // Only a host and a port: what could never be dialed is refused.
    for (url, says) in [
        ("localhost", "no port in it"),
        ("ws://localhost", "no port in it"),
        ("ws://h:0", "\"0\" is not a port (1-65535)"),
        ("ws://h:99999", "is not a port (1-65535)"),
        ("ws://h:1/path", "no path, query or user"),
        ("ws://user@h:1", "no path, query or user"),
        ("ws://h:1?x=1", "no path, query or user"),
    ] {
        c.run(&["remote", "add", "web", url]).fails(2, says);
    }
    assert_eq!(c.run(&["remote", "ls", "--json"]).json_lines().len(), 1);
}

#[test]
fn serve_listens_on_localhost_and_refuses_a_url_with_what_it_takes() {
    let h = Home::with_folder("redb");
    let served = h.run(&["serve", "--addr", "localhost:0", "--json"]).json();
    let addr = served["addr"].as_str().unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{served}");
    // Remotes are told the name it was served as (a certificate's name).
    let port = addr.rsplit_once(':').unwrap().1;
    assert_eq!(served["url"], format!("ws://localhost:{port}"));
    let (status, _) = http_get(addr, "/healthz");
    assert!(status.contains("200"), "{status}");
    let out = h.run(&["serve", "--addr", "ws://localhost:7700"]);
    out.fails(2, "not a URL");
    out.fails(2, "localhost:7700");
}

/// A self-signed certificate for `localhost` made the usual way, or None
/// (printing SKIPPED) without openssl unless SYNCDB_REQUIRE_OPENSSL is set.
fn openssl_self_signed(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("self.pem"), dir.join("self.key"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    match made {
        Ok(out) if out.status.success() => Some((cert, key)),
        other => {
            assert!(
                std::env::var_os("SYNCDB_REQUIRE_OPENSSL").is_none(),
                "openssl is required (SYNCDB_REQUIRE_OPENSSL is set): {other:?}"
            );
            eprintln!("SKIPPED: openssl is not installed; this TLS test did not run");
            None
        }
    }
}

/// Serves `hub` with TLS from these files; returns the port.
fn serve_tls(hub: &Hub, cert: &Path, key: &Path) -> String {
    let served = hub.serve_tls("127.0.0.1:0", cert, key);
    let addr = served["addr"].as_str().unwrap();
    addr.rsplit_once(':').unwrap().1.to_owned()
}

/// A follower of `hub` dialing `url`, trusting `ca` if given; the result
/// of its first `sync --once`.
fn sync_over(hub: &Hub, url: &str, ca: Option<&Path>) -> (Home, Run) {
    let token = hub.token_file(&[]);
    let c = hub.follower("");
    let mut args = vec![
        "remote",
        "add",
        "hub",
        url,
        "--token-file",
        token.to_str().unwrap(),
    ];
    if let Some(ca) = ca {
        args.extend(["--ca-file", ca.to_str().unwrap()]);
    }
    c.run(&args).ok();
    let out = c.run(&["sync", "--once", "--timeout", "20"]);
    (c, out)
}

#[test]
fn a_self_signed_certificate_given_as_ca_file_is_trusted_for_its_own_name() {
    let hub = Hub::new("redb");
    hub.home.put("crm/person/1", r#"{"over":"tls"}"#);
    let Some((cert, key)) = openssl_self_signed(hub.home.dir.path()) else {
        return;
    };
    let port = serve_tls(&hub, &cert, &key);

    // Given as --ca-file: the hub presenting exactly it is trusted.
    let (c, out) = sync_over(&hub, &format!("wss://localhost:{port}"), Some(&cert));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(c.get("crm/person/1"), serde_json::json!({"over":"tls"}));

    // Not given: said in words, with what to do.
    let (_, out) = sync_over(&hub, &format!("wss://localhost:{port}"), None);
    out.fails(1, "this machine does not trust");
    out.fails(1, "--ca-file");
    assert!(!out.stderr.contains("CaUsedAsEndEntity"), "{}", out.stderr);

    // Another certificate as --ca-file: said as a mismatch, not as "give one".
    let other = hub.home.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (other_cert, _) = openssl_self_signed(&other).unwrap();
    let (_, out) = sync_over(&hub, &format!("wss://localhost:{port}"), Some(&other_cert));
    out.fails(1, "is neither the certificate in");
    out.fails(1, other_cert.to_str().unwrap());

    // The name still counts: it is a certificate for localhost only.
    let (_, out) = sync_over(&hub, &format!("wss://127.0.0.1:{port}"), Some(&cert));
    out.fails(1, "is not for the host");
    out.fails(1, "(it names localhost)");
    assert!(!out.stderr.contains("CaUsedAsEndEntity"), "{}", out.stderr);
}

#[test]
fn a_pinned_self_signed_certificate_out_of_its_dates_is_refused_in_words() {
    let hub = Hub::new("redb");
    let dir = hub.home.dir.path();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_file, key_file) = (dir.join("old.pem"), dir.join("old.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let port = serve_tls(&hub, &cert_file, &key_file);
    let (_, out) = sync_over(&hub, &format!("wss://localhost:{port}"), Some(&cert_file));
    out.fails(1, "has expired");
}

#[test]
fn ws_to_a_tls_port_suggests_wss() {
    let hub = Hub::new("redb");
    let Some((cert, key)) = openssl_self_signed(hub.home.dir.path()) else {
        return;
    };
    let port = serve_tls(&hub, &cert, &key);
    let (_, out) = sync_over(&hub, &format!("ws://localhost:{port}"), None);
    out.fails(1, &format!("use wss://localhost:{port}"));
}
