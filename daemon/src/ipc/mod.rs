//! The local IPC server: a 0600 socket in a 0700 directory, peers of another
//! uid refused at accept, a cap on connections, then JSON-RPC per connection.

pub(crate) mod backup;
mod connection;
pub(crate) mod errors;
pub mod find;
pub(crate) mod folders;
pub mod handlers;
mod history;
pub(crate) mod http;
pub(crate) mod import;
mod index;
mod repair;
mod reset;
pub mod schema;
mod server;
mod sync_handlers;
mod sync_stream;
mod watch;

pub use server::{bind, serve};
