//! `wire::decode` on fuzz bytes, and on valid frames edited by them; whatever
//! decodes re-encodes (no longer) and decodes to the same message.

#![no_main]

#[allow(dead_code)]
#[path = "../../core/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::frame_decode(data));
