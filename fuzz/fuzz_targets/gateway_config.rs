//! cargo-fuzz entry point for the `gateway_config` target (body in `tenuo_fuzz_targets`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenuo_fuzz_targets::gateway::run_config(data));
