//! The JSON-RPC line reader (`LineBuffer`) against a plain split on newlines,
//! and `Request`/`Incoming` parsing of every line; responses echo the id.

#![no_main]

#[allow(dead_code)]
#[path = "../../core/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::jsonrpc_lines(data));
