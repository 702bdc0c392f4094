//! CinemaHalal's HTTP API over the torrent engine, and the headless `cinemahalal-server`.
//!
//! The desktop app runs this same server in-process; both it and the HTTP handlers call
//! [`Api`], so the two transports answer alike.
//!
//! # Layout
//! - [`api`]: [`Api`], the facade every transport calls, and its request and answer types.
//! - [`base_url`]: where a client reaches the server (public URL, trusted proxies, `Host`).
//! - [`error`]: [`ApiError`] and the stable [`ErrorCode`]s with their HTTP statuses.
//! - [`http`]: the axum router: JSON endpoints and media with Range.
//! - [`range`]: the `Range` header, RFC 9110 semantics.
//! - [`search`]: the search providers file and the live search built from it.
//! - [`server`]: [`server::run`], serving on a bound listener with a bounded shutdown;
//!   [`server::HttpListener`], both loopback families at once.
//! - [`config`]: flags and environment variables of the headless binary, logging.

pub mod api;
pub mod base_url;
pub mod config;
pub mod error;
pub mod http;
pub mod range;
pub mod search;
pub mod server;

pub use api::Api;
pub use error::{ApiError, ErrorCode};
