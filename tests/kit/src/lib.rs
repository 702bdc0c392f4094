//! CinemaHalal's test kit: fixtures that stand in for the outside world, all on 127.0.0.1.
//!
//! - [`swarm`]: a real BitTorrent swarm, a librqbit session seeding files (also the
//!   `cinemahalal-swarm` binary the browser and desktop tests spawn).
//! - [`search`]: the search upstreams, one HTTP server speaking the Internet Archive's,
//!   Torznab's and Stremio add-ons' protocols, with broken variants.
//! - [`SilentPeer`]: a peer that accepts connections and never answers.
//! - [`soak`]: the soak test (the `cinemahalal-soak` binary): a real server on a local
//!   swarm under concurrent range requests, every byte checked, RSS sampled.
//! - [`MetadataPeer`]: a peer that serves crafted metadata (BEP 9) for a magnet.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let seeder = cinemahalal_testkit::Seeder::random(&[("movie.mp4", 8 << 20)], Default::default()).await?;
//! let magnet = seeder.magnet(); // carries x.pe=127.0.0.1:<port>
//! let upstream = cinemahalal_testkit::search::Upstream::start().await;
//! let archive = upstream.archive_url(); // http://127.0.0.1:<port>/ia
//! # Ok(()) }
//! ```

mod metadata_peer;
pub mod search;
mod silent_peer;
pub mod soak;
pub mod swarm;

pub use metadata_peer::MetadataPeer;
pub use silent_peer::SilentPeer;
pub use swarm::{Seeder, SeederOptions};
