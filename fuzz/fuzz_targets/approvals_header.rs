//! cargo-fuzz entry point for the `approvals_header` target (body in `tenuo_fuzz_targets`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenuo_fuzz_targets::approvals_header::run(data));
