//! Behavioural tests of the patches in `third_party/librqbit` (listed in its PATCHES.md),
//! through librqbit's public API against a real swarm on 127.0.0.1. Each test fails on
//! the published librqbit 9.1.0.

use std::io::SeekFrom;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cinemahalal_testkit::{Seeder, SeederOptions};
use librqbit::{AddTorrent, AddTorrentOptions, ManagedTorrent, Session, SessionOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const FILE: &str = "movie.bin";

/// A downloading session that finds no peer by itself: no DHT, trackers, local
/// discovery or listener, so only the peers a test hands it are ever contacted.
async fn isolated_session(dir: &Path, blocking_permits: usize) -> anyhow::Result<Arc<Session>> {
    Session::new_with_opts(
        dir.to_path_buf(),
        SessionOptions {
            dht: None,
            persistence: None,
            disable_trackers: true,
            disable_local_service_discovery: true,
            listen: None,
            runtime_worker_threads: Some(blocking_permits),
            ..Default::default()
        },
    )
    .await
}

/// Adds the seeder's torrent from its .torrent file, with no peers.
async fn add_without_peers(
    session: &Arc<Session>,
    seeder: &Seeder,
    paused: bool,
) -> anyhow::Result<Arc<ManagedTorrent>> {
    add_with_options(
        session,
        seeder,
        AddTorrentOptions {
            paused,
            ..Default::default()
        },
    )
    .await
}

/// Adds the seeder's torrent from its .torrent file with `opts`, overwriting what is on
/// disk, and waits until it is initialized.
async fn add_with_options(
    session: &Arc<Session>,
    seeder: &Seeder,
    opts: AddTorrentOptions,
) -> anyhow::Result<Arc<ManagedTorrent>> {
    add_torrent_bytes(session, seeder.torrent().to_vec(), opts).await
}

/// Adds the torrent whose .torrent file is `torrent` with `opts`, overwriting what is on
/// disk, and waits until it is initialized.
async fn add_torrent_bytes(
    session: &Arc<Session>,
    torrent: Vec<u8>,
    opts: AddTorrentOptions,
) -> anyhow::Result<Arc<ManagedTorrent>> {
    let handle = session
        .add_torrent(
            AddTorrent::from_bytes(torrent),
            Some(AddTorrentOptions {
                overwrite: true,
                ..opts
            }),
        )
        .await?
        .into_handle()
        .context("the torrent was not added")?;
    handle.wait_until_initialized().await?;
    Ok(handle)
}

/// One seeder of a random file, and an isolated session downloading it with no peer yet.
struct OneSeeder {
    seeder: Seeder,
    source: Arc<Vec<u8>>,
    dir: tempfile::TempDir,
    session: Arc<Session>,
    handle: Arc<ManagedTorrent>,
}

/// A seeder of `FILE`, `len` random bytes, and those bytes.
async fn random_seeder(
    len: usize,
    piece_length: u32,
    upload_bps: Option<u32>,
) -> anyhow::Result<(Seeder, Vec<u8>)> {
    let seeder = Seeder::random(
        &[(FILE, len)],
        SeederOptions {
            piece_length: Some(piece_length),
            upload_bps,
        },
    )
    .await?;
    let source = seeder.read(FILE)?;
    Ok((seeder, source))
}

async fn one_seeder(
    len: usize,
    piece_length: u32,
    upload_bps: Option<u32>,
    blocking_permits: usize,
) -> anyhow::Result<OneSeeder> {
    let (seeder, source) = random_seeder(len, piece_length, upload_bps).await?;
    let source = Arc::new(source);
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), blocking_permits).await?;
    let handle = add_without_peers(&session, &seeder, false).await?;
    Ok(OneSeeder {
        seeder,
        source,
        dir,
        session,
        handle,
    })
}

/// Patch "add a peer to a live torrent": a torrent with no source of peers finds its
/// only seeder through `ManagedTorrent::add_peer` and downloads the file from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_peer_connects_a_live_torrent_to_a_seeder_it_was_never_told_about() -> anyhow::Result<()>
{
    let seeder = Seeder::random(&[(FILE, 3 << 20)], SeederOptions::default()).await?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;

    let handle = add_without_peers(&session, &seeder, true).await?;
    let err = handle
        .add_peer(seeder.addr())
        .expect_err("a paused torrent takes no peers");
    assert!(
        matches!(err, librqbit::Error::TorrentIsNotLive),
        "unexpected error: {err:?}"
    );

    session.unpause(&handle).await?;
    // Without a peer the torrent cannot move.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(handle.stats().progress_bytes, 0);

    assert!(handle.add_peer(seeder.addr())?, "a new address is added");
    assert!(
        !handle.add_peer(seeder.addr())?,
        "a known address is not added twice"
    );
    timeout(Duration::from_secs(60), handle.wait_until_completed())
        .await
        .context("the download did not complete through the added peer")??;
    assert_eq!(std::fs::read(dir.path().join(FILE))?, seeder.read(FILE)?);
    session.stop().await;
    Ok(())
}

/// Patch "readers that wait hold no blocking permit": 200 readers of one file wait at
/// once for pieces from a slow seeder, in a session with only two blocking permits
/// (`runtime_worker_threads`), and the download completes with every reader served.
/// On librqbit 9.1.0 each open stream holds a permit for its whole life, so the third
/// reader cannot even open, and two waiting readers would starve every piece write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_waiting_readers_leave_piece_writes_a_blocking_permit() -> anyhow::Result<()> {
    const LEN: usize = 4 << 20;
    const READERS: usize = 200;
    const READ: usize = 16 << 10;
    let OneSeeder {
        seeder,
        source,
        dir,
        session,
        handle,
    } = one_seeder(LEN, 64 << 10, Some(2 << 20), 2).await?;

    // Every reader is open and placed before the torrent has a peer, so each one waits.
    let mut readers = Vec::with_capacity(READERS);
    for i in 0..READERS {
        let mut stream = timeout(Duration::from_secs(5), handle.clone().stream(0))
            .await
            .with_context(|| format!("opening reader {i} blocked"))??;
        let offset = i * (LEN - READ) / (READERS - 1);
        stream.seek(SeekFrom::Start(offset as u64)).await?;
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0; READ];
            stream.read_exact(&mut buf).await?;
            anyhow::Ok((offset, buf))
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        readers.iter().all(|r| !r.is_finished()),
        "no reader can finish before the torrent has a peer"
    );

    handle.add_peer(seeder.addr())?;
    timeout(Duration::from_secs(60), async {
        for reader in readers {
            let (offset, buf) = reader.await??;
            assert!(
                buf == source[offset..offset + READ],
                "reader at {offset} read wrong bytes"
            );
        }
        handle.wait_until_completed().await
    })
    .await
    .context("the readers or the download stalled")??;
    assert!(std::fs::read(dir.path().join(FILE))? == *source);
    session.stop().await;
    Ok(())
}

/// A bare BitTorrent connection to a seeder, to see exactly which blocks it sends.
struct WirePeer {
    stream: TcpStream,
}

const UNCHOKE: u8 = 1;
const INTERESTED: u8 = 2;
const BITFIELD: u8 = 5;
const REQUEST: u8 = 6;
const PIECE: u8 = 7;
const CANCEL: u8 = 8;

/// The 68-byte BitTorrent handshake for `info_hash` (hex), with no extension bits.
fn handshake(info_hash: &str) -> anyhow::Result<Vec<u8>> {
    let mut handshake = vec![19];
    handshake.extend_from_slice(b"BitTorrent protocol");
    handshake.extend_from_slice(&[0; 8]);
    handshake.extend_from_slice(&data_encoding::HEXLOWER.decode(info_hash.as_bytes())?);
    handshake.extend_from_slice(b"-CH0000-wire-peer-01");
    Ok(handshake)
}

impl WirePeer {
    async fn connect(addr: SocketAddr, info_hash: &str) -> anyhow::Result<WirePeer> {
        let mut stream = TcpStream::connect(addr).await?;
        let handshake = handshake(info_hash)?;
        stream.write_all(&handshake).await?;
        let mut reply = [0; 68];
        stream.read_exact(&mut reply).await?;
        anyhow::ensure!(
            reply[28..48] == handshake[28..48],
            "the seeder answered for another torrent"
        );
        Ok(WirePeer { stream })
    }

    /// The peer a torrent dials at `listener`: it answers the torrent's handshake.
    async fn accept(
        listener: tokio::net::TcpListener,
        info_hash: &str,
    ) -> anyhow::Result<WirePeer> {
        let (mut stream, _) = listener.accept().await?;
        let handshake = handshake(info_hash)?;
        let mut theirs = [0u8; 68];
        stream.read_exact(&mut theirs).await?;
        anyhow::ensure!(
            theirs[28..48] == handshake[28..48],
            "a handshake for another torrent"
        );
        stream.write_all(&handshake).await?;
        Ok(WirePeer { stream })
    }

    async fn send(&mut self, id: u8, payload: &[u8]) -> anyhow::Result<()> {
        let len = u32::try_from(payload.len() + 1)?;
        let mut message = len.to_be_bytes().to_vec();
        message.push(id);
        message.extend_from_slice(payload);
        Ok(self.stream.write_all(&message).await?)
    }

    /// The next message that is not a keep-alive: its id and payload.
    async fn recv(&mut self) -> anyhow::Result<(u8, Vec<u8>)> {
        loop {
            let mut len = [0; 4];
            self.stream.read_exact(&mut len).await?;
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 {
                continue;
            }
            let mut message = vec![0; len];
            self.stream.read_exact(&mut message).await?;
            let payload = message.split_off(1);
            return Ok((message[0], payload));
        }
    }
}

/// Patch "a seeder honours CANCEL": a peer requests 48 blocks from a seeder capped at
/// 256 KiB/s (16 blocks a second), cancels the last 32 at once, then requests one more.
/// The seeder sends the 16 it was not asked to drop and then that last one, none of the
/// 32 cancelled (librqbit 9.1.0 ignores CANCEL and sends all 32 first, 2 s of its link).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeder_does_not_send_blocks_whose_requests_were_cancelled() -> anyhow::Result<()> {
    const BLOCK: u32 = 16 << 10;
    const PIECE_LEN: u32 = 256 << 10;
    let seeder = Seeder::random(
        &[(FILE, 1 << 20)],
        SeederOptions {
            piece_length: Some(PIECE_LEN),
            upload_bps: Some(256 << 10),
        },
    )
    .await?;
    let source = seeder.read(FILE)?;
    let block = |i: u32| {
        let offset = i * BLOCK;
        [offset / PIECE_LEN, offset % PIECE_LEN, BLOCK]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect::<Vec<u8>>()
    };

    let mut peer = WirePeer::connect(seeder.addr(), seeder.info_hash()).await?;
    timeout(Duration::from_secs(10), async {
        while peer.recv().await?.0 != UNCHOKE {}
        anyhow::Ok(())
    })
    .await
    .context("the seeder did not unchoke")??;
    peer.send(INTERESTED, &[]).await?;
    for i in 0..48 {
        peer.send(REQUEST, &block(i)).await?;
    }
    for i in 16..48 {
        peer.send(CANCEL, &block(i)).await?;
    }
    peer.send(REQUEST, &block(48)).await?;

    let mut received = Vec::new();
    timeout(Duration::from_secs(30), async {
        loop {
            let (id, payload) = peer.recv().await?;
            if id != PIECE {
                continue;
            }
            let index = u32::from_be_bytes(payload[0..4].try_into()?);
            let begin = u32::from_be_bytes(payload[4..8].try_into()?);
            let offset = (index * PIECE_LEN + begin) as usize;
            anyhow::ensure!(
                payload[8..] == source[offset..offset + BLOCK as usize],
                "wrong bytes at {offset}"
            );
            let i = offset as u32 / BLOCK;
            received.push(i);
            if i == 48 {
                return anyhow::Ok(());
            }
        }
    })
    .await
    .context("the last request was not served")??;
    let cancelled_but_sent = received.iter().filter(|i| (16..48).contains(*i)).count();
    eprintln!("sent {cancelled_but_sent} of 32 cancelled blocks before the last request");
    assert!(
        (0..16).all(|i| received.contains(&i)),
        "blocks not cancelled are sent: {received:?}"
    );
    assert!(
        cancelled_but_sent < 8,
        "{cancelled_but_sent} of 32 cancelled blocks were sent: {received:?}"
    );
    seeder.stop().await;
    Ok(())
}

