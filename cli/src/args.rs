//! The command line, declared once with clap derive: doc comments are the
//! `--help` text, and completions and man pages are generated from it.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
use syncdb_core::EngineKind;
use syncdb_core::ipc::ImportFormat;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error (storage, I/O, the daemon refused)
  2  usage or bad input (invalid JSON, name, address or flag); nothing was written
  3  not found (get, del or patch of a missing record, a missing database,
     or a drop of what is not there)
  4  the daemon could not be reached or started, or stopped before answering
     (for a write the message says it may or may not have been applied)";

/// Environment variables the command and the daemon read: `--help` and the
/// man page's ENVIRONMENT section are made from this one table.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "SYNCDB_HOME",
        "Keep everything under this directory: DIR/config/config.toml, DIR/data/, DIR/state/daemon.log \
         and DIR/run/ (socket and lock), instead of the OS's directories. One daemon per home.",
    ),
    (
        "RUST_LOG",
        "The daemon's log filter (error, warn, info, debug, trace, or a tracing directive); \
         overrides the config's daemon.log.",
    ),
    (
        "XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_RUNTIME_DIR",
        "Without SYNCDB_HOME on Linux: where the config, data, log, and socket and lock live \
         (each under syncdb/).",
    ),
    (
        "SYNCDB_TEST_CLOCK_OFFSET_MS",
        "For tests only: shifts the daemon's clock by this many milliseconds (may be negative).",
    ),
];

/// The files syncdb keeps; the man page's FILES section.
pub const FILES: &[(&str, &str)] = &[
    (
        "~/.config/syncdb/config.toml",
        "The config (`syncdb config path`); every key is in config.example.toml.",
    ),
    (
        "~/.local/share/syncdb/",
        "tokens.toml (hashes of the tokens this hub accepts) and sites.toml (which token each replica belongs to).",
    ),
    (
        "~/.local/state/syncdb/daemon.log",
        "The background daemon's log (0600; rotated at 10 MiB, 3 kept).",
    ),
    (
        "$XDG_RUNTIME_DIR/syncdb/",
        "daemon.sock (0600) and daemon.lock, in a 0700 directory.",
    ),
    (
        "FOLDER/.syncdb/folder.toml",
        "A folder's id and engine; FOLDER/NAME.redb or FOLDER/NAME.sqlite are its databases.",
    ),
];

/// What `syncdb --help` prints after the options.
fn after_long_help() -> String {
    let mut text = format!("{EXIT_CODES}\n\nEnvironment:");
    for (name, what) in ENVIRONMENT {
        text.push_str(&format!("\n  {name}\n      {what}"));
    }
    text
}

/// Keep folders of databases in sync between machines, local-first.
///
/// A folder is a directory of databases (one redb or SQLite file each). The
/// `syncdb` command talks to a per-user daemon that owns the files; the daemon
/// starts by itself when a command needs it.
#[derive(Debug, Parser)]
#[command(name = "syncdb", version, propagate_version = true, after_long_help = after_long_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Run as if started in DIR: the folder is the nearest one at or above it.
    #[arg(short = 'C', long = "dir", value_name = "DIR", global = true, value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
    /// Machine output: one JSON value (or JSON Lines for streams) on stdout;
    /// errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but results and errors: no progress, no notes.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log output from a daemon run in the foreground (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// How `put --batch` reads its lines.
#[derive(Debug, Args, Clone)]
pub struct ImportArgs {
    /// What each line is: `auto` reads a record as `ls --json` prints it
    /// ({"key":..,"doc":{..}}) under its key and any other line as a
    /// document; `docs`: every line is a document; `records`: every line is
    /// a record (extra fields such as seq and version are ignored).
    #[arg(long, value_name = "FORMAT", default_value = "auto", requires = "batch",
          value_parser = clap::builder::PossibleValuesParser::new(ImportFormat::NAMES)
              .map(|s| ImportFormat::parse(&s).expect("a listed name")))]
    pub format: ImportFormat,
    /// Take each document's key from field F (dotted for a field inside an
    /// object: `meta.id`) [default: `daemon.key_path`, `_id`].
    #[arg(long, value_name = "F", requires = "batch")]
    pub key_field: Option<String>,
    /// Read and check every line, print how many records would be imported,
    /// and write nothing.
    #[arg(long, requires = "batch")]
    pub dry_run: bool,
}

