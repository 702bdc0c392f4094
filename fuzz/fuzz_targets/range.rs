#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cinemahalal_server::range::fuzz_range(data));
