//! How a file plays: as it is, remuxed (video copied, audio made AAC) or transcoded
//! (video made H.264 too); and which H.264 encoder transcodes (hardware when one works).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{MediaProbe, Tools, process};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum PlaybackMode {
    /// The original bytes, through the stream URL.
    Direct,
    /// HLS: the video stream copied, the audio made AAC stereo.
    Remux,
    /// HLS: the video made H.264, the audio AAC stereo.
    Transcode,
}

/// Video codecs every current browser engine decodes in MSE (ffmpeg's names).
pub const BROWSER_VIDEO: &[&str] = &["h264", "vp8", "vp9", "av1"];
/// Audio codecs every current browser engine decodes.
pub const BROWSER_AUDIO: &[&str] = &["aac", "mp3", "opus", "vorbis", "flac"];

/// The mode for a Chromium-like browser, from the probe alone: direct for MP4 or WebM
/// with browser codecs, remux when only the container or the audio is the problem,
/// transcode when the video codec is.
pub fn recommend(probe: &MediaProbe) -> PlaybackMode {
    let video_ok = probe
        .video
        .as_ref()
        .is_none_or(|v| BROWSER_VIDEO.contains(&v.codec.as_str()));
    if !video_ok {
        return PlaybackMode::Transcode;
    }
    let audio_ok = probe
        .audio_tracks
        .iter()
        .find(|a| a.default)
        .or(probe.audio_tracks.first())
        .is_none_or(|a| BROWSER_AUDIO.contains(&a.codec.as_str()));
    let webm_codecs = probe
        .video
        .as_ref()
        .is_none_or(|v| matches!(v.codec.as_str(), "vp8" | "vp9" | "av1"));
    let container_ok = match probe.container.as_str() {
        "mp4" => true,
        "matroska" => webm_codecs,
        _ => false,
    };
    if audio_ok && container_ok {
        PlaybackMode::Direct
    } else {
        PlaybackMode::Remux
    }
}

/// An H.264 encoder ffmpeg has and this machine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoEncoder {
    Vaapi,
    Nvenc,
    Qsv,
    VideoToolbox,
    /// Software, `veryfast`: always there.
    Libx264,
}

const RENDER_NODE: &str = "/dev/dri/renderD128";

impl VideoEncoder {
    pub fn name(self) -> &'static str {
        match self {
            VideoEncoder::Vaapi => "h264_vaapi",
            VideoEncoder::Nvenc => "h264_nvenc",
            VideoEncoder::Qsv => "h264_qsv",
            VideoEncoder::VideoToolbox => "h264_videotoolbox",
            VideoEncoder::Libx264 => "libx264",
        }
    }

    /// Arguments before the input (devices).
    pub fn input_args(self) -> Vec<String> {
        match self {
            VideoEncoder::Vaapi => vec!["-vaapi_device".into(), RENDER_NODE.into()],
            _ => Vec::new(),
        }
    }

    /// Output arguments for the video of a transcode: at most 1080 lines, 8-bit 4:2:0.
    pub fn output_args(self) -> Vec<String> {
        let scale = "scale=-2:'min(1080,ih)'";
        let mut args: Vec<String> = vec!["-c:v".into(), self.name().into()];
        let filter = match self {
            VideoEncoder::Vaapi => format!("{scale},format=nv12,hwupload"),
            _ => format!("{scale},format=yuv420p"),
        };
        args.extend(["-vf".into(), filter]);
        match self {
            VideoEncoder::Libx264 => args.extend(
                ["-preset", "veryfast", "-crf", "23", "-profile:v", "high"].map(String::from),
            ),
            VideoEncoder::Nvenc => args.extend(["-preset", "p4", "-cq", "23"].map(String::from)),
            _ => args.extend(["-b:v", "5M"].map(String::from)),
        }
        args
    }

    /// The hardware encoders worth trying here, in order of preference.
    fn candidates() -> Vec<VideoEncoder> {
        let mut c = Vec::new();
        if cfg!(target_os = "macos") {
            c.push(VideoEncoder::VideoToolbox);
        }
        if std::path::Path::new("/dev/nvidia0").exists() {
            c.push(VideoEncoder::Nvenc);
        }
        if std::path::Path::new(RENDER_NODE).exists() {
            c.extend([VideoEncoder::Vaapi, VideoEncoder::Qsv]);
        }
        c
    }
}

/// The first hardware encoder that encodes one frame within a few seconds, else libx264.
pub async fn detect_encoder(tools: &Tools) -> VideoEncoder {
    for encoder in VideoEncoder::candidates() {
        let mut args: Vec<String> = ["-hide_banner", "-loglevel", "error"]
            .map(String::from)
            .to_vec();
        args.extend(encoder.input_args());
        args.extend(
            [
                "-f",
                "lavfi",
                "-i",
                "color=c=black:s=256x144:d=0.1",
                "-frames:v",
                "1",
            ]
            .map(String::from),
        );
        args.extend(encoder.output_args());
        args.extend(["-f", "null", "-"].map(String::from));
        let ok = process::run(&tools.ffmpeg, &args, Duration::from_secs(5), |m| {
            crate::MediaError::TranscodeFailed(m)
        })
        .await
        .is_ok_and(|o| o.success);
        tracing::info!(encoder = encoder.name(), ok, "hardware encoder probe");
        if ok {
            return encoder;
        }
    }
    VideoEncoder::Libx264
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::parse;

    fn probe(container: &str, video: &str, audio: &str) -> MediaProbe {
        let json = format!(
            r#"{{"streams":[{{"codec_type":"video","codec_name":"{video}"}},
            {{"codec_type":"audio","codec_name":"{audio}","disposition":{{"default":1}}}}],
            "format":{{"format_name":"{container}","duration":"1"}}}}"#
        );
        parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn the_mode_follows_the_codecs() {
        let mp4 = "mov,mp4,m4a,3gp,3g2,mj2";
        let mkv = "matroska,webm";
        assert_eq!(recommend(&probe(mp4, "h264", "aac")), PlaybackMode::Direct);
        assert_eq!(recommend(&probe(mkv, "vp9", "opus")), PlaybackMode::Direct);
        assert_eq!(recommend(&probe(mkv, "h264", "ac3")), PlaybackMode::Remux);
        assert_eq!(recommend(&probe(mkv, "h264", "aac")), PlaybackMode::Remux);
        assert_eq!(recommend(&probe(mp4, "h264", "eac3")), PlaybackMode::Remux);
        assert_eq!(recommend(&probe("avi", "h264", "mp3")), PlaybackMode::Remux);
        assert_eq!(
            recommend(&probe(mkv, "hevc", "aac")),
            PlaybackMode::Transcode
        );
        assert_eq!(
            recommend(&probe(mp4, "mpeg4", "aac")),
            PlaybackMode::Transcode
        );
    }
}
