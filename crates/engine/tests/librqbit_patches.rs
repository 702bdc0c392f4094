//! Behavioural tests of the patches in `third_party/librqbit` (listed in its PATCHES.md),
//! through librqbit's public API against a real swarm on 127.0.0.1. Each test fails on
//! the published librqbit 9.1.0.

use std::io::SeekFrom;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cinemahalal_swarm::{Seeder, SeederOptions};
use librqbit::{AddTorrent, AddTorrentOptions, ManagedTorrent, Session, SessionOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
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
    let handle = session
        .add_torrent(
            AddTorrent::from_bytes(seeder.torrent().to_vec()),
            Some(AddTorrentOptions {
                paused,
                overwrite: true,
                ..Default::default()
            }),
        )
        .await?
        .into_handle()
        .context("the torrent was not added")?;
    handle.wait_until_initialized().await?;
    Ok(handle)
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
    let seeder = Seeder::random(
        &[(FILE, LEN)],
        SeederOptions {
            piece_length: Some(64 << 10),
            upload_bps: Some(2 << 20),
        },
    )
    .await?;
    let source = Arc::new(seeder.read(FILE)?);
    let dir = tempfile::tempdir()?;
    let session = isolated_session(dir.path(), 2).await?;
    let handle = add_without_peers(&session, &seeder, false).await?;

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
