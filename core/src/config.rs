//! The TOML config: registered folders, the default engine and daemon
//! settings. Shared by the command (which reads it) and the daemon (which
//! reads it and, on `init`, rewrites it atomically). Every key is documented
//! with its default in `config.example.toml`; a test keeps the two in step.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::doc::DEFAULT_MAX_DOC_BYTES;
use crate::store::EngineKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Engine for folders made by `syncdb init` without `--engine`.
    pub engine: EngineKind,
    pub daemon: DaemonConfig,
    pub sync: SyncConfig,
    pub history: HistoryConfig,
    pub serve: ServeConfig,
    pub http: HttpConfig,
    #[serde(rename = "folder")]
    pub folders: Vec<FolderEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Most records in one chunk.
    pub chunk_records: usize,
    /// A chunk ends once it holds about this many bytes.
    pub chunk_bytes: usize,
    /// Chunks sent but not yet acknowledged, per database.
    pub max_in_flight: usize,
    /// First and longest wait before reconnecting to a remote, in ms.
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
    /// Versions received from further than this ahead of our clock are
    /// refused, so a machine with a wrong clock cannot win every later write.
    pub max_future_ms: u64,
    /// Most sync connections a hub serves at once; more are refused (503).
    pub max_peers: usize,
    /// Most databases sync may create in one folder, and most a peer may
    /// name in one handshake.
    pub max_databases: usize,
    /// Most folders `serve --create-folders` makes on first contact.
    pub max_created_folders: usize,
}

/// `syncdb serve`: kept here so serving resumes when the daemon restarts.
/// The deadlines and caps are for connections that have not yet shown a
/// valid token: they cost the hub a descriptor and memory, so each is
/// bounded in time and in number (`sync.max_peers` caps sessions, later).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Address to listen on (`127.0.0.1:7700`); not serving when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// PEM certificate chain and private key: serve `wss://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Create a folder under this directory on first contact from an
    /// authorized client for a folder id this hub does not have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_folders: Option<PathBuf>,
    /// Keep the served folders' databases, tokens and replica owners in
    /// this PostgreSQL database (`host=… dbname=… password_file=…` or
    /// `postgres://…`), which other hubs may share, instead of in files.
    /// Shown masked ([`mask_store`]): it may hold a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// Allow plain `ws://` on an address beyond loopback.
    pub insecure: bool,
    /// Serve the HTTP API (`[http]`'s routes, tokens and limits) on this
    /// port too, beside `/v1/sync`.
    pub api: bool,
    /// From accepting a TCP connection to its first byte, in ms.
    pub first_byte_ms: u64,
    /// From accepting a TLS connection to the end of its handshake, in ms.
    pub tls_handshake_ms: u64,
    /// From the first byte (or the end of the TLS handshake) to the end of
    /// the HTTP request's headers, in ms.
    pub headers_ms: u64,
    /// From the WebSocket upgrade to the client's `Hello`, in ms.
    pub hello_ms: u64,
    /// Longest an HTTP connection may stay open without upgrading to a sync
    /// session (kept-alive requests included), in ms.
    pub unupgraded_ms: u64,
    /// Connections not yet past the token check, from all addresses; when
    /// full, the oldest of them is closed to make room.
    pub max_unauthenticated: usize,
    /// Connections not yet past the token check from one IP address (one
    /// /64 for IPv6); a new one from it closes its oldest idle one (a burst
    /// of quick ones comes in over this, up to twice).
    pub max_unauthenticated_per_ip: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: None,
            tls_cert: None,
            tls_key: None,
            create_folders: None,
            store: None,
            insecure: false,
            api: false,
            first_byte_ms: 5_000,
            tls_handshake_ms: 10_000,
            headers_ms: 10_000,
            hello_ms: 10_000,
            unupgraded_ms: 60_000,
            max_unauthenticated: 256,
            max_unauthenticated_per_ip: 32,
        }
    }
}