/// Patches "a seek cancels what no reader needs" and "a seeder honours CANCEL": on one
/// seeder capped at 1 MiB/s, a reader that waits at a new position is served in about a
/// piece's time, not after the 2 MiB of requests queued for the old position (128
/// outstanding 16 KiB requests). The pieces given up are fetched later without
/// fetching their blocks twice, and the whole file still completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seek_is_not_served_after_the_requests_queued_for_the_old_position() -> anyhow::Result<()>
{
    seek_past_queued_requests(OldReader::ClosedBeforeTheSeek).await
}

/// The same, with the old reader closed only once the new one waits, as a player that
/// opens the new range before it closes the old one: closing it frees what only it needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_old_reader_after_a_seek_cancels_what_only_it_needed() -> anyhow::Result<()> {
    seek_past_queued_requests(OldReader::ClosedWhileTheNewOneWaits).await
}

#[derive(Debug, PartialEq)]
enum OldReader {
    ClosedBeforeTheSeek,
    ClosedWhileTheNewOneWaits,
}

async fn seek_past_queued_requests(old_reader: OldReader) -> anyhow::Result<()> {
    const LEN: usize = 8 << 20;
    const PIECE: usize = 128 << 10;
    const SEEK_TO: usize = 6 << 20;
    const READ: usize = 16 << 10;
    const BLOCK: usize = 16 << 10;
    let OneSeeder {
        seeder,
        source,
        dir,
        session,
        handle,
    } = one_seeder(LEN, PIECE as u32, Some(1 << 20), 8).await?;
    handle.add_peer(seeder.addr())?;

    // A reader at the start, until the seeder's one-second burst is spent and the
    // requests for the start of the file queue up behind its rate.
    let mut old = handle.clone().stream(0).await?;
    let mut buf = vec![0; READ];
    timeout(Duration::from_secs(30), old.read_exact(&mut buf))
        .await
        .context("the first read stalled")??;
    assert!(buf == source[..READ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // 2 MiB more are requested: 128 outstanding requests of a block each.
    assert!(
        handle.stats().progress_bytes + (2 << 20) < SEEK_TO as u64,
        "the seek target must be beyond what is downloaded or requested"
    );
    let old = match old_reader {
        OldReader::ClosedBeforeTheSeek => {
            drop(old);
            None
        }
        OldReader::ClosedWhileTheNewOneWaits => Some(old),
    };

    let started = std::time::Instant::now();
    let mut seeked = handle.clone().stream(0).await?;
    seeked.seek(SeekFrom::Start(SEEK_TO as u64)).await?;
    let read = tokio::spawn({
        let source = source.clone();
        async move {
            let mut buf = vec![0; READ];
            seeked.read_exact(&mut buf).await?;
            anyhow::ensure!(buf == source[SEEK_TO..SEEK_TO + READ], "wrong bytes");
            anyhow::Ok(started.elapsed())
        }
    });
    if let Some(old) = old {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !read.is_finished(),
            "the old reader's window covers the target"
        );
        drop(old);
    }
    let seek_latency = timeout(Duration::from_secs(30), read)
        .await
        .context("the read after the seek stalled")???;

    timeout(Duration::from_secs(60), handle.wait_until_completed())
        .await
        .context("the download did not complete")??;
    assert!(std::fs::read(dir.path().join(FILE))? == *source);
    let fetched = handle
        .stats()
        .live
        .context("the torrent is live")?
        .snapshot
        .fetched_bytes;
    eprintln!(
        "{old_reader:?}: seek served in {seek_latency:?}; fetched {fetched} bytes for a {LEN} byte file"
    );
    // One piece at the seeder's rate takes 0.125 s; the 2 MiB queued before it, 2 s.
    assert!(
        seek_latency < Duration::from_millis(1000),
        "the seek waited {seek_latency:?}"
    );
    // At most one block twice: one that arrived just as its piece was given up.
    assert!(
        fetched <= (LEN + BLOCK) as u64,
        "fetched {fetched} bytes for a {LEN} byte file"
    );
    session.stop().await;
    Ok(())
}

/// An info dictionary of one file of `len` bytes in pieces of `piece_length`, with
/// `hashes` piece hashes.
fn crafted_info(len: u64, piece_length: u64, hashes: usize) -> Vec<u8> {
    let mut info = format!(
        "d6:lengthi{len}e4:name9:movie.mp412:piece lengthi{piece_length}e6:pieces{}:",
        20 * hashes
    )
    .into_bytes();
    info.extend(std::iter::repeat_n(0xab, 20 * hashes));
    info.push(b'e');
    info
}

/// Patch "refuse metadata whose piece length is 0": peers send metadata for a magnet
/// whose info hash matches it and whose piece length is 0. librqbit answers an error;
/// on 9.1.0 `validate` divides by zero and the task panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_with_piece_length_zero_from_a_peer_is_an_error_not_a_panic() -> anyhow::Result<()>
{
    use cinemahalal_testkit::MetadataPeer;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    let list = |peer: &MetadataPeer| {
        let (session, magnet, addr) = (session.clone(), peer.magnet(), peer.addr);
        // Spawned, so that a panic shows as a JoinError rather than ending the test.
        let add = tokio::spawn(async move {
            let opts = AddTorrentOptions {
                list_only: true,
                initial_peers: Some(vec![addr]),
                ..Default::default()
            };
            session
                .add_torrent(AddTorrent::from_url(magnet), Some(opts))
                .await
        });
        timeout(Duration::from_secs(20), add)
    };

    // The fake peer serves well-formed metadata: librqbit lists it.
    let good = MetadataPeer::start(crafted_info(40_000, 16384, 3)).await?;
    match list(&good).await?? {
        Ok(librqbit::AddTorrentResponse::ListOnly(listed)) => {
            assert_eq!(listed.info.lengths().total_pieces(), 3)
        }
        Ok(_) => anyhow::bail!("not a list-only answer"),
        Err(e) => anyhow::bail!("well-formed metadata refused: {e:#}"),
    }

    let zero = MetadataPeer::start(crafted_info(40_000, 0, 1)).await?;
    let answer = list(&zero)
        .await?
        .map_err(|e| anyhow::anyhow!("librqbit panicked on piece length 0: {e}"))?;
    let err = answer
        .err()
        .context("metadata with piece length 0 was accepted")?;
    assert!(
        format!("{err:#}").contains("invalid torrent metadata: piece length is 0"),
        "{err:#}"
    );
    // The session goes on: the good torrent is listed again.
    assert!(matches!(
        list(&good).await??,
        Ok(librqbit::AddTorrentResponse::ListOnly(_))
    ));
    Ok(())
}

/// A TCP proxy in front of a seeder that loses the first REQUEST for the first block
/// of `piece`, as WebTorrent's wire loses a block cancelled and requested again while
/// its read is pending. Everything else passes through unchanged. Serves one connection.
async fn request_losing_proxy(seeder: SocketAddr, piece: u32) -> anyhow::Result<SocketAddr> {
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    watching_proxy(seeder, move |to_seeder, body| {
        let first_block_of_piece = to_seeder
            && body.len() == 13
            && body[0] == REQUEST
            && body[1..5] == piece.to_be_bytes()
            && body[5..9] == [0; 4];
        !first_block_of_piece || lost.swap(true, std::sync::atomic::Ordering::Relaxed)
    })
    .await
}

/// Patch "unanswered requests are asked again": the only peer loses one request, the
/// first block of the piece a reader waits for, and goes on answering the others. The
/// torrent asks again for what is left unanswered, and the reader gets its bytes a few
/// seconds later. On 9.1.0 the block is never asked for again: every other piece
/// arrives, the peer stays busy enough never to time out, and the read waits forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_peer_lost_is_asked_again() -> anyhow::Result<()> {
    const LEN: usize = 2 << 20;
    const PIECE: usize = 64 << 10;
    let OneSeeder {
        seeder,
        source,
        dir,
        session,
        handle,
    } = one_seeder(LEN, PIECE as u32, None, 8).await?;
    // The reader waits at piece 3 before the peer comes, so piece 3 is asked for first.
    let mut stream = handle.clone().stream(0).await?;
    stream.seek(SeekFrom::Start(3 * PIECE as u64)).await?;
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; PIECE];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    handle.add_peer(request_losing_proxy(seeder.addr(), 3).await?)?;
    let got = timeout(Duration::from_secs(20), reader)
        .await
        .context("the read never got the block the peer lost")???;
    let waited = started.elapsed();
    assert!(got == source[3 * PIECE..4 * PIECE], "the bytes of piece 3");
    println!("piece 3, one block lost by the peer: read after {waited:?}");
    timeout(Duration::from_secs(20), handle.wait_until_completed())
        .await
        .context("the download did not complete")??;
    assert_eq!(std::fs::read(dir.path().join(FILE))?, *source);
    session.stop().await;
    Ok(())
}

/// A hand-made peer for `torrent`: it answers the handshake, says which pieces it has
/// (all or none), unchokes, and then sends nothing more. `closed` says how long the
/// torrent kept the connection open, read for at most `watch` (None: still open).
async fn mute_peer(
    info_hash: &str,
    pieces: usize,
    has_all: bool,
    watch: Duration,
) -> anyhow::Result<(
    SocketAddr,
    tokio::task::JoinHandle<anyhow::Result<Option<Duration>>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let info_hash = info_hash.to_owned();
    let task = tokio::spawn(async move {
        let mut peer = WirePeer::accept(listener, &info_hash).await?;
        let mut bitfield = vec![0u8; pieces.div_ceil(8)];
        if has_all {
            for i in 0..pieces {
                bitfield[i / 8] |= 0x80 >> (i % 8);
            }
        }
        peer.send(BITFIELD, &bitfield).await?;
        peer.send(UNCHOKE, &[]).await?;
        let mut conn = peer.stream;
        // From here on it only listens, until the torrent hangs up or `watch` is over.
        let started = std::time::Instant::now();
        let mut sink = vec![0u8; 64 << 10];
        loop {
            match timeout(
                watch.saturating_sub(started.elapsed()),
                conn.read(&mut sink),
            )
            .await
            {
                Err(_) => return Ok(None),
                Ok(Ok(0)) | Ok(Err(_)) => return Ok(Some(started.elapsed())),
                Ok(Ok(_)) => {}
            }
        }
    });
    Ok((addr, task))
}

/// Patch "an idle peer is not timed out": with a read timeout of 1 s, a peer that has
/// nothing the torrent wants, and so is asked for nothing, stays connected through 4 s
/// of silence; a peer that was asked for blocks and sends nothing is still dropped
/// after about the timeout. On 9.1.0 both are dropped after 1 s: librqbit ends any
/// connection silent for the read timeout (10 s by default), which drops every idle
/// peer that sends BEP 3's two-minute keep-alives, and loses for good a peer that
/// cannot be dialled again (a WebRTC peer behind a one-shot relay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_nothing_asked_of_it_may_be_silent() -> anyhow::Result<()> {
    const PIECE: usize = 64 << 10;
    const PIECES: usize = 16;
    let seeder = Seeder::random(
        &[(FILE, PIECES * PIECE)],
        SeederOptions {
            piece_length: Some(PIECE as u32),
            upload_bps: None,
        },
    )
    .await?;
    let info_hash = seeder.info_hash();
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    let handle = add_with_options(
        &session,
        &seeder,
        AddTorrentOptions {
            peer_opts: Some(librqbit::PeerConnectionOptions {
                read_write_timeout: Some(Duration::from_secs(1)),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await?;
    let watch = Duration::from_secs(4);
    let (idle, idle_closed) = mute_peer(info_hash, PIECES, false, watch).await?;
    let (owing, owing_closed) = mute_peer(info_hash, PIECES, true, watch).await?;
    handle.add_peer(idle)?;
    handle.add_peer(owing)?;
    let owing_closed = owing_closed.await??;
    let idle_closed = idle_closed.await??;
    println!(
        "silent peers: asked for blocks dropped after {owing_closed:?}, idle one {idle_closed:?}"
    );
    assert!(
        owing_closed.is_some_and(|d| d < Duration::from_secs(3)),
        "a peer that owes blocks and sends nothing is dropped after the read timeout: {owing_closed:?}"
    );
    assert_eq!(idle_closed, None, "the idle peer was dropped");
    session.stop().await;
    Ok(())
}

/// Whether each TCP socket of this process connected to `peer` has TCP_NODELAY set.
/// The torrent's sockets are librqbit's own, so they are found among the process's file
/// descriptors.
fn nodelay_of_sockets_connected_to(peer: SocketAddr) -> anyhow::Result<Vec<bool>> {
    sockets_connected_to(peer, |socket| Ok(socket.tcp_nodelay()?))
}

/// `read` of each TCP socket of this process connected to `peer`. The torrent's sockets
/// are librqbit's own, so they are found among the process's file descriptors.
fn sockets_connected_to<T>(
    peer: SocketAddr,
    mut read: impl FnMut(&socket2::SockRef) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>> {
    use std::os::fd::BorrowedFd;
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(fd) = entry?.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: only socket options are read. A descriptor closed meanwhile makes the
        // calls fail with EBADF; one reused meanwhile is read, not changed.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        if socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(peer) {
            found.push(read(&socket)?);
        }
    }
    Ok(found)
}

/// The segments carrying data that each socket of this process connected to `peer` has
/// sent (TCP_INFO's `tcpi_data_segs_out`).
fn data_segments_sent_to(peer: SocketAddr) -> anyhow::Result<Vec<u32>> {
    use std::os::fd::AsRawFd;
    sockets_connected_to(peer, |socket| {
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::tcp_info>())?;
        // SAFETY: `info` is a writable tcp_info of `len` bytes; the kernel writes at most
        // `len` bytes of it.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                std::ptr::addr_of_mut!(info).cast(),
                &mut len,
            )
        };
        anyhow::ensure!(rc == 0, "TCP_INFO: {}", std::io::Error::last_os_error());
        Ok(info.tcpi_data_segs_out)
    })
}

