//! Seeds a file or folder on 127.0.0.1 for browser and desktop tests.
//!
//! Usage: `cinemahalal-swarm PATH [--upload-bps N] [--piece-length N]`
//! Prints one JSON line `{"magnet":…,"infoHash":…,"peer":…}` once seeding, then seeds
//! until its standard input closes or it is killed.

use cinemahalal_testkit::swarm::{SeederOptions, seed_until_stdin_closes};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut opts = SeederOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--upload-bps" => opts.upload_bps = Some(args.next().unwrap_or_default().parse()?),
            "--piece-length" => opts.piece_length = Some(args.next().unwrap_or_default().parse()?),
            _ if path.is_none() => path = Some(std::path::PathBuf::from(arg)),
            other => anyhow::bail!("unexpected argument {other:?}"),
        }
    }
    let path = path.ok_or_else(|| {
        anyhow::anyhow!("usage: cinemahalal-swarm PATH [--upload-bps N] [--piece-length N]")
    })?;
    seed_until_stdin_closes(&path, opts).await
}
