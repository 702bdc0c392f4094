//! Any text subtitle track, embedded or a file, as WebVTT (ffmpeg converts).

use std::time::Duration;

use crate::{Input, MediaError, Tools, process};

/// Where the subtitles are.
#[derive(Debug, Clone)]
pub enum SubtitleSource {
    /// The N-th subtitle stream of the input.
    Embedded(usize),
    /// The input is a subtitle file with this extension (`srt`, `vtt`, `ass`, `ssa`).
    File(String),
}

/// The track as WebVTT text. An embedded track needs the whole input read.
pub async fn to_webvtt(
    tools: &Tools,
    input: &Input,
    source: &SubtitleSource,
    idle: Duration,
) -> Result<String, MediaError> {
    let mut before: Vec<String> = Vec::new();
    let stream = match source {
        SubtitleSource::Embedded(n) => *n,
        SubtitleSource::File(ext) => {
            let format = match ext.as_str() {
                "srt" => "srt",
                "vtt" => "webvtt",
                _ => "ass",
            };
            before.extend(["-f".into(), format.into()]);
            0
        }
    };
    let mut args: Vec<String> = ["-nostdin", "-hide_banner", "-loglevel", "error"]
        .map(String::from)
        .to_vec();
    args.extend(input.args(&before));
    args.extend(["-map".into(), format!("0:s:{stream}")]);
    args.extend(["-c:s", "webvtt", "-f", "webvtt", "pipe:1"].map(String::from));
    let out = process::run(&tools.ffmpeg, &args, idle, MediaError::TranscodeFailed).await?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.success || !text.starts_with("WEBVTT") {
        return Err(MediaError::TranscodeFailed(if out.stderr.is_empty() {
            "ffmpeg made no WebVTT of the track".into()
        } else {
            out.stderr
        }));
    }
    Ok(text)
}
