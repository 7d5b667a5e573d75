//! cargo-fuzz entry point for the `extract` target (body in `tenuo_fuzz_targets`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenuo_fuzz_targets::gateway::run_extract(data));
