//! The HTTP API, end to end: the real daemon serving on TCP (with tokens)
//! and on its Unix socket, driven by raw HTTP/1.1 from outside.

use std::time::Duration;

use serde_json::Value;

use crate::http_client::{Api, Target, raw, request, sse_events};
use crate::support::*;

/// A home with folder `f` (redb) serving the API on a free port: the
/// Unix-socket client, the TCP address, and the folder's id.
fn serving() -> (Home, Api, String, String) {
    let home = Home::with_folder("redb");
    let out = home
        .run(&["http", "--addr", "127.0.0.1:0", "--json"])
        .json();
    let addr = out["addr"].as_str().unwrap().to_owned();
    let socket = out["socket"].as_str().expect("http.sock is served").into();
    let id = home.run(&["status", "--json"]).json()["folders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let local = Api {
        target: Target::Unix(socket),
        token: None,
    };
    (home, local, addr, id)
}

fn tcp(addr: &str, token: Option<&str>) -> Api {
    Api {
        target: Target::Tcp(addr.to_owned()),
        token: token.map(str::to_owned),
    }
}

fn token(home: &Home, args: &[&str]) -> String {
    let mut all = vec!["token", "create", "-q"];
    all.extend_from_slice(args);
    home.run(&all).ok().to_owned()
}

