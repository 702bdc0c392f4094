//! Streams are a cache: a stream no request has used for `idle_timeout`, with no reader
//! open, is removed with its data, and what an earlier run left on disk goes at start.

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::Engine;
use super::stream::Stream;
use crate::InfoHash;

/// Removes what an earlier run left in `downloads/`: streams do not outlive the process.
/// Only folders named like an info hash are touched.
pub(super) fn remove_stale_downloads(downloads: &Path) {
    let Ok(entries) = std::fs::read_dir(downloads) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_stream_dir = name
            .to_str()
            .is_some_and(|n| n.len() == 40 && n.parse::<InfoHash>().is_ok());
        if is_stream_dir && let Err(e) = std::fs::remove_dir_all(entry.path()) {
            tracing::warn!(dir = %entry.path().display(), "removing stale stream data: {e}");
        }
    }
}

/// The reaper: every quarter of `idle_timeout` (within 50 ms and 30 s), removes the idle
/// streams. Holds the engine weakly, so it ends when the engine is dropped.
pub(super) async fn reap_idle(engine: Weak<Engine>) {
    let period = match engine.upgrade() {
        Some(e) => {
            (e.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(30))
        }
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        for (info_hash, stream) in engine.take_idle_streams() {
            tracing::info!(%info_hash, "stream idle, removing it and its data");
            engine.remove_torrent(info_hash, &stream.output_dir).await;
        }
    }
}

impl Engine {
    /// Takes out of the map every stream idle for `idle_timeout` with no reader open.
    /// Requests mark a stream as used under the same lock (`Engine::get_touched`), so a
    /// stream a request has just reached is never taken.
    fn take_idle_streams(&self) -> Vec<(InfoHash, Arc<Stream>)> {
        let idle = self.config.idle_timeout;
        let mut streams = self.streams.lock().unwrap();
        let expired: Vec<InfoHash> = streams
            .iter()
            .filter(|(_, s)| s.activity.idle_for().is_some_and(|d| d >= idle))
            .map(|(h, _)| *h)
            .collect();
        expired
            .into_iter()
            .filter_map(|h| streams.remove(&h).map(|s| (h, s)))
            .collect()
    }
}