/// Patch "peer connections send each message at once": the connection a torrent dials
/// to a peer, and the one a seeder accepts from a peer, have TCP_NODELAY set. On 9.1.0
/// neither has: a small message (a request is 17 bytes) written while an earlier one is
/// unacknowledged waits for that acknowledgement, which a peer with nothing to send
/// back delays by up to 40 ms. The benchmark measured that wait in every cold start and
/// seek.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_connections_send_each_message_at_once() -> anyhow::Result<()> {
    let OneSeeder {
        seeder,
        source: _,
        dir: _dir,
        session,
        handle,
    } = one_seeder(1 << 20, 64 << 10, None, 8).await?;
    // Dialled by the torrent.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let info_hash = seeder.info_hash().to_owned();
    let dialled = tokio::spawn(async move { WirePeer::accept(listener, &info_hash).await });
    handle.add_peer(addr)?;
    let dialled = timeout(Duration::from_secs(10), dialled).await???;
    let outgoing = nodelay_of_sockets_connected_to(dialled.stream.local_addr()?)?;
    // Accepted by the seeder (a librqbit session in this process).
    let accepted = WirePeer::connect(seeder.addr(), seeder.info_hash()).await?;
    let incoming = nodelay_of_sockets_connected_to(accepted.stream.local_addr()?)?;
    println!("TCP_NODELAY: dialled {outgoing:?}, accepted {incoming:?}");
    assert_eq!(outgoing, [true], "the connection the torrent dialled");
    assert_eq!(incoming, [true], "the connection the seeder accepted");
    session.stop().await;
    Ok(())
}

/// Reads one peer wire message after the handshake, its 4-byte length prefix included.
async fn read_framed_message(r: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let mut message = vec![0u8; 4 + u32::from_be_bytes(len) as usize];
    message[..4].copy_from_slice(&len);
    r.read_exact(&mut message[4..]).await?;
    Ok(message)
}

/// A proxy to a seeder that passes each message the seeder sends (4-byte length prefix
/// included) through `rewrite`, and writes what it returns, one write per buffer, on a
/// connection with Nagle's algorithm on (as accepted). What goes to the seeder passes
/// unchanged. Serves one connection.
async fn rewriting_proxy<F>(seeder: SocketAddr, mut rewrite: F) -> anyhow::Result<SocketAddr>
where
    F: FnMut(Vec<u8>) -> Vec<Vec<u8>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let Ok(upstream) = TcpStream::connect(seeder).await else {
            return;
        };
        let _ = upstream.set_nodelay(true);
        let (mut client_r, mut client_w) = client.into_split();
        let (mut up_r, mut up_w) = upstream.into_split();
        let up = tokio::spawn(async move { tokio::io::copy(&mut client_r, &mut up_w).await });
        let _: anyhow::Result<()> = async {
            let mut handshake = [0u8; 68];
            up_r.read_exact(&mut handshake).await?;
            client_w.write_all(&handshake).await?;
            loop {
                for write in rewrite(read_framed_message(&mut up_r).await?) {
                    client_w.write_all(&write).await?;
                }
            }
        }
        .await;
        up.abort();
    });
    Ok(addr)
}

/// A proxy to a seeder that sends what the seeder sends as libtorrent sends it on a
/// connection it accepted: without TCP_NODELAY (Nagle's algorithm on), a block's 13-byte
/// header in one write and its data in the next. Counts the blocks it passes. Serves one
/// connection.
async fn nagle_proxy(
    seeder: SocketAddr,
) -> anyhow::Result<(SocketAddr, Arc<std::sync::atomic::AtomicU64>)> {
    let blocks = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let passed = blocks.clone();
    let addr = rewriting_proxy(seeder, move |mut message| {
        if message.get(4) == Some(&PIECE) && message.len() > 13 {
            passed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let data = message.split_off(13);
            vec![message, data]
        } else {
            vec![message]
        }
    })
    .await?;
    Ok((addr, blocks))
}

/// Patch "what a peer sends is acknowledged at once": one session streams torrent A from
/// a seeder capped at 256 KiB/s, whose reader waits for its first 1 MiB piece, and
/// downloads torrent B, with no stream, from a seeder capped at 8 MiB/s behind
/// `nagle_proxy`. While A's stream waits, B keeps one request outstanding (patch 14): it
/// has nothing to send until a block has come whole. Each block's data waits at the proxy
/// for the ACK of its header, which without the patch the session's kernel delays by its
/// delayed-ACK timeout (40 ms): B gets 23 blocks a second (measured, three runs). With the
/// patch each read is acknowledged at once, and B gets the 512 blocks a second its
/// seeder's cap allows (513-514 measured).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_from_a_peer_with_nagles_algorithm_on_do_not_wait_for_delayed_acks()
-> anyhow::Result<()> {
    const PIECE: u32 = 1 << 20;
    let opts = |upload_bps: u32| SeederOptions {
        piece_length: Some(PIECE),
        upload_bps: Some(upload_bps),
    };
    let a = Seeder::random(&[(FILE, 4 << 20)], opts(256 << 10)).await?;
    let b = Seeder::random(&[(FILE, 64 << 20)], opts(8 << 20)).await?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    let torrent_a = add_without_peers(&session, &a, false).await?;
    torrent_a.add_peer(a.addr())?;
    let mut stream = torrent_a.clone().stream(0).await?;
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; PIECE as usize];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    });
    // A's stream waits from now on.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Both files have the same name: B's goes to a folder of its own.
    let torrent_b = add_with_options(
        &session,
        &b,
        AddTorrentOptions {
            sub_folder: Some("b".into()),
            ..Default::default()
        },
    )
    .await?;
    let (proxy_b, blocks_b) = nagle_proxy(b.addr()).await?;
    torrent_b.add_peer(proxy_b)?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let before = blocks_b.load(std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let in_a_second = blocks_b.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(
        !reader.is_finished(),
        "the read of A ended before the measurement did"
    );
    let got = timeout(Duration::from_secs(30), reader)
        .await
        .context("the read of torrent A did not complete")???;
    assert!(
        got == a.read(FILE)?[..PIECE as usize],
        "the bytes of A's first piece"
    );
    println!("while a stream of A waited, B got {in_a_second} blocks in a second");
    assert!(
        in_a_second >= 100,
        "B got {in_a_second} blocks in a second: each waited for a delayed ACK"
    );
    session.stop().await;
    Ok(())
}

/// A TCP proxy in front of a seeder that shows `note` each message after the handshake
/// (whether it goes to the seeder, and its body, id first); `note` says whether to pass
/// it on. Serves one connection.
async fn watching_proxy<F>(seeder: SocketAddr, note: F) -> anyhow::Result<SocketAddr>
where
    F: Fn(bool, &[u8]) -> bool + Clone + Send + Sync + 'static,
{
    delaying_proxy(seeder, Duration::ZERO, note).await
}

/// A `watching_proxy` that also holds each message to the seeder back for `delay`,
/// without slowing their flow: a peer a round trip of `delay` away.
async fn delaying_proxy<F>(
    seeder: SocketAddr,
    delay: Duration,
    note: F,
) -> anyhow::Result<SocketAddr>
where
    F: Fn(bool, &[u8]) -> bool + Clone + Send + Sync + 'static,
{
    // Copies message by message after the 68-byte handshake, each `delay` late.
    async fn pass(
        mut r: tokio::net::tcp::OwnedReadHalf,
        mut w: tokio::net::tcp::OwnedWriteHalf,
        delay: Duration,
        note: impl Fn(&[u8]) -> bool,
    ) -> anyhow::Result<()> {
        let mut handshake = [0u8; 68];
        r.read_exact(&mut handshake).await?;
        w.write_all(&handshake).await?;
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
        let writer = tokio::spawn(async move {
            while let Some((due, message)) = rx.recv().await {
                tokio::time::sleep_until(due).await;
                w.write_all(&message).await?;
            }
            anyhow::Ok(())
        });
        let read = async {
            loop {
                let message = read_framed_message(&mut r).await?;
                if note(&message[4..]) {
                    tx.send((tokio::time::Instant::now() + delay, message))?;
                }
            }
        };
        let result: anyhow::Result<()> = read.await;
        writer.abort();
        result
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let Ok(upstream) = TcpStream::connect(seeder).await else {
            return;
        };
        let (client_r, client_w) = client.into_split();
        let (up_r, up_w) = upstream.into_split();
        let to_seeder = note.clone();
        let up = tokio::spawn(pass(client_r, up_w, delay, move |b| to_seeder(true, b)));
        let _ = pass(up_r, client_w, Duration::ZERO, move |b| note(false, b)).await;
        up.abort();
    });
    Ok(addr)
}

