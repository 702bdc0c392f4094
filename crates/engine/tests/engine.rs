//! `Engine` driven directly, on a real swarm on 127.0.0.1: a seeding librqbit session
//! (`cinemahalal-testkit`, DHT off) and the engine in `loopback_only` mode, peers given
//! by the magnet's `x.pe`. No HTTP here: these are the engine's own promises.

use std::future::Future;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cinemahalal_engine::{
    ByteRange, Engine, EngineConfig, EngineError, InfoHash, PeerKind, Source, StreamInfo,
    StreamState, StreamStatus,
};
use cinemahalal_testkit::{Seeder, SeederOptions, SilentPeer};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const MIB: usize = 1 << 20;

/// Every test body runs under this limit, so that a hang fails instead of stalling the
/// run. Nothing is asserted about how fast anything is.
const TEST_LIMIT: Duration = Duration::from_secs(180);

async fn within_limit<T>(body: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, body)
        .await
        .expect("the test did not finish within its limit")
}

/// An engine on 127.0.0.1 with its own data folder, config adjusted by `f`.
struct TestEngine {
    engine: Arc<Engine>,
    data_dir: tempfile::TempDir,
}

impl TestEngine {
    async fn start(f: impl FnOnce(&mut EngineConfig)) -> TestEngine {
        let data_dir = tempfile::Builder::new()
            .prefix("cinemahalal-engine-test")
            .tempdir()
            .unwrap();
        TestEngine::start_in(data_dir, f).await
    }

    /// An engine on a data folder an earlier engine used.
    async fn start_in(
        data_dir: tempfile::TempDir,
        f: impl FnOnce(&mut EngineConfig),
    ) -> TestEngine {
        let mut config = EngineConfig::loopback_only(data_dir.path());
        config.metadata_timeout = Duration::from_secs(30);
        config.no_seeds_timeout = Duration::from_secs(15);
        // The tests' caps are their own: how full the machine's disk is must not evict
        // (tests of the free-space rule set it themselves).
        config.cache_min_free_bytes = 0;
        f(&mut config);
        let engine = Engine::start(config).await.unwrap();
        TestEngine { engine, data_dir }
    }

    /// Where a stream's data lives.
    fn stream_dir(&self, info_hash: &str) -> PathBuf {
        self.data_dir.path().join("downloads").join(info_hash)
    }

