//! BitTorrent info hashes and magnet links, for every crate of CinemaHalal: one parser,
//! so that the engine, search and the API agree on what a hash or a link is.
//!
//! This crate imports neither librqbit nor anything HTTP. Input is bounded: a link is at
//! most [`MAX_LINK_LEN`] bytes, and no value inside it can make parsing allocate more
//! than the link's own length (see [`magnet`] for what is kept and what ignored).
//!
//! # Layout
//! - [`info_hash`]: [`InfoHash`], parsed from hex or base32 in any case, shown in
//!   lowercase hex; a string in JSON and TypeScript.
//! - [`magnet`]: [`Magnet`], parsed from and shown as a `magnet:?xt=urn:btih:…` link.

pub mod info_hash;
pub mod magnet;

pub use info_hash::{InfoHash, InvalidInfoHash};
pub use magnet::{
    InvalidMagnet, MAX_LINK_LEN, MAX_NAME_LEN, MAX_PEERS, MAX_TRACKER_LEN, MAX_TRACKERS, Magnet,
};
