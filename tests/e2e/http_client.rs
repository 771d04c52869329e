//! A small HTTP/1.1 client over TCP or a Unix socket, written out so tests
//! control every byte (bad requests, slow bodies) and read streams as they
//! come. Content-Length and chunked bodies; nothing else is needed here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

#[derive(Clone, Debug)]
pub enum Target {
    Tcp(String),
    #[cfg(unix)]
    Unix(PathBuf),
}

pub trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

impl Target {
    pub fn connect(&self) -> Box<dyn Conn> {
        match self {
            Target::Tcp(addr) => {
                let s = TcpStream::connect(addr).expect("connect");
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                Box::new(s)
            }
            #[cfg(unix)]
            Target::Unix(path) => {
                let s = UnixStream::connect(path).expect("connect to http.sock");
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                Box::new(s)
            }
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Asserts the status and that the error message contains `needle`.
    pub fn fails(&self, status: u16, needle: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["error"]["status"], status, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

/// Sends `req` (raw bytes) and reads one whole response.
pub fn raw(target: &Target, req: &[u8]) -> Response {
    let mut conn = target.connect();
    // A server may answer (413) and close before the body is all sent.
    let _ = conn.write_all(req);
    let mut reader = BufReader::new(conn);
    read_response(&mut reader)
}

pub fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').expect("header");
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    (status, headers)
}

pub fn read_response(reader: &mut impl BufRead) -> Response {
    let (status, headers) = read_head(reader);
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        while let Some(chunk) = read_chunk(reader) {
            body.extend(chunk);
        }
    } else if let Some(n) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        reader.read_exact(&mut body).unwrap();
    } else if status != 304 && status != 204 {
        reader.read_to_end(&mut body).unwrap();
    }
    Response {
        status,
        headers,
        body,
    }
}

/// One chunk of a chunked body; `None` at its end.
pub fn read_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut size = String::new();
    reader.read_line(&mut size).ok()?;
    let n = usize::from_str_radix(size.trim(), 16).ok()?;
    let mut chunk = vec![0; n + 2];
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(n);
    (n > 0).then_some(chunk)
}

/// A request with `headers` and `body`, `Connection: close`.
pub fn request(
    target: &Target,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "PUT" | "POST" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(target, &bytes)
}

/// A client of the API with a token (or none, on the Unix socket).
#[derive(Clone)]
pub struct Api {
    pub target: Target,
    pub token: Option<String>,
}

impl Api {
    fn auth(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let auth = self.auth();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        request(&self.target, method, path, &all, body)
    }

    pub fn get(&self, path: &str) -> Response {
        self.call("GET", path, &[], b"")
    }

    pub fn send_json(&self, method: &str, path: &str, json: &str) -> Response {
        self.call(
            method,
            path,
            &[("Content-Type", "application/json")],
            json.as_bytes(),
        )
    }

    /// Opens a stream (SSE or JSON Lines) and returns its reader.
    pub fn stream(&self, path: &str, headers: &[(&str, &str)]) -> Stream {
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
        if let Some(a) = self.auth() {
            req.push_str(&format!("Authorization: {a}\r\n"));
        }
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut conn = self.target.connect();
        conn.write_all(req.as_bytes()).unwrap();
        let mut reader = BufReader::new(conn);
        let (status, headers) = read_head(&mut reader);
        Stream {
            status,
            headers,
            reader,
            pending: String::new(),
        }
    }
}

pub struct Stream {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    reader: BufReader<Box<dyn Conn>>,
    pending: String,
}

impl Stream {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads chunks until `done` holds of all text read so far, or panics
    /// after `within`.
    pub fn until(&mut self, within: Duration, mut done: impl FnMut(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        while !done(&self.pending) {
            assert!(
                Instant::now() < deadline,
                "stream stalled; read so far:\n{}",
                self.pending
            );
            match read_chunk(&mut self.reader) {
                Some(c) => self.pending.push_str(&String::from_utf8_lossy(&c)),
                None => panic!("stream ended; read so far:\n{}", self.pending),
            }
        }
        self.pending.clone()
    }

    /// Reads to the end of the stream (it must end within `within`).
    pub fn read_to_end(mut self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while let Some(c) = read_chunk(&mut self.reader) {
            self.pending.push_str(&String::from_utf8_lossy(&c));
            assert!(Instant::now() < deadline, "stream did not end");
        }
        self.pending
    }
}

/// The `data:` JSON of each SSE event in `text`, with its `id`.
pub fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut id = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_owned());
                }
                if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).expect("event data is JSON"));
                }
            }
            Some((id?, data?))
        })
        .collect()
}
