//! cargo-fuzz entry point for the `pop_header` target (body in `tenuo_fuzz_targets`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenuo_fuzz_targets::pop_header::run(data));
