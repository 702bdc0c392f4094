#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cinemahalal_engine::metainfo_check::fuzz_check_torrent(data));