    /// Whatever is in `downloads/`.
    fn downloads(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.data_dir.path().join("downloads"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    async fn prepare(&self, link: &str, file_index: Option<usize>) -> StreamInfo {
        let source = Source::parse_link(link).unwrap();
        match self.engine.prepare(source, file_index).await {
            Ok(info) => info,
            Err(e) => panic!("prepare {link}: {e:?}"),
        }
    }

    async fn prepare_err(&self, source: Source, file_index: Option<usize>) -> EngineError {
        match self.engine.prepare(source, file_index).await {
            Ok(info) => panic!("prepared, though it should fail: {info:?}"),
            Err(e) => e,
        }
    }

    fn status(&self, info_hash: InfoHash) -> StreamStatus {
        self.engine.status(info_hash, None).unwrap()
    }

    async fn stop(self) {
        self.engine.shutdown().await;
    }

    /// Shuts the engine down and answers its data folder, for the next one.
    async fn shut_down(self) -> tempfile::TempDir {
        self.engine.shutdown().await;
        self.data_dir
    }
}

/// Reads `len` bytes at `offset` of one file of a stream through a fresh reader.
async fn read_at(
    engine: &Engine,
    info_hash: InfoHash,
    file_index: Option<usize>,
    offset: u64,
    len: usize,
) -> Vec<u8> {
    let mut reader = engine.open(info_hash, file_index).await.unwrap();
    assert_eq!(reader.seek(SeekFrom::Start(offset)).await.unwrap(), offset);
    let mut buf = vec![0; len];
    reader.read_exact(&mut buf).await.unwrap();
    buf
}

/// Polls `f` every 25 ms until it gives `Some` (the test's overall limit ends a wait
/// that never does).
async fn eventually<T>(mut f: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The message of an `InvalidRequest` or `InvalidTorrent` (both `INVALID_REQUEST` on the
/// wire); anything else fails the test.
fn invalid_request(result: Result<(), EngineError>) -> String {
    match result {
        Err(EngineError::InvalidRequest(message) | EngineError::InvalidTorrent(message)) => message,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn covers(ranges: &[ByteRange], start: u64, end: u64) -> bool {
    ranges.iter().any(|r| r.start <= start && end <= r.end)
}

fn overlaps(ranges: &[ByteRange], start: u64, end: u64) -> bool {
    ranges.iter().any(|r| r.start < end && start < r.end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_describes_the_torrent_and_stop_removes_its_data() {
    within_limit(async {
        let seeder = Seeder::random(
            &[
                ("extras/sample.mp4", 100_000),
                ("movie.mkv", 3 * MIB),
                ("readme.txt", 2_000),
            ],
            Default::default(),
        )
        .await
        .unwrap();
        let t = TestEngine::start(|_| {}).await;
        let hash: InfoHash = seeder.info_hash().parse().unwrap();

        // Two requests at once for one torrent: one stream, one answer.
        let magnet = seeder.magnet();
        let (a, b) = tokio::join!(t.prepare(&magnet, None), t.prepare(&magnet, None));
        assert_eq!(t.engine.active_streams(), 1);
        let info = a;
        assert_eq!(info.info_hash, hash);
        assert_eq!(info.name, "swarm-test");
        // The largest video plays by default.
        let movie = info
            .files
            .iter()
            .find(|f| f.path == "movie.mkv")
            .expect("movie.mkv is listed");
        assert_eq!(info.file_index, movie.index);
        assert_eq!(info.video_file, "movie.mkv");
        assert_eq!(info.size, 3 * MIB as u64);
        assert_eq!(info.mime_type, "video/x-matroska");
        assert!(info.is_default_file);
        let mut listed: Vec<(&str, u64, bool)> = info
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.size, f.is_video))
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                ("extras/sample.mp4", 100_000, true),
                ("movie.mkv", 3 * MIB as u64, true),
                ("readme.txt", 2_000, false),
            ]
        );
        assert!(info.files.iter().enumerate().all(|(i, f)| f.index == i));
        assert_eq!(
            (b.info_hash, b.file_index, b.files),
            (hash, info.file_index, info.files.clone())
        );

        // Another file of the same stream, by index: same stream, not the default.
        let sample = info
            .files
            .iter()
            .find(|f| f.path == "extras/sample.mp4")
            .unwrap()
            .index;
        let other = t.prepare(&magnet, Some(sample)).await;
        assert_eq!(t.engine.active_streams(), 1);
        assert_eq!(
            (other.file_index, other.video_file.as_str(), other.size),
            (sample, "sample.mp4", 100_000)
        );
        assert_eq!(other.mime_type, "video/mp4");
        assert!(!other.is_default_file);
        let again = t.engine.info(hash, None).unwrap();
        assert_eq!(again.file_index, info.file_index);
        let listed = t.engine.list();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].file_index, info.file_index);

        // Both files read whole, byte for byte.
        let body = read_at(&t.engine, hash, None, 0, 3 * MIB).await;
        assert!(
            body == seeder.read("movie.mkv").unwrap(),
            "movie.mkv differs"
        );
        let body = read_at(&t.engine, hash, Some(sample), 0, 100_000).await;
        assert!(body == seeder.read("extras/sample.mp4").unwrap());

        // Stop: the data goes, and the stream is unknown from then on.
        let dir = t.stream_dir(seeder.info_hash());
        assert!(dir.join("movie.mkv").is_file(), "{}", dir.display());
        t.engine.stop(hash).await.unwrap();
        assert!(!dir.exists(), "stop must remove {}", dir.display());
        assert!(t.downloads().is_empty(), "{:?}", t.downloads());
        assert_eq!(t.engine.active_streams(), 0);
        assert!(t.engine.list().is_empty());
        let gone = t.engine.status(hash, None).unwrap_err();
        assert!(
            matches!(gone, EngineError::NotFound(h) if h == hash),
            "{gone:?}"
        );
        assert!(matches!(
            t.engine.info(hash, None),
            Err(EngineError::NotFound(_))
        ));
        assert!(matches!(
            t.engine.open(hash, None).await,
            Err(EngineError::NotFound(_))
        ));
        assert!(matches!(
            t.engine.stop(hash).await,
            Err(EngineError::NotFound(_))
        ));
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_at_an_offset_gets_exact_bytes_not_yet_downloaded() {
    within_limit(async {
        // A slow seeder: left alone, the download reaches two thirds of the file only
        // after some 40 s, so what the reader asks for there is not on disk yet (the
        // status checks it first); the reader's pieces are fetched ahead of the rest.
        let size = 24 * MIB;
        let seeder = Seeder::random(
            &[("long.mp4", size)],
            SeederOptions {
                piece_length: Some(64 * 1024),
                upload_bps: Some(384 * 1024),
            },
        )
        .await
        .unwrap();
        let t = TestEngine::start(|_| {}).await;
        let info = t.prepare(&seeder.magnet(), None).await;
        assert_eq!((info.size, info.file_index), (size as u64, 0));
        let hash = info.info_hash;
        let expected = seeder.read("long.mp4").unwrap();

        // Not piece-aligned, across piece boundaries, two thirds in: clear of the start
        // the download begins with and of the last piece librqbit fetches early.
        let (offset, len) = ((size / 3 * 2) as u64 + 12_345, 150_000);
        let before = t.status(hash);
        assert!(
            !overlaps(&before.available_ranges, offset, offset + len as u64),
            "{:?}",
            before.available_ranges
        );
        let got = read_at(&t.engine, hash, None, offset, len).await;
        assert!(
            got == expected[offset as usize..][..len],
            "bytes at {offset} differ"
        );

        // The pieces under the reader are on disk now.
        let after = t.status(hash);
        assert!(
            covers(&after.available_ranges, offset, offset + len as u64),
            "{:?}",
            after.available_ranges
        );
        assert!(after.downloaded_bytes >= len as u64);

        // A seek back reads the start just as exactly, through the same reader.
        let mut reader = t.engine.open(hash, None).await.unwrap();
        reader.seek(SeekFrom::Start(offset)).await.unwrap();
        let mut buf = vec![0; 1000];
        reader.read_exact(&mut buf).await.unwrap();
        assert!(buf == expected[offset as usize..][..1000]);
        reader.seek(SeekFrom::Start(7)).await.unwrap();
        reader.read_exact(&mut buf).await.unwrap();
        assert!(buf == expected[7..1007]);
        drop(reader);
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_readers_wait_at_once_and_all_get_their_bytes() {
    within_limit(async {
        // With the default reader cap, a hundred readers are open at once, each waiting
        // at its own offset of a file a slow seeder has barely started to send; none is
        // refused, and waiting ones hold up neither each other nor the download.
        const READERS: usize = 100;
        const LEN: usize = 16 * 1024;
        let size = 8 * MIB;
        let seeder = Seeder::random(
            &[("many.mp4", size)],
            SeederOptions {
                piece_length: Some(64 * 1024),
                upload_bps: Some(MIB as u32),
            },
        )
        .await
        .unwrap();
        let t = TestEngine::start(|c| c.reader_wait = Duration::from_secs(2)).await;
        let info = t.prepare(&seeder.magnet(), None).await;
        let expected = Arc::new(seeder.read("many.mp4").unwrap());

        let mut readers = Vec::with_capacity(READERS);
        for i in 0..READERS {
            let mut reader = match t.engine.open(info.info_hash, None).await {
                Ok(reader) => reader,
                Err(e) => panic!("reader {i} of {READERS}: {e:?}"),
            };
            let offset = (i * (size - LEN) / (READERS - 1)) as u64;
            reader.seek(SeekFrom::Start(offset)).await.unwrap();
            readers.push((offset, reader));
        }
        let reads = readers.into_iter().map(|(offset, mut reader)| {
            let expected = expected.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; LEN];
                reader.read_exact(&mut buf).await.unwrap();
                assert!(
                    buf == expected[offset as usize..][..LEN],
                    "bytes at {offset} differ"
                );
            })
        });
        for read in reads.collect::<Vec<_>>() {
            read.await.unwrap();
        }
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_a_stream_from_metadata_to_complete() {
    within_limit(async {
        let size = 4 * MIB;
        let seeder = Seeder::random(
            &[("clip.mp4", size)],
            SeederOptions {
                piece_length: Some(64 * 1024),
                upload_bps: Some(MIB as u32),
            },
        )
        .await
        .unwrap();
        let t = TestEngine::start(|c| c.metadata_timeout = Duration::from_secs(8)).await;
        let hash: InfoHash = seeder.info_hash().parse().unwrap();
        assert!(matches!(
            t.engine.status(hash, None),
            Err(EngineError::NotFound(_))
        ));

        // A peer that never answers: while metadata is awaited, status says so; then the
        // time limit ends the wait, and nothing of the attempt is left.
        let silent = SilentPeer::start().await.unwrap();
        let blind = format!("magnet:?xt=urn:btih:{hash}&dn=clip&x.pe={}", silent.addr);
        let pending = {
            let engine = t.engine.clone();
            let source = Source::parse_link(&blind).unwrap();
            tokio::spawn(async move { engine.prepare(source, None).await })
        };
        let waiting = eventually(|| t.engine.status(hash, None).ok()).await;
        assert_eq!(waiting.state, StreamState::FetchingMetadata);
        assert_eq!((waiting.info_hash, waiting.file_index), (hash, None));
        assert_eq!((waiting.size, waiting.downloaded_bytes), (0, 0));
        let err = pending.await.unwrap().unwrap_err();
        assert!(matches!(err, EngineError::MetadataTimeout(_)), "{err:?}");
        assert!(matches!(
            t.engine.status(hash, None),
            Err(EngineError::NotFound(_))
        ));
        assert!(t.downloads().is_empty(), "{:?}", t.downloads());

        // With the seeder's address, it becomes a stream and downloads on its own.
        let info = t.prepare(&seeder.magnet(), None).await;
        let first = t.status(hash);
        assert!(
            matches!(first.state, StreamState::Ready | StreamState::Connecting),
            "{first:?}"
        );
        assert_eq!(
            (first.file_index, first.size),
            (Some(info.file_index), size as u64)
        );
        assert!(first.peers.known >= 1, "{first:?}");
        assert!(first.message.is_none(), "{first:?}");
        let mut last = first.downloaded_bytes;
        let done = loop {
            let s = t.status(hash);
            assert!(s.downloaded_bytes >= last, "went back: {s:?}");
            assert!((0.0..=1.0).contains(&s.progress), "{s:?}");
            assert!(
                s.available_ranges
                    .iter()
                    .map(|r| r.end - r.start)
                    .sum::<u64>()
                    <= s.size
            );
            last = s.downloaded_bytes;
            if s.progress == 1.0 {
                break s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(done.state, StreamState::Ready);
        assert_eq!(done.downloaded_bytes, size as u64);
        // The seeder is one peer, over TCP or uTP (librqbit tries both): every byte came
        // through it, and no WebRTC peer is counted.
        let by_transport = [done.peers.tcp, done.peers.utp];
        assert_eq!(
            by_transport.iter().map(|k| k.connected).sum::<u32>(),
            done.peers.connected,
            "{done:?}"
        );
        assert!(
            by_transport.iter().map(|k| k.downloaded_bytes).sum::<u64>() >= size as u64,
            "{done:?}"
        );
        assert_eq!(done.peers.webrtc, PeerKind::default(), "{done:?}");
        assert_eq!(
            done.available_ranges,
            [ByteRange {
                start: 0,
                end: size as u64
            }]
        );
        t.stop().await;
    })
    .await
}

/// A link whose only trackers are WebSocket ones, none of which brings a browser peer,
/// fails with NO_SEEDS saying so, not as a link that names no tracker; with WebRTC off it
/// says that WebRTC is off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_only_link_with_no_browser_peer_says_why() {
    within_limit(async {
        // Nothing listens on the tracker's port: its client retries, no peer ever comes.
        let link = format!(
            "magnet:?xt=urn:btih:{}&tr=ws%3A%2F%2F127.0.0.1%3A9%2Fannounce",
            "ab".repeat(20)
        );
        let t = TestEngine::start(|c| c.metadata_timeout = Duration::from_secs(2)).await;
        let err = t
            .prepare_err(Source::parse_link(&link).unwrap(), None)
            .await;
        assert!(
            matches!(&err, EngineError::NoSeeds(m) if m.contains("WebSocket trackers within 2 s")),
            "{err:?}"
        );
        // And why the tracker brought none: it cannot be reached.
        assert!(
            matches!(&err, EngineError::NoSeeds(m)
                if m.contains("(ws://127.0.0.1:9/announce: ") && m.contains("refused")),
            "{err:?}"
        );
        assert!(t.engine.list().is_empty());

        let t = TestEngine::start(|c| c.webrtc = false).await;
        let err = t
            .prepare_err(Source::parse_link(&link).unwrap(), None)
            .await;
        assert!(
            matches!(&err, EngineError::NoSeeds(m) if m.contains("WebRTC is off")),
            "{err:?}"
        );
    })
    .await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_preparations_say_why_and_leave_nothing() {
    within_limit(async {
        let seeder = Seeder::random(
            &[("film.mp4", 200_000), ("notes.txt", 1_000)],
            Default::default(),
        )
        .await
        .unwrap();
        let text_only = Seeder::random(&[("notes.txt", 5_000)], Default::default())
            .await
            .unwrap();
        let gone = Seeder::random(&[("gone.mp4", 200_000)], Default::default())
            .await
            .unwrap();
        let gone_torrent = bytes::Bytes::copy_from_slice(gone.torrent());
        gone.stop().await;
        let t = TestEngine::start(|c| c.no_seeds_timeout = Duration::from_secs(2)).await;

        // An unknown torrent with no peer to ask: DHT off, no tracker, no x.pe.
        let unknown: InfoHash = "cd".repeat(20).parse().unwrap();
        let err = t.prepare_err(Source::InfoHash(unknown), None).await;
        assert!(matches!(err, EngineError::NoSeeds(_)), "{err:?}");
        let link = format!("magnet:?xt=urn:btih:{unknown}&dn=nothing");
        let err = t
            .prepare_err(Source::parse_link(&link).unwrap(), None)
            .await;
        assert!(matches!(err, EngineError::NoSeeds(_)), "{err:?}");

        // A peer that answers but does not have it.
        let link = format!("magnet:?xt=urn:btih:{unknown}&x.pe={}", seeder.addr());
        let err = t
            .prepare_err(Source::parse_link(&link).unwrap(), None)
            .await;
        assert!(matches!(err, EngineError::MetadataTimeout(_)), "{err:?}");

        // Metadata known from the .torrent file, but its only seeder is gone.
        let err = t.prepare_err(Source::Torrent(gone_torrent), None).await;
        assert!(matches!(err, EngineError::NoSeeds(_)), "{err:?}");

        // Not a .torrent file at all.
        let junk = Source::Torrent(bytes::Bytes::from_static(b"not bencode"));
        let message = invalid_request(t.engine.prepare(junk, None).await.map(drop));
        assert!(message.starts_with("invalid .torrent file"), "{message}");

        // Nothing to play.
        let err = t
            .prepare_err(Source::parse_link(&text_only.magnet()).unwrap(), None)
            .await;
        assert!(
            matches!(err, EngineError::NoVideoFile { files: 1 }),
            "{err:?}"
        );

        // A file index past the torrent's files, before it streams: nothing is added.
        let hash: InfoHash = seeder.info_hash().parse().unwrap();
        let source = Source::parse_link(&seeder.magnet()).unwrap();
        let message = invalid_request(t.engine.prepare(source, Some(2)).await.map(drop));
        assert_eq!(
            message,
            "fileIndex 2 is out of range: the torrent has 2 file(s)"
        );
        assert_eq!(t.engine.active_streams(), 0);
        assert!(t.downloads().is_empty(), "{:?}", t.downloads());

        // And once it streams, for every operation that takes an index.
        let info = t.prepare(&seeder.magnet(), None).await;
        assert_eq!(info.video_file, "film.mp4");
        let source = Source::parse_link(&seeder.magnet()).unwrap();
        let out_of_range = [
            invalid_request(t.engine.prepare(source, Some(2)).await.map(drop)),
            invalid_request(t.engine.info(hash, Some(2)).map(drop)),
            invalid_request(t.engine.status(hash, Some(usize::MAX)).map(drop)),
            invalid_request(t.engine.open(hash, Some(7)).await.map(drop)),
        ];
        for message in out_of_range {
            assert!(message.contains("is out of range"), "{message}");
        }
        // The stream itself is untouched.
        assert_eq!(t.engine.active_streams(), 1);
        assert_eq!(
            t.engine.info(hash, None).unwrap().file_index,
            info.file_index
        );
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_are_stopped_but_not_while_read_and_their_data_stays() {
    within_limit(async {
        let seeder = Seeder::random(&[("idle.mp4", MIB)], Default::default())
            .await
            .unwrap();
        let idle = Duration::from_millis(300);
        let t = TestEngine::start(|c| c.idle_timeout = idle).await;
        let info = t.prepare(&seeder.magnet(), None).await;
        let dir = t.stream_dir(seeder.info_hash());

        // An open reader keeps its stream, however long it stays open.
        let reader = t.engine.open(info.info_hash, None).await.unwrap();
        tokio::time::sleep(idle * 4).await;
        assert_eq!(t.engine.active_streams(), 1, "a reader keeps its stream");

        // Once it is closed, idle cleanup stops the stream; its data stays in the cache.
        drop(reader);
        eventually(|| (t.engine.active_streams() == 0).then_some(())).await;
        assert!(matches!(
            t.engine.status(info.info_hash, None),
            Err(EngineError::NotFound(_))
        ));
        assert!(dir.join("idle.mp4").is_file(), "{}", dir.display());
        let cache = t.engine.cache_info().await;
        assert_eq!(cache.torrents.len(), 1, "{cache:?}");
        assert_eq!(cache.torrents[0].info_hash, info.info_hash);
        assert!(!cache.torrents[0].active, "{cache:?}");
        assert_eq!(cache.used_bytes, cache.torrents[0].bytes);
        t.stop().await;
    })
    .await
}

/// Random bytes in a file of its own folder, so seeders can come and go on the same data.
fn random_file(name: &str, size: usize) -> (tempfile::TempDir, PathBuf) {
    use rand::RngCore;
    let dir = tempfile::Builder::new()
        .prefix("cinemahalal-seed")
        .tempdir()
        .unwrap();
    let path = dir.path().join(name);
    let mut bytes = vec![0; size];
    rand::rng().fill_bytes(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_played_before_prepares_from_the_cache_with_no_peer_even_after_a_restart() {
    within_limit(async {
        let size = 2 * MIB;
        let seeder = Seeder::random(&[("again.mp4", size)], Default::default())
            .await
            .unwrap();
        let expected = seeder.read("again.mp4").unwrap();
        let magnet = seeder.magnet();
        let idle = Duration::from_millis(300);
        let t = TestEngine::start(|c| {
            c.idle_timeout = idle;
            c.no_seeds_timeout = Duration::from_secs(2);
        })
        .await;
        let info = t.prepare(&magnet, None).await;
        let hash = info.info_hash;
        assert!(read_at(&t.engine, hash, None, 0, size).await == expected);

        // The seeder goes, the stream goes idle and is stopped: nothing is reachable.
        seeder.stop().await;
        eventually(|| (t.engine.active_streams() == 0).then_some(())).await;

        // Prepared again from the same link: its metadata and data come from the cache.
        let again = t.prepare(&magnet, None).await;
        assert_eq!(
            (again.info_hash, again.file_index, again.size),
            (hash, info.file_index, size as u64)
        );
        let status = t.status(hash);
        assert_eq!(status.downloaded_bytes, size as u64, "{status:?}");
        assert_eq!(status.peers.connected, 0, "{status:?}");
        assert_eq!(status.state, StreamState::Ready, "{status:?}");
        assert!(read_at(&t.engine, hash, None, 0, size).await == expected);

        // A restart keeps it too: the index and the .torrent file are on disk.
        let dir = t.shut_down().await;
        let t = TestEngine::start_in(dir, |c| c.no_seeds_timeout = Duration::from_secs(2)).await;
        let cache = t.engine.cache_info().await;
        assert_eq!(
            cache
                .torrents
                .iter()
                .map(|c| (c.info_hash, c.active))
                .collect::<Vec<_>>(),
            [(hash, false)]
        );
        assert!(cache.used_bytes >= size as u64, "{cache:?}");
        // By info hash alone: no peer, no DHT, yet it plays.
        let again = t.prepare(&hash.to_string(), None).await;
        assert_eq!(again.name, "again.mp4");
        assert!(read_at(&t.engine, hash, None, 0, size).await == expected);
        assert!(
            read_at(&t.engine, hash, None, 1_234_567, 1000).await == expected[1_234_567..][..1000]
        );
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_data_that_does_not_verify_is_never_served() {
    within_limit(async {
        let size = 2 * MIB;
        let (seed_dir, path) = random_file("check.mp4", size);
        let expected = std::fs::read(&path).unwrap();
        let opts = SeederOptions {
            piece_length: Some(64 * 1024),
            upload_bps: None,
        };
        let seeder = Seeder::seed(&path, opts.clone()).await.unwrap();
        let t = TestEngine::start(|c| c.no_seeds_timeout = Duration::from_secs(2)).await;
        let info = t.prepare(&seeder.magnet(), None).await;
        let hash = info.info_hash;
        assert!(read_at(&t.engine, hash, None, 0, size).await == expected);
        seeder.stop().await;
        let data_dir = t.shut_down().await;

        // Bytes of the cached file change while no engine runs (a bad disk, a tool).
        let cached = data_dir
            .path()
            .join("downloads")
            .join(hash.to_string())
            .join("check.mp4");
        let mut corrupt = std::fs::read(&cached).unwrap();
        for b in &mut corrupt[MIB..MIB + 100] {
            *b ^= 0xff;
        }
        std::fs::write(&cached, corrupt).unwrap();

        // The hash check drops that piece: status shows it missing, and a read of it
        // waits for a peer instead of serving what is on disk.
        let t =
            TestEngine::start_in(data_dir, |c| c.no_seeds_timeout = Duration::from_secs(2)).await;
        t.prepare(&hash.to_string(), None).await;
        let status = t.status(hash);
        assert_eq!(
            status.downloaded_bytes,
            size as u64 - 64 * 1024,
            "{status:?}"
        );
        assert!(
            !overlaps(&status.available_ranges, MIB as u64, MIB as u64 + 100),
            "{status:?}"
        );
        let mut reader = t.engine.open(hash, None).await.unwrap();
        reader.seek(SeekFrom::Start(MIB as u64)).await.unwrap();
        let mut buf = vec![0; 100];
        let waited =
            tokio::time::timeout(Duration::from_secs(1), reader.read_exact(&mut buf)).await;
        assert!(waited.is_err(), "a piece that failed its check was served");
        assert_eq!(t.status(hash).state, StreamState::Stalled);

        // A seeder returns: the piece comes from it, exact.
        let seeder = Seeder::seed(&path, opts).await.unwrap();
        assert!(t.engine.add_peer(hash, seeder.addr()).unwrap());
        reader.read_exact(&mut buf).await.unwrap();
        assert!(buf == expected[MIB..MIB + 100]);
        drop(reader);
        t.stop().await;
        drop(seed_dir);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_clear_cache_remove_data_but_never_an_active_streams() {
    within_limit(async {
        let a = Seeder::random(&[("a.mp4", MIB)], Default::default())
            .await
            .unwrap();
        let b = Seeder::random(&[("b.mp4", MIB)], Default::default())
            .await
            .unwrap();
        let c = Seeder::random(&[("c.mp4", MIB)], Default::default())
            .await
            .unwrap();
        let idle = Duration::from_millis(300);
        let t = TestEngine::start(|c| c.idle_timeout = idle).await;
        let mut hashes = Vec::new();
        for s in [&a, &b, &c] {
            let info = t.prepare(&s.magnet(), None).await;
            read_at(&t.engine, info.info_hash, None, 0, MIB).await;
            hashes.push(info.info_hash);
        }
        // `b` stays active, with a reader open; `a` and `c` go idle, into the cache.
        let reader = t.engine.open(hashes[1], None).await.unwrap();
        eventually(|| (t.engine.active_streams() == 1).then_some(())).await;
        let cache = t.engine.cache_info().await;
        assert_eq!(cache.torrents.len(), 3, "{cache:?}");
        assert!(cache.used_bytes >= 3 * MIB as u64, "{cache:?}");

        // Clearing removes the inactive ones, data and metadata, and says how much.
        let freed = t.engine.clear_cache().await;
        assert!(freed >= 2 * MIB as u64, "{freed}");
        assert!(!t.stream_dir(a.info_hash()).exists());
        assert!(!t.stream_dir(c.info_hash()).exists());
        assert!(t.stream_dir(b.info_hash()).join("b.mp4").is_file());
        let cache = t.engine.cache_info().await;
        assert_eq!(
            cache
                .torrents
                .iter()
                .map(|c| (c.info_hash, c.active))
                .collect::<Vec<_>>(),
            [(hashes[1], true)]
        );
        assert!(read_at(&t.engine, hashes[1], None, 0, MIB).await == b.read("b.mp4").unwrap());

        // Stop removes an active stream and its data at once, and it leaves the cache.
        drop(reader);
        t.engine.stop(hashes[1]).await.unwrap();
        assert!(t.downloads().is_empty(), "{:?}", t.downloads());
        assert!(t.engine.cache_info().await.torrents.is_empty());
        assert_eq!(t.engine.clear_cache().await, 0);
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_cap_evicts_inactive_torrents_only() {
    within_limit(async {
        let a = Seeder::random(&[("a.mp4", 2 * MIB)], Default::default())
            .await
            .unwrap();
        let b = Seeder::random(&[("b.mp4", 2 * MIB)], Default::default())
            .await
            .unwrap();
        let c = Seeder::random(&[("c.mp4", 2 * MIB)], Default::default())
            .await
            .unwrap();
        let idle = Duration::from_millis(300);
        // Room for two of the three files, not three.
        let t = TestEngine::start(|c| {
            c.idle_timeout = idle;
            c.cache_max_bytes = 5 * MIB as u64;
        })
        .await;
        // `a` then `b` are played and go idle: `a` is the least recently used.
        for s in [&a, &b] {
            let info = t.prepare(&s.magnet(), None).await;
            read_at(&t.engine, info.info_hash, None, 0, 2 * MIB).await;
            eventually(|| (t.engine.active_streams() == 0).then_some(())).await;
            tokio::time::sleep(Duration::from_millis(1100)).await; // last-use times differ
        }
        // `c` plays, and stays active: over the cap, `a` goes, `b` and `c` stay.
        let info = t.prepare(&c.magnet(), None).await;
        let reader = t.engine.open(info.info_hash, None).await.unwrap();
        read_at(&t.engine, info.info_hash, None, 0, 2 * MIB).await;
        eventually(|| (!t.stream_dir(a.info_hash()).exists()).then_some(())).await;
        assert!(t.stream_dir(b.info_hash()).join("b.mp4").is_file());
        assert!(t.stream_dir(c.info_hash()).join("c.mp4").is_file());
        let cache = t.engine.cache_info().await;
        assert!(cache.used_bytes <= 5 * MIB as u64, "{cache:?}");
        assert_eq!(cache.max_bytes, 5 * MIB as u64);
        drop(reader);
        let dir = t.shut_down().await;

        // A smaller cap at the next start evicts down to it, least recently used first.
        let t = TestEngine::start_in(dir, |c| c.cache_max_bytes = 3 * MIB as u64).await;
        let cache = t.engine.cache_info().await;
        assert_eq!(
            cache
                .torrents
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["c.mp4"]
        );
        assert!(!t.stream_dir(b.info_hash()).exists());

        // With no room left on the disk by the free-space rule, an active stream still stays.
        let dir = t.shut_down().await;
        let t = TestEngine::start_in(dir, |c| c.cache_min_free_bytes = u64::MAX / 4).await;
        assert!(t.engine.cache_info().await.torrents.is_empty());
        let info = t.prepare(&a.magnet(), None).await;
        let reader = t.engine.open(info.info_hash, None).await.unwrap();
        read_at(&t.engine, info.info_hash, None, 0, 2 * MIB).await;
        tokio::time::sleep(Duration::from_secs(6)).await; // past a cache check
        assert!(t.stream_dir(a.info_hash()).join("a.mp4").is_file());
        assert!(
            read_at(&t.engine, info.info_hash, None, 0, 2 * MIB).await == a.read("a.mp4").unwrap()
        );
        drop(reader);
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepare_beyond_max_streams_is_refused_preparations_included() {
    within_limit(async {
        let a = Seeder::random(&[("a.mp4", 100_000)], Default::default())
            .await
            .unwrap();
        let b = Seeder::random(&[("b.mp4", 100_000)], Default::default())
            .await
            .unwrap();
        let t = TestEngine::start(|c| {
            c.max_streams = 1;
            c.metadata_timeout = Duration::from_secs(3);
        })
        .await;

        // A preparation in flight (metadata from a peer that never answers) counts.
        let silent = SilentPeer::start().await.unwrap();
        let blind = format!(
            "magnet:?xt=urn:btih:{}&x.pe={}",
            "ab".repeat(20),
            silent.addr
        );
        let pending = {
            let engine = t.engine.clone();
            let source = Source::parse_link(&blind).unwrap();
            tokio::spawn(async move { engine.prepare(source, None).await })
        };
        let blind_hash: InfoHash = "ab".repeat(20).parse().unwrap();
        eventually(|| t.engine.status(blind_hash, None).ok()).await;
        let err = t
            .prepare_err(Source::parse_link(&a.magnet()).unwrap(), None)
            .await;
        assert!(matches!(err, EngineError::TooManyStreams(1)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "too many streams at once (1); stop one and try again"
        );
        assert!(matches!(
            pending.await.unwrap(),
            Err(EngineError::MetadataTimeout(_))
        ));

        // Once it is over, one stream fits; asking for it again is no new stream.
        let info = t.prepare(&a.magnet(), None).await;
        t.prepare(&a.magnet(), None).await;
        let err = t
            .prepare_err(Source::parse_link(&b.magnet()).unwrap(), None)
            .await;
        assert!(matches!(err, EngineError::TooManyStreams(1)), "{err:?}");
        assert!(t.downloads().iter().all(|d| !d.ends_with(b.info_hash())));
        t.engine.stop(info.info_hash).await.unwrap();
        t.prepare(&b.magnet(), None).await;
        t.stop().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_waits_while_the_seeder_is_gone_and_finishes_when_one_returns() {
    within_limit(async {
        let size = 6 * MIB;
        let (seed_dir, path) = random_file("vanish.mp4", size);
        let expected = std::fs::read(&path).unwrap();
        let opts = SeederOptions {
            piece_length: Some(64 * 1024),
            upload_bps: Some(MIB as u32),
        };
        let seeder = Seeder::seed(&path, opts.clone()).await.unwrap();
        let t = TestEngine::start(|_| {}).await;
        let info = t.prepare(&seeder.magnet(), None).await;
        let hash = info.info_hash;

        // A player reads the start, then the seeder vanishes mid-file.
        let mut reader = t.engine.open(hash, None).await.unwrap();
        let mut start = vec![0; 256 * 1024];
        reader.read_exact(&mut start).await.unwrap();
        assert!(start == expected[..start.len()]);
        seeder.stop().await;
        let rest = tokio::spawn(async move {
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest).await.map(|_| rest)
        });

        // The reader waits; status says the stream is stalled.
        let stalled = eventually(|| {
            let s = t.status(hash);
            (s.state == StreamState::Stalled).then_some(s)
        })
        .await;
        assert_eq!(stalled.peers.connected, 0, "{stalled:?}");
        assert!(stalled.progress < 1.0, "{stalled:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!rest.is_finished(), "the read ended without the data");
        assert_eq!(t.status(hash).state, StreamState::Stalled);

        // Another seeder of the same data appears; the read completes, byte for byte.
        let back = Seeder::seed(
            &path,
            SeederOptions {
                upload_bps: None,
                ..opts
            },
        )
        .await
        .unwrap();
        assert!(t.engine.add_peer(hash, back.addr()).unwrap());
        let rest = rest.await.unwrap().unwrap();
        assert_eq!(rest.len(), size - start.len());
        assert!(
            rest == expected[start.len()..],
            "bytes after the stall differ"
        );
        assert_eq!(t.status(hash).state, StreamState::Ready);
        t.stop().await;
        drop(seed_dir);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_readers_at_different_positions_of_one_stream_both_get_exact_bytes() {
    within_limit(async {
        let size = 8 * MIB;
        let seeder = Seeder::random(
            &[("two.mp4", size)],
            SeederOptions {
                piece_length: Some(64 * 1024),
                upload_bps: Some(2 * MIB as u32),
            },
        )
        .await
        .unwrap();
        let expected = Arc::new(seeder.read("two.mp4").unwrap());
        let t = TestEngine::start(|_| {}).await;
        let hash = t.prepare(&seeder.magnet(), None).await.info_hash;
        let play = |offset: usize, len: usize| {
            let engine = t.engine.clone();
            let expected = expected.clone();
            tokio::spawn(async move {
                let mut reader = engine.open(hash, None).await.unwrap();
                reader.seek(SeekFrom::Start(offset as u64)).await.unwrap();
                // A player reads in small steps, as a media body does.
                let mut got = Vec::with_capacity(len);
                let mut buf = vec![0; 64 * 1024];
                while got.len() < len {
                    let n = reader
                        .read(&mut buf[..(len - got.len()).min(64 * 1024)])
                        .await
                        .unwrap();
                    assert!(n > 0, "early end at {}", offset + got.len());
                    got.extend_from_slice(&buf[..n]);
                }
                assert!(
                    got == expected[offset..offset + len],
                    "bytes at {offset} differ"
                );
            })
        };
        let (first, second) = (play(0, 2 * MIB), play(5 * MIB + 777, 2 * MIB));
        first.await.unwrap();
        second.await.unwrap();
        t.stop().await;
    })
    .await
}

/// A tmpfs of `size` mounted on an empty folder, unmounted when dropped: a disk that
/// fills up for real. Mounting needs root (the test command runs as root or through
/// sudo); without it the test fails and says so, it does not pass by skipping.
struct SmallDisk {
    dir: Option<tempfile::TempDir>,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::Builder::new()
            .prefix("cinemahalal-small-disk")
            .tempdir()
            .unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill a disk for real, which needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir: Some(dir) }
    }

    /// A fresh folder on the small disk, for an engine's data.
    fn data_dir(&self) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("data")
            .tempdir_in(self.dir.as_ref().unwrap().path())
            .unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let dir = self.dir.take().unwrap();
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(dir.path())
            .status();
        drop(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_its_stream_with_a_clear_message_and_others_go_on() {
    within_limit(async {
        let disk = SmallDisk::mount("8m");
        let small = Seeder::random(&[("small.mp4", MIB)], Default::default())
            .await
            .unwrap();
        // Capped so that the disk fills after `prepare` returns, which waits for a peer
        // only: the ~7 MiB left take about two seconds to come.
        let big = Seeder::random(
            &[("big.mp4", 16 * MIB)],
            SeederOptions {
                piece_length: Some(64 * 1024),
                upload_bps: Some(4 * MIB as u32),
            },
        )
        .await
        .unwrap();
        let t = TestEngine::start_in(disk.data_dir(), |_| {}).await;
        let small_info = t.prepare(&small.magnet(), None).await;
        let expected_small = small.read("small.mp4").unwrap();
        assert!(read_at(&t.engine, small_info.info_hash, None, 0, MIB).await == expected_small);

        // The big file cannot fit: a reader reading it through gets the failure, or, when
        // the download fills the disk before the reader opens, the opening does.
        let big_info = t.prepare(&big.magnet(), None).await;
        let hash = big_info.info_hash;
        let err = match t.engine.open(hash, None).await {
            Ok(mut reader) => {
                let mut body = Vec::new();
                let err = reader.read_to_end(&mut body).await.unwrap_err();
                assert!(body.len() < 8 * MIB, "{}", body.len());
                assert!(body == big.read("big.mp4").unwrap()[..body.len()]);
                err.to_string()
            }
            Err(EngineError::Failed(e)) => e.to_string(),
            Err(e) => panic!("{e:?}"),
        };
        assert!(err.starts_with("disk full: "), "{err}");

        // Status says so; a new reader is refused with the same words.
        let status = t.status(hash);
        assert_eq!(status.state, StreamState::Error, "{status:?}");
        assert!(
            status
                .message
                .as_deref()
                .unwrap()
                .starts_with("disk full: "),
            "{status:?}"
        );
        match t.engine.open(hash, None).await {
            Err(EngineError::Failed(e)) => assert!(e.to_string().starts_with("disk full: "), "{e}"),
            other => panic!("{:?}", other.map(drop)),
        }

        // The other stream goes on, and the engine still answers.
        assert_eq!(t.engine.active_streams(), 2);
        assert!(read_at(&t.engine, small_info.info_hash, None, 0, MIB).await == expected_small);
        assert_eq!(t.status(small_info.info_hash).state, StreamState::Ready);

        // Stopping the failed stream frees its space.
        t.engine.stop(hash).await.unwrap();
        assert!(!t.stream_dir(big.info_hash()).exists());
        t.stop().await;
        drop(disk);
    })
    .await
}

/// The session's tasks run on the engine's own runtime: a caller whose only worker is
/// busy (an HTTP server serving, a slow handler) does not stop the download. The seeder
/// runs on a third runtime, so only the engine's placement is tested.
#[test]
fn the_download_goes_on_while_the_callers_runtime_is_busy() {
    let one_worker = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .build()
            .unwrap()
    };
    let seeding = one_worker("seeder");
    let caller = one_worker("caller");
    let size = 16 * MIB;
    let seeder = seeding
        .block_on(Seeder::random(
            &[("busy.mp4", size)],
            SeederOptions {
                piece_length: Some(256 * 1024),
                // About four seconds for the file (its first second comes at once): the
                // download is under way, not done, when the caller's worker gets busy.
                upload_bps: Some(4 * MIB as u32),
            },
        ))
        .unwrap();
    let (t, hash) = caller.block_on(within_limit(async {
        let t = TestEngine::start(|_| {}).await;
        let hash = t.prepare(&seeder.magnet(), None).await.info_hash;
        (t, hash)
    }));

    // The caller's one worker spins until the file is downloaded, or gives up after 30 s.
    let engine = t.engine.clone();
    let (before, after) = caller
        .block_on(caller.spawn(async move {
            let downloaded = || engine.status(hash, None).unwrap().downloaded_bytes;
            let before = downloaded();
            let start = std::time::Instant::now();
            while downloaded() < size as u64 && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(10));
            }
            (before, downloaded())
        }))
        .unwrap();
    assert!(
        before < size as u64 / 2,
        "half the file was there before the worker got busy ({before} bytes)"
    );
    assert_eq!(
        after, size as u64,
        "the download stopped while the caller's worker was busy"
    );

    // And what was downloaded meanwhile is the seeder's file.
    let expected = seeder.read("busy.mp4").unwrap();
    caller.block_on(within_limit(async {
        assert!(read_at(&t.engine, hash, None, 0, size).await == expected);
        t.stop().await;
    }));
    drop(seeder);
}