/// A torrent downloading `len` bytes (1 MiB pieces) from one seeder through a proxy that
/// counts the REQUESTs it passes on: the download, the proxy's address, the count.
async fn download_counting_requests(
    len: usize,
) -> anyhow::Result<(OneSeeder, SocketAddr, Arc<std::sync::atomic::AtomicU64>)> {
    let download = one_seeder(len, 1 << 20, None, 8).await?;
    let requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = requests.clone();
    let proxy = watching_proxy(download.seeder.addr(), move |to_seeder, body| {
        if to_seeder && body.first() == Some(&REQUEST) {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        true
    })
    .await?;
    download.handle.add_peer(proxy)?;
    Ok((download, proxy, requests))
}

/// Once `requests` reaches `at_least` (before `deadline`): the requests counted and the
/// data segments the torrent's socket has sent to `proxy`. Read while the connection is
/// up: a finished torrent hangs up on a seeder. The segments are read after the requests,
/// so they count a few requests more.
async fn requests_and_segments(
    proxy: SocketAddr,
    requests: &std::sync::atomic::AtomicU64,
    at_least: u64,
    deadline: std::time::Instant,
) -> anyhow::Result<(u64, u64)> {
    loop {
        let asked = requests.load(std::sync::atomic::Ordering::Relaxed);
        if asked >= at_least
            && let [segments] = data_segments_sent_to(proxy)?[..]
        {
            return Ok((asked, u64::from(segments)));
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the torrent asked for {asked} blocks, not {at_least}, in time"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Patch "requests queued behind one leave in the same write": a torrent downloads 32 MiB
/// from a seeder through a proxy that counts the REQUESTs it passes on. Halfway through,
/// the torrent's socket has sent those requests in at most 0.8 segments a request: the
/// writer puts the requests queued behind one in the same write. Without
/// the patch each REQUEST is a write of its own and, with TCP_NODELAY, a segment of its
/// own: at least as many segments as requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_queued_behind_one_leave_in_the_same_write() -> anyhow::Result<()> {
    let (download, proxy, requests) = download_counting_requests(32 << 20).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (asked, segments) = requests_and_segments(proxy, &requests, 1024, deadline).await?;
    println!("{asked} requests went out in {segments} segments");
    // Measured: about 1.65 requests a segment with the patch, 1.00 without.
    assert!(
        5 * segments <= 4 * asked,
        "{asked} requests in {segments} segments: about one write each"
    );
    download.session.stop().await;
    Ok(())
}

/// Patch "a full queue is topped up in batches": a torrent downloads 64 MiB from an
/// unlimited seeder through a proxy that counts the REQUESTs it passes on. Between its
/// 1024th and 3072nd request (its queue full and the peer's rate known by then), it sends
/// them in at most one segment per three requests: the queue waits for a batch of answers
/// and the batch's requests go out together. Measured here (debug build, about 80 MB/s):
/// one segment per 7 requests; topped up block by block, as before the patch, one per 2.1.
/// A batch is what the peer sends in 2.5 ms, so the bound holds from about 30 MB/s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_topped_up_in_batches() -> anyhow::Result<()> {
    let (download, proxy, requests) = download_counting_requests(64 << 20).await?;
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_secs(60);
    let (asked_before, segments_before) =
        requests_and_segments(proxy, &requests, 1024, deadline).await?;
    let (asked_after, segments_after) =
        requests_and_segments(proxy, &requests, 3072, deadline).await?;
    let (asked, segments) = (asked_after - asked_before, segments_after - segments_before);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{asked} requests went out in {segments} segments ({:.0} MB/s overall)",
        asked_after as f64 * 16384.0 / secs / 1e6
    );
    assert!(
        3 * segments <= asked,
        "{asked} requests in {segments} segments: the queue is topped up block by block"
    );
    download.session.stop().await;
    Ok(())
}

/// The requests a client has outstanding at a proxy: REQUESTs it sent, less the CANCELs
/// it sent and the PIECEs passed on to it. Keeps the most outstanding just after a
/// REQUEST sent within `counted`, timed from the first REQUEST: the most the client
/// asked for at once then.
struct OutstandingRequests {
    counted: std::ops::Range<Duration>,
    first_request: std::sync::OnceLock<std::time::Instant>,
    now: std::sync::atomic::AtomicI64,
    max: Arc<std::sync::atomic::AtomicI64>,
}

impl OutstandingRequests {
    fn new(counted: std::ops::Range<Duration>) -> Self {
        Self {
            counted,
            first_request: Default::default(),
            now: Default::default(),
            max: Default::default(),
        }
    }

    /// A message from the client (`REQUEST`, `CANCEL`) or to it (`PIECE`), by its body.
    fn note(&self, body: &[u8]) {
        use std::sync::atomic::Ordering::SeqCst;
        match body.first() {
            Some(&REQUEST) => {
                let first = self.first_request.get_or_init(std::time::Instant::now);
                let now = self.now.fetch_add(1, SeqCst) + 1;
                if self.counted.contains(&first.elapsed()) {
                    self.max.fetch_max(now, SeqCst);
                }
            }
            Some(&CANCEL | &PIECE) => {
                self.now.fetch_sub(1, SeqCst);
            }
            _ => {}
        }
    }
}

/// A proxy that counts the requests the client has outstanding (`OutstandingRequests`,
/// a PIECE counted as it comes from the seeder), holding the client's messages back for
/// `delay`: the proxy's address and the most outstanding within `counted`.
async fn request_counting_proxy(
    seeder: SocketAddr,
    counted: std::ops::Range<Duration>,
    delay: Duration,
) -> anyhow::Result<(SocketAddr, Arc<std::sync::atomic::AtomicI64>)> {
    let requests = Arc::new(OutstandingRequests::new(counted));
    let max = requests.max.clone();
    let note = move |_to_seeder: bool, body: &[u8]| {
        requests.note(body);
        true
    };
    Ok((delaying_proxy(seeder, delay, note).await?, max))
}

/// Patches "short queues while a stream waits" and "a peer's queue follows its rate and
/// round trip": a reader that reads faster than its only peer sends (2 MiB/s) waits for
/// every piece; the peer is then asked for a short queue sized from its rate (27-29
/// blocks with patch 9's 150 ms rule, 4-18 with patch 11's round-trip rule), not for
/// librqbit's whole request window of 128 blocks (2 MiB, a second of its upload), behind
/// which a seek's first request would wait. On 9.1.0 the proxy sees 128 requests
/// outstanding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_stream_keeps_a_peers_queue_short() -> anyhow::Result<()> {
    const LEN: usize = 12 << 20;
    let OneSeeder {
        seeder,
        source,
        dir: _dir,
        session,
        handle,
    } = one_seeder(LEN, 256 << 10, Some(2 << 20), 8).await?;
    let mut stream = handle.clone().stream(0).await?;
    let reader = tokio::spawn(async move {
        let mut buf = Vec::with_capacity(LEN);
        stream.read_to_end(&mut buf).await?;
        anyhow::Ok(buf)
    });
    // The rate is measured from the first blocks (the seeder's cap lets a burst through
    // first, which the estimate forgets in about a second); what follows must fit it.
    let (proxy, max_outstanding) = request_counting_proxy(
        seeder.addr(),
        Duration::from_secs(1)..Duration::MAX,
        Duration::ZERO,
    )
    .await?;
    handle.add_peer(proxy)?;
    let got = timeout(Duration::from_secs(60), reader)
        .await
        .context("the read did not complete")???;
    assert!(got == *source, "the bytes read");
    let max = max_outstanding.load(std::sync::atomic::Ordering::Relaxed);
    println!("a stream waiting on a 2 MiB/s peer: at most {max} requests outstanding");
    assert!(
        max <= 40,
        "{max} requests outstanding while a stream waited"
    );
    session.stop().await;
    Ok(())
}

/// The most requests a download with no stream keeps outstanding at its one peer, a
/// seeder of `len` bytes (256 KiB pieces) sending at most `upload_bps`, reached through
/// the proxy `proxy` makes (its address and the count it keeps).
async fn most_outstanding_through<P, F>(
    len: usize,
    upload_bps: Option<u32>,
    proxy: P,
) -> anyhow::Result<i64>
where
    P: FnOnce(SocketAddr) -> F,
    F: std::future::Future<
            Output = anyhow::Result<(SocketAddr, Arc<std::sync::atomic::AtomicI64>)>,
        >,
{
    let OneSeeder {
        seeder,
        source: _,
        dir: _dir,
        session,
        handle,
    } = one_seeder(len, 256 << 10, upload_bps, 8).await?;
    let (proxy, max_outstanding) = proxy(seeder.addr()).await?;
    handle.add_peer(proxy)?;
    timeout(Duration::from_secs(60), handle.wait_until_completed())
        .await
        .context("the download did not complete")??;
    session.stop().await;
    Ok(max_outstanding.load(std::sync::atomic::Ordering::SeqCst))
}

/// `most_outstanding_through` a seeder of 8 MiB capped at 2 MiB/s a round trip of
/// `delay` away, counted within `counted` from the first request.
async fn most_outstanding_downloading(
    delay: Duration,
    counted: std::ops::Range<Duration>,
) -> anyhow::Result<i64> {
    most_outstanding_through(8 << 20, Some(2 << 20), |seeder| {
        request_counting_proxy(seeder, counted, delay)
    })
    .await
}

/// Patch "a peer's queue of requests follows its rate and round trip": with no stream
/// at all, a peer is asked for what it sends in twice its round trip and 10 ms (since
/// patch 17: the larger of the two; since its follow-up, 6 ms and the round trip less the
/// block's own transfer), at least 4 blocks (since patch 17: 2). A seeder at
/// 2 MiB/s on loopback is kept to a few blocks, where 9.1.0 asks
/// for 128 (a second of its upload, which a seek made then would wait behind); the same
/// seeder 100 ms away is asked for more than it sends in 100 ms (12.5 blocks), so the
/// short queue does not starve a distant peer (about 27 once the rate settles; the
/// seeder's rate cap lets bursts through, which the estimate follows for a while).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peers_queue_follows_its_rate_and_round_trip() -> anyhow::Result<()> {
    // After the first 1.5 s, once the rate is measured.
    let settled = Duration::from_millis(1500)..Duration::MAX;
    let near = most_outstanding_downloading(Duration::ZERO, settled.clone()).await?;
    let far = most_outstanding_downloading(Duration::from_millis(100), settled).await?;
    println!("a 2 MiB/s peer is asked for at most {near} blocks on loopback, {far} 100 ms away");
    assert!(
        near <= 16,
        "{near} requests outstanding at a peer on loopback"
    );
    assert!(
        (13..=96).contains(&far),
        "{far} requests outstanding at a peer 100 ms away"
    );
    Ok(())
}

/// Patch "a peer's queue is sized from its first block until its rate is known": until
/// a peer's first rate sample (200 ms of its blocks), its first block, which came in one
/// round trip, stands for its rate: a peer 100 ms away is asked for 2 blocks at once after
/// that block has come (in the 50-190 ms after the first request), where the tree before
/// this patch asks for 4 until the sample. The window then grows from the measured rate, as
/// `a_peers_queue_follows_its_rate_and_round_trip` checks for the same peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_is_asked_for_what_its_first_block_shows_until_its_rate_is_known()
-> anyhow::Result<()> {
    let after_its_first_block = Duration::from_millis(50)..Duration::from_millis(190);
    let most =
        most_outstanding_downloading(Duration::from_millis(100), after_its_first_block).await?;
    println!("after its first block, before its rate, a peer is asked for {most} blocks");
    assert_eq!(most, 2, "requests outstanding at a peer 100 ms away");
    Ok(())
}

/// A proxy that counts the blocks of `piece` the seeder sends.
async fn piece_counting_proxy(
    seeder: SocketAddr,
    piece: u32,
) -> anyhow::Result<(SocketAddr, Arc<std::sync::atomic::AtomicU64>)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let blocks = Arc::new(AtomicU64::new(0));
    let count = blocks.clone();
    let note = move |to_seeder: bool, body: &[u8]| {
        if !to_seeder && body.len() > 9 && body[0] == PIECE && body[1..5] == piece.to_be_bytes() {
            count.fetch_add(1, Ordering::Relaxed);
        }
        true
    };
    Ok((watching_proxy(seeder, note).await?, blocks))
}

/// Two seeders of the same random file of `pieces` pieces of `piece` bytes, each capped
/// at 1 MiB/s.
struct TwoSeeders {
    a: Seeder,
    b: Seeder,
    source: Vec<u8>,
    _copy: tempfile::TempDir,
    _dir: tempfile::TempDir,
    session: Arc<Session>,
    /// The torrent in an isolated session, with no peer yet.
    handle: Arc<ManagedTorrent>,
}

/// A second seeder of `a`'s torrent, from a copy of its file (`source`) in a folder of
/// its own, which it seeds while the folder lives.
async fn second_seeder(
    a: &Seeder,
    source: &[u8],
    opts: SeederOptions,
) -> anyhow::Result<(Seeder, tempfile::TempDir)> {
    let copy = tempfile::tempdir()?;
    std::fs::write(copy.path().join(FILE), source)?;
    let b = Seeder::seed_torrent(
        &copy.path().join(FILE),
        bytes::Bytes::copy_from_slice(a.torrent()),
        opts,
    )
    .await?;
    Ok((b, copy))
}

async fn two_seeders(piece: usize, pieces: usize) -> anyhow::Result<TwoSeeders> {
    let opts = SeederOptions {
        piece_length: Some(piece as u32),
        upload_bps: Some(1 << 20),
    };
    let a = Seeder::random(&[(FILE, pieces * piece)], opts.clone()).await?;
    let source = a.read(FILE)?;
    let (b, copy) = second_seeder(&a, &source, opts).await?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    let handle = add_without_peers(&session, &a, false).await?;
    Ok(TwoSeeders {
        a,
        b,
        source,
        _copy: copy,
        _dir: dir,
        session,
        handle,
    })
}

