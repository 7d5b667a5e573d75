//! cargo-fuzz entry point for the `cbor_value` target (body in `tenuo_fuzz_targets`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenuo_fuzz_targets::cbor_value::run(data));