/// `redb` or `sqlite`, listed so that `--help` and completions offer them.
fn engine_parser() -> impl TypedValueParser<Value = EngineKind> {
    let names = EngineKind::ALL.map(EngineKind::as_str);
    clap::builder::PossibleValuesParser::new(names)
        .map(|s| EngineKind::from_extension(&s).expect("a listed name"))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a folder (or re-register an existing one) and print its id.
    #[command(after_help = "Example:\n  syncdb init ~/notes --engine sqlite")]
    Init {
        /// Directory to make a folder; the current directory if absent.
        dir: Option<PathBuf>,
        /// Engine for the folder's databases [default: the config's `engine`, redb].
        #[arg(long, value_name = "ENGINE", value_parser = engine_parser())]
        engine: Option<EngineKind>,
    },
    /// Insert or replace a record and print its key; or import JSON Lines with --batch.
    ///
    /// The key comes from the address, else the document's key field
    /// (`daemon.key_path`, default `_id`), else a new UUIDv7. With --batch, every
    /// line is one document (or record) and the whole import is one
    /// transaction: a bad line writes nothing. The import holds the
    /// database's writer: other writes to it wait until it commits. `put DB
    /// --batch` reads lines that name their collection,
    /// `{"collection","key","doc"}`, as `syncdb export DB` writes them.
    #[command(
        after_help = "Examples:\n  syncdb put crm/person/42 '{\"name\":\"Ada\"}'\n  echo '{\"_id\":\"7\",\"name\":\"Bob\"}' | syncdb put crm/person -\n  syncdb put crm/person --batch people.jsonl\n  syncdb put crm/person --batch people.jsonl --key-field email --dry-run\n  syncdb -C ~/a ls crm/person --json | syncdb -C ~/b put crm/person --batch -\n  syncdb export crm -o crm.jsonl && syncdb put crm-copy --batch crm.jsonl"
    )]
    Put {
        /// DB/COLL or DB/COLL/KEY; with --batch, DB/COLL or DB.
        address: String,
        /// The document (a JSON object), or - for stdin [default: stdin].
        /// With --batch: a JSON Lines file, or - for stdin.
        input: Option<String>,
        /// Import JSON Lines: one document or record per line, all in one transaction.
        #[arg(long)]
        batch: bool,
        #[command(flatten)]
        import: ImportArgs,
    },
    /// Merge top-level fields into a record (`null` removes a field).
    #[command(
        after_help = "Example:\n  syncdb patch crm/person/42 '{\"email\":\"ada@example.com\",\"phone\":null}'"
    )]
    Patch {
        /// DB/COLL/KEY.
        address: String,
        /// The fields (a JSON object), or - for stdin [default: stdin].
        input: Option<String>,
    },
    /// Print a record's document.
    #[command(after_help = "Example:\n  syncdb get crm/person/42")]
    Get {
        /// DB/COLL/KEY.
        address: String,
    },
    /// Delete a record.
    #[command(after_help = "Example:\n  syncdb del crm/person/42")]
    Del {
        /// DB/COLL/KEY.
        address: String,
    },
    /// List databases, the collections of a database, or the records of a collection.
    ///
    /// Dropped databases (dropped, and not written to since) are hidden
    /// unless --all is given.
    #[command(
        after_help = "Examples:\n  syncdb ls\n  syncdb ls --all\n  syncdb ls crm\n  syncdb ls crm/person --prefix 4 --limit 10 --keys"
    )]
    Ls {
        /// Nothing, DB, or DB/COLL.
        address: Option<String>,
        /// Only records whose key starts with P.
        #[arg(long, value_name = "P", default_value = "")]
        prefix: String,
        /// At most N records.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Print keys only.
        #[arg(long)]
        keys: bool,
        /// With no address: list dropped databases too.
        #[arg(long)]
        all: bool,
    },
    /// Find the records of a collection by their fields.
    ///
    /// Each --where is FIELD OP VALUE: FIELD a path (`age`, `meta.city`),
    /// OP one of = != < <= > >= in prefix exists, VALUE JSON (strings in
    /// double quotes; `in` takes an array, `exists` true, false or nothing).
    /// A record matches when it meets every --where; a missing field meets
    /// only != and `exists false`. Values of different types compare in one
    /// order: missing, null, false, true, numbers, strings, arrays, objects.
    /// Results come in key order, or by --order-by (then by key), a page at
    /// a time: the page's last line (stderr, or `next` in --json) gives the
    /// --cursor of the next one. A query reads through an index when one
    /// fits (see `syncdb index`), the whole collection otherwise; the
    /// results are the same either way, and --explain shows which ran.
    #[command(
        after_help = "Examples:\n  syncdb find crm/person --where 'age >= 30' --where 'city = \"London\"'\n  syncdb find crm/person --where 'city in [\"London\", \"Paris\"]' --order-by age --desc --limit 10\n  syncdb find crm/person --where 'email exists false' --count\n  syncdb find crm/person --where 'name prefix \"Ad\"' --explain"
    )]
    Find {
        /// DB/COLL.
        address: String,
        /// A condition, FIELD OP VALUE (repeat for more: all must hold).
        #[arg(long = "where", value_name = "COND")]
        conditions: Vec<String>,
        /// Sort by this field (then by key) instead of by key.
        #[arg(long, value_name = "FIELD")]
        order_by: Option<String>,
        /// Largest first.
        #[arg(long)]
        desc: bool,
        /// At most N records in this page.
        #[arg(long, value_name = "N", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(1..=100_000))]
        limit: u64,
        /// Continue after the page that gave this cursor.
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
        /// Print how many records match, not the records.
        #[arg(long, conflicts_with_all = ["cursor", "order_by", "desc"])]
        count: bool,
        /// Print how the query ran (what it read, what matched), not the records
        /// (with --count, the count too).
        #[arg(long)]
        explain: bool,
    },
    /// Drop a collection, or a whole database (every record in it).
    ///
    /// The drop is a versioned marker: it reaches every replica, and writes
    /// made after it (anywhere) live on. A dropped database's file is
    /// compacted to the marker and hidden from `ls` and `status` (--all shows
    /// it). A drop that removes records asks for confirmation on a terminal;
    /// elsewhere it needs --yes.
    #[command(after_help = "Examples:\n  syncdb drop crm/person\n  syncdb drop crm --yes")]
    Drop {
        /// DB or DB/COLL.
        address: String,
        /// Do not ask: drop even if it removes records (for scripts).
        #[arg(short, long)]
        yes: bool,
    },
    /// Print changes as JSON Lines as they commit.
    ///
    /// Each line: {"op":"put"|"delete"|"drop","db":..,"collection":..,"key":..,
    /// "doc":..,"seq":..,"version":..}. With --since, the feed after SEQ is
    /// replayed first (each key once, at its latest change), then the stream
    /// continues live with no gap and no duplicate.
    ///
    /// With --where (as `syncdb find` takes it), a live query of DB/COLL:
    /// first the records that match now, then a line whenever a record
    /// enters the result, changes in it, or leaves it (by a change, a
    /// delete, a drop or a remote write); each line says which in "result":
    /// "enter"|"change"|"leave".
    #[command(
        after_help = "Examples:\n  syncdb watch crm/person\n  syncdb watch crm --since 0\n  syncdb watch crm/person --where 'age >= 30' --where 'city = \"London\"'"
    )]
    Watch {
        /// Nothing (every database), DB, DB/COLL or DB/COLL/KEY.
        address: Option<String>,
        /// Replay the feed after this seq first (needs DB: seqs are per database).
        #[arg(long, value_name = "SEQ")]
        since: Option<u64>,
        /// A live query's condition, FIELD OP VALUE (repeat: all must hold).
        #[arg(long = "where", value_name = "COND", conflicts_with = "since")]
        conditions: Vec<String>,
    },
    /// Show the daemon, folders, databases, record counts and remotes.
    #[command(
        after_help = "Examples:\n  syncdb status\n  syncdb status --json | jq '.folders[].databases'\n  syncdb status --all"
    )]
    Status {
        /// List dropped databases too.
        #[arg(long)]
        all: bool,
    },
    /// List, forget or move the folders registered with the daemon.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb folder ls\n  syncdb folder mv ~/crm ~/work/crm\n  syncdb folder rm ~/old-crm"
    )]
    Folder(FolderCommand),
    /// Manage the remotes this folder syncs with.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb remote add hub wss://hub.example:7700 --token-file ~/.config/syncdb/hub.token\n  syncdb remote add hubs wss://hub1.example:7700 --failover wss://hub2.example:7700 --token-file hub.token\n  syncdb remote ls"
    )]
    Remote(RemoteCommand),
    /// Make a local copy of a folder served by a hub, and sync it.
    #[command(
        after_help = "Example:\n  syncdb clone ws://hub.example:7700 7d50e492-173c-44eb-995c-6f5cb3b079c9 ~/crm --token-file ~/.config/syncdb/hub.token"
    )]
    Clone {
        /// The hub: ws://HOST:PORT, wss://HOST:PORT, or HOST:PORT (ws:// on
        /// loopback, wss:// elsewhere, as `serve` does).
        url: String,
        /// The folder's id (what `syncdb init` printed on the first machine).
        folder_id: String,
        /// Where to put the folder [default: ./FOLDER_ID].
        dir: Option<PathBuf>,
        /// Another hub serving the folder over the same store, tried when
        /// the ones before cannot be reached (repeat for more).
        #[arg(long, value_name = "URL", value_hint = clap::ValueHint::Url)]
        failover: Vec<String>,
        /// File holding the access token (mode 0600).
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        token_file: Option<PathBuf>,
        /// PEM CA certificate to trust for a wss:// hub with a private
        /// certificate; a self-signed certificate here is trusted as itself.
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        ca_file: Option<PathBuf>,
        /// Engine for the local copy [default: the config's `engine`, redb].
        #[arg(long, value_name = "ENGINE", value_parser = engine_parser())]
        engine: Option<EngineKind>,
    },
    /// Sync with the folder's remotes, with progress, until caught up both ways.
    ///
    /// The daemon syncs continuously by itself; this shows it happening and,
    /// with --once, returns when everything is across (for scripts: exit 1 if
    /// a remote cannot be reached or refuses, with the reason).
    #[command(after_help = "Examples:\n  syncdb sync --once\n  syncdb sync hub")]
    Sync {
        /// One remote by name [default: all of the folder's remotes].
        remote: Option<String>,
        /// Return once caught up instead of following live: everything the
        /// remote had when the command started is here, and everything
        /// written here before it is durable there.
        #[arg(long)]
        once: bool,
        /// With --once: give up (exit 1) when not caught up within SECS
        /// (1 to 31536000, a year).
        #[arg(long, value_name = "SECS", requires = "once",
              value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
        timeout: Option<u64>,
    },
    /// Print a hash of each database's merged state: equal on converged replicas.
    #[command(after_help = "Example:\n  syncdb digest crm")]
    Digest {
        /// One database [default: all].
        db: Option<String>,
    },
    /// Move a damaged database file aside and pull the database again from the folder's remotes.
    ///
    /// For a database refused as damaged (bytes flipped, truncated, empty, a
    /// directory or a symlink where the file should be). The file is renamed
    /// to NAME.EXT.damaged-TIMESTAMP (SQLite's -wal and -shm move with it),
    /// never deleted. With a remote, the database is pulled again from it;
    /// without one, it starts empty and the old data stays in the moved file.
    /// A database that opens and reads is not moved (exit 2).
    #[command(after_help = "Example:\n  syncdb repair crm && syncdb sync --once")]
    Repair {
        /// The database's name (as in `syncdb ls`).
        db: String,
    },
    /// Serve this daemon's folders to remotes (a hub); kept across restarts.
    ///
    /// Listens on ADDR with /v1/sync (WebSocket), /healthz and /metrics, and
    /// with --api the HTTP API of `syncdb http` as well.
    /// Remotes need a token from `syncdb token create`.
    #[command(
        after_help = "Examples:\n  syncdb serve --addr localhost:7700\n  syncdb serve --addr 0.0.0.0:7700 --tls-cert cert.pem --tls-key key.pem\n  syncdb serve --addr 0.0.0.0:7700 --insecure --create-folders /srv/syncdb\n  syncdb serve --addr localhost:7700 --api\n  syncdb serve --stop"
    )]
    Serve(ServeArgs),
    /// Serve the HTTP API for applications on ADDR; kept across restarts.
    ///
    /// Documents, bulk import, the change feed (JSON, long poll, Server-Sent
    /// Events, JSON Lines) and an nkvd-compatible key-value surface, described
    /// at /v1/openapi.json. Every TCP request needs a token (`syncdb token
    /// create`). The same API is served on the Unix socket `http.sock` beside
    /// the daemon's, without a token (`curl --unix-socket`). Without --addr
    /// or --stop, shows what is served.
    #[command(
        after_help = "Examples:\n  syncdb http --addr localhost:7780\n  syncdb http --addr 0.0.0.0:7780 --tls-cert cert.pem --tls-key key.pem\n  syncdb http --cors-origin https://app.example\n  syncdb http\n  syncdb http --stop"
    )]
    Http {
        /// IP:PORT or localhost:PORT to listen on (port 0 picks a free one).
        #[arg(long, value_name = "ADDR")]
        addr: Option<String>,
        /// PEM certificate chain, for https:// (with --tls-key).
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath, requires = "addr")]
        tls_cert: Option<PathBuf>,
        /// PEM private key, for https:// (with --tls-cert).
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath, requires = "addr")]
        tls_key: Option<PathBuf>,
        /// Serve plain http:// on an address beyond loopback (tokens cross the network in clear).
        #[arg(long, requires = "addr")]
        insecure: bool,
        /// Let pages from ORIGIN (scheme://host[:port]) call the API; repeat for more. `--cors-origin ''` allows none.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Stop the TCP listener (the Unix socket stays).
        #[arg(long, conflicts_with_all = ["addr", "tls_cert", "tls_key", "insecure"])]
        stop: bool,
    },
    /// Create, list and revoke the tokens remotes use to reach this hub.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb token create --read-only > reader.token\n  syncdb token ls\n  syncdb token revoke 3f2a9c1e"
    )]
    Token(TokenCommand),
    /// Run, start, stop or query the daemon.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb daemon status\n  syncdb daemon stop"
    )]
    Daemon(DaemonCommand),
    /// Run the daemon as a user service: systemd on Linux, launchd on macOS.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb service install\n  syncdb service status"
    )]
    Service(ServiceCommand),
    /// Where the config is, what is in effect, and whether a file is valid.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb config show\n  syncdb config check ./new-config.toml"
    )]
    Config(ConfigCommand),
    /// Secondary indexes: find records by their fields without reading the whole collection.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb index create crm/person age\n  syncdb index create crm/person city,age\n  syncdb index ls crm\n  syncdb find crm/person --where 'city = \"London\"' --order-by age --explain"
    )]
    Index(IndexCommand),
    /// Schemas: a database's name, version, collections, key paths, JSON Schemas and migrations.
    #[command(
        subcommand,
        after_help = "Examples:\n  syncdb schema check crm.schema.toml\n  syncdb schema set crm crm.schema.toml\n  syncdb schema show crm"
    )]
    Schema(SchemaCommand),
    /// Discard this replica of a database and pull it again from the folder's remotes.
    ///
    /// First syncs, so local writes reach a remote. Writes no remote has
    /// acknowledged then are counted, and the reset is refused (exit 1)
    /// unless --force discards them. Then the file is removed and the
    /// database pulled again, with a new replica id; the command returns
    /// once it is here.
    #[command(
        after_help = "Examples:\n  syncdb reset crm\n  syncdb reset crm --force --timeout 30"
    )]
    Reset {
        /// The database's name (as in `syncdb ls`).
        db: String,
        /// Discard local writes no remote has yet.
        #[arg(long)]
        force: bool,
        /// Seconds to wait for each sync, before and after (1 to 31536000).
        #[arg(long, value_name = "SECS", default_value_t = 60,
              value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
        timeout: u64,
    },
    /// Forget old tombstones now: work the horizon out and clean up behind it.
    ///
    /// A tombstone (a deleted record, a removed field, a dropped collection)
    /// is forgotten once every live replica holds it and it is older than
    /// history.retention_ms (30 days). A hub works the horizon out from the
    /// replicas it serves and tells them; a folder with remotes follows its
    /// hub's. The daemon does this by itself every history.check_ms; this
    /// runs it now and waits for it.
    #[command(after_help = "Examples:
  syncdb cleanup
  syncdb cleanup crm --json")]
    Cleanup {
        /// One database; every one of the folder when absent.
        db: Option<String>,
    },
    /// The replicas a hub serves each database to, and retiring one by hand.
    #[command(
        subcommand,
        after_help = "Examples:
  syncdb replica ls
  syncdb replica rm crm 3f2a9c1e"
    )]
    Replica(ReplicaCommand),
    /// Give a database file's free space back: redb compaction, SQLite VACUUM.
    ///
    /// Writes to the database wait while it runs. The daemon compacts by
    /// itself after a cleanup once history.compact_free_percent of a file
    /// (at least history.compact_min_bytes) is free.
    #[command(after_help = "Examples:
  syncdb compact
  syncdb compact crm")]
    Compact {
        /// One database; every one of the folder when absent.
        db: Option<String>,
    },
    /// Write consistent copies of databases, with a manifest, to a new directory.
    ///
    /// Each copy is one snapshot, taken while the daemon keeps serving
    /// (redb: its tables copied from one read transaction; SQLite: VACUUM
    /// INTO). DEST/manifest.json lists each database's file, seq, site id,
    /// record count, schema version, size and SHA-256.
    #[command(after_help = "Examples:
  syncdb backup crm /backups/crm-monday
  syncdb backup --all /backups/monday")]
    Backup {
        /// The database (or --all).
        db: Option<String>,
        /// A directory that does not exist yet, or an empty one.
        #[arg(value_hint = clap::ValueHint::DirPath)]
        dest: Option<PathBuf>,
        /// Every database of the folder.
        #[arg(long)]
        all: bool,
    },
    /// Bring databases back from a backup, checked, as new replicas.
    ///
    /// Each copy's size and SHA-256 must match the manifest and it must pass
    /// the engine's integrity check before anything is put in place. The
    /// restored replica gets a new site id (the one it was copied from may
    /// have written since). It then syncs as usual; if history was cleaned
    /// up since the backup, it first rebuilds from the hub's state, keeping
    /// the writes it had that the hub never received.
    #[command(after_help = "Examples:
  syncdb restore /backups/monday
  syncdb restore /backups/monday crm --force")]
    Restore {
        /// The backup directory (with manifest.json).
        #[arg(value_hint = clap::ValueHint::DirPath)]
        src: PathBuf,
        /// One database of the backup; every one when absent.
        db: Option<String>,
        /// Replace a database that exists here (it is moved aside, not deleted).
        #[arg(long)]
        force: bool,
    },
    /// Write a database or a collection as JSON Lines with keys.
    ///
    /// `export DB/COLL` writes `{"key":…,"doc":…}` lines, which `syncdb put
    /// DB/COLL --batch` reads back; `export DB` adds `"collection"` to each
    /// line, and `syncdb put DB --batch` reads that back. Records are read a
    /// page at a time: a record written meanwhile is exported as it is when
    /// its page is read (back up first for one snapshot).
    #[command(after_help = "Examples:
  syncdb export crm/person > person.jsonl
  syncdb export crm -o crm.jsonl
  syncdb put crm/person --batch person.jsonl")]
    Export {
        /// DB or DB/COLL.
        address: String,
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        output: Option<PathBuf>,
    },
    /// Show the background daemon's log (rotated at 10 MiB, 3 kept).
    #[command(after_help = "Examples:\n  syncdb logs -n 200\n  syncdb logs -f")]
    Logs {
        /// Keep printing as the log grows.
        #[arg(short, long)]
        follow: bool,
        /// How many of the last lines to print first.
        #[arg(short = 'n', long, default_value_t = 50, value_name = "N")]
        lines: usize,
    },
    /// Write completions/ and man/ under DIR from this command line.
    #[command(name = "__docs", hide = true)]
    Docs { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the service file and start the daemon with your session.
    #[command(after_help = "Examples:\n  syncdb service install\n  syncdb service install --print")]
    Install {
        /// Print the service file instead of writing it.
        #[arg(long)]
        print: bool,
        /// Which service manager [default: systemd on Linux, launchd on macOS].
        #[arg(long, value_enum)]
        kind: Option<ServiceKind>,
    },
    /// Stop the service and remove its file.
    #[command(after_help = "Example:\n  syncdb service uninstall")]
    Uninstall {
        #[arg(long, value_enum)]
        kind: Option<ServiceKind>,
    },
    /// Say whether the service is installed and what the service manager reports.
    #[command(after_help = "Example:\n  syncdb service status")]
    Status {
        #[arg(long, value_enum)]
        kind: Option<ServiceKind>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceKind {
    /// A systemd user unit in ~/.config/systemd/user/.
    Systemd,
    /// A launchd agent in ~/Library/LaunchAgents/.
    Launchd,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path.
    #[command(after_help = "Example:\n  $EDITOR \"$(syncdb config path)\"")]
    Path,
    /// Print the config in effect (defaults filled in).
    #[command(after_help = "Example:\n  syncdb config show > my-config.toml")]
    Show,
    /// Check a config file (the current one by default); errors name the line.
    #[command(after_help = "Example:\n  syncdb config check ./new-config.toml")]
    Check { file: Option<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum ReplicaCommand {
    /// List each database's replica here (site id, horizon) and, on a hub,
    /// the replicas it serves: when each was last seen, and whether it is
    /// live or retired.
    #[command(after_help = "Examples:\n  syncdb replica ls\n  syncdb replica ls crm --json")]
    Ls {
        /// One database; every one of the folder when absent.
        db: Option<String>,
    },
    /// Retire a replica by hand (a lost laptop): it no longer holds cleanup back.
    ///
    /// A replica unseen for longer than history.retention_ms is retired by
    /// itself. If a retired replica comes back after a cleanup, it rebuilds
    /// from the hub's state, keeping its own writes the hub never received.
    #[command(after_help = "Example:\n  syncdb replica rm crm 3f2a9c1e")]
    Rm {
        /// The database.
        db: String,
        /// Its site id, or at least 4 hex digits of its start (`replica ls`).
        site: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Index a collection on one or more fields, and build the index.
    ///
    /// FIELDS is a field path (`age`, `meta.city`) or several joined by
    /// commas (`city,age`): such an index serves equalities on its leading
    /// fields, then one range (`<`, `<=`, `>`, `>=`, `prefix`, `exists`) or
    /// `in`, and an --order-by on the field after the equalities. The index
    /// is built in the background over the records already there, a step
    /// at a time between other writes; queries use it once it is built.
    /// From its creation on, every write keeps it, local or synced, in the
    /// same transaction. Indexes are this replica's own: create them on
    /// each replica, or declare them in the schema (`indexes = ["age"]`
    /// under a collection) and every replica keeps them. This command waits
    /// for the build with a progress bar, unless --no-wait.
    #[command(
        after_help = "Examples:\n  syncdb index create crm/person age\n  syncdb index create crm/person meta.city,age --no-wait"
    )]
    Create {
        /// DB/COLL.
        address: String,
        /// FIELD[,FIELD…].
        fields: String,
        /// Return once the index exists; the build goes on in the daemon.
        #[arg(long)]
        no_wait: bool,
    },
    /// Remove an index and its entries (queries scan again).
    ///
    /// An index a schema declares is removed by a schema version that no
    /// longer declares it.
    #[command(after_help = "Example:\n  syncdb index drop crm/person age")]
    Drop {
        /// DB/COLL.
        address: String,
        /// FIELD[,FIELD…], as created.
        fields: String,
    },
    /// List indexes: of every database of the folder, of DB, or of DB/COLL.
    #[command(after_help = "Examples:\n  syncdb index ls\n  syncdb index ls crm/person --json")]
    Ls {
        /// Nothing, DB, or DB/COLL.
        address: Option<String>,
    },
    /// Check indexes against their records; exit 1 when one is out of step.
    ///
    /// Reads every entry and every record of each index's collection: each
    /// entry must name a record whose document gives exactly that entry,
    /// and each record of a built index must have one.
    #[command(after_help = "Examples:\n  syncdb index check\n  syncdb index check crm/person")]
    Check {
        /// Nothing, DB, or DB/COLL.
        address: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Check a schema file offline (errors name FILE:LINE:COLUMN), or with --data a database's records.
    ///
    /// A schema names a database and its version (a whole number from 1
    /// up), and its collections: each with a key path (`_id` by default,
    /// dotted paths such as `meta.id` allowed) and optionally a JSON Schema
    /// for its documents (drafts 4, 6, 7, 2019-09 and 2020-12; 2020-12
    /// without `$schema`; no `$ref` to files or URLs). `strict = true`
    /// refuses collections the schema does not name. `[[migrate]]` steps
    /// say what to do to the data when a replica moves to this version.
    ///
    /// With --data, TARGET is a database: its records that break its schema
    /// (merged from replicas; local writes are checked) are listed, and the
    /// exit code is 2 when there is one.
    #[command(
        after_help = "Examples:\n  syncdb schema check crm.schema.toml\n  syncdb schema check crm.schema.json --json\n  syncdb schema check crm --data"
    )]
    Check {
        /// The schema file (`.toml` or `.json`, else told by its first
        /// character), or - for stdin; with --data, a database.
        #[arg(value_name = "FILE|DB", value_hint = clap::ValueHint::FilePath)]
        target: PathBuf,
        /// Check the records of database TARGET against its schema.
        #[arg(long)]
        data: bool,
        /// With --data: list at most N violations (all are counted).
        #[arg(long, value_name = "N", default_value_t = 100, requires = "data")]
        limit: u64,
    },
    /// Set a database's schema from FILE; its version must be above the current one.
    ///
    /// The same version with other content is refused (give it a higher
    /// version), and so is a lower one. The schema is data: it syncs, and
    /// every replica moves to the highest version and runs its `[[migrate]]`
    /// steps once, as ordinary writes. Steps that remove data (a field, a
    /// collection, or values that meet at one key) are refused unless
    /// --allow-data-loss; `schema diff` counts what they touch first.
    #[command(
        after_help = "Examples:\n  syncdb schema diff crm crm.schema.toml\n  syncdb schema set crm crm.schema.toml\n  syncdb schema set crm v4.toml --allow-data-loss"
    )]
    Set {
        db: String,
        #[arg(value_hint = clap::ValueHint::FilePath)]
        file: PathBuf,
        /// Run steps that remove data.
        #[arg(long)]
        allow_data_loss: bool,
    },
    /// Print a database's schema in force (and the versions it holds).
    #[command(after_help = "Examples:\n  syncdb schema show crm\n  syncdb schema show crm --json")]
    Show { db: String },
    /// Show what `schema set DB FILE` would change and what its steps would touch.
    ///
    /// Exits 2 when `schema set` would refuse the file: a version older than
    /// the database's, or its version with other content.
    #[command(after_help = "Example:\n  syncdb schema diff crm crm.schema.toml")]
    Diff {
        db: String,
        #[arg(value_hint = clap::ValueHint::FilePath)]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Add (or replace) a remote and start syncing with it.
    #[command(
        after_help = "Examples:\n  syncdb remote add hub wss://hub.example:7700 --token-file ~/.config/syncdb/hub.token\n  syncdb remote add hub wss://hub.example:7700 --token-file hub.token --ca-file hub-cert.pem\n  syncdb remote add local localhost:7700 --token-file hub.token"
    )]
    Add {
        /// A name for it (1-64 of A-Z a-z 0-9 _ -).
        name: String,
        /// ws://HOST:PORT, wss://HOST:PORT, or HOST:PORT (ws:// on loopback,
        /// wss:// elsewhere, as `serve` does).
        url: String,
        /// Another hub serving the folder over the same store, tried when
        /// the ones before cannot be reached (repeat for more).
        #[arg(long, value_name = "URL", value_hint = clap::ValueHint::Url)]
        failover: Vec<String>,
        /// File holding the access token (mode 0600; never in argv).
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        token_file: Option<PathBuf>,
        /// PEM CA certificate to trust for a wss:// hub with a private
        /// certificate; a self-signed certificate here is trusted as itself.
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        ca_file: Option<PathBuf>,
    },
    /// List the remotes with their connection state.
    #[command(after_help = "Examples:\n  syncdb remote ls\n  syncdb remote ls --json")]
    Ls,
    /// Remove a remote and stop syncing with it.
    #[command(after_help = "Example:\n  syncdb remote rm hub")]
    Rm {
        /// The remote's name (as in `syncdb remote ls`).
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FolderCommand {
    /// List registered folders: id, path, engine, remotes, whether the path is there.
    #[command(after_help = "Example:\n  syncdb folder ls --json")]
    Ls,
    /// Forget a folder: stop syncing it and unregister it; its files stay
    /// unless --delete-files.
    ///
    /// With --delete-files, its database files and .syncdb/ are deleted too
    /// (the directory as well, if that empties it); this asks for
    /// confirmation on a terminal, and elsewhere needs --yes. Other
    /// replicas of the folder are not touched.
    #[command(
        after_help = "Examples:\n  syncdb folder rm ~/old-crm\n  syncdb folder rm 7d50e492-173c-44eb-995c-6f5cb3b079c9 --delete-files --yes"
    )]
    Rm {
        /// The folder's path or id (as `syncdb folder ls` shows).
        folder: String,
        /// Also delete its databases and .syncdb/.
        #[arg(long)]
        delete_files: bool,
        /// Do not ask before deleting files (for scripts).
        #[arg(short, long, requires = "delete_files")]
        yes: bool,
    },
    /// Move a folder and keep it registered; or re-point one moved by hand.
    ///
    /// If OLD is still there, the directory is renamed to NEW (same file
    /// system) and the registration follows. If OLD is gone and NEW is the
    /// same folder (moved by hand), only the registration moves. Either way
    /// its id and remotes stay.
    #[command(
        after_help = "Examples:\n  syncdb folder mv ~/crm ~/work/crm\n  mv ~/crm ~/work/crm && syncdb folder mv ~/crm ~/work/crm"
    )]
    Mv {
        /// The folder's registered path or id.
        old: String,
        /// Its new path.
        new: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (shown once; only its hash is kept).
    #[command(
        after_help = "Example:\n  syncdb token create --folder 7d50e492-173c-44eb-995c-6f5cb3b079c9 --read-only > reader.token"
    )]
    Create {
        /// Only this folder id [default: every folder served here].
        #[arg(long, value_name = "ID")]
        folder: Option<String>,
        /// May pull, never push.
        #[arg(long)]
        read_only: bool,
    },
    /// List tokens (ids and scopes; never the secrets).
    #[command(after_help = "Example:\n  syncdb token ls")]
    Ls,
    /// Revoke a token by id; sessions using it end at once.
    #[command(after_help = "Example:\n  syncdb token revoke 3f2a9c1e")]
    Revoke {
        /// The token's id (as in `syncdb token ls`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run the daemon in the foreground (for systemd, launchd and debugging); logs to stderr.
    #[command(after_help = "Example:\n  SYNCDB_HOME=/tmp/h syncdb daemon run -vv")]
    Run {
        /// Log to this file (rotated) instead of stderr; used by `daemon start`.
        #[arg(long, hide = true, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        log_file: Option<PathBuf>,
    },
    /// Start the daemon in the background if it is not running.
    #[command(after_help = "Example:\n  syncdb daemon start -q")]
    Start,
    /// Stop the running daemon and wait until it has exited.
    #[command(after_help = "Example:\n  syncdb daemon stop")]
    Stop,
    /// Say whether the daemon runs (exit code 4 if not).
    #[command(after_help = "Example:\n  syncdb daemon status -q || syncdb daemon start")]
    Status,
}

/// `syncdb serve`'s flags.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// IP:PORT or localhost:PORT to listen on (port 0 picks a free one).
    /// Without it: where it serves now (then other flags add to what is
    /// served), or 127.0.0.1:7700.
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<String>,
    /// PEM certificate chain, for wss:// (with --tls-key).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key, for wss:// (with --tls-cert).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub tls_key: Option<PathBuf>,
    /// Create folders under DIR when an authorized client asks for one this hub lacks.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub create_folders: Option<PathBuf>,
    /// Keep the served folders, their tokens and replica owners in this
    /// PostgreSQL database, which other hubs may share: `host=… user=…
    /// dbname=… password_file=FILE` or postgres://USER@HOST/DB. Kept in the
    /// config (shown without its password).
    #[arg(long, value_name = "CONNINFO", value_hint = clap::ValueHint::Other)]
    pub store: Option<String>,
    /// Serve plain ws:// on an address beyond loopback (tokens cross the network in clear).
    #[arg(long)]
    pub insecure: bool,
    /// Serve the HTTP API on this port too (the routes and token rules of `syncdb http`).
    #[arg(long)]
    pub api: bool,
    /// Stop serving.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "create_folders", "store", "insecure", "api"])]
    pub stop: bool,
}
