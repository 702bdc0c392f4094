//! The wire contract in TypeScript, generated from the Rust types in [`crate::wire`],
//! [`crate::error`], the engine and the search: `ui/src/lib/contract.ts` is this
//! module's output, checked in, and a test fails (and rewrites it) when it drifts. A
//! type that an answer uses but that is missing from [`typescript`]'s list fails too.

use std::collections::BTreeSet;

use ts_rs::{Config, TS};

use crate::error::{ApiError, ErrorCode};
use crate::wire::{
    CacheCleared, Health, HistoryEntry, HistoryForgotten, HistoryList, HlsQuery, ProviderList,
    ProviderTest, ProviderTestResult, SavePosition, SearchRequest, Stopped, StreamList,
    StreamReady, StreamRequest,
};
use cinemahalal_engine::{
    ByteRange, CacheInfo, CachedTorrent, PeerKind, Peers, StreamInfo, StreamState, StreamStatus,
    TorrentFile,
};
use cinemahalal_media::{
    AudioTrack, MediaProbe, PlaybackMode, SubtitleKind, SubtitleTrack, VideoInfo,
};
use cinemahalal_search::{
    Provider, ProviderFailure, ProviderKind, Quality, ReleaseSource, Resolution, SearchResponse,
    SearchResult,
};

/// Where the generated file lives, from this crate's directory.
pub const TYPESCRIPT_PATH: &str = "../../ui/src/lib/contract.ts";

const HEADER: &str = "\
// The HTTP API's and the Tauri commands' JSON, generated from the Rust wire types by
// crates/server/src/contract.rs. Do not edit: `cargo test -p cinemahalal-server contract`
// rewrites this file when a Rust type changes (and fails once, so the change is seen).
";

/// Collects declarations, remembering which names were declared and which were used.
struct Contract {
    cfg: Config,
    text: String,
    declared: BTreeSet<String>,
    used: BTreeSet<String>,
}

impl Contract {
    fn declare<T: TS + 'static>(&mut self) {
        self.text.push_str(&declaration::<T>(&self.cfg));
        self.text.push_str("\n\n");
        self.declared.insert(T::ident(&self.cfg));
        for dep in T::dependencies(&self.cfg) {
            self.used.insert(dep.ts_name);
        }
    }
}

/// How we render: 64-bit integers as `number` (sizes and offsets stay far below 2^53).
pub fn config() -> Config {
    Config::new().with_large_int("number")
}

/// Every wire type, declared in TypeScript, in one file.
pub fn typescript() -> String {
    let mut c = Contract {
        cfg: config(),
        text: HEADER.to_owned() + "\n",
        declared: BTreeSet::new(),
        used: BTreeSet::new(),
    };
    // Errors.
    c.declare::<ErrorCode>();
    c.declare::<ApiError>();
    // Streams.
    c.declare::<Health>();
    c.declare::<StreamRequest>();
    c.declare::<TorrentFile>();
    c.declare::<StreamInfo>();
    c.declare::<StreamReady>();
    c.declare::<StreamList>();
    c.declare::<Stopped>();
    c.declare::<StreamState>();
    c.declare::<ByteRange>();
    c.declare::<PeerKind>();
    c.declare::<Peers>();
    c.declare::<StreamStatus>();
    // The cache.
    c.declare::<CachedTorrent>();
    c.declare::<CacheInfo>();
    c.declare::<CacheCleared>();
    // Search and its providers.
    c.declare::<SearchRequest>();
    c.declare::<Resolution>();
    c.declare::<ReleaseSource>();
    c.declare::<Quality>();
    c.declare::<SearchResult>();
    c.declare::<ProviderFailure>();
    c.declare::<SearchResponse>();
    c.declare::<ProviderKind>();
    c.declare::<Provider>();
    c.declare::<ProviderList>();
    c.declare::<ProviderTest>();
    c.declare::<ProviderTestResult>();
    // The watch history.
    c.declare::<HistoryEntry>();
    c.declare::<HistoryList>();
    c.declare::<SavePosition>();
    c.declare::<HistoryForgotten>();
    c.declare::<PlaybackMode>();
    c.declare::<VideoInfo>();
    c.declare::<AudioTrack>();
    c.declare::<SubtitleKind>();
    c.declare::<SubtitleTrack>();
    c.declare::<MediaProbe>();
    c.declare::<HlsQuery>();

    let missing: Vec<_> = c.used.difference(&c.declared).collect();
    assert!(
        missing.is_empty(),
        "wire types used but not declared in the contract: {missing:?}"
    );
    c.text.trim_end().to_owned() + "\n"
}

/// For tests of generated files: passes when `path` holds `generated`; otherwise writes
/// it there and panics, so the drift fails the run once and the new file can be reviewed
/// and committed.
pub fn assert_generated_file(path: &std::path::Path, generated: &str) {
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    if on_disk != generated {
        std::fs::write(path, generated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        panic!(
            "{} did not match what the Rust types generate; it has been rewritten: review and commit it",
            path.display()
        );
    }
}

/// TypeScript's name for `T` and its declaration, with its docs, exported.
pub fn declaration<T: TS>(cfg: &Config) -> String {
    T::docs().unwrap_or_default() + "export " + &T::decl(cfg)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_checked_in_typescript_contract_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::TYPESCRIPT_PATH);
        super::assert_generated_file(&path, &super::typescript());
    }

    #[test]
    fn large_integers_are_numbers_and_optional_fields_are_optional() {
        let ts = super::typescript();
        assert!(!ts.contains("bigint"), "{ts}");
        assert!(ts.contains("magnet?: string"), "{ts}");
        assert!(
            ts.contains("export type ErrorCode = \"METADATA_TIMEOUT\""),
            "{ts}"
        );
    }
}
