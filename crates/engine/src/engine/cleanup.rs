//! The reaper: a stream no request has used for `idle_timeout`, with no reader open, is
//! stopped (its peers and memory freed) and its data stays in the cache; a stream whose
//! torrent failed has its readers woken; and the cache is held to its cap.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::Engine;
use super::stream::Stream;
use crate::InfoHash;

/// How often the cache's size is measured against its cap, besides when a stream goes idle.
const CACHE_CHECK_PERIOD: Duration = Duration::from_secs(5);

/// Every quarter of `idle_timeout` (within 50 and 250 ms): records failed torrents (so
/// readers waiting on them end), parks idle streams in the cache, and every few seconds
/// evicts what the cache cannot hold. Holds the engine weakly, so it ends when the
/// engine is dropped.
pub(super) async fn reap_idle(engine: Weak<Engine>) {
    let period = match engine.upgrade() {
        Some(e) => {
            (e.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_millis(250))
        }
        None => return,
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cache_checked = Instant::now();
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        for stream in engine.streams.lock().unwrap().values() {
            stream.check_failure();
        }
        let idle = engine.take_idle_streams();
        let parked = !idle.is_empty();
        for (info_hash, stream) in idle {
            tracing::info!(%info_hash, "stream idle, stopping it; its data stays in the cache");
            engine.park(info_hash, &stream).await;
        }
        if parked || cache_checked.elapsed() >= CACHE_CHECK_PERIOD {
            engine.enforce_cache_cap().await;
            cache_checked = Instant::now();
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