/// Patch "the piece a stream waits for is downloaded from several peers": a reader waits
/// at piece 1 (4 MiB, 256 blocks) of a torrent with two seeders, each capped at 1 MiB/s.
/// The first seeder's peer takes the piece; the second, added 300 ms later, joins it and
/// asks for the blocks nobody asked for, so both send blocks of piece 1 and the reader
/// gets it sooner. On 9.1.0 a piece belongs to one peer: the second seeder sends no
/// block of piece 1 (it takes piece 0 or 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_piece_a_stream_waits_for_comes_from_several_peers() -> anyhow::Result<()> {
    const PIECE: usize = 4 << 20;
    let TwoSeeders {
        a,
        b,
        source,
        session,
        handle,
        ..
    } = two_seeders(PIECE, 3).await?;
    let mut stream = handle.clone().stream(0).await?;
    stream.seek(SeekFrom::Start(PIECE as u64)).await?;
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; PIECE];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (proxy_a, from_a) = piece_counting_proxy(a.addr(), 1).await?;
    let (proxy_b, from_b) = piece_counting_proxy(b.addr(), 1).await?;
    let started = std::time::Instant::now();
    handle.add_peer(proxy_a)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.add_peer(proxy_b)?;
    let got = timeout(Duration::from_secs(30), reader)
        .await
        .context("the read of piece 1 did not complete")???;
    assert!(got == source[PIECE..2 * PIECE], "the bytes of piece 1");
    let (from_a, from_b) = (
        from_a.load(std::sync::atomic::Ordering::Relaxed),
        from_b.load(std::sync::atomic::Ordering::Relaxed),
    );
    println!(
        "piece 1 (256 blocks) read after {:?}: {from_a} blocks from the first peer, {from_b} from the second",
        started.elapsed()
    );
    assert!(
        from_b >= 32,
        "the second peer sent {from_b} blocks of piece 1"
    );
    assert!(
        from_a >= 32,
        "the first peer sent {from_a} blocks of piece 1"
    );
    session.stop().await;
    Ok(())
}

/// A peer for `info_hash` that has all `pieces`, unchokes, keeps the offsets of the
/// blocks of `piece` it is asked for in `asked`, answers none, and hangs up when `leave`
/// fires.
async fn peer_that_leaves(
    info_hash: &str,
    pieces: usize,
    piece: u32,
    asked: Arc<std::sync::Mutex<Vec<u32>>>,
    leave: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let info_hash = info_hash.to_owned();
    let task = tokio::spawn(async move {
        let mut peer = WirePeer::accept(listener, &info_hash).await?;
        let mut bitfield = vec![0u8; pieces.div_ceil(8)];
        for i in 0..pieces {
            bitfield[i / 8] |= 0x80 >> (i % 8);
        }
        peer.send(BITFIELD, &bitfield).await?;
        peer.send(UNCHOKE, &[]).await?;
        let listen = async {
            loop {
                let (id, payload) = peer.recv().await?;
                if id == REQUEST && payload[..4] == piece.to_be_bytes() {
                    let offset = u32::from_be_bytes(payload[4..8].try_into()?);
                    asked.lock().unwrap().push(offset);
                }
            }
        };
        tokio::select! {
            r = listen => r,
            _ = leave => Ok(()),
        }
        // Dropping the connection hangs up.
    });
    Ok((addr, task))
}

/// Patch 10's follow-up, "a helper that leaves leaves its blocks to the others": a
/// reader waits at piece 1 (4 MiB, 256 blocks). A seeder capped at 1 MiB/s takes it; a
/// peer that joins 300 ms later is asked for blocks from a quarter of the piece on and
/// never sends them, so the first peer, going through the piece, skips them. Once it
/// has gone past them the second peer hangs up. Its blocks are asked of the first peer
/// and the read completes. Before the follow-up nobody asked for them again: the first
/// peer had been past them, the piece was its own so no other acquisition handed it
/// back, and the reader waited forever (what a browser peer leaving mid-piece did).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocks_of_a_helper_that_leaves_are_asked_of_the_others() -> anyhow::Result<()> {
    const PIECE_LEN: usize = 4 << 20;
    let OneSeeder {
        seeder,
        source,
        session,
        handle,
        ..
    } = one_seeder(3 * PIECE_LEN, PIECE_LEN as u32, Some(1 << 20), 8).await?;
    let mut stream = handle.clone().stream(0).await?;
    stream.seek(SeekFrom::Start(PIECE_LEN as u64)).await?;
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; PIECE_LEN];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The furthest block of piece 1 the seeder has been asked for.
    let furthest = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let note = furthest.clone();
    let proxy = watching_proxy(seeder.addr(), move |to_seeder, body| {
        if to_seeder && body.len() == 13 && body[0] == REQUEST && body[1..5] == 1u32.to_be_bytes() {
            let offset = u32::from_be_bytes(body[5..9].try_into().unwrap());
            note.fetch_max(offset, std::sync::atomic::Ordering::Relaxed);
        }
        true
    })
    .await?;
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (leave, left) = tokio::sync::oneshot::channel();
    let (helper, helper_task) =
        peer_that_leaves(seeder.info_hash(), 3, 1, asked.clone(), left).await?;
    handle.add_peer(proxy)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.add_peer(helper)?;
    // The seeder goes past every block the helper was asked for.
    let started = std::time::Instant::now();
    let helpers_blocks = loop {
        let mine = asked.lock().unwrap().clone();
        let past = furthest.load(std::sync::atomic::Ordering::Relaxed);
        if mine.iter().max().is_some_and(|m| past > *m) {
            break mine;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the helper was asked for blocks {mine:?} of piece 1, the seeder for blocks up to offset {past}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = leave.send(());
    helper_task.await??;
    let got = timeout(Duration::from_secs(30), reader)
        .await
        .context("the blocks the helper left were never asked of the seeder")???;
    assert!(
        got == source[PIECE_LEN..2 * PIECE_LEN],
        "the bytes of piece 1"
    );
    println!(
        "the helper left {} blocks of piece 1 unsent; read {:?} after it joined",
        helpers_blocks.len(),
        started.elapsed()
    );
    session.stop().await;
    Ok(())
}

/// Patch "a peer in the middle of a piece takes the one a stream waits for first": a
/// torrent with no stream downloads piece 0 from one seeder and piece 1 from another
/// (4 MiB pieces, each seeder capped at 1 MiB/s), then a reader starts at piece 0. The
/// second peer asks for blocks of piece 0 at once, before the rest of piece 1, which
/// the reader needs only later. On patch 10 alone the second peer joins piece 0 only
/// after it has asked for every block of piece 1 (4 s at its rate), by when the first
/// peer has sent piece 0 by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_in_the_middle_of_a_piece_helps_with_the_one_a_stream_waits_for()
-> anyhow::Result<()> {
    const PIECE: usize = 4 << 20;
    let TwoSeeders {
        a,
        b,
        source,
        session,
        handle,
        ..
    } = two_seeders(PIECE, 4).await?;
    let (proxy_a, from_a) = piece_counting_proxy(a.addr(), 0).await?;
    let (proxy_b, from_b) = piece_counting_proxy(b.addr(), 0).await?;
    handle.add_peer(proxy_a)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.add_peer(proxy_b)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut stream = handle.clone().stream(0).await?;
    let started = std::time::Instant::now();
    let mut got = vec![0; PIECE];
    timeout(Duration::from_secs(30), stream.read_exact(&mut got))
        .await
        .context("the read of piece 0 did not complete")??;
    assert!(got == source[..PIECE], "the bytes of piece 0");
    let (from_a, from_b) = (
        from_a.load(std::sync::atomic::Ordering::Relaxed),
        from_b.load(std::sync::atomic::Ordering::Relaxed),
    );
    println!(
        "piece 0 (256 blocks) read {:?} after the reader came: {from_a} blocks from the first peer, {from_b} from the one busy with piece 1",
        started.elapsed()
    );
    assert!(
        from_b >= 32,
        "the peer busy with piece 1 sent {from_b} blocks of piece 0"
    );
    session.stop().await;
    Ok(())
}

/// Patch "a torrent with no waiting stream gives way to one with": one session downloads
/// torrent B (a seeder capped at 2 MiB/s) with no stream, then a reader starts on torrent
/// A, whose seeder is capped at 256 KiB/s, and waits for its first 1 MiB piece. While it
/// waits, B keeps one request outstanding at its peer; once the read is done B goes on and
/// completes. Without the patch B keeps its usual queue (4 requests here, patch 11's
/// least), whatever the other torrent's stream waits for: over links the torrents share,
/// B's blocks would delay A's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_with_no_waiting_stream_gives_way_to_one_with() -> anyhow::Result<()> {
    const PIECE: u32 = 1 << 20;
    let opts = |upload_bps: u32| SeederOptions {
        piece_length: Some(PIECE),
        upload_bps: Some(upload_bps),
    };
    let a = Seeder::random(&[(FILE, 4 << 20)], opts(256 << 10)).await?;
    let b = Seeder::random(&[(FILE, 16 << 20)], opts(2 << 20)).await?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    // Both files have the same name: B's goes to a folder of its own.
    let torrent_b = add_with_options(
        &session,
        &b,
        AddTorrentOptions {
            sub_folder: Some("b".into()),
            ..Default::default()
        },
    )
    .await?;
    let (proxy_b, outstanding_b) =
        request_counting_proxy(b.addr(), Duration::ZERO..Duration::MAX, Duration::ZERO).await?;
    torrent_b.add_peer(proxy_b)?;
    // B's rate is measured and its queue sized from it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let torrent_a = add_without_peers(&session, &a, false).await?;
    torrent_a.add_peer(a.addr())?;
    let mut stream = torrent_a.clone().stream(0).await?;
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; PIECE as usize];
        stream.read_exact(&mut buf).await?;
        anyhow::Ok(buf)
    });
    // B's requests sent before the wait drain; from then on, what B keeps outstanding.
    tokio::time::sleep(Duration::from_millis(500)).await;
    outstanding_b.store(0, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let while_a_waits = outstanding_b.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        !reader.is_finished(),
        "the read of A ended before the measurement did"
    );
    let got = timeout(Duration::from_secs(30), reader)
        .await
        .context("the read of torrent A did not complete")???;
    assert!(
        got == a.read(FILE)?[..PIECE as usize],
        "the bytes of A's first piece"
    );
    timeout(Duration::from_secs(60), torrent_b.wait_until_completed())
        .await
        .context("torrent B did not complete after A's read")??;
    println!("while a stream of A waited, B kept at most {while_a_waits} requests outstanding");
    assert!(
        while_a_waits <= 1,
        "{while_a_waits} requests of B outstanding while A's stream waited"
    );
    session.stop().await;
    Ok(())
}

/// What `GatedStorage` lets a test see and hold.
#[derive(Default)]
struct Gate {
    /// The next read of exactly this many bytes is held until `release` (0: none).
    hold_len: std::sync::atomic::AtomicUsize,
    /// Block writes so far.
    writes: std::sync::atomic::AtomicUsize,
    /// Bytes read so far.
    read_bytes: std::sync::atomic::AtomicUsize,
    /// Block writes when the held read started, once it has.
    writes_when_held: std::sync::Mutex<Option<usize>>,
    released: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
}

impl Gate {
    /// Holds the next read of `len` bytes, which may come after an earlier one was let go.
    fn arm(&self, len: usize) {
        *self.released.lock().unwrap_or_else(|e| e.into_inner()) = false;
        *self
            .writes_when_held
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        self.hold_len
            .store(len, std::sync::atomic::Ordering::SeqCst);
    }

    fn writes_when_held(&self) -> Option<usize> {
        *self
            .writes_when_held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self) {
        *self.released.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
    }

