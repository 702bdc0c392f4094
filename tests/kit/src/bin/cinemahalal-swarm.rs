//! Seeds a file or folder on 127.0.0.1 for browser and desktop tests.
//!
//! Usage: `cinemahalal-swarm PATH [--upload-bps N] [--piece-length N] [--torrent FILE]`
//! (`--torrent`: seed that .torrent, whose data PATH already holds, instead of making one:
//! the torrent another client, e.g. WebTorrent in a browser, made of the same bytes)
//! Prints one JSON line `{"magnet":…,"infoHash":…,"peer":…}` once seeding, then seeds
//! until its standard input closes or it is killed.

use cinemahalal_testkit::swarm::{Seeder, SeederOptions, serve_until_stdin_closes};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut opts = SeederOptions::default();
    let mut torrent = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--upload-bps" => opts.upload_bps = Some(args.next().unwrap_or_default().parse()?),
            "--piece-length" => opts.piece_length = Some(args.next().unwrap_or_default().parse()?),
            "--torrent" => torrent = Some(std::fs::read(args.next().unwrap_or_default())?),
            _ if path.is_none() => path = Some(std::path::PathBuf::from(arg)),
            other => anyhow::bail!("unexpected argument {other:?}"),
        }
    }
    let path = path.ok_or_else(|| {
        anyhow::anyhow!(
            "usage: cinemahalal-swarm PATH [--upload-bps N] [--piece-length N] [--torrent FILE]"
        )
    })?;
    let seeder = match torrent {
        Some(t) => Seeder::seed_torrent(&path, t.into(), opts).await?,
        None => Seeder::seed(&path, opts).await?,
    };
    serve_until_stdin_closes(seeder).await
}
