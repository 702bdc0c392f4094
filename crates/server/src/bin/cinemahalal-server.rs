//! The headless server: the HTTP API and the torrent engine, without a window.

use cinemahalal_server::config::{Config, init_logging};
use cinemahalal_server::start::{runtime, shutdown_signal, start};
use clap::Parser;

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_logging(config.log_format, "info");
    runtime()?.block_on(async {
        let signal = shutdown_signal();
        start(config.settings()).await?.serve_until(signal).await;
        Ok(())
    })
}