    fn writes(&self) -> usize {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn hold(&self) -> anyhow::Result<()> {
        // The first line of a write counts it, so a write that took the blocking permit
        // before this read did is counted by now.
        *self
            .writes_when_held
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(self.writes());
        let released = self.released.lock().unwrap_or_else(|e| e.into_inner());
        let (released, _) = self
            .wake
            .wait_timeout_while(released, Duration::from_secs(60), |r| !*r)
            .unwrap_or_else(|e| e.into_inner());
        anyhow::ensure!(*released, "the held read was never released");
        Ok(())
    }
}

/// Releases the gate however the test ends, so no blocking thread outlives it for long.
struct ReleaseOnDrop(Arc<Gate>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// The filesystem storage, with its block writes and bytes read counted, and one read of
/// a chosen length held until the test lets it go.
#[derive(Clone)]
struct GatedStorageFactory {
    files: librqbit::storage::filesystem::FilesystemStorageFactory,
    gate: Arc<Gate>,
}

struct GatedStorage {
    files: Box<dyn librqbit::storage::TorrentStorage>,
    gate: Arc<Gate>,
}

impl librqbit::storage::StorageFactory for GatedStorageFactory {
    type Storage = GatedStorage;

    fn create(
        &self,
        shared: &librqbit::ManagedTorrentShared,
        metadata: &librqbit::TorrentMetadata,
    ) -> anyhow::Result<GatedStorage> {
        Ok(GatedStorage {
            files: Box::new(self.files.create(shared, metadata)?),
            gate: self.gate.clone(),
        })
    }

    fn is_type_id(&self, type_id: std::any::TypeId) -> bool {
        self.files.is_type_id(type_id)
    }

    fn clone_box(&self) -> librqbit::storage::BoxStorageFactory {
        use librqbit::storage::StorageFactoryExt;
        self.clone().boxed()
    }
}

impl librqbit::storage::TorrentStorage for GatedStorage {
    fn init(
        &mut self,
        shared: &librqbit::ManagedTorrentShared,
        metadata: &librqbit::TorrentMetadata,
    ) -> anyhow::Result<()> {
        self.files.init(shared, metadata)
    }

    fn pread_exact(&self, file_id: usize, offset: u64, buf: &mut [u8]) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        self.gate.read_bytes.fetch_add(buf.len(), SeqCst);
        if self
            .gate
            .hold_len
            .compare_exchange(buf.len(), 0, SeqCst, SeqCst)
            .is_ok()
        {
            self.gate.hold()?;
        }
        self.files.pread_exact(file_id, offset, buf)
    }

    fn pwrite_all(&self, file_id: usize, offset: u64, buf: &[u8]) -> anyhow::Result<()> {
        self.gate
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.files.pwrite_all(file_id, offset, buf)
    }

    fn pwrite_all_vectored(
        &self,
        file_id: usize,
        offset: u64,
        bufs: [std::io::IoSlice<'_>; 2],
    ) -> anyhow::Result<usize> {
        self.gate
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.files.pwrite_all_vectored(file_id, offset, bufs)
    }

    fn remove_file(&self, file_id: usize, filename: &Path) -> anyhow::Result<()> {
        self.files.remove_file(file_id, filename)
    }

    fn remove_directory_if_empty(&self, path: &Path) -> anyhow::Result<()> {
        self.files.remove_directory_if_empty(path)
    }

    fn ensure_file_length(&self, file_id: usize, length: u64) -> anyhow::Result<()> {
        self.files.ensure_file_length(file_id, length)
    }

    fn take(&self) -> anyhow::Result<Box<dyn librqbit::storage::TorrentStorage>> {
        Ok(Box::new(GatedStorage {
            files: self.files.take()?,
            gate: self.gate.clone(),
        }))
    }
}

/// The length of the stream read `GatedDownload::hold_a_stream_read` holds: no hash
/// check reads that much at once.
const HELD_READ: usize = 1000;

/// Blocks in a piece of `gated_download`'s torrent: pieces of 1 MiB, blocks of 16 KiB.
const GATED_PIECE_BLOCKS: usize = 64;

/// A download from one seeder of 8 MiB at 2 MiB/s into a `GatedStorage`, in a session
/// with one blocking permit, not started yet (no peer).
struct GatedDownload {
    seeder: Seeder,
    source: Vec<u8>,
    dir: tempfile::TempDir,
    session: Arc<Session>,
    handle: Arc<ManagedTorrent>,
    gate: Arc<Gate>,
    _release: ReleaseOnDrop,
}

/// Adds the seeder's torrent (as `add_with_options`) into a `GatedStorage`: the torrent
/// and the storage's gate.
async fn add_gated(
    session: &Arc<Session>,
    seeder: &Seeder,
) -> anyhow::Result<(Arc<ManagedTorrent>, Arc<Gate>)> {
    let gate = Arc::new(Gate::default());
    let factory = GatedStorageFactory {
        files: Default::default(),
        gate: gate.clone(),
    };
    let handle = add_with_options(
        session,
        seeder,
        AddTorrentOptions {
            storage_factory: Some(librqbit::storage::StorageFactoryExt::boxed(factory)),
            ..Default::default()
        },
    )
    .await?;
    Ok((handle, gate))
}

async fn gated_download() -> anyhow::Result<GatedDownload> {
    let seeder = Seeder::random(
        &[(FILE, 8 << 20)],
        SeederOptions {
            piece_length: Some(1 << 20),
            upload_bps: Some(2 << 20),
        },
    )
    .await?;
    let source = seeder.read(FILE)?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 1).await?;
    let (handle, gate) = add_gated(&session, &seeder).await?;
    Ok(GatedDownload {
        seeder,
        source,
        dir,
        session,
        handle,
        _release: ReleaseOnDrop(gate.clone()),
        gate,
    })
}

impl GatedDownload {
    /// Block writes when the held read started, once it has.
    async fn held_at(&self) -> anyhow::Result<usize> {
        timeout(Duration::from_secs(10), async {
            loop {
                if let Some(n) = self.gate.writes_when_held() {
                    return n;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .context("the read to hold never reached the storage")
    }

    /// Downloads from `peer`; once piece 0 is had, a stream's read of `HELD_READ` bytes
    /// (from byte 1) is held in the storage, holding the session's only blocking permit,
    /// while the blocks of a piece past the first are still to come.
    /// Returns the read, which yields its bytes once released, and the block writes when
    /// it was held.
    async fn hold_a_stream_read(
        &self,
        peer: SocketAddr,
    ) -> anyhow::Result<(tokio::task::JoinHandle<anyhow::Result<Vec<u8>>>, usize)> {
        self.handle.add_peer(peer)?;
        let mut stream = self.handle.clone().stream(0).await?;
        // Piece 0 is had once this returns; the download goes on at the seeder's rate.
        let mut first = [0u8; 1];
        timeout(Duration::from_secs(20), stream.read_exact(&mut first))
            .await
            .context("the first piece did not arrive")??;
        // A read held just as a piece's last block was written may hold the permit that
        // piece's check waits for; the peer then sends nothing while it is held, and there
        // is nothing to see. Such a read is let go, and the next one held.
        for _ in 0..10 {
            self.gate.arm(HELD_READ);
            let read = tokio::spawn(async move {
                stream.seek(SeekFrom::Start(1)).await?;
                let mut buf = vec![0u8; HELD_READ];
                stream.read_exact(&mut buf).await?;
                anyhow::Ok((stream, buf))
            });
            let held_at = self.held_at().await?;
            if held_at % GATED_PIECE_BLOCKS != 0 || held_at == GATED_PIECE_BLOCKS {
                let bytes = tokio::spawn(async move { Ok(read.await??.1) });
                return Ok((bytes, held_at));
            }
            println!("a read held at block {held_at}, a piece's end: let go and held again");
            self.gate.release();
            let (again, buf) = timeout(Duration::from_secs(10), read)
                .await
                .context("a read held at a piece's end did not return once let go")???;
            assert!(
                buf == self.source[1..1 + HELD_READ],
                "the let-go read's bytes"
            );
            stream = again;
        }
        anyhow::bail!("ten reads in a row were held at a piece's end")
    }

    /// Lets the read `hold_a_stream_read` held go; it returns the source's bytes.
    async fn release_the_held_read(
        &self,
        read: tokio::task::JoinHandle<anyhow::Result<Vec<u8>>>,
    ) -> anyhow::Result<()> {
        self.gate.release();
        let buf = timeout(Duration::from_secs(10), read)
            .await
            .context("the held read did not return once let go")???;
        assert!(
            buf == self.source[1..1 + HELD_READ],
            "the held read's bytes"
        );
        Ok(())
    }

    /// Downloads from the seeder through `block_0_late_proxy`, and holds piece 0's check
    /// in its read back; returns the block writes when it was held.
    async fn hold_piece_0s_check(&self) -> anyhow::Result<usize> {
        self.gate.arm(CHECK_READ);
        self.handle
            .add_peer(block_0_late_proxy(self.seeder.addr()).await?)?;
        self.held_at().await
    }

    async fn completes_with_the_source(&self) -> anyhow::Result<()> {
        timeout(Duration::from_secs(30), self.handle.wait_until_completed())
            .await
            .context("the download did not complete")??;
        assert!(std::fs::read(self.dir.path().join(FILE))? == self.source);
        Ok(())
    }
}

/// Patch "a block is written where it arrives": a received block goes to the storage
/// without a blocking permit; only a piece's hash check takes one. While a stream's read
/// holds the session's only permit, blocks still arriving are written; once the read is
/// let go, it returns the right bytes and the download completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_are_written_while_a_read_holds_the_blocking_permit() -> anyhow::Result<()> {
    let download = gated_download().await?;
    let (read, held_at) = download.hold_a_stream_read(download.seeder.addr()).await?;
    // Blocks keep arriving: at least the ones already asked for. Then the rest of the
    // piece in progress has a second to arrive too, for the figure printed.
    let any_written = timeout(Duration::from_secs(10), async {
        while download.gate.writes() == held_at {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let written = download.gate.writes();
    println!("while a read held the blocking permit: blocks written {held_at} -> {written}");
    assert!(
        !read.is_finished(),
        "the held read returned before its release"
    );
    assert!(
        any_written.is_ok(),
        "no block was written in 10 s while a read held the blocking permit ({held_at} before \
         and after)"
    );
    download.release_the_held_read(read).await?;
    download.completes_with_the_source().await?;
    download.session.stop().await;
    Ok(())
}

/// A TCP proxy to `seeder` for one connection, which a notification closes at once.
async fn cuttable_proxy(
    seeder: SocketAddr,
) -> anyhow::Result<(SocketAddr, Arc<tokio::sync::Notify>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cut = Arc::new(tokio::sync::Notify::new());
    let cut_here = cut.clone();
    tokio::spawn(async move {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut upstream) = TcpStream::connect(seeder).await else {
            return;
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
            _ = cut_here.notified() => {}
        }
    });
    Ok((addr, cut))
}

/// Same patch: a piece whose check waits for a blocking permit is queued again if its
/// peer's connection ends meanwhile, so another peer downloads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piece_waiting_for_its_check_is_not_lost_with_its_peer() -> anyhow::Result<()> {
    let download = gated_download().await?;
    let (proxy, cut) = cuttable_proxy(download.seeder.addr()).await?;
    let (read, held_at) = download.hold_a_stream_read(proxy).await?;
    // The piece in progress is written, then its check waits for the permit the read holds
    // and the writes stop. At the seeder's 2 MiB/s a block comes every 8 ms, so a second
    // without one is the check waiting, not the link.
    let stopped_at = timeout(Duration::from_secs(10), async {
        loop {
            let before = download.gate.writes();
            tokio::time::sleep(Duration::from_secs(1)).await;
            if download.gate.writes() == before {
                return before;
            }
        }
    })
    .await
    .context("the writes did not stop at a piece's check")?;
    println!("block writes: {held_at} when the read was held, stopped at {stopped_at}");
    assert!(
        stopped_at > held_at && stopped_at % GATED_PIECE_BLOCKS == 0,
        "the writes stopped at block {stopped_at}, not at the end of the piece in progress"
    );
    // The peer's connection ends; its writer notices on its next request (re-asked after
    // 4 s at the latest) and the peer's task ends, with the check still waiting.
    cut.notify_one();
    let proxy_live = || {
        download.handle.live().is_some_and(|live| {
            live.per_peer_stats_snapshot(Default::default())
                .peers
                .contains_key(&proxy.to_string())
        })
    };
    timeout(Duration::from_secs(15), async {
        while proxy_live() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .context("the peer whose connection ended stayed live")?;
    download.release_the_held_read(read).await?;
    download.handle.add_peer(download.seeder.addr())?;
    download.completes_with_the_source().await?;
    download.session.stop().await;
    Ok(())
}

/// The size of a piece check's reads back (64 KiB). With no stream open, the first read
/// of that size is a check's.
const CHECK_READ: usize = 64 << 10;

/// A proxy to `seeder` that sends piece 0's block 0 after its block 1. A piece whose
/// blocks come in order is checked with no read (patch "a piece's blocks are hashed as
/// they are written"); piece 0's check then reads the piece back from block 1.
async fn block_0_late_proxy(seeder: SocketAddr) -> anyhow::Result<SocketAddr> {
    let mut held = None;
    rewriting_proxy(seeder, move |message| {
        let block_0_of_piece_0 =
            message.get(4) == Some(&PIECE) && message.get(5..13) == Some(&[0u8; 8][..]);
        if block_0_of_piece_0 && held.is_none() {
            held = Some(message);
            return Vec::new();
        }
        std::iter::once(message).chain(held.take()).collect()
    })
    .await
}

/// Patch "a piece being checked is queued again on pause": a piece taken out of the
/// in-flight set for its hash check is tracked until the check ends, so a pause during
/// the check queues it again: it is downloaded after the resume rather than lost between
/// "downloading" and "had".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piece_being_checked_when_the_torrent_pauses_is_not_lost() -> anyhow::Result<()> {
    let download = gated_download().await?;
    download.hold_piece_0s_check().await?;
    download.session.pause(&download.handle).await?;
    download.gate.release();
    download.session.unpause(&download.handle).await?;
    // A resumed torrent starts with no peer; this session finds none by itself.
    download.handle.add_peer(download.seeder.addr())?;
    download.completes_with_the_source().await?;
    download.session.stop().await;
    Ok(())
}

/// Patch "a piece's check runs beside its peer": while piece 0's check is held in the
/// storage (its read back), the peer's task goes on receiving, and the whole next piece
/// is written meanwhile. Once the check is let go the download completes with the
/// source's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pieces_check_does_not_hold_up_its_peer() -> anyhow::Result<()> {
    let download = gated_download().await?;
    let held_at = download.hold_piece_0s_check().await?;
    // Piece 1 (blocks 64 to 127) had hardly begun when piece 0's check started; at the
    // seeder's 2 MiB/s it takes half a second.
    assert!(held_at < 2 * GATED_PIECE_BLOCKS, "held at block {held_at}");
    let next_piece_written = timeout(Duration::from_secs(10), async {
        while download.gate.writes() < 2 * GATED_PIECE_BLOCKS {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let written = download.gate.writes();
    println!("while piece 0's check was held: blocks written {held_at} -> {written}");
    assert!(
        next_piece_written.is_ok(),
        "the next piece was not written in 10 s while a check was held ({held_at} -> {written} \
         blocks)"
    );
    download.gate.release();
    download.completes_with_the_source().await?;
    download.session.stop().await;
    Ok(())
}

/// Bytes of file `index` the torrent has once it has at least `at_least` and that figure
/// has stopped growing for a second (at most 30 s).
async fn settled_progress(
    handle: &ManagedTorrent,
    index: usize,
    at_least: u64,
) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut last = (
        handle.stats().file_progress[index],
        tokio::time::Instant::now(),
    );
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = handle.stats().file_progress[index];
        if now != last.0 {
            last = (now, tokio::time::Instant::now());
        } else if now >= at_least && last.1.elapsed() >= Duration::from_secs(1) {
            return Ok(now);
        }
    }
    anyhow::bail!(
        "file {index}: {} bytes after 30 s, still moving or short of {at_least}",
        last.0
    )
}

/// Patch "a file's read-ahead can be set": a file left out of the download gets only
/// the pieces its stream reads ahead, and that is as many bytes as the torrent was told,
/// first before the stream opens and then while it is open. On librqbit 9.1.0 the
/// read-ahead is a fixed 32 MiB: the whole 4 MiB file would come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_files_read_ahead_is_what_the_torrent_is_told() -> anyhow::Result<()> {
    const PIECE: u64 = 64 << 10;
    let seeder = Seeder::random(
        &[
            ("video.bin", 64 * PIECE as usize),
            ("extra.bin", PIECE as usize),
        ],
        SeederOptions {
            piece_length: Some(PIECE as u32),
            upload_bps: None,
        },
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    let handle = add_without_peers(&session, &seeder, true).await?;
    let index_of = |name: &str| {
        handle.with_metadata(|m| {
            m.file_infos
                .iter()
                .position(|f| f.relative_filename.ends_with(name))
        })
    };
    let video = index_of("video.bin")?.context("no video.bin")?;
    let extra = index_of("extra.bin")?.context("no extra.bin")?;
    session
        .update_only_files(&handle, &[extra].into_iter().collect())
        .await?;
    assert!(
        handle.set_file_read_ahead(2, PIECE).is_err(),
        "the torrent has two files"
    );
    session.unpause(&handle).await?;
    assert_eq!(
        handle.file_read_ahead(video)?,
        32 << 20,
        "librqbit's default"
    );
    handle.set_file_read_ahead(video, 4 * PIECE)?;
    assert_eq!(handle.file_read_ahead(video)?, 4 * PIECE);
    // Opened before the seeder is known: a torrent whose selected files are complete
    // keeps its peers while a stream of an unfinished file is open.
    let stream = handle.clone().stream(video).await?;
    handle.add_peer(seeder.addr())?;
    timeout(Duration::from_secs(30), handle.wait_until_completed())
        .await
        .context("extra.bin did not download")??;
    let got = settled_progress(&handle, video, 4 * PIECE).await?;
    println!("read-ahead of 4 pieces: {} pieces", got / PIECE);
    assert_eq!(got, 4 * PIECE, "set before the stream opened");

    handle.set_file_read_ahead(video, 12 * PIECE)?;
    let got = settled_progress(&handle, video, 12 * PIECE).await?;
    println!("read-ahead of 12 pieces: {} pieces", got / PIECE);
    assert_eq!(got, 12 * PIECE, "raised while the stream is open");

    let on_disk = std::fs::read(dir.path().join("swarm-test").join("video.bin"))?;
    assert!(
        on_disk[..12 * PIECE as usize] == seeder.read("video.bin")?[..12 * PIECE as usize],
        "the pieces read ahead hold the source's bytes"
    );
    drop(stream);
    session.stop().await;
    Ok(())
}

/// Patch "a piece's blocks are hashed as they are written": a piece whose blocks were
/// written in order is checked with no read of storage; a piece whose blocks came out of
/// order is read back from its first gap; a corrupted block is still caught.
///
/// The torrent downloads 8 pieces of 1 MiB through a proxy to seeder A that holds back
/// block 0 of the first piece it sends until block 1 has passed, holds back block 5 of
/// the second piece until block 6 has passed, and flips a bit in block 0 of the third.
/// The third piece fails its check, A is dropped, and seeder B, added then, sends the
/// rest, each piece in order. The check of the first piece then reads back its blocks
/// 1..64, the second's its blocks 6..64: 121 blocks. On 9.1.0 every check reads its piece
/// back, the failed one twice: 9 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piece_whose_blocks_came_in_order_is_checked_without_reading_it_back()
-> anyhow::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const PIECE_LEN: usize = 1 << 20;
    const PIECES: usize = 8;
    const BLOCK: usize = 16 << 10;
    let opts = SeederOptions {
        piece_length: Some(PIECE_LEN as u32),
        upload_bps: None,
    };
    let a = Seeder::random(&[(FILE, PIECES * PIECE_LEN)], opts.clone()).await?;
    let source = a.read(FILE)?;
    let (b, _copy) = second_seeder(&a, &source, opts).await?;
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 8).await?;
    let (handle, gate) = add_gated(&session, &a).await?;
    let read_before = gate.read_bytes.load(Ordering::SeqCst);

    // The pieces in the order their first block passes, and the block held back.
    let tampered = Arc::new(AtomicUsize::new(0));
    let done = tampered.clone();
    let mut order: Vec<[u8; 4]> = Vec::new();
    let mut held: Option<Vec<u8>> = None;
    let proxy = rewriting_proxy(a.addr(), move |mut message| {
        if message.get(4) != Some(&PIECE) || message.len() < 13 + BLOCK {
            return vec![message];
        }
        let index: [u8; 4] = message[5..9].try_into().expect("4 bytes");
        let block =
            u32::from_be_bytes(message[9..13].try_into().expect("4 bytes")) as usize / BLOCK;
        if !order.contains(&index) {
            order.push(index);
        }
        let nth = order.iter().position(|i| *i == index).unwrap_or(usize::MAX);
        match (nth, block) {
            (0, 0) | (1, 5) if held.is_none() => {
                held = Some(message);
                return Vec::new();
            }
            (2, 0) => {
                message[13 + 100] ^= 1;
                done.fetch_add(1, Ordering::SeqCst);
                return vec![message];
            }
            _ => {}
        }
        match held.take() {
            Some(earlier) => {
                done.fetch_add(1, Ordering::SeqCst);
                vec![message, earlier]
            }
            None => vec![message],
        }
    })
    .await?;
    handle.add_peer(proxy)?;
    timeout(Duration::from_secs(20), async {
        while tampered.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .context("the proxy did not see three pieces")?;
    handle.add_peer(b.addr())?;
    timeout(Duration::from_secs(30), handle.wait_until_completed())
        .await
        .context("the download did not complete")??;
    assert!(
        std::fs::read(dir.path().join(FILE))? == source,
        "the downloaded file differs from the source: the corrupted block got through"
    );
    let read = gate.read_bytes.load(Ordering::SeqCst) - read_before;
    println!("the checks read {read} bytes ({} blocks)", read / BLOCK);
    assert!(
        read >= 121 * BLOCK,
        "{read} bytes read: the pieces whose blocks came out of order were not read back"
    );
    assert!(
        read < 3 * PIECE_LEN,
        "{read} bytes read: pieces whose blocks came in order were read back"
    );
    session.stop().await;
    Ok(())
}

/// Patch "a stream's read initializes only what it fills": a read into a large buffer
/// whose bytes are not initialized (as `tokio_util::io::ReaderStream` gives one) leaves
/// the part it does not fill as it was; on 9.1.0 every read first zeroes the whole
/// unfilled buffer, here 2 MiB for a read that ends at a piece's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_read_initializes_only_what_it_fills() -> anyhow::Result<()> {
    use std::mem::MaybeUninit;
    const PIECE_LEN: usize = 256 << 10;
    let one = one_seeder(4 * PIECE_LEN, PIECE_LEN as u32, None, 2).await?;
    one.handle.add_peer(one.seeder.addr())?;
    let mut stream = one.handle.clone().stream(0).await?;
    // From the middle of piece 1: the read stops at that piece's end.
    let start = PIECE_LEN + PIECE_LEN / 2;
    stream.seek(SeekFrom::Start(start as u64)).await?;
    let mut storage = vec![MaybeUninit::<u8>::uninit(); 2 << 20];
    let mut buf = tokio::io::ReadBuf::uninit(&mut storage);
    read_into(&mut stream, &mut buf).await?;
    let filled = buf.filled().len();
    println!(
        "filled {filled} bytes, initialized {}",
        buf.initialized().len()
    );
    assert_eq!(
        filled,
        PIECE_LEN / 2,
        "the read did not stop at the piece's end"
    );
    assert_read_is_the_files(&buf, &one.source, start);
    one.session.stop().await;
    Ok(())
}

/// Patch "a stream's cached read fills memory it has not initialized": reads into buffers
/// that are not initialized (as a body sender's are) return exactly the file's bytes,
/// whether the page cache holds all of a read's range, part of it or none, and mark as
/// initialized only what they filled. Each buffer starts as a marker byte the read must
/// not leave in what it returns, nor overwrite past what it returns. (The saving, a pass
/// of `memset` over every byte a stream reads, shows in a profile, not here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streams_cached_read_into_uninitialized_memory_returns_the_files_bytes()
-> anyhow::Result<()> {
    use std::mem::MaybeUninit;
    const PIECE_LEN: usize = 1 << 20;
    const LEN: usize = 8 * PIECE_LEN;
    const READ: usize = 256 << 10;
    // Larger than a read that ends at a piece's end (every third one), which must leave
    // the rest of the buffer as it was.
    const BUF: usize = 384 << 10;
    const MARK: u8 = 0xA5;
    let one = one_seeder(LEN, PIECE_LEN as u32, None, 2).await?;
    one.handle.add_peer(one.seeder.addr())?;
    timeout(Duration::from_secs(60), one.handle.wait_until_completed())
        .await
        .context("the download did not complete")??;
    // The page cache then holds all of piece 0, the first half of every 256 KiB of
    // pieces 1-3 (so reads there start cached, uncached, or both), none of pieces 4-7.
    let file = std::fs::File::open(one.dir.path().join(FILE))?;
    file.sync_all()?;
    for offset in (PIECE_LEN + READ / 2..4 * PIECE_LEN).step_by(READ) {
        drop_from_page_cache(&file, offset, READ / 2)?;
    }
    drop_from_page_cache(&file, 4 * PIECE_LEN, LEN - 4 * PIECE_LEN)?;
    let mut stream = one.handle.clone().stream(0).await?;
    let (mut position, mut short_reads) = (0, 0);
    while position < LEN {
        let mut storage = vec![MaybeUninit::new(MARK); BUF];
        let mut buf = tokio::io::ReadBuf::uninit(&mut storage);
        read_into(&mut stream, &mut buf).await?;
        let filled = buf.filled().len();
        anyhow::ensure!(filled > 0, "the stream ended at {position} of {LEN}");
        assert_read_is_the_files(&buf, &one.source, position);
        // SAFETY: every element was initialized with the marker, then written only by
        // the read.
        let past = storage[filled..].iter().map(|b| unsafe { b.assume_init() });
        assert!(
            past.into_iter().all(|b| b == MARK),
            "the read at {position} wrote past the {filled} bytes it returned"
        );
        short_reads += usize::from(filled < BUF);
        position += filled;
    }
    assert!(
        short_reads >= LEN / PIECE_LEN,
        "{short_reads} reads ended before their buffer's end: the marker past a read was not tested"
    );
    one.session.stop().await;
    Ok(())
}

/// One `poll_read` of `stream` into `buf`, as a body sender makes it (no `read` wrapper
/// that would initialize the buffer first).
async fn read_into(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    buf: &mut tokio::io::ReadBuf<'_>,
) -> anyhow::Result<()> {
    timeout(
        Duration::from_secs(20),
        std::future::poll_fn(|cx| {
            tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut *stream), cx, buf)
        }),
    )
    .await
    .context("the read did not return")??;
    Ok(())
}

/// A read at `at` into `buf` returned the file's bytes there (`source`), and marked as
/// initialized only what it filled.
fn assert_read_is_the_files(buf: &tokio::io::ReadBuf<'_>, source: &[u8], at: usize) {
    let filled = buf.filled().len();
    assert!(
        buf.filled() == &source[at..at + filled],
        "the read at {at} returned bytes that are not the file's"
    );
    assert_eq!(
        buf.initialized().len(),
        filled,
        "the read at {at} marked more of the buffer initialized than it filled"
    );
}

/// Drops `len` bytes of `file` at `offset` from the page cache (the file was synced), so
/// that reading them goes to the disk.
fn drop_from_page_cache(file: &std::fs::File, offset: usize, len: usize) -> anyhow::Result<()> {
    // SAFETY: a plain system call on an open file descriptor.
    let advised = unsafe {
        libc::posix_fadvise(
            std::os::fd::AsRawFd::as_raw_fd(file),
            libc::off_t::try_from(offset)?,
            libc::off_t::try_from(len)?,
            libc::POSIX_FADV_DONTNEED,
        )
    };
    anyhow::ensure!(advised == 0, "posix_fadvise failed: {advised}");
    Ok(())
}

/// The sum of the count `key` (a line `key: N`) in `file` of `/proc/self/task/*/` over
/// this process's threads named `name` (a thread that has ended is not counted).
fn count_of_threads_named(name: &str, file: &str, key: &str) -> anyhow::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim_end() != name {
            continue;
        }
        let Ok(counts) = std::fs::read_to_string(path.join(file)) else {
            continue;
        };
        total += counts
            .lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|count| count.trim().parse::<u64>().ok())
            .with_context(|| format!("no {key} in a thread's {file}"))?;
    }
    Ok(total)
}

