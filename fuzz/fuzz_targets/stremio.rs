#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cinemahalal_search::fuzzing::fuzz_stremio(data));