/// `syncdb http`: the HTTP API for applications, kept here so it resumes
/// when the daemon restarts. Connections before their token is checked are
/// bounded by `[serve]`'s deadlines and caps, as the hub's are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on (`127.0.0.1:7780`); no TCP listener when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// PEM certificate chain and private key: serve `https://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain `http://` on an address beyond loopback.
    pub insecure: bool,
    /// Origins whose pages may call the API (CORS); none: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Also serve on `http.sock` beside the daemon's socket (0600, no token).
    pub unix_socket: bool,
    /// Largest request body (a bulk import), in bytes.
    pub max_body_bytes: usize,
    /// A request's body must have arrived this long after its headers, in ms.
    pub body_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: None,
            tls_cert: None,
            tls_key: None,
            insecure: false,
            cors_origins: Vec::new(),
            unix_socket: true,
            max_body_bytes: 64 << 20,
            body_ms: 60_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// Largest document accepted, in bytes.
    pub max_document_bytes: usize,
    /// Most local connections served at once.
    pub max_connections: usize,
    /// Open databases beyond this are closed once idle.
    pub max_open_databases: usize,
    /// Most operations merged into one group commit.
    pub group_commit_max_ops: usize,
    /// Field that names a record's key when the address has none.
    pub key_path: String,
    /// Log filter for the daemon (`error`, `warn`, `info`, `debug`, `trace`,
    /// or a `tracing` directive); `RUST_LOG` overrides it.
    pub log: String,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            chunk_records: 1024,
            chunk_bytes: 1 << 20,
            max_in_flight: 4,
            reconnect_min_ms: 200,
            reconnect_max_ms: 30_000,
            max_future_ms: 3_600_000,
            max_peers: 256,
            max_databases: 1000,
            max_created_folders: 100,
        }
    }
}

/// History cleanup and compaction (`crate::history`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Tombstones are kept at least this long, and a replica unseen for
    /// longer is retired (outdated when it comes back), in ms.
    pub retention_ms: u64,
    /// How often the horizon is worked out and cleanup runs, in ms.
    pub check_ms: u64,
    /// How far apart the machines' clocks may be, in ms: the horizon stays
    /// this far behind the last time a hub held all a replica had.
    pub clock_margin_ms: u64,
    /// A database file is compacted by itself once this share of it (in
    /// percent) is free space, and the file is at least `compact_min_bytes`.
    pub compact_free_percent: u64,
    pub compact_min_bytes: u64,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            retention_ms: 30 * 24 * 3_600_000,
            check_ms: 60_000,
            clock_margin_ms: 3_600_000,
            compact_free_percent: 50,
            compact_min_bytes: 64 << 20,
        }
    }
}

/// A folder this daemon owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderEntry {
    pub id: String,
    pub path: PathBuf,
    /// Daemons this folder syncs with.
    #[serde(default, rename = "remote", skip_serializing_if = "Vec::is_empty")]
    pub remotes: Vec<RemoteEntry>,
}

/// A remote of a folder: `syncdb remote add NAME URL --token-file F`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteEntry {
    pub name: String,
    /// `ws://HOST:PORT` or `wss://HOST:PORT`.
    pub url: String,
    /// More hubs serving the same folder (over one shared store), tried
    /// in order when the one before cannot be reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<String>,
    /// File holding the access token (mode 0600); none for an open hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// PEM CA certificate to trust for a `wss://` hub with a private or
    /// self-signed certificate (besides the OS's roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Learned from the remote: our token may pull but not push, so local
    /// writes to the folder are refused (they could never reach it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl RemoteEntry {
    /// The hub URLs in the order they are tried.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.url.as_str()).chain(self.failover.iter().map(String::as_str))
    }
}

/// A store's connection string as it may be shown: any password in it
/// (`password=…`, `postgres://user:…@`) replaced by `***`. A
/// `password_file` names a file, which is shown.
pub fn mask_store(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        // The user part ends at the last `@` (a password may hold `/`,
        // `?` or `@` unescaped); the host part at the next `/` or `?`.
        let (user, rest) = match rest.rsplit_once('@') {
            Some((user, rest)) => (Some(user), rest),
            None => (None, rest),
        };
        let (host, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let authority = match user {
            Some(user) if user.contains(':') => {
                format!("{}:***@{host}", user.split(':').next().unwrap_or(""))
            }
            Some(user) => format!("{user}@{host}"),
            None => host.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        // The key as the server reads it: percent-decoded.
                        Some((key, _)) if percent_decoded(key).eq_ignore_ascii_case("password") => {
                            format!("{key}=***")
                        }
                        _ => kv.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", kept.join("&"))
            }
            None => tail.to_owned(),
        };
        return format!("{scheme}://{authority}{tail}");
    }
    mask_conninfo(url).unwrap_or_else(|| match url.contains("password") {
        true => "(a connection string that holds a password)".to_owned(),
        false => url.to_owned(),
    })
}