/// Read system calls so far by this process's threads named `name`.
fn reads_by_threads_named(name: &str) -> anyhow::Result<u64> {
    count_of_threads_named(name, "io", "syscr")
}

/// A runtime with one worker whose threads (the worker and its blocking threads) are all
/// named `name`, so that their counts in `/proc` are the session's alone.
fn one_worker_runtime(name: &str) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
}

/// Patch "a peer's queued blocks are read several at a time": a connection's reads take
/// what the peer has queued in the socket, up to 128 KiB, where 9.1.0 read into a ring
/// of 32 KiB: one 16 KiB block at a time in practice, never more than 32 KiB.
///
/// The downloading session runs on a runtime of its own, whose threads only it uses, and
/// whose one worker is kept busy for 10 ms at a time (as a loaded machine would keep it),
/// so that the seeder's blocks queue up in the socket meanwhile. Every read system call
/// of the session's threads counts (anything else they read makes the average lower,
/// not higher); on 9.1.0 the average read is at most 32 KiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peers_queued_blocks_are_read_several_at_a_time() -> anyhow::Result<()> {
    const THREADS: &str = "queued-reads";
    const LEN: usize = 16 << 20;
    let (seeder, source) = random_seeder(LEN, 1 << 20, None).await?;
    let peer = seeder.addr();
    let client = one_worker_runtime(THREADS)?;
    let dir = tempfile::tempdir()?;
    let download = {
        let (dir, torrent) = (dir.path().to_path_buf(), seeder.torrent().to_vec());
        client.spawn(async move {
            let session = isolated_session(&dir, 2).await?;
            let handle = add_torrent_bytes(&session, torrent, Default::default()).await?;
            let busy = tokio::spawn(async {
                loop {
                    std::thread::sleep(Duration::from_millis(10));
                    tokio::task::yield_now().await;
                }
            });
            let before = reads_by_threads_named(THREADS)?;
            handle.add_peer(peer)?;
            timeout(Duration::from_secs(60), handle.wait_until_completed())
                .await
                .context("the download did not complete")??;
            let reads = reads_by_threads_named(THREADS)? - before;
            busy.abort();
            session.stop().await;
            anyhow::Ok(reads)
        })
    };
    let reads = download.await??;
    client.shutdown_background();
    assert!(
        std::fs::read(dir.path().join(FILE))? == source,
        "the downloaded file differs from the source"
    );
    let per_read = LEN as u64 / reads.max(1);
    println!("{reads} reads for {LEN} bytes: {per_read} bytes per read on average");
    assert!(
        per_read > 32 << 10,
        "{per_read} bytes per read: not more than a 32 KiB ring holds"
    );
    Ok(())
}

