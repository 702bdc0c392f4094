//! CinemaHalal's HTTP API over the torrent engine, and the headless `cinemahalal-server`.
//!
//! The desktop app runs this same server in-process; both it and the HTTP handlers call
//! [`Api`], so the two transports answer alike.
//!
//! # Layout
//! - [`api`]: [`Api`], the facade every transport calls.
//! - [`wire`]: what the API takes and answers, as JSON and Tauri arguments alike.
//! - [`contract`]: those types in TypeScript, generated into the UI (`ui/src/lib/contract.ts`).
//! - [`base_url`]: where a client reaches the server (public URL, trusted proxies, `Host`).
//! - [`error`]: [`ApiError`] and the stable [`ErrorCode`]s with their HTTP statuses, and
//!   how engine and search errors map to them.
//! - [`http`]: the axum router and its JSON handlers; `http::guard`, the security layer
//!   every request passes; `http::media`, files with Range;
//!   `http::extract`, extractors that answer malformed input with `INVALID_REQUEST`.
//! - [`history`]: the watch history (where each file was left), `history.json` in the
//!   data dir, written atomically.
//! - [`media`]: the media state: probe and WebVTT caches, ffmpeg jobs and their cap.
//! - [`range`]: the `Range` header, RFC 9110 semantics.
//! - [`security`]: who may talk to the server (Host allow-list, access token, origins
//!   of control requests, stream tokens); `http::guard` applies it to every request.
//! - [`search`]: the search providers file and the live search built from it.
//! - [`server`]: [`server::run`], serving on a bound listener with a bounded shutdown;
//!   [`server::HttpListener`], both loopback families at once.
//! - [`start()`]: the one way to run the backend (engine, `Api`, listener, server,
//!   shutdown), for the headless binary, the desktop app, tests and benchmarks.
//! - [`config`]: flags and environment variables, their defaults, logging.

pub mod api;
pub mod base_url;
pub mod config;
pub mod contract;
pub mod error;
pub mod history;
pub mod http;
pub mod media;
pub mod range;
pub mod search;
pub mod security;
pub mod server;
pub mod start;
pub mod wire;

pub use api::Api;
pub use error::{ApiError, ErrorCode};
pub use start::{Running, Settings, start};
