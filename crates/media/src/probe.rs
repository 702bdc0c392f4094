//! What a file holds, from ffprobe's JSON: container, duration, video, audio tracks and
//! subtitle tracks; and the subtitle files that sit beside a video in its torrent.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Input, MediaError, Tools, process};

/// What a video file holds (`GET /api/stream/{infoHash}/{fileIndex}/probe`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MediaProbe {
    /// `matroska`, `mp4`, `mpegts`, `avi`, … (ffmpeg's demuxer name, simplified).
    pub container: String,
    /// The true duration in seconds (0 when the file does not say).
    pub duration_seconds: f64,
    /// The main video stream; `null` for a file without one.
    pub video: Option<VideoInfo>,
    pub audio_tracks: Vec<AudioTrack>,
    /// Embedded tracks first, then files beside the video.
    pub subtitle_tracks: Vec<SubtitleTrack>,
    /// How a Chromium-like browser should play it: the UI refines this with `canPlayType`.
    pub recommended: crate::PlaybackMode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VideoInfo {
    /// ffmpeg's codec name: `h264`, `hevc`, `vp9`, `av1`, …
    pub codec: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AudioTrack {
    /// Position among the file's audio tracks (the `audio` parameter of the HLS playlist).
    pub index: usize,
    /// ffmpeg's codec name: `aac`, `ac3`, `eac3`, `dts`, `opus`, …
    pub codec: String,
    pub channels: u32,
    /// As the file tags it (`eng`, `fre`, …), if it does.
    pub language: Option<String>,
    pub title: Option<String>,
    pub default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SubtitleKind {
    /// A subtitle stream inside the video file.
    Embedded,
    /// A subtitle file beside the video in the torrent.
    External,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubtitleTrack {
    /// `embedded-N` (N-th subtitle stream) or `file-N` (file index in the torrent): the
    /// name in `subtitles/{id}.vtt`.
    pub id: String,
    pub kind: SubtitleKind,
    pub language: Option<String>,
    pub title: Option<String>,
    /// ffmpeg's codec name (`subrip`, `ass`, `webvtt`, `hdmv_pgs_subtitle`, …) or, for a
    /// file, its extension.
    pub codec: String,
}

/// Subtitle codecs ffmpeg can turn into WebVTT (text); pictures (PGS, DVD) it cannot.
pub fn is_text_subtitle(codec: &str) -> bool {
    matches!(
        codec,
        "subrip" | "srt" | "ass" | "ssa" | "webvtt" | "vtt" | "mov_text" | "text"
    )
}

/// The extensions of subtitle files looked for beside a video.
pub const SUBTITLE_EXTENSIONS: &[&str] = &["srt", "vtt", "ass", "ssa"];

impl SubtitleTrack {
    /// The embedded track `embedded-N`'s N, or the file index of `file-N`.
    pub fn parse_id(id: &str) -> Option<(SubtitleKind, usize)> {
        if let Some(n) = id.strip_prefix("embedded-") {
            return n.parse().ok().map(|n| (SubtitleKind::Embedded, n));
        }
        id.strip_prefix("file-")
            .and_then(|n| n.parse().ok())
            .map(|n| (SubtitleKind::External, n))
    }
}

/// The subtitle files of a torrent (`(index, path)` pairs) that belong to the video at
/// `video_path`: same folder and a name that starts with the video's stem
/// (`Movie.srt`, `Movie.en.srt`, `Movie.English.forced.ass`). What follows the stem
/// becomes the language (first part) and title.
pub fn external_subtitles<'a>(
    video_path: &str,
    files: impl IntoIterator<Item = (usize, &'a str)>,
) -> Vec<SubtitleTrack> {
    let (dir, name) = split_dir(video_path);
    let stem = name
        .rsplit_once('.')
        .map_or(name, |(s, _)| s)
        .to_lowercase();
    let mut found = Vec::new();
    for (index, path) in files {
        let (file_dir, file_name) = split_dir(path);
        let Some((file_stem, ext)) = file_name.rsplit_once('.') else {
            continue;
        };
        let ext = ext.to_ascii_lowercase();
        if file_dir != dir || !SUBTITLE_EXTENSIONS.contains(&ext.as_str()) {
            continue;
        }
        let lower = file_stem.to_lowercase();
        let Some(rest) = lower.strip_prefix(&stem) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with('.') || rest.starts_with('_')) {
            continue;
        }
        let rest = &file_stem[file_stem.len() - rest.len()..];
        let parts: Vec<&str> = rest.split(['.', '_']).filter(|p| !p.is_empty()).collect();
        found.push(SubtitleTrack {
            id: format!("file-{index}"),
            kind: SubtitleKind::External,
            language: parts.first().map(|p| p.to_string()),
            title: Some(file_name.to_string()),
            codec: ext,
        });
    }
    found
}

fn split_dir(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Runs ffprobe over `input`: stalls longer than `idle` fail.
pub async fn probe(tools: &Tools, input: &Input, idle: Duration) -> Result<MediaProbe, MediaError> {
    let mut args: Vec<String> = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ]
    .map(String::from)
    .to_vec();
    args.extend(input.args(&[]));
    let out = process::run(&tools.ffprobe, &args, idle, MediaError::ProbeFailed).await?;
    if !out.success {
        return Err(MediaError::ProbeFailed(out.stderr));
    }
    parse(&out.stdout)
}

#[derive(Deserialize)]
struct Json {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Format {
    format_name: Option<String>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    channels: Option<u32>,
    duration: Option<String>,
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

impl Stream {
    fn tag(&self, name: &str) -> Option<String> {
        self.tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty() && v != "und")
    }

    fn flag(&self, name: &str) -> bool {
        self.disposition.get(name).is_some_and(|v| *v != 0)
    }
}

/// ffprobe's `-print_format json -show_format -show_streams` answer as a [`MediaProbe`]
/// (without external subtitles).
pub fn parse(json: &[u8]) -> Result<MediaProbe, MediaError> {
    let json: Json = serde_json::from_slice(json)
        .map_err(|e| MediaError::ProbeFailed(format!("ffprobe's answer: {e}")))?;
    let format = json
        .format
        .ok_or_else(|| MediaError::ProbeFailed("ffprobe found no container".into()))?;
    let names = format.format_name.unwrap_or_default();
    let container = if names.contains("matroska") {
        "matroska".to_string()
    } else if names.contains("mp4") {
        "mp4".to_string()
    } else {
        names.split(',').next().unwrap_or("").to_string()
    };
    let seconds = |s: &Option<String>| s.as_deref().and_then(|d| d.parse::<f64>().ok());
    let mut duration = seconds(&format.duration).unwrap_or(0.0);
    if duration <= 0.0 {
        duration = json
            .streams
            .iter()
            .filter_map(|s| seconds(&s.duration))
            .fold(0.0, f64::max);
    }
    let kind = |s: &Stream, k: &str| s.codec_type.as_deref() == Some(k);
    let codec = |s: &Stream| s.codec_name.clone().unwrap_or_else(|| "unknown".into());
    let video = json
        .streams
        .iter()
        .find(|s| kind(s, "video") && !s.flag("attached_pic"))
        .map(|s| VideoInfo {
            codec: codec(s),
            width: s.width.unwrap_or(0),
            height: s.height.unwrap_or(0),
        });
    let audio_tracks: Vec<AudioTrack> = json
        .streams
        .iter()
        .filter(|s| kind(s, "audio"))
        .enumerate()
        .map(|(index, s)| AudioTrack {
            index,
            codec: codec(s),
            channels: s.channels.unwrap_or(0),
            language: s.tag("language"),
            title: s.tag("title"),
            default: s.flag("default"),
        })
        .collect();
    let subtitle_tracks = json
        .streams
        .iter()
        .filter(|s| kind(s, "subtitle"))
        .enumerate()
        .map(|(n, s)| SubtitleTrack {
            id: format!("embedded-{n}"),
            kind: SubtitleKind::Embedded,
            language: s.tag("language"),
            title: s.tag("title"),
            codec: codec(s),
        })
        .collect();
    if video.is_none() && audio_tracks.is_empty() {
        return Err(MediaError::ProbeFailed(
            "the file has neither video nor audio".into(),
        ));
    }
    let mut probe = MediaProbe {
        container,
        duration_seconds: duration,
        video,
        audio_tracks,
        subtitle_tracks,
        recommended: crate::PlaybackMode::Direct,
    };
    probe.recommended = crate::decision::recommend(&probe);
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtitle_files_beside_the_video_are_matched_by_stem() {
        let files = [
            (0, "Show/Movie.mkv"),
            (1, "Show/Movie.srt"),
            (2, "Show/Movie.en.srt"),
            (3, "Show/movie.French.forced.ASS"),
            (4, "Show/Other.srt"),
            (5, "Movie.srt"),
            (6, "Show/Movie.nfo"),
            (7, "Show/Movies.srt"),
        ];
        let subs = external_subtitles("Show/Movie.mkv", files);
        let ids: Vec<&str> = subs.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["file-1", "file-2", "file-3"]);
        assert_eq!(subs[0].language, None);
        assert_eq!(subs[1].language.as_deref(), Some("en"));
        assert_eq!(subs[2].language.as_deref(), Some("French"));
        assert_eq!(subs[2].codec, "ass");
        assert_eq!(
            SubtitleTrack::parse_id("file-3"),
            Some((SubtitleKind::External, 3))
        );
        assert_eq!(
            SubtitleTrack::parse_id("embedded-0"),
            Some((SubtitleKind::Embedded, 0))
        );
        assert_eq!(SubtitleTrack::parse_id("embedded-"), None);
        assert_eq!(SubtitleTrack::parse_id("../x"), None);
    }

    #[test]
    fn ffprobe_json_becomes_a_probe() {
        let json = br#"{"streams":[
            {"index":0,"codec_type":"video","codec_name":"hevc","width":320,"height":240,"disposition":{"default":1,"attached_pic":0}},
            {"index":1,"codec_type":"audio","codec_name":"ac3","channels":6,"disposition":{"default":1},"tags":{"language":"eng","title":"Surround"}},
            {"index":2,"codec_type":"audio","codec_name":"aac","channels":2,"disposition":{"default":0},"tags":{"language":"und"}},
            {"index":3,"codec_type":"subtitle","codec_name":"subrip","tags":{"LANGUAGE":"fre"}},
            {"index":4,"codec_type":"video","codec_name":"mjpeg","disposition":{"attached_pic":1}}
        ],"format":{"format_name":"matroska,webm","duration":"12.500000"}}"#;
        let p = parse(json).unwrap();
        assert_eq!(p.container, "matroska");
        assert_eq!(p.duration_seconds, 12.5);
        assert_eq!(p.video.as_ref().unwrap().codec, "hevc");
        assert_eq!(p.audio_tracks.len(), 2);
        assert_eq!(p.audio_tracks[0].channels, 6);
        assert_eq!(p.audio_tracks[0].language.as_deref(), Some("eng"));
        assert!(p.audio_tracks[0].default && !p.audio_tracks[1].default);
        assert_eq!(p.audio_tracks[1].language, None);
        assert_eq!(p.subtitle_tracks[0].id, "embedded-0");
        assert_eq!(p.subtitle_tracks[0].language.as_deref(), Some("fre"));
        assert_eq!(p.recommended, crate::PlaybackMode::Transcode);
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