/// Patch "a stream reads what the page cache holds on the worker": a stream's read of
/// bytes the page cache holds (a piece just written and checked) is done in the task that
/// polls it, where 9.1.0 left the runtime's worker for each read (`block_in_place`), which
/// hands the worker to another thread and back.
///
/// The session downloads 16 MiB on a runtime of its own with one worker, then one stream
/// reads the file in 256 KiB reads while a task that spins 1 ms at a time keeps the worker
/// wanted. A read that leaves the worker hands it to another thread, and a thread is put
/// to sleep when the read is done; nothing else in the runtime sleeps, so the voluntary
/// context switches of its threads during the reads count the reads that left the worker.
#[tokio::test]
async fn a_stream_reads_what_the_page_cache_holds_on_the_worker() -> anyhow::Result<()> {
    const THREADS: &str = "cached-reads";
    const LEN: usize = 16 << 20;
    const READ: usize = 256 << 10;
    let (seeder, source) = random_seeder(LEN, 1 << 20, None).await?;
    let peer = seeder.addr();
    let client = one_worker_runtime(THREADS)?;
    let dir = tempfile::tempdir()?;
    let read = {
        let (dir, torrent) = (dir.path().to_path_buf(), seeder.torrent().to_vec());
        client.spawn(async move {
            let session = isolated_session(&dir, 2).await?;
            let handle = add_torrent_bytes(&session, torrent, Default::default()).await?;
            handle.add_peer(peer)?;
            timeout(Duration::from_secs(60), handle.wait_until_completed())
                .await
                .context("the download did not complete")??;
            let mut stream = handle.clone().stream(0).await?;
            let mut bytes = Vec::with_capacity(LEN);
            let mut buf = vec![0; READ];
            // Other work waits for the worker, as a peer's blocks would (spinning, so that
            // it puts no thread to sleep itself): a read that leaves the worker hands it over.
            let busy = tokio::spawn(async {
                loop {
                    let start = std::time::Instant::now();
                    while start.elapsed() < Duration::from_millis(1) {
                        std::hint::spin_loop();
                    }
                    tokio::task::yield_now().await;
                }
            });
            tokio::task::yield_now().await;
            let before = count_of_threads_named(THREADS, "status", "voluntary_ctxt_switches")?;
            let mut reads = 0;
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                reads += 1;
                bytes.extend_from_slice(&buf[..n]);
                // As a response body's sender does when the socket is full: the next read
                // is polled anew, on whichever thread then holds the worker.
                tokio::task::yield_now().await;
            }
            let switches =
                count_of_threads_named(THREADS, "status", "voluntary_ctxt_switches")? - before;
            busy.abort();
            // What is not cached is read from the disk: the second half of every read's
            // range is dropped from the page cache, and the file is read again.
            let file = std::fs::File::open(dir.join(FILE))?;
            file.sync_all()?;
            for offset in (READ / 2..LEN).step_by(READ) {
                drop_from_page_cache(&file, offset, READ / 2)?;
            }
            stream.seek(SeekFrom::Start(0)).await?;
            let mut again = Vec::with_capacity(LEN);
            stream.read_to_end(&mut again).await?;
            drop(stream);
            session.stop().await;
            anyhow::ensure!(
                again == bytes,
                "the second read's bytes differ from the first's"
            );
            anyhow::Ok((bytes, reads, switches))
        })
    };
    let (bytes, reads, switches) = read.await??;
    client.shutdown_background();
    assert!(bytes == source, "the stream's bytes differ from the source");
    println!("{reads} reads, {switches} voluntary context switches of the runtime's threads");
    assert!(
        switches < reads / 4,
        "{switches} context switches for {reads} reads of cached bytes: reads left the worker"
    );
    Ok(())
}

/// A TCP proxy to `seeder` for one connection whose link to the client carries one block
/// per `interval` and takes `latency` more, as a shaped link would: each PIECE message
/// is passed on `latency` after an `interval` after the one before (or after it came, if
/// later); other messages keep their place in line. Returns its address and the most
/// requests the client had outstanding (`OutstandingRequests`, a PIECE counted as it is
/// passed on) once `settled` after its first request.
async fn pacing_proxy(
    seeder: SocketAddr,
    interval: Duration,
    latency: Duration,
    settled: Duration,
) -> anyhow::Result<(SocketAddr, Arc<std::sync::atomic::AtomicI64>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let requests = Arc::new(OutstandingRequests::new(settled..Duration::MAX));
    let max = requests.max.clone();
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let Ok(upstream) = TcpStream::connect(seeder).await else {
            return;
        };
        let (mut client_r, mut client_w) = client.into_split();
        let (mut up_r, mut up_w) = upstream.into_split();
        let up = {
            let requests = requests.clone();
            tokio::spawn(async move {
                let _: anyhow::Result<()> = async {
                    let mut handshake = [0u8; 68];
                    client_r.read_exact(&mut handshake).await?;
                    up_w.write_all(&handshake).await?;
                    loop {
                        let message = read_framed_message(&mut client_r).await?;
                        requests.note(&message[4..]);
                        up_w.write_all(&message).await?;
                    }
                }
                .await;
            })
        };
        // The link: a message is due when the link has carried it (a PIECE takes an
        // `interval` once the one before is through) and `latency` more.
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
        let down = tokio::spawn(async move {
            let _: anyhow::Result<()> = async {
                while let Some((due, message)) = rx.recv().await {
                    tokio::time::sleep_until(due).await;
                    if message.get(4) == Some(&PIECE) {
                        requests.note(&message[4..]);
                    }
                    client_w.write_all(&message).await?;
                }
                Ok(())
            }
            .await;
        });
        let _: anyhow::Result<()> = async {
            let mut handshake = [0u8; 68];
            up_r.read_exact(&mut handshake).await?;
            tx.send((tokio::time::Instant::now(), handshake.to_vec()))?;
            let mut carried = tokio::time::Instant::now();
            loop {
                let message = read_framed_message(&mut up_r).await?;
                carried = carried.max(tokio::time::Instant::now());
                if message.get(4) == Some(&PIECE) {
                    carried += interval;
                }
                tx.send((carried + latency, message))?;
            }
        }
        .await;
        down.abort();
        up.abort();
    });
    Ok((addr, max))
}

/// Patch "a peer's queue of requests follows its rate and round trip", follow-up: the
/// round trip a peer's first block times ends with that block's own transfer, which is
/// not doubled, and `QUEUE_TIME` is 6 ms. A peer on a link that carries one block per
/// 16 ms (1 MiB/s) with 4 ms of latency is asked for 2 blocks at a time once its rate is
/// known: one on the link, one to send next (what it sends in a round trip is 1.25
/// blocks). Before the follow-up it was asked for 3 (twice a round trip of about 20 ms),
/// and a seek waited behind one more block at every such peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_whose_round_trip_is_its_blocks_transfer_is_asked_for_two() -> anyhow::Result<()> {
    let most = most_outstanding_through(4 << 20, None, |seeder| {
        pacing_proxy(
            seeder,
            Duration::from_millis(16),
            Duration::from_millis(4),
            Duration::from_millis(1500),
        )
    })
    .await?;
    println!("a peer sending a block per 16 ms was asked for at most {most} blocks at once");
    assert_eq!(most, 2, "requests outstanding at a peer on a 1 MiB/s link");
    Ok(())
}
