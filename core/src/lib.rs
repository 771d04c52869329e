//! syncdb-core: everything syncdb knows that needs no async runtime, socket
//! or terminal. Layers, bottom up:
//!
//! - [`names`], [`version`]: parsed names and keys; HLC versions and site ids.
//! - [`doc`], [`record`]: JSON documents and a record's replicated state,
//!   with field-level last-writer-wins merge (a join-semilattice).
//! - [`store`]: the storage trait and its two engines, redb and SQLite.
//! - [`db`]: one replica: merge rules, seqs, drop markers and the change feed
//!   over any engine.
//! - [`schema`], [`migrate`]: a database's schema, its JSON Schemas and what
//!   they allow; the steps that move data to a new version.
//! - [`query`], [`index`], [`find`]: conditions and orders over documents;
//!   secondary indexes (their entries, kept by `db`'s merges); how a query
//!   runs, through an index or by reading the collection.
//! - [`folder`], [`paths`], [`config`]: where things live on disk.
//! - [`sync`]: the sync protocol as messages, a codec and a sans-IO state machine.
//! - [`ipc`]: the JSON-RPC messages between the command and the daemon.
//! - [`words`]: counts and figures in words for people ("1 record").

pub mod backup;
pub mod config;
pub mod db;
pub mod doc;
pub mod find;
pub mod folder;
pub mod history;
pub mod index;
pub mod ipc;
pub mod migrate;
pub mod names;
pub mod paths;
pub mod query;
pub mod record;
pub mod schema;
pub mod store;
pub mod sync;
pub mod version;
pub mod words;

pub use db::{Database, OpOutcome, Reader, WriteOp};
pub use doc::Document;
pub use names::{Address, Key, Name};
pub use store::{Change, EngineKind, Item};
pub use version::{SiteId, Version};
