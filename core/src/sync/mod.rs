//! The sync protocol, without I/O: message types and their binary codec
//! ([`wire`]), and the per-connection state machine ([`session`]) that turns
//! messages in into messages and storage actions out. The daemon drives it
//! over a WebSocket; tests drive it in-process with real databases.

pub mod session;
pub mod wire;

pub use session::{Action, Local, Note, Session, SessionConfig, SessionEvent, Standing};
pub use wire::{Message, PROTOCOL_VERSION, Reject};