/// `%XX` sequences decoded (others kept as they are).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `key = value` pairs as libpq reads them (spaces around `=`, values
/// bare or in single quotes with `\` escapes), with the password's value
/// replaced; `None` when the text is not such pairs.
fn mask_conninfo(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let spaces = |s: &str| s.len() - s.trim_start().len();
    loop {
        let n = spaces(rest);
        out.push_str(&rest[..n]);
        rest = &rest[n..];
        if rest.is_empty() {
            return Some(out);
        }
        let key_len = rest.find(|c: char| c == '=' || c.is_whitespace())?;
        let key = &rest[..key_len];
        out.push_str(key);
        rest = &rest[key_len..];
        let n = spaces(rest);
        out.push_str(&rest[..n]);
        rest = rest[n..].strip_prefix('=')?;
        out.push('=');
        let n = spaces(rest);
        out.push_str(&rest[..n]);
        rest = &rest[n..];
        let value_len = match rest.strip_prefix('\'') {
            Some(quoted) => {
                let mut escaped = false;
                let end = quoted.char_indices().find(|&(_, c)| {
                    let closes = !escaped && c == '\'';
                    escaped = !escaped && c == '\\';
                    closes
                })?;
                end.0 + 2
            }
            None => {
                let mut escaped = false;
                rest.char_indices()
                    .find(|&(_, c)| {
                        let ends = !escaped && c.is_whitespace();
                        escaped = !escaped && c == '\\';
                        ends
                    })
                    .map_or(rest.len(), |(i, _)| i)
            }
        };
        match key.eq_ignore_ascii_case("password") {
            true => out.push_str("***"),
            false => out.push_str(&rest[..value_len]),
        }
        rest = &rest[value_len..];
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineKind::Redb,
            daemon: DaemonConfig::default(),
            sync: SyncConfig::default(),
            history: HistoryConfig::default(),
            serve: ServeConfig::default(),
            http: HttpConfig::default(),
            folders: Vec::new(),
        }
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            max_document_bytes: DEFAULT_MAX_DOC_BYTES,
            max_connections: 256,
            max_open_databases: 256,
            group_commit_max_ops: 4096,
            key_path: "_id".into(),
            log: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// Someone else could have written it (see `paths::check_trusted`).
    #[error(transparent)]
    Untrusted(#[from] crate::paths::PathsError),
    #[error("cannot write config {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    /// Reads `path`; a missing file is the default config. A file another
    /// user owns or may write is refused: it could point `serve` at his
    /// address or a remote at his hub.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::paths::check_trusted(path)?;
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses config text; errors name the line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        self.engine.check_file_engine().map_err(invalid)?;
        let d = &self.daemon;
        if d.max_document_bytes == 0
            || d.max_connections == 0
            || d.group_commit_max_ops == 0
            || d.max_open_databases == 0
        {
            return Err(invalid(
                "daemon.max_document_bytes, max_connections, group_commit_max_ops and max_open_databases must be at least 1".into(),
            ));
        }
        let s = &self.sync;
        if s.chunk_records == 0 || s.chunk_bytes == 0 || s.max_in_flight == 0 {
            return Err(invalid(
                "sync.chunk_records, chunk_bytes and max_in_flight must be at least 1".into(),
            ));
        }
        let h = &self.history;
        if h.check_ms == 0 || h.compact_free_percent > 100 {
            return Err(invalid(
                "history.check_ms must be at least 1 and history.compact_free_percent at most 100"
                    .into(),
            ));
        }
        let v = &self.serve;
        if [
            v.first_byte_ms,
            v.tls_handshake_ms,
            v.headers_ms,
            v.hello_ms,
            v.unupgraded_ms,
        ]
        .contains(&0)
            || v.max_unauthenticated == 0
            || v.max_unauthenticated_per_ip == 0
        {
            return Err(invalid(
                "serve.first_byte_ms, tls_handshake_ms, headers_ms, hello_ms, unupgraded_ms, max_unauthenticated and max_unauthenticated_per_ip must be at least 1".into(),
            ));
        }
        for f in &self.folders {
            if !f.path.is_absolute() {
                return Err(invalid(format!(
                    "folder {} has a relative path {}; folder paths must be absolute",
                    f.id,
                    f.path.display()
                )));
            }
        }
        Ok(())
    }

    /// Writes the config atomically: a reader sees the old file or the new
    /// one, never a torn one, even if the process is killed mid-write.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).expect("config serializes");
        let text =
            format!("# syncdb config. Every key is described in config.example.toml.\n\n{text}");
        crate::folder::write_atomic(path, text.as_bytes()).map_err(|source| ConfigError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// The config as it may be shown: the store's password masked.
    pub fn masked(&self) -> Config {
        let mut shown = self.clone();
        shown.serve.store = shown.serve.store.as_deref().map(mask_store);
        shown
    }

    /// The largest JSON-RPC line the daemon reads: a whole document plus room
    /// for the envelope, and never less than 64 MiB (import chunks).
    pub fn max_line_bytes(&self) -> usize {
        (self.daemon.max_document_bytes * 2 + (1 << 20)).max(64 << 20)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_shown_without_its_password() {
        for (given, shown) in [
            (
                "host=db user=hub password=s3cret dbname=syncdb",
                "host=db user=hub password=*** dbname=syncdb",
            ),
            (
                "host=db password='a b\\'c' dbname=x",
                "host=db password=*** dbname=x",
            ),
            (
                "postgres://hub:s3cret@db:5432/syncdb",
                "postgres://hub:***@db:5432/syncdb",
            ),
            (
                "postgres://hub@db/syncdb?password=s3cret&sslmode=disable",
                "postgres://hub@db/syncdb?password=***&sslmode=disable",
            ),
            (
                "host=db password_file=/etc/pw dbname=x",
                "host=db password_file=/etc/pw dbname=x",
            ),
            (
                "host=db password = S3cret!x dbname=x",
                "host=db password = *** dbname=x",
            ),
            ("password= S3cret", "password= ***"),
            ("host=db password\t=\tS3cret", "host=db password\t=\t***"),
            ("password=a\\ b host=x", "password=*** host=x"),
            ("password", "(a connection string that holds a password)"),
            (
                "postgres://hub:a/b?c@db/syncdb",
                "postgres://hub:***@db/syncdb",
            ),
            (
                "postgres://hub@db/syncdb?pass%77ord=pw%24ec%20ret",
                "postgres://hub@db/syncdb?pass%77ord=***",
            ),
            ("host=db PASSWORD=x", "host=db PASSWORD=***"),
            (
                "host=x password='unclosed",
                "(a connection string that holds a password)",
            ),
        ] {
            assert_eq!(mask_store(given), shown, "{given}");
        }
    }

    #[test]
    fn empty_text_is_the_default() {
        assert_eq!(
            Config::parse("", Path::new("c")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = Config::parse(
            "engine = \"redb\"\n[daemon]\nmax_connections = \"x\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("config c.toml:3:"), "{err}");
        let err = Config::parse("\n\nbogus = 1\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:") && err.contains("bogus"), "{err}");
        let err = Config::parse("engine = \"mysql\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("redb") && err.contains("sqlite"), "{err}");
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let mut c = Config::default();
        c.folders.push(FolderEntry {
            id: "f1".into(),
            path: dir.path().to_owned(),
            remotes: vec![RemoteEntry {
                read_only: false,
                name: "hub".into(),
                url: "ws://127.0.0.1:7700".into(),
                failover: vec!["ws://127.0.0.1:7701".into()],
                token_file: Some(dir.path().join("token")),
                ca_file: None,
            }],
        });
        c.serve.addr = Some("127.0.0.1:0".into());
        c.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), c);
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// Every key the daemon reads is documented in config.example.toml, with
    /// its real default, and the file parses.
    #[test]
    fn example_documents_every_key_with_its_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = Config::parse(&text, &path).unwrap();
        assert_eq!(
            parsed,
            Config::default(),
            "the example's values are the defaults"
        );

        let defaults = toml::Value::try_from(Config::default()).unwrap();
        let mut keys = Vec::new();
        collect_keys(&defaults, "", &mut keys);
        let example: toml::Value = toml::from_str(&text).unwrap();
        for key in keys {
            let mut node = &example;
            for part in key.split('.') {
                node = node
                    .get(part)
                    .unwrap_or_else(|| panic!("config.example.toml lacks {key}"));
            }
        }
        assert!(text.contains("[[folder]]"), "the folder table is shown");
    }

    fn collect_keys(v: &toml::Value, prefix: &str, out: &mut Vec<String>) {
        if let toml::Value::Table(t) = v {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    toml::Value::Table(_) => collect_keys(v, &key, out),
                    toml::Value::Array(_) => {} // folders: registered by init
                    _ => out.push(key),
                }
            }
        }
    }
}
