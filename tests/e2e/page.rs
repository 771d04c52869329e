//! The status page in a real headless Chromium, driven over the DevTools
//! protocol: it loads, logs in with a token, shows the folder, a `put`
//! made with the command appears in its live feed within a second, and a
//! clone's record count climbs as it goes. A screenshot is kept in the
//! test's target directory.
//!
//! Without Chromium the test says SKIPPED; `.ci/run` installs it and sets
//! `SYNCDB_REQUIRE_CHROMIUM=1`, which turns its absence into a failure.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::support::*;

struct Browser {
    child: Child,
    page: WebSocket<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

impl Browser {
    fn start() -> Option<Browser> {
        let Some(bin) = chromium() else {
            assert!(
                std::env::var_os("SYNCDB_REQUIRE_CHROMIUM").is_none(),
                "Chromium is required (SYNCDB_REQUIRE_CHROMIUM is set) but not installed"
            );
            eprintln!("SKIPPED: Chromium is not installed; the status page test did not run");
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        // Chromium writes its DevTools port into the profile once it listens.
        let port_file = profile.path().join("DevToolsActivePort");
        let port = eventually(Duration::from_secs(20), || {
            let text = std::fs::read_to_string(&port_file).ok()?;
            text.lines()
                .next()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
        });
        let addr = format!("127.0.0.1:{port}");
        let target = crate::http_client::Target::Tcp(addr.clone());
        let body = eventually(Duration::from_secs(10), || {
            let r = crate::http_client::request(&target, "GET", "/json/list", &[], b"");
            let text = r.text();
            text.contains("\"page\"").then_some(text)
        });
        let targets: Vec<Value> = serde_json::from_str(&body).unwrap();
        let url = targets
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (page, _) = tungstenite::client(url.as_str(), stream).expect("DevTools WebSocket");
        Some(Browser {
            child,
            page,
            next_id: 1,
            _profile: profile,
        })
    }

    /// Sends a DevTools command and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.page.send(Message::text(msg.to_string())).unwrap();
        loop {
            let Message::Text(text) = self.page.read().unwrap() else {
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        );
        r["result"]["value"].clone()
    }

    /// Waits until `js` is true in the page; how long it took.
    fn until(&mut self, within: Duration, js: &str) -> Duration {
        let start = Instant::now();
        while self.eval(js) != Value::Bool(true) {
            assert!(start.elapsed() < within, "not within {within:?}: {js}");
            std::thread::sleep(Duration::from_millis(20));
        }
        start.elapsed()
    }
}

impl Browser {
    /// Opens the page at `url`; a wrong token is refused there, `token`
    /// logs in.
    fn login(&mut self, url: &str, token: &str) {
        self.call("Page.enable", json!({}));
        self.call("Page.navigate", json!({ "url": format!("{url}/") }));
        self.until(
            Duration::from_secs(10),
            "!document.getElementById('login').hidden",
        );
        self.eval(
            "document.getElementById('token').value = 'sdb_0_wrong'; document.getElementById('login-form').requestSubmit(); true",
        );
        self.until(
            Duration::from_secs(5),
            "document.getElementById('login-error').textContent.includes('not valid')",
        );
        self.eval(&format!(
            "document.getElementById('token').value = {}; document.getElementById('login-form').requestSubmit(); true",
            json!(token)
        ));
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    } as u32;
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn the_status_page_logs_in_and_shows_a_put_within_a_second() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let home = Home::with_folder("redb");
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);
    let out = home
        .run(&["http", "--addr", "127.0.0.1:0", "--json"])
        .json();
    let url = out["url"].as_str().unwrap().to_owned();
    let token = home.run(&["token", "create", "-q"]).ok().to_owned();

    browser.login(&url, &token);
    browser.until(
        Duration::from_secs(10),
        "document.getElementById('folders').textContent.includes('crm')",
    );
    browser.until(
        Duration::from_secs(10),
        "document.getElementById('feed-state').textContent === 'live'",
    );

