//! Record states built from fuzz bytes: merge is commutative, associative and
//! idempotent, and the visible document is valid JSON.

#![no_main]

#[allow(dead_code)]
#[path = "../../core/tests/fuzz_checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::merge(data));