#[test]
fn tcp_needs_a_token_with_its_scope_and_the_unix_socket_does_not() {
    let (home, local, addr, id) = serving();
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);
    assert_eq!(local.get("/v1/docs/f/crm/person/ada").json()["name"], "Ada");

    let anon = tcp(&addr, None);
    let r = anon.get("/v1/docs/f/crm/person/ada");
    r.fails(401, "needs a token");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"syncdb\"")
    );
    tcp(&addr, Some("sdb_0000_nope"))
        .get("/v1/folders")
        .fails(401, "not valid");

    let rw = token(&home, &[]);
    let by_id = format!("/v1/docs/{id}/crm/person/ada");
    assert_eq!(tcp(&addr, Some(&rw)).get(&by_id).json()["name"], "Ada");
    // Basic, the token as the password: what `http://user:TOKEN@host/` sends.
    let basic = format!("Basic {}", base64(&format!("app:{rw}")));
    let r = request(
        &Target::Tcp(addr.clone()),
        "GET",
        "/v1/docs/f/crm/person/ada",
        &[("Authorization", &basic)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Read-only: reads yes, writes 403 with nothing written.
    let ro = token(&home, &["--read-only"]);
    let reader = tcp(&addr, Some(&ro));
    assert_eq!(reader.get(&by_id).status, 200);
    reader
        .send_json("PUT", "/v1/docs/f/crm/person/ada", r#"{"name":"Eve"}"#)
        .fails(403, "read-only");
    assert_eq!(home.get("crm/person/ada")["name"], "Ada");

    // A token for another folder learns nothing of this one, nor whether
    // a folder exists.
    let other = token(&home, &["--folder", "00000000-0000-0000-0000-000000000000"]);
    let scoped = tcp(&addr, Some(&other));
    scoped.get(&by_id).fails(403, "does not open folder");
    scoped
        .get("/v1/docs/nosuch")
        .fails(403, "does not open folder");
    let listed = scoped.get("/v1/folders").json();
    assert_eq!(listed["folders"], Value::Array(vec![]), "{listed}");
    // Over TCP the daemon's own paths are not shown.
    let status = tcp(&addr, Some(&rw)).get("/v1/status").json();
    assert_eq!(status["daemon"]["socket"], "", "{status}");
    assert!(status["daemon"].get("http_socket").is_none(), "{status}");

    // Revoked: refused at once, not after a cache expires.
    let id_of = |t: &str| t[4..12].to_owned();
    home.run(&["token", "revoke", &id_of(&rw)]).ok();
    tcp(&addr, Some(&rw)).get(&by_id).fails(401, "not valid");
    // No token ever reaches the log.
    let log = std::fs::read_to_string(home.home().join("state/daemon.log")).unwrap_or_default();
    for t in [&rw, &ro, &other] {
        assert!(!log.contains(&t[13..]), "a token's secret is in the log");
    }
}

#[test]
fn documents_are_written_read_listed_and_deleted_with_etags() {
    let (home, api, _, _) = serving();
    let url = "/v1/docs/f/crm/person/ada";
    let put = api.send_json("PUT", url, r#"{"name":"Ada","age":36}"#);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["created_database"], true);
    let etag = put.header("etag").unwrap().to_owned();

    let got = api.get(url);
    assert_eq!(got.header("etag"), Some(etag.as_str()));
    assert_eq!(got.json(), serde_json::json!({"name":"Ada","age":36}));
    let not_modified = api.call("GET", url, &[("If-None-Match", &etag)], b"");
    assert_eq!(not_modified.status, 304);

    // If-Match: the first write with the ETag wins; the second is 412 and
    // writes nothing.
    let h = [
        ("Content-Type", "application/json"),
        ("If-Match", etag.as_str()),
    ];
    let first = api.call("PATCH", url, &h, br#"{"age":37}"#);
    assert_eq!(first.status, 200, "{}", first.text());
    api.call("PUT", url, &h, br#"{"name":"Eve"}"#)
        .fails(412, "is at version");
    api.call("DELETE", url, &[("If-Match", &etag)], b"")
        .fails(412, "nothing was written");
    assert_eq!(home.get("crm/person/ada")["age"], 37);
    assert_eq!(home.get("crm/person/ada")["name"], "Ada");
    let h = [("Content-Type", "application/json"), ("If-None-Match", "*")];
    api.call("PUT", url, &h, b"{}").fails(412, "is at version");

    // POST: the key from the key path, or a new UUIDv7; a taken key is 409.
    let created = api.send_json("POST", "/v1/docs/f/crm/person", r#"{"_id":"bob","n":1}"#);
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/v1/docs/f/crm/person/bob")
    );
    api.send_json("POST", "/v1/docs/f/crm/person", r#"{"_id":"bob","n":2}"#)
        .fails(409, "bob");
    assert_eq!(home.get("crm/person/bob")["n"], 1);
    let fresh = api
        .send_json("POST", "/v1/docs/f/crm/person", r#"{"n":3}"#)
        .json();
    let key = fresh["key"].as_str().unwrap();
    assert_eq!(key.len(), 36, "a UUIDv7: {key}");

    // Pages in key order, each naming where the next starts.
    for i in 0..5 {
        home.put(&format!("crm/task/t{i}"), &format!(r#"{{"i":{i}}}"#));
    }
    let mut keys = Vec::new();
    let mut after = String::new();
    loop {
        let page = api
            .get(&format!("/v1/docs/f/crm/task?limit=2{after}"))
            .json();
        for r in page["records"].as_array().unwrap() {
            keys.push(r["key"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(keys, ["t0", "t1", "t2", "t3", "t4"]);
    let prefixed = api
        .get("/v1/docs/f/crm/task?prefix=t3&keys_only=true")
        .json();
    assert_eq!(prefixed["records"], serde_json::json!([{"key":"t3"}]));
    let colls = api.get("/v1/docs/f/crm").json();
    assert_eq!(colls["collections"].as_array().unwrap().len(), 2, "{colls}");

    // Delete: a tombstone, then 404 as the command says it.
    assert_eq!(api.call("DELETE", url, &[], b"").status, 200);
    api.get(url).fails(404, "no record crm/person/ada");
    api.call("DELETE", url, &[], b"")
        .fails(404, "no record crm/person/ada");
    home.run(&["get", "crm/person/ada"])
        .fails(3, "no record crm/person/ada");
}

#[test]
fn bad_requests_get_a_clear_status_and_write_nothing() {
    let (home, api, _, _) = serving();
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);
    let url = "/v1/docs/f/crm/person/ada";
    let before = home.get("crm/person/ada");

    // The same words as the command for the same mistake.
    let cli = home.run(&["put", "crm/person/ada", r#"{"name":}"#]);
    let cli_message = cli.stderr.trim().to_owned();
    let http = api.send_json("PUT", url, r#"{"name":}"#);
    http.fails(400, "expected a JSON value");
    let message = http.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        cli_message.contains(&message),
        "{cli_message:?} vs {message:?}"
    );

    api.call("PUT", url, &[], br#"{"a":1}"#)
        .fails(415, "Content-Type none");
    api.call("PUT", url, &[("Content-Type", "text/plain")], br#"{"a":1}"#)
        .fails(415, "application/json");
    api.send_json("PUT", "/v1/docs/f/crm/per%2Fson/x", "{}")
        .fails(400, "invalid collection");
    api.send_json("PUT", "/v1/docs/f/bad%20db/person/x", "{}")
        .fails(400, "invalid database");
    api.send_json("PUT", url, "[1,2]").fails(400, "object");
    api.get("/v1/docs/f/crm/person?limit=5000")
        .fails(400, "from 1 to 1000");
    api.get("/v1/docs/f/crm/person?limit=0")
        .fails(400, "from 1 to 1000");
    api.get("/v1/docs/f/crm/person?prefix=%ff")
        .fails(400, "not UTF-8");
    api.get("/v1/docs/f/crm/person?color=red")
        .fails(400, "unknown query parameter");
    api.get("/v1/docs/nosuch/crm/person/ada")
        .fails(404, "no folder nosuch");
    api.get("/v1/docs/f/nosuch/person/ada")
        .fails(404, "no database nosuch");
    let wrong = api.call("POST", url, &[], b"");
    wrong.fails(405, "allowed: GET, PUT, PATCH, DELETE");
    assert_eq!(wrong.header("allow"), Some("GET, PUT, PATCH, DELETE"));
    api.get("/v2/anything").fails(404, "no route");
    api.call(
        "PUT",
        url,
        &[("Content-Type", "application/json"), ("If-Match", "nope")],
        b"{}",
    )
    .fails(400, "If-Match");

    // Larger than a document may be: 413, from the length alone.
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(17 << 20));
    api.send_json("PUT", url, &big)
        .fails(413, "document too large");
    // A body declared far larger than allowed is refused before it is sent.
    let r = raw(
        &api.target,
        b"PUT /v1/docs/f/crm/person/ada HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{",
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // Not HTTP at all: the server answers 400 and goes on serving.
    let r = raw(&api.target, b"HELLO\r\n\r\n");
    assert_eq!(r.status, 400);

    assert_eq!(home.get("crm/person/ada"), before);
    let dbs = home.run(&["ls", "--json"]).json_lines();
    assert_eq!(dbs.len(), 1, "no database was created: {dbs:?}");
}

#[test]
fn a_body_that_stalls_is_cut_off_and_writes_nothing() {
    let home = Home::new();
    home.set_config("[http]\nbody_ms = 300\n");
    home.run(&["init"]).ok();
    let socket = home.run(&["http", "--json"]).json()["socket"]
        .as_str()
        .unwrap()
        .to_owned();
    use std::io::{BufReader, Write};
    let target = Target::Unix(socket.into());
    let mut conn = target.connect();
    conn.write_all(b"PUT /v1/docs/f/crm/person/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"a\"")
        .unwrap();
    let r = crate::http_client::read_response(&mut BufReader::new(conn));
    r.fails(408, "did not arrive within 300 ms");
    home.run(&["get", "crm/person/x"])
        .fails(3, "no database crm");
}

#[test]
fn a_bulk_import_is_one_transaction() {
    let (home, api, _, _) = serving();
    let url = "/v1/bulk/f/crm/person";
    let nd = [("Content-Type", "application/x-ndjson")];
    let good = b"{\"_id\":\"a\",\"n\":1}\n{\"_id\":\"b\",\"n\":2}\r\n\n{\"_id\":\"c\",\"n\":3}";
    let r = api.call("POST", url, &nd, good);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["imported"], 3);
    assert_eq!(home.records("crm/person").len(), 3);

    // One bad line among many: 400 naming it, and none of them written.
    let mut lines: Vec<String> = (0..2000).map(|i| format!(r#"{{"_id":"k{i}"}}"#)).collect();
    lines[1500] = r#"{"_id":"k1500",}"#.into();
    let r = api.call("POST", url, &nd, lines.join("\n").as_bytes());
    r.fails(400, "line 1501");
    r.fails(400, "nothing was imported");
    assert_eq!(home.records("crm/person").len(), 3);
    // Into a new database: a failed import leaves no file behind.
    let r = api.call("POST", "/v1/bulk/f/fresh/person", &nd, b"{\"a\":1}\nnope\n");
    r.fails(400, "line 2");
    home.run(&["ls", "fresh"]).fails(3, "no database fresh");
    api.call("POST", url, &[("Content-Type", "application/json")], b"{}")
        .fails(415, "application/x-ndjson");
    let dry = api.call(
        "POST",
        &format!("{url}?dry_run=true"),
        &nd,
        b"{\"_id\":\"z\"}\n",
    );
    assert_eq!(dry.json()["dry_run"], true);
    assert_eq!(home.records("crm/person").len(), 3);
}

#[test]
fn the_change_feed_resumes_from_its_cursor_with_no_gap_and_no_duplicate() {
    let (home, api, _, _) = serving();
    for i in 0..30 {
        home.put(&format!("crm/person/p{i}"), &format!(r#"{{"i":{i}}}"#));
    }
    home.put("crm/task/t0", "{}");
    home.put("ops/log/l0", "{}");

    // Pages of a database, each resuming at the cursor of the one before.
    let mut seqs = Vec::new();
    let mut since = "0".to_owned();
    loop {
        let page = api
            .get(&format!("/v1/changes/f/crm?since={since}&limit=7"))
            .json();
        let events = page["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        seqs.extend(events.iter().map(|e| e["seq"].as_u64().unwrap()));
        since = page["cursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(seqs, (1..=31).collect::<Vec<u64>>());

    // A collection's feed skips the others' changes but its cursor moves
    // past them.
    let task = api.get("/v1/changes/f/crm/task?since=0").json();
    assert_eq!(task["events"].as_array().unwrap().len(), 1, "{task}");
    assert_eq!(task["cursor"], "31");
    // The folder's feed covers both databases, with one cursor for them.
    let folder = api.get("/v1/changes/f?since=0&limit=1000").json();
    assert_eq!(folder["events"].as_array().unwrap().len(), 32);
    assert_eq!(folder["cursor"], "crm:31,ops:1");
    api.get("/v1/changes/f?since=31").fails(400, "DB:SEQ");
    api.get("/v1/changes/f/crm?since=x").fails(400, "not a seq");
    api.get("/v1/changes/f/crm?since=99")
        .fails(400, "past the end");
    api.get("/v1/changes/f?since=crm:5,ops:2")
        .fails(400, "past the end");
    api.get("/v1/changes/f?since=crm:5,zzz:1")
        .fails(400, "does not have");
    api.get("/v1/changes/f?since=crm:5,crm:6")
        .fails(400, "twice");

    // A long poll waits for the first event.
    let poller = {
        let api = api.clone();
        std::thread::spawn(move || {
            api.get("/v1/changes/f/crm/person?feed=longpoll&since=31&timeout=20000")
                .json()
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    home.put("crm/person/late", "{}");
    let polled = poller.join().unwrap();
    assert_eq!(polled["events"][0]["key"], "late", "{polled}");
    assert_eq!(polled["cursor"], "32");
    let empty = api
        .get("/v1/changes/f/crm?feed=longpoll&since=32&timeout=100")
        .json();
    assert_eq!(empty["events"], serde_json::json!([]));

    // SSE: read some events, drop the connection while writes go on, come
    // back with Last-Event-ID: every seq exactly once.
    let mut sse = api.stream(
        "/v1/changes/f/crm?since=20",
        &[("Accept", "text/event-stream")],
    );
    assert_eq!(sse.status, 200);
    assert_eq!(sse.header("content-type"), Some("text/event-stream"));
    let text = sse.until(Duration::from_secs(10), |t| sse_events(t).len() >= 5);
    let got = sse_events(&text);
    drop(sse);
    let (last_id, _) = got.last().unwrap().clone();
    let writer = {
        let home_dir = home.home();
        let folder = home.folder();
        std::thread::spawn(move || {
            for i in 0..20 {
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncdb"))
                    .args(["put", &format!("crm/person/w{i}"), "{}"])
                    .env("SYNCDB_HOME", &home_dir)
                    .current_dir(&folder)
                    .output()
                    .unwrap();
                assert!(out.status.success());
            }
        })
    };
    let mut again = api.stream(
        "/v1/changes/f/crm",
        &[("Accept", "text/event-stream"), ("Last-Event-ID", &last_id)],
    );
    let text = again.until(Duration::from_secs(20), |t| {
        sse_events(t).last().is_some_and(|(_, e)| e["key"] == "w19")
    });
    writer.join().unwrap();
    let mut all: Vec<u64> = got
        .iter()
        .map(|(_, e)| e["seq"].as_u64().unwrap())
        .collect();
    all.extend(
        sse_events(&text)
            .iter()
            .map(|(_, e)| e["seq"].as_u64().unwrap()),
    );
    assert_eq!(all, (21..=52).collect::<Vec<u64>>());
    for (id, e) in sse_events(&text) {
        assert_eq!(
            id,
            e["seq"].to_string(),
            "an event's id is the cursor after it"
        );
    }

    // JSON Lines: the same events as `watch --json` prints.
    let mut lines = api.stream("/v1/changes/f/crm/person/p3?feed=jsonl&since=0", &[]);
    let text = lines.until(Duration::from_secs(10), |t| {
        t.lines().any(|l| !l.is_empty())
    });
    let event: Value = serde_json::from_str(text.lines().find(|l| !l.is_empty()).unwrap()).unwrap();
    let mut watch = home
        .cmd(&["watch", "crm/person/p3", "--since", "0", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(watch.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(event, serde_json::from_str::<Value>(&first).unwrap());
}

#[test]
fn the_api_resumes_after_a_restart_until_stopped() {
    let (home, _, addr, _) = serving();
    let t = token(&home, &[]);
    home.put("crm/person/ada", "{}");
    home.run(&["daemon", "stop"]).ok();
    home.run(&["daemon", "start", "-q"]).ok();
    let r = tcp(&addr, Some(&t)).get("/v1/docs/f/crm/person/ada");
    assert_eq!(r.status, 200, "{}", r.text());
    let shown = home.run(&["http", "--json"]).json();
    assert_eq!(shown["addr"], addr.as_str());
    let status = home.run(&["status", "--json"]).json();
    assert_eq!(status["daemon"]["http"]["listening"], true, "{status}");

    // A stream ends, and says why, when the listener stops.
    let api = tcp(&addr, Some(&t));
    let mut s = api.stream("/v1/changes/f/crm?feed=sse", &[]);
    s.until(Duration::from_secs(5), |t| t.contains("syncdb change feed"));
    let stop = home.run(&["http", "--stop", "--json"]).json();
    assert_eq!(stop["addr"], Value::Null);
    let rest = s.read_to_end(Duration::from_secs(5));
    assert!(rest.contains("event: end"), "{rest}");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "stopped listening"
    );
    home.run(&["daemon", "stop"]).ok();
    home.run(&["daemon", "start", "-q"]).ok();
    assert_eq!(home.run(&["http", "--json"]).json()["addr"], Value::Null);

    // Beyond loopback without TLS is refused, as for the hub.
    home.run(&["http", "--addr", "0.0.0.0:0"])
        .fails(2, "without TLS");
    home.run(&["http", "--cors-origin", "app.example"])
        .fails(2, "scheme://host");
}

#[test]
fn cors_headers_only_for_configured_origins() {
    let (home, api, _, _) = serving();
    home.put("crm/person/ada", "{}");
    let url = "/v1/docs/f/crm/person/ada";
    let r = api.call("GET", url, &[("Origin", "https://app.example")], b"");
    assert_eq!(r.header("access-control-allow-origin"), None);
    home.run(&["http", "--cors-origin", "https://app.example"])
        .ok();
    let r = api.call("GET", url, &[("Origin", "https://app.example")], b"");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let pre = api.call(
        "OPTIONS",
        url,
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
        b"",
    );
    assert_eq!(pre.status, 204);
    assert!(
        pre.header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    let r = api.call("GET", url, &[("Origin", "https://evil.example")], b"");
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn the_openapi_document_names_exactly_the_routes_served() {
    let (home, api, _, _) = serving();
    home.put("crm/person/ada", "{}");
    let doc = api.get("/v1/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{}", paths.len());
    let all = ["get", "put", "patch", "post", "delete"];
    for (path, item) in paths {
        let concrete = path
            .replace("{folder}", "f")
            .replace("{db}", "crm")
            .replace("{collection}", "person")
            .replace("{key}", "ada");
        for method in all {
            let upper = method.to_ascii_uppercase();
            // Streams are asked for one page: only the route is checked.
            let r = api.call(
                &upper,
                &format!(
                    "{concrete}{}",
                    if concrete.contains("changes") {
                        "?feed=normal"
                    } else {
                        ""
                    }
                ),
                &[],
                b"",
            );
            let routed = r.status != 405 && !r.text().contains("no route");
            let listed = item.get(method).is_some();
            assert_eq!(routed, listed, "{upper} {path}: {} {}", r.status, r.text());
            if listed {
                let op = &item[method];
                assert!(
                    op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                    "{upper} {path}"
                );
                let declared: Vec<u64> = op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(|k| k.parse().unwrap())
                    .collect();
                assert!(
                    declared.contains(&(r.status as u64)) || r.status == 415,
                    "{upper} {path} answered {} not in {declared:?}",
                    r.status
                );
            }
        }
    }
}

fn base64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// nkvd's own test cases (agavazov/nkvd, packages/tests/src/spec/*.spec.ts),
/// in its order, against `/kv/f/store/items`: status, JSON body, and the
/// `text/json` content type, each exactly as nkvd answers.
#[test]
fn the_kv_surface_answers_as_nkvd_does() {
    let (home, _, addr, _) = serving();
    let t = token(&home, &[]);
    let api = tcp(&addr, Some(&t));
    let base = "/kv/f/store/items";
    let long = "x".repeat(500);
    let rows: &[(&str, u16, &str)] = &[
        ("/healthcheck", 200, r#"{"status":"ok"}"#),
        ("/set?k=test:set:2&v=", 200, r#"{"success":true}"#),
        ("/set?k=test:set:3&v=ok", 200, r#"{"success":true}"#),
        (
            "/set?k=test:set:utf:%E2%9C%93&v=%F0%A4%AD%A2",
            200,
            r#"{"success":true}"#,
        ),
        ("/get?k=test:set:utf:%E2%9C%93", 200, r#""𤭢""#),
        ("/set", 400, r#"{"error":"MISSING_KEY_PARAM"}"#),
        ("/set?k=", 400, r#"{"error":"EMPTY_KEY"}"#),
        (
            &format!("/set?k={long}"),
            400,
            r#"{"error":"MAXIMUM_KEY_LENGTH_REACHED"}"#,
        ),
        (
            "/set?k=test:set:4",
            400,
            r#"{"error":"MISSING_VALUE_PARAM"}"#,
        ),
        (
            &format!("/set?k=test:set:5&v={long}"),
            400,
            r#"{"error":"MAXIMUM_VALUE_LENGTH_REACHED"}"#,
        ),
        ("/set?k=test:get:1&v=ok", 200, r#"{"success":true}"#),
        ("/get?k=test:get:1", 200, r#""ok""#),
        (
            "/get?k=test:get:missing",
            404,
            r#"{"error":"MISSING_RECORD"}"#,
        ),
        ("/get", 400, r#"{"error":"MISSING_KEY_PARAM"}"#),
        ("/get?k=", 400, r#"{"error":"EMPTY_KEY"}"#),
        (
            &format!("/get?k={long}"),
            400,
            r#"{"error":"MAXIMUM_KEY_LENGTH_REACHED"}"#,
        ),
        ("/set?k=test:rm:1&v=ok", 200, r#"{"success":true}"#),
        ("/rm?k=test:rm:1", 200, r#"{"success":true}"#),
        ("/rm?k=test:rm:1", 404, r#"{"error":"MISSING_RECORD"}"#),
        ("/rm", 400, r#"{"error":"MISSING_KEY_PARAM"}"#),
        ("/set?k=test:is:1&v=ok", 200, r#"{"success":true}"#),
        ("/is?k=test:is:1", 200, r#"{"success":true}"#),
        (
            "/is?k=test:is:missing",
            404,
            r#"{"error":"MISSING_RECORD"}"#,
        ),
        ("/is?k=", 400, r#"{"error":"EMPTY_KEY"}"#),
        // The query as Node reads it: `+` is a space, a repeated key a list.
        ("/set?k=a+b&v=1+2", 200, r#"{"success":true}"#),
        ("/get?k=a%20b", 200, r#""1 2""#),
        ("/get?k=a&k=b", 404, r#"{"error":"MISSING_RECORD"}"#),
        // Keys this store keeps only encoded come back as given.
        ("/set?k=a/b%25c&v=slash", 200, r#"{"success":true}"#),
        ("/get?k=a/b%25c", 200, r#""slash""#),
        (
            "/nope",
            404,
            r#"{"error":"No register handler for [/nope]"}"#,
        ),
        ("/clear", 200, r#"{"success":true}"#),
        ("/getKeys", 200, "[]"),
        ("/set?k=k1&v=v1", 200, r#"{"success":true}"#),
        ("/set?k=k2&v=v2", 200, r#"{"success":true}"#),
        ("/set?k=k1&v=v1", 200, r#"{"success":true}"#),
        ("/getKeys", 200, r#"["k1","k2"]"#),
        ("/getValues", 200, r#"["v1","v2"]"#),
        (
            "/getAll",
            200,
            r#"[{"k":"k1","v":"v1"},{"k":"k2","v":"v2"}]"#,
        ),
    ];
    for (path, status, body) in rows {
        for method in ["GET", "POST"] {
            let r = api.call(method, &format!("{base}{path}"), &[], b"");
            assert_eq!(
                (r.status, r.text().as_str()),
                (*status, *body),
                "{method} {path}"
            );
            assert_eq!(r.header("content-type"), Some("text/json"), "{path}");
            if *path == "/set?k=k1&v=v1" || path.starts_with("/rm?k=test:rm") {
                break; // once is the case
            }
        }
    }
    let status = api.get(&format!("{base}/status")).json();
    assert_eq!(status["maxKeyLength"], 64);
    assert_eq!(status["maxValueLength"], 256);
    assert_eq!(status["availableRecords"], 2);
    assert_eq!(
        status["port"],
        addr.rsplit(':').next().unwrap().parse::<u64>().unwrap()
    );

    // The values are ordinary records, seen and synced like any other.
    assert_eq!(home.get("store/items/k1"), serde_json::json!({"v":"v1"}));
    // The base URL is ours: a token is needed, and names are checked.
    tcp(&addr, None)
        .get(&format!("{base}/getKeys"))
        .fails(401, "needs a token");
    let ro = token(&home, &["--read-only"]);
    tcp(&addr, Some(&ro))
        .get(&format!("{base}/set?k=z&v=1"))
        .fails(403, "read-only");
    assert_eq!(
        tcp(&addr, Some(&ro))
            .get(&format!("{base}/get?k=k2"))
            .text(),
        r#""v2""#
    );
    api.get("/kv/f/bad%20db/items/getKeys")
        .fails(400, "invalid database");
}

#[test]
fn the_hub_serves_the_api_on_its_port_with_api_and_only_then() {
    // Short enough to see it pass while a stream is open.
    let hub = Hub::with_config("redb", "[serve]\nunupgraded_ms = 700\n");
    let (home, addr) = (&hub.home, hub.addr.clone());
    let t = token(home, &[]);
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);
    let r = tcp(&addr, Some(&t)).get("/v1/docs/f/crm/person/ada");
    assert_eq!(r.status, 404, "no API without --api: {}", r.text());

    // On the same address: turned on in place, kept in the config.
    let out = home
        .run(&["serve", "--addr", &addr, "--api", "--json"])
        .json();
    assert_eq!(out["api_url"], format!("http://{addr}").as_str(), "{out}");
    let api = tcp(&addr, Some(&t));
    assert_eq!(api.get("/v1/docs/f/crm/person/ada").json()["name"], "Ada");
    tcp(&addr, None)
        .get("/v1/docs/f/crm/person/ada")
        .fails(401, "needs a token");
    let health = request(&Target::Tcp(addr.clone()), "GET", "/healthz", &[], b"");
    assert_eq!(health.text(), "ok\n", "the hub's own routes stay");

    // An authenticated stream outlives serve.unupgraded_ms; sync still works.
    let mut s = api.stream("/v1/changes/f/crm?feed=sse&since=now", &[]);
    s.until(Duration::from_secs(5), |t| t.contains("syncdb change feed"));
    std::thread::sleep(Duration::from_millis(1500));
    let client = hub.client("");
    client.put("crm/person/bob", r#"{"name":"Bob"}"#);
    client.run(&["sync", "--once"]).ok();
    let seen = s.until(Duration::from_secs(10), |t| t.contains("bob"));
    assert!(seen.contains("Bob"), "{seen}");

    home.run(&["daemon", "stop"]).ok();
    home.run(&["daemon", "start", "-q"]).ok();
    let back = tcp(&addr, Some(&t)).get("/v1/docs/f/crm/person/bob");
    assert_eq!(back.status, 200, "resumed with the API: {}", back.text());

    // `serve` with no address keeps what is served; `serve --addr` without
    // --api turns the API off there, and its streams end, saying why.
    let shown = home.run(&["serve", "--json"]).json();
    assert_eq!(shown["addr"], addr.as_str());
    assert_eq!(shown["api_url"], format!("http://{addr}").as_str());
    let api = tcp(&addr, Some(&t));
    let mut s = api.stream("/v1/changes/f/crm?feed=sse&since=now", &[]);
    s.until(Duration::from_secs(5), |t| t.contains("syncdb change feed"));
    let off = home.run(&["serve", "--addr", &addr, "--json"]).json();
    assert_eq!(off["api_url"], Value::Null);
    let rest = s.read_to_end(Duration::from_secs(5));
    assert!(rest.contains("the HTTP API stopped serving"), "{rest}");
    assert_eq!(api.get("/v1/docs/f/crm/person/bob").status, 404);
}

/// Every route that writes, given each kind of bad input, answers its
/// status with a message that says what was wrong, and the folder is as
/// it was: the HTTP counterpart of the socket's bad-input table. (Wrong
/// methods on every route are checked against the OpenAPI document above.)
#[test]
fn bad_input_on_every_writing_route_is_refused_and_writes_nothing() {
    let home = Home::new();
    home.set_config("[http]\nmax_body_bytes = 1048576\n");
    home.run(&["init", "--engine", "redb"]).ok();
    let socket = home.run(&["http", "--json"]).json()["socket"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = Api {
        target: Target::Unix(socket.into()),
        token: None,
    };
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);
    let snapshot = || {
        (
            home.run(&["ls", "--json"]).json_lines(),
            home.run(&["ls", "crm/person", "--json"]).json_lines(),
            home.run(&["digest", "--json"]).json(),
        )
    };
    let before = snapshot();

    let json = "application/json";
    let lines = "application/x-ndjson";
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(2 << 20));
    let long_key = "k".repeat(2000);
    let doc = "/v1/docs/f/crm/person/ada";
    let coll = "/v1/docs/f/crm/person";
    let bulk = "/v1/bulk/f/crm/person";
    type Case<'a> = (&'a str, String, Option<&'a str>, Vec<u8>, u16, &'a str);
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        // Malformed or wrong-shaped bodies.
        ("PUT", doc.into(), Some(json), br#"{"name":"#.to_vec(), 400, "JSON"),
        ("PUT", doc.into(), Some(json), b"[1,2]".to_vec(), 400, "object"),
        ("PUT", doc.into(), Some(json), b"".to_vec(), 400, "JSON"),
        ("PUT", doc.into(), Some(json), b"\xff\xfe{}".to_vec(), 400, "UTF-8"),
        ("PATCH", doc.into(), Some(json), b"{oops}".to_vec(), 400, "JSON"),
        ("PATCH", doc.into(), Some(json), b"7".to_vec(), 400, "object"),
        ("POST", coll.into(), Some(json), b"{,}".to_vec(), 400, "JSON"),
        ("POST", coll.into(), Some(json), b"\"text\"".to_vec(), 400, "object"),
        ("POST", bulk.into(), Some(lines), b"{\"_id\":\"a\"}\n{broken\n".to_vec(), 400, "line 2"),
        ("POST", bulk.into(), Some(lines), b"{\"_id\":\"b\"}\n[1]\n".to_vec(), 400, "line 2"),
        ("GET", "/kv/f/crm/person/set?k=a".into(), None, vec![], 400, "MISSING_VALUE_PARAM"),
        // Wrong or missing Content-Type.
        ("PUT", doc.into(), None, b"{}".to_vec(), 415, "Content-Type"),
        ("PATCH", doc.into(), Some("text/plain"), b"{}".to_vec(), 415, "Content-Type"),
        ("POST", coll.into(), Some("application/xml"), b"{}".to_vec(), 415, "Content-Type"),
        ("POST", bulk.into(), Some("text/csv"), b"{}\n".to_vec(), 415, "Content-Type"),
        // Too large.
        ("PUT", doc.into(), Some(json), big.clone().into_bytes(), 413, "max_body_bytes"),
        ("PATCH", doc.into(), Some(json), big.clone().into_bytes(), 413, "max_body_bytes"),
        ("POST", coll.into(), Some(json), big.clone().into_bytes(), 413, "max_body_bytes"),
        ("POST", bulk.into(), Some(lines), big.clone().into_bytes(), 413, "max_body_bytes"),
        // Bad names, in every position.
        ("PUT", "/v1/docs/f/bad%20db/person/x".into(), Some(json), b"{}".to_vec(), 400, "invalid database"),
        ("PUT", "/v1/docs/f/crm/per%2Fson/x".into(), Some(json), b"{}".to_vec(), 400, "invalid collection"),
        ("PUT", "/v1/docs/f/..%2F..%2Fetc/person/x".into(), Some(json), b"{}".to_vec(), 400, "invalid database"),
        ("PUT", format!("/v1/docs/f/crm/person/{long_key}"), Some(json), b"{}".to_vec(), 400, "key"),
        ("PUT", "/v1/docs/no%00such/crm/person/x".into(), Some(json), b"{}".to_vec(), 404, "no folder"),
        ("POST", "/v1/bulk/f/crm/%2E%2E".into(), Some(lines), b"{}\n".to_vec(), 400, "invalid collection"),
        ("DELETE", "/v1/docs/f/crm/person/nobody".into(), None, vec![], 404, "no record"),
        ("GET", "/kv/f/bad%20db/person/set?k=a&v=1".into(), None, vec![], 400, "invalid database"),
        ("PUT", "/v1/docs/f/crm/person/%ff".into(), Some(json), b"{}".to_vec(), 400, "UTF-8"),
        // Conditions that do not hold (the If-Match each sends is below).
        ("DELETE", doc.into(), None, vec![], 412, "is at version"),
        ("PUT", "/v1/docs/f/crm/person/nobody".into(), Some(json), b"{}".to_vec(), 412, "person/nobody"),
        ("PATCH", doc.into(), Some(json), b"{}".to_vec(), 412, "is at version"),
    ];
    let if_match = |path: &str, method: &str| match (path.ends_with("nobody"), method) {
        (true, _) => "*",
        (false, "PATCH") => {
            "W/\"0000000000000-0000-0000000000000000\", \"0000000000001-0000-0000000000000000\""
        }
        _ => "\"0000000000000-0000-0000000000000000\"",
    };
    for (method, path, ct, body, status, needle) in &cases {
        let mut headers = Vec::new();
        if let Some(ct) = ct {
            headers.push(("Content-Type", *ct));
        }
        if *status == 412 {
            headers.push(("If-Match", if_match(path, method)));
        }
        let r = api.call(method, path, &headers, body);
        let short: String = path.chars().take(60).collect();
        assert_eq!(r.status, *status, "{method} {short}: {}", r.text());
        let text = r.text();
        assert!(
            text.contains(needle),
            "{method} {short}: {text:?} lacks {needle:?}"
        );
    }
    assert_eq!(snapshot(), before, "something was written");
}

/// Slow clients on TCP: headers that trickle in past `serve.headers_ms`
/// and a body that stalls past `http.body_ms` are cut off, and others are
/// served meanwhile.
#[test]
fn slow_clients_are_cut_off_and_do_not_hold_up_others() {
    use std::io::{BufReader, Write};
    let home = Home::new();
    home.set_config("[serve]\nheaders_ms = 600\n[http]\nbody_ms = 600\n");
    home.run(&["init", "--engine", "redb"]).ok();
    let addr = home
        .run(&["http", "--addr", "127.0.0.1:0", "--json"])
        .json()["addr"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = token(&home, &[]);
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);

    // Headers a byte at a time, never finished.
    let trickle = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            let start = std::time::Instant::now();
            for b in b"GET /v1/folders HTTP/1.1\r\nHost: x\r\nX-Slow: "
                .iter()
                .cycle()
            {
                if s.write_all(&[*b]).is_err() || start.elapsed() > Duration::from_secs(5) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            start.elapsed()
        })
    };
    // A body that stops halfway, with a valid token.
    let mut stalled = Target::Tcp(addr.clone()).connect();
    stalled
        .write_all(
            format!(
                "PUT /v1/docs/f/crm/person/eve HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"name\""
            )
            .as_bytes(),
        )
        .unwrap();
    // Idle connections from this address beyond its cap close its oldest
    // ones, not the newest, so they cannot keep a quick client out.
    let idle: Vec<_> = (0..40)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    // Meanwhile a quick client gets its answers.
    let quick = tcp(&addr, Some(&t));
    for _ in 0..5 {
        assert_eq!(quick.get("/v1/docs/f/crm/person/ada").json()["name"], "Ada");
    }
    let r = crate::http_client::read_response(&mut BufReader::new(stalled));
    r.fails(408, "did not arrive within 600 ms");
    let cut_after = trickle.join().unwrap();
    assert!(
        cut_after < Duration::from_secs(3),
        "trickled headers were cut after {cut_after:?}"
    );
    home.run(&["get", "crm/person/eve"]).fails(3, "no record");
    assert_eq!(quick.get("/v1/docs/f/crm/person/ada").status, 200);
    drop(idle);
}

/// Any document a write accepts can be listed and fed, and pages of large
/// documents end by size and go on from their cursor.
#[test]
fn pages_hold_any_document_and_end_by_size() {
    let (home, api, _, _) = serving();
    // Nested as deep as a document may be.
    let deep = format!("{}1{}", r#"{"a":"#.repeat(128), "}".repeat(128));
    api.send_json("PUT", "/v1/docs/f/crm/deep/k", &deep).json();
    // (Read as text: this client's JSON parser stops one level short.)
    for path in [
        "/v1/docs/f/crm/deep",
        "/v1/changes/f/crm/deep?since=0",
        "/v1/changes/f?since=0",
    ] {
        let r = api.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(r.text().contains(&deep), "{path}");
    }

    // Six documents of 3 MiB: a list page stops past 4 MiB, a feed page
    // past 8 MiB, and paging on reads each once.
    let big = |i: usize| format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(3 << 20));
    for i in 0..6 {
        let r = api.send_json("PUT", &format!("/v1/docs/f/crm/big/b{i}"), &big(i));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let mut seen = Vec::new();
    let mut url = "/v1/docs/f/crm/big?limit=1000".to_owned();
    loop {
        let page = api.get(&url).json();
        let records = page["records"].as_array().unwrap();
        assert!(records.len() <= 2, "{} records in one page", records.len());
        seen.extend(records.iter().map(|r| r["doc"]["i"].as_u64().unwrap()));
        match page["next"].as_str() {
            Some(next) => url = format!("/v1/docs/f/crm/big?limit=1000&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, (0..6).collect::<Vec<u64>>());
    let mut fed = Vec::new();
    let mut since = "0".to_owned();
    loop {
        let page = api
            .get(&format!("/v1/changes/f/crm/big?since={since}"))
            .json();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        assert!(events.len() <= 3, "{} events in one page", events.len());
        fed.extend(events.iter().map(|e| e["doc"]["i"].as_u64().unwrap()));
        since = page["cursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(fed, (0..6).collect::<Vec<u64>>());

    // If-Match: any of a list, or `*` for any current record.
    let tag = api
        .get("/v1/docs/f/crm/big/b0")
        .header("etag")
        .unwrap()
        .to_owned();
    let list = format!("\"0000000000000-0000-0000000000000000\", {tag}");
    for m in [list.as_str(), "*"] {
        let r = api.call(
            "PATCH",
            "/v1/docs/f/crm/big/b0",
            &[("Content-Type", "application/json"), ("If-Match", m)],
            br#"{"pad":"short"}"#,
        );
        assert_eq!(r.status, 200, "If-Match {m}: {}", r.text());
    }
    assert_eq!(home.get("crm/big/b0")["pad"], "short");
}

/// Two folders may share a directory name: a token for one of them opens
/// it by that name; any other caller is asked for an id.
#[test]
fn a_shared_folder_name_means_the_folder_the_token_opens() {
    let (home, _, addr, first) = serving();
    let other_dir = home.dir.path().join("elsewhere/f");
    std::fs::create_dir_all(&other_dir).unwrap();
    let second = home
        .run(&["init", other_dir.to_str().unwrap(), "-q"])
        .ok()
        .to_owned();
    home.run(&[
        "-C",
        other_dir.to_str().unwrap(),
        "put",
        "crm/person/bo",
        "{}",
    ])
    .ok();
    home.put("crm/person/ada", "{}");

    let scoped = token(&home, &["--folder", &second]);
    let api = tcp(&addr, Some(&scoped));
    assert_eq!(api.get("/v1/docs/f/crm/person/bo").status, 200);
    api.get("/v1/docs/f/crm/person/ada").fails(404, "no record");
    let any = tcp(&addr, Some(&token(&home, &[])));
    any.get("/v1/docs/f/crm/person/ada")
        .fails(400, "give one's id");
    assert_eq!(
        any.get(&format!("/v1/docs/{first}/crm/person/ada")).status,
        200
    );
}

/// A burst of clients from one address (a pool opening, a proxy) is
/// served whole: the per-address cap closes idle connections, not ones
/// whose request is on its way.
#[test]
fn a_burst_from_one_address_is_served_whole() {
    let (home, _, addr, _) = serving();
    home.put("crm/person/ada", "{}");
    let t = token(&home, &[]);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(60));
    let clients: Vec<_> = (0..60)
        .map(|_| {
            let (api, barrier) = (tcp(&addr, Some(&t)), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                api.get("/v1/docs/f/crm/person/ada").status
            })
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

/// Conditional requests as RFC 9110 has them: lists over several lines,
/// strong comparison for If-Match, weak for If-None-Match, GET included.
#[test]
fn conditional_headers_compare_as_http_says() {
    let (home, api, _, _) = serving();
    home.put("crm/person/ada", r#"{"name":"Ada"}"#);
    let url = "/v1/docs/f/crm/person/ada";
    let tag = api.get(url).header("etag").unwrap().to_owned();
    let other = "\"0000000000000-0000-0000000000000000\"";
    let weak = format!("W/{tag}");
    let get = |h: &[(&str, &str)]| api.call("GET", url, h, b"").status;
    assert_eq!(get(&[("If-None-Match", &tag)]), 304);
    assert_eq!(get(&[("If-None-Match", &weak)]), 304, "weak comparison");
    assert_eq!(get(&[("If-None-Match", "*")]), 304);
    assert_eq!(get(&[("If-None-Match", &format!("{other}, {tag}"))]), 304);
    assert_eq!(get(&[("If-None-Match", other)]), 200);
    assert_eq!(get(&[("If-Match", other)]), 412);
    assert_eq!(get(&[("If-Match", &tag)]), 200);
    // Two If-Match lines are one list.
    let r = api.call(
        "PATCH",
        url,
        &[
            ("Content-Type", "application/json"),
            ("If-Match", other),
            ("If-Match", &tag),
        ],
        br#"{"age":36}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    api.call(
        "POST",
        "/v1/docs/f/crm/person",
        &[("Content-Type", "application/json"), ("If-Match", "*")],
        br#"{"_id":"zz"}"#,
    )
    .fails(400, "If-Match does not apply");
    home.run(&["get", "crm/person/zz"]).fails(3, "no record");
}

/// Queries over HTTP: /v1/find answers as `syncdb find --json` does, and a
/// collection's stream with `where` is a live query.
#[test]
fn find_and_live_queries_over_http() {
    let (home, api, _, _) = serving();
    for (k, age) in [("a", 40), ("b", 20), ("c", 50)] {
        home.put(&format!("crm/person/{k}"), &format!(r#"{{"age":{age}}}"#));
    }
    let page = api
        .get("/v1/find/f/crm/person?where=age%20%3E%3D%2030&order_by=age&desc=true")
        .json();
    let cli = home
        .run(&[
            "find",
            "crm/person",
            "--where",
            "age >= 30",
            "--order-by",
            "age",
            "--desc",
            "--json",
        ])
        .json();
    assert_eq!(page["records"], cli["records"]);
    assert_eq!(page["plan"]["matched"], 2);
    let count = api
        .get("/v1/find/f/crm/person?where=age+%3E+1&where=age+%3C+45&count=true")
        .json();
    assert_eq!(count["count"], 2, "both conditions hold: a and b");
    api.get("/v1/find/f/crm/person?where=age+~+1")
        .fails(400, "unknown operator");
    api.get("/v1/find/f/crm/person?limit=1&limit=2")
        .fails(400, "twice");

    let mut live = api.stream(
        "/v1/changes/f/crm/person?feed=jsonl&where=age+%3E%3D+30",
        &[],
    );
    let first = live.until(Duration::from_secs(10), |t| {
        t.matches("\"result\"").count() >= 2
    });
    assert!(
        first.contains(r#""key":"a""#) && first.contains(r#""key":"c""#),
        "{first}"
    );
    assert!(!first.contains(r#""key":"b""#), "{first}");
    home.put("crm/person/b", r#"{"age":31}"#);
    let more = live.until(Duration::from_secs(10), |t| t.contains(r#""key":"b""#));
    assert!(more.contains(r#""result":"enter""#), "{more}");
    api.get("/v1/changes/f/crm?feed=sse&where=age+%3E+1")
        .fails(400, "one collection");
    api.get("/v1/changes/f/crm/person?where=age+%3E+1")
        .fails(400, "feed=sse or jsonl");
}