    // A put made with the command reaches the live feed within a second.
    home.put("crm/person/newcomer", r#"{"name":"New"}"#);
    let took = browser.until(
        Duration::from_secs(5),
        "[...document.querySelectorAll('#feed div')].some(d => d.dataset.key === 'newcomer')",
    );
    assert!(
        took < Duration::from_secs(1),
        "the put took {took:?} to show"
    );
    // And the count follows within the next status refresh.
    browser.until(
        Duration::from_secs(3),
        "document.getElementById('folders').textContent.includes('crm') && [...document.querySelectorAll('#folders td')].some(td => td.textContent === '2')",
    );

    // Browsing: the database, its collection, a record.
    browser.eval("[...document.querySelectorAll('#folders button')].find(b => b.textContent === 'crm').click(); true");
    browser.until(Duration::from_secs(5), "[...document.querySelectorAll('#browse-body button')].some(b => b.textContent === 'person')");
    browser.eval("[...document.querySelectorAll('#browse-body button')].find(b => b.textContent === 'person').click(); true");
    browser.until(
        Duration::from_secs(5),
        "[...document.querySelectorAll('#browse-body button')].some(b => b.textContent === 'ada')",
    );
    browser.eval("[...document.querySelectorAll('#browse-body button')].find(b => b.textContent === 'ada').click(); true");
    browser.until(
        Duration::from_secs(5),
        "document.querySelector('#browse-body pre') !== null && document.querySelector('#browse-body pre').textContent.includes('\"Ada\"')",
    );

    // Nothing came from anywhere but the daemon.
    let foreign = browser.eval(&format!(
        "performance.getEntriesByType('resource').filter(r => !r.name.startsWith({})).length",
        json!(url)
    ));
    assert_eq!(foreign, json!(0));

    let shot = browser.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = base64_decode(shot["data"].as_str().unwrap());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

#[test]
fn a_clone_shows_its_progress_on_the_page() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    // One record a chunk, one chunk in flight: a clone of a few thousand
    // takes seconds, long enough to be seen going (the page refreshes
    // every second).
    let n = 4000;
    let hub = Hub::with_config("redb", "[sync]\nchunk_records = 1\nmax_in_flight = 1\n");
    let lines: String = (0..n)
        .map(|i| format!("{{\"_id\":\"k{i:05}\",\"n\":{i}}}\n"))
        .collect();
    let file = hub.home.dir.path().join("docs.jsonl");
    std::fs::write(&file, lines).unwrap();
    hub.home
        .run(&["put", "crm/person", "--batch", file.to_str().unwrap(), "-q"])
        .ok();

    let client = Home::with_folder("redb");
    let url = client
        .run(&["http", "--addr", "127.0.0.1:0", "--json"])
        .json()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = client.run(&["token", "create", "-q"]).ok().to_owned();
    browser.login(&url, &token);
    browser.until(
        Duration::from_secs(10),
        "document.getElementById('folders').textContent.includes('crm') === false && document.getElementById('folders').textContent.length > 0",
    );

    let dir = client.dir.path().join("copy");
    let token_file = hub.token_file(&[]);
    let mut clone = client
        .cmd(&[
            "clone",
            &hub.url(),
            &hub.folder_id,
            dir.to_str().unwrap(),
            "--token-file",
            token_file.to_str().unwrap(),
            "-q",
        ])
        .spawn()
        .unwrap();
    // The copy's crm row, as the page shows it, until the clone is done.
    let shown = "(() => { const p = [...document.querySelectorAll('#folders p')].find(p => p.textContent.includes('/copy')); const row = p && [...p.nextElementSibling.querySelectorAll('tr')].find(r => r.cells[0] && r.cells[0].textContent === 'crm'); return row ? Number(row.cells[2].textContent.replace(/[^0-9]/g, '')) : null; })()";
    let mut seen: Vec<u64> = Vec::new();
    let start = Instant::now();
    loop {
        if let Some(count) = browser.eval(shown).as_u64()
            && seen.last() != Some(&count)
        {
            seen.push(count);
        }
        if seen.last() == Some(&n) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page showed {seen:?} in 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(clone.wait().unwrap().success());
    eprintln!("the page showed the copy's count {seen:?}");
    assert!(
        seen.iter().any(|&c| c > 0 && c < n),
        "no count between 0 and {n} was shown: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "it only climbs: {seen:?}"
    );
}
