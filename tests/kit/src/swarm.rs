//! A real BitTorrent swarm on 127.0.0.1 for tests: a librqbit session seeding files,
//! DHT, trackers and local discovery off, reachable only through its listen address.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let seeder = cinemahalal_testkit::swarm::Seeder::random(&[("movie.mp4", 8 << 20)], Default::default()).await?;
//! let magnet = seeder.magnet(); // carries x.pe=127.0.0.1:<port>
//! # Ok(()) }
//! ```

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use librqbit::limits::LimitsConfig;
use librqbit::spawn_utils::BlockingSpawner;
use librqbit::{
    AddTorrent, AddTorrentOptions, CreateTorrentOptions, ListenerMode, ListenerOptions, Session,
    SessionOptions, create_torrent,
};
use rand::{RngCore, SeedableRng};

#[derive(Debug, Clone, Default)]
pub struct SeederOptions {
    /// Piece length in bytes (a power of two, at least 16 KiB); librqbit picks when `None`.
    pub piece_length: Option<u32>,
    /// Upload cap in bytes per second (at least 16 KiB), to make a slow seeder.
    pub upload_bps: Option<u32>,
}

/// A seeding session. Dropping it stops seeding (its files are removed if it made them).
pub struct Seeder {
    session: Arc<Session>,
    root: PathBuf,
    _temp: Option<tempfile::TempDir>,
    info_hash: String,
    name: String,
    torrent: bytes::Bytes,
    addr: SocketAddr,
}

impl Seeder {
    /// Seeds files of random bytes, `(relative path, size)`: one file makes a single-file
    /// torrent, more make a multi-file torrent named `swarm-test`.
    pub async fn random(files: &[(&str, usize)], opts: SeederOptions) -> anyhow::Result<Seeder> {
        let temp = tempfile::Builder::new()
            .prefix("cinemahalal-swarm")
            .tempdir()?;
        let content_root = if files.len() == 1 {
            temp.path().to_path_buf()
        } else {
            temp.path().join("swarm-test")
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(rand::random());
        for (rel, size) in files {
            let path = content_root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap())?;
            let mut f = std::fs::File::create(&path)?;
            let mut buf = vec![0u8; 1 << 16];
            let mut left = *size;
            while left > 0 {
                let n = left.min(buf.len());
                rng.fill_bytes(&mut buf[..n]);
                f.write_all(&buf[..n])?;
                left -= n;
            }
        }
        let target = if files.len() == 1 {
            content_root.join(files[0].0)
        } else {
            content_root
        };
        let mut seeder = Seeder::seed(&target, opts).await?;
        seeder._temp = Some(temp);
        Ok(seeder)
    }

    /// Seeds an existing file or directory, in place.
    pub async fn seed(path: &Path, opts: SeederOptions) -> anyhow::Result<Seeder> {
        Seeder::seed_with(path, None, opts).await
    }

    /// Seeds a given .torrent whose data `path` already holds (as another client made
    /// it: both then seed one torrent); `opts.piece_length` is the torrent's own.
    pub async fn seed_torrent(
        path: &Path,
        torrent: bytes::Bytes,
        opts: SeederOptions,
    ) -> anyhow::Result<Seeder> {
        Seeder::seed_with(path, Some(torrent), opts).await
    }

    async fn seed_with(
        path: &Path,
        torrent: Option<bytes::Bytes>,
        opts: SeederOptions,
    ) -> anyhow::Result<Seeder> {
        let path = path
            .canonicalize()
            .with_context(|| format!("{}", path.display()))?;
        let (torrent, info_hash) = match torrent {
            Some(torrent) => {
                let info_hash = librqbit::torrent_from_bytes(&torrent)
                    .context("parsing the given torrent")?
                    .info_hash
                    .as_string();
                (torrent, info_hash)
            }
            None => {
                let created = create_torrent(
                    &path,
                    CreateTorrentOptions {
                        piece_length: opts.piece_length,
                        ..Default::default()
                    },
                    &BlockingSpawner::new(2),
                )
                .await
                .context("creating the torrent")?;
                (created.as_bytes()?, created.info_hash().as_string())
            }
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // A single file lives in its parent folder; a directory's files live in it.
        let root = if path.is_dir() {
            path.clone()
        } else {
            path.parent().unwrap().to_path_buf()
        };

        let session = Session::new_with_opts(
            root.clone(),
            SessionOptions {
                dht: None,
                persistence: None,
                disable_trackers: true,
                disable_local_service_discovery: true,
                ipv4_only: true,
                listen: Some(ListenerOptions {
                    mode: ListenerMode::TcpOnly,
                    listen_addr: (Ipv4Addr::LOCALHOST, 0).into(),
                    ipv4_only: true,
                    ..Default::default()
                }),
                ratelimits: LimitsConfig {
                    upload_bps: opts.upload_bps.and_then(NonZeroU32::new),
                    download_bps: None,
                },
                ..Default::default()
            },
        )
        .await
        .context("starting the seeding session")?;
        let handle = session
            .add_torrent(
                AddTorrent::from_bytes(torrent.clone()),
                Some(AddTorrentOptions {
                    output_folder: Some(root.to_string_lossy().into_owned()),
                    overwrite: true,
                    ..Default::default()
                }),
            )
            .await?
            .into_handle()
            .context("the seeder did not add its torrent")?;
        handle
            .wait_until_completed()
            .await
            .context("checking the seeded files")?;
        let addr = session
            .listen_addr()
            .context("the seeder does not listen")?;
        Ok(Seeder {
            session,
            root,
            _temp: None,
            info_hash,
            name,
            torrent,
            addr,
        })
    }

    /// Lowercase hex info hash.
    pub fn info_hash(&self) -> &str {
        &self.info_hash
    }

    /// The peer address of this seeder.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The .torrent file.
    pub fn torrent(&self) -> &[u8] {
        &self.torrent
    }

    /// A magnet link naming this seeder as a peer (`x.pe`).
    pub fn magnet(&self) -> String {
        format!(
            "magnet:?xt=urn:btih:{}&dn={}&x.pe={}",
            self.info_hash,
            self.name.replace(' ', "+"),
            self.addr
        )
    }

    /// The bytes of one seeded file, by its path inside the torrent folder
    /// (for a single-file torrent, its file name).
    pub fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.root.join(rel))
    }

    pub async fn stop(self) {
        self.session.stop().await;
    }
}

/// Seeds `path` as a child process does for its parent: prints one JSON line
/// `{"magnet":…,"infoHash":…,"peer":…}` once seeding, then seeds until standard input
/// closes. The `cinemahalal-swarm` binary and the soak test's seeders run this.
pub async fn seed_until_stdin_closes(path: &Path, opts: SeederOptions) -> anyhow::Result<()> {
    serve_until_stdin_closes(Seeder::seed(path, opts).await?).await
}

/// What [`seed_until_stdin_closes`] does once `seeder` seeds.
pub async fn serve_until_stdin_closes(seeder: Seeder) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    println!(
        "{{\"magnet\":\"{}\",\"infoHash\":\"{}\",\"peer\":\"{}\"}}",
        seeder.magnet(),
        seeder.info_hash(),
        seeder.addr()
    );
    // Seed until the parent closes our stdin (or kills us).
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    seeder.stop().await;
    Ok(())
}
