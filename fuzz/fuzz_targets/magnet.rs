#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cinemahalal_magnet::fuzz_magnet(data));
