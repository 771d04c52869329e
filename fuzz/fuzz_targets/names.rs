//! `Name::parse_as`, `Key::parse`, `Address::parse`: never panic, accept exactly
//! the rule, and re-display what they accept as typed.

#![no_main]

#[allow(dead_code)]
#[path = "../../core/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::names(data));
