//! What a video file holds and how to make a browser-playable form of it, by running
//! ffprobe and ffmpeg over a URL (the server's own loopback stream URL).
//!
//! This crate knows neither torrents nor HTTP serving: it takes an input URL (with the
//! headers ffmpeg must send) and answers probes, HLS playlists and segments, and WebVTT.
//!
//! # Layout
//! - [`probe`]: [`MediaProbe`] from ffprobe's JSON; subtitle files beside the video.
//! - [`decision`]: [`PlaybackMode`] (direct, remux, transcode) and the H.264 encoder to use.
//! - [`hls`]: the VOD playlist over the true duration and its segments, made on demand.
//! - [`subtitles`]: any subtitle track as WebVTT.
//! - [`process`]: running one ffmpeg/ffprobe with a no-progress timeout, killed on drop.

pub mod decision;
pub mod hls;
pub mod probe;
pub mod process;
pub mod subtitles;

use std::path::PathBuf;

pub use decision::{PlaybackMode, VideoEncoder};
pub use probe::{AudioTrack, MediaProbe, SubtitleKind, SubtitleTrack, VideoInfo};

/// The programs this crate runs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

impl Default for Tools {
    fn default() -> Tools {
        Tools {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

/// Where ffmpeg reads the file: a URL and the HTTP headers (`Name: value` lines) to send.
#[derive(Debug, Clone)]
pub struct Input {
    pub url: String,
    pub headers: Vec<String>,
}

impl Input {
    /// ffmpeg's arguments for this input (before `-i`), then `-i URL`.
    fn args(&self, before_input: &[String]) -> Vec<String> {
        let mut args = Vec::new();
        if !self.headers.is_empty() {
            let mut all = String::new();
            for h in &self.headers {
                all.push_str(h);
                all.push_str("\r\n");
            }
            args.push("-headers".into());
            args.push(all);
        }
        args.extend(before_input.iter().cloned());
        args.push("-i".into());
        args.push(self.url.clone());
        args
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The program could not be started (not installed, or the path is wrong).
    #[error("{program} could not be started ({reason}); install ffmpeg")]
    Missing { program: String, reason: String },
    /// ffprobe failed or answered something unusable.
    #[error("probing the file failed: {0}")]
    ProbeFailed(String),
    /// ffmpeg failed, produced nothing, or stalled longer than the idle timeout.
    #[error("converting failed: {0}")]
    TranscodeFailed(String),
}
