//! A VOD HLS playlist over a file's true duration, cut in fixed segments that ffmpeg
//! makes on demand from the input, each one alone: `-ss` before the input (a fast seek),
//! `-t` for its length, and `-output_ts_offset` so that its timestamps are the
//! original ones and segments line up whichever is fetched first. A player sees the
//! whole duration at once and can seek anywhere; only the segments it asks for are made.

use std::fmt::Write;
use std::time::Duration;

use crate::{Input, MediaError, PlaybackMode, Tools, VideoEncoder, process};

/// Length of every segment but the last, in seconds.
pub const SEGMENT_SECONDS: f64 = 6.0;

/// How many segments cover `duration` seconds (at least one).
pub fn segment_count(duration: f64) -> usize {
    ((duration / SEGMENT_SECONDS).ceil() as usize).max(1)
}

/// Start and length of segment `n`, if it exists.
pub fn segment_span(duration: f64, n: usize) -> Option<(f64, f64)> {
    if n >= segment_count(duration) {
        return None;
    }
    let start = n as f64 * SEGMENT_SECONDS;
    let len = if duration > start {
        (duration - start).min(SEGMENT_SECONDS)
    } else {
        SEGMENT_SECONDS
    };
    Some((start, len))
}

/// The playlist; `uri(n)` is segment `n`'s URI (relative to the playlist's).
pub fn playlist(duration: f64, uri: impl Fn(usize) -> String) -> String {
    let mut text = String::from(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n",
    );
    let _ = writeln!(text, "#EXT-X-TARGETDURATION:{}", SEGMENT_SECONDS as u64);
    for n in 0..segment_count(duration) {
        let (_, len) = segment_span(duration, n).expect("within the count");
        let _ = writeln!(text, "#EXTINF:{len:.3},\n{}", uri(n));
    }
    text.push_str("#EXT-X-ENDLIST\n");
    text
}

/// What one segment is made of.
#[derive(Debug, Clone, Copy)]
pub struct SegmentSpec {
    pub mode: PlaybackMode,
    /// Position among the file's audio tracks (ignored when the file has none).
    pub audio: usize,
    /// The encoder of a transcode.
    pub encoder: VideoEncoder,
    pub duration: f64,
    pub n: usize,
}

/// Where a segment is cut from the input: from `start` (seconds), for `len` (to the end
/// when `None`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cut {
    pub start: f64,
    pub len: Option<f64>,
}

/// ffmpeg's arguments for a segment, or `None` when it does not exist. Without `cut`,
/// the segment's nominal span.
pub fn segment_args(input: &Input, spec: &SegmentSpec, cut: Option<Cut>) -> Option<Vec<String>> {
    let (start, len) = segment_span(spec.duration, spec.n)?;
    let Cut { start, len } = cut.unwrap_or(Cut {
        start,
        len: Some(len),
    });
    let transcode = spec.mode == PlaybackMode::Transcode;
    let mut before: Vec<String> = Vec::new();
    if transcode {
        before.extend(spec.encoder.input_args());
    }
    before.extend(["-ss".into(), format!("{start:.3}")]);
    let mut args: Vec<String> = ["-nostdin", "-hide_banner", "-loglevel", "error"]
        .map(String::from)
        .to_vec();
    args.extend(input.args(&before));
    if let Some(len) = len {
        args.extend(["-t".into(), format!("{len:.3}")]);
    }
    args.extend([
        "-map".into(),
        "0:v:0?".into(),
        "-map".into(),
        format!("0:a:{}?", spec.audio),
    ]);
    if transcode {
        args.extend(spec.encoder.output_args());
    } else {
        args.extend(["-c:v", "copy"].map(String::from));
    }
    args.extend(
        [
            "-c:a",
            "aac",
            "-ac",
            "2",
            "-b:a",
            "192k",
            "-sn",
            "-dn",
            "-muxdelay",
            "0",
            "-muxpreload",
            "0",
        ]
        .map(String::from),
    );
    args.extend(["-output_ts_offset".into(), format!("{start:.3}")]);
    args.extend(["-f", "mpegts", "pipe:1"].map(String::from));
    Some(args)
}

/// Makes segment `spec.n` (MPEG-TS bytes). ffmpeg is killed when this future is dropped
/// or when it writes nothing for `idle`.
pub async fn segment(
    tools: &Tools,
    input: &Input,
    spec: &SegmentSpec,
    idle: Duration,
) -> Result<Vec<u8>, MediaError> {
    let (start, len) = segment_span(spec.duration, spec.n)
        .ok_or_else(|| MediaError::TranscodeFailed(format!("no segment {}", spec.n)))?;
    let cut = match spec.mode {
        PlaybackMode::Remux => Some(remux_cut(tools, input, start, len, spec, idle).await?),
        _ => None,
    };
    let args = segment_args(input, spec, cut)
        .ok_or_else(|| MediaError::TranscodeFailed(format!("no segment {}", spec.n)))?;
    let out = process::run(&tools.ffmpeg, &args, idle, MediaError::TranscodeFailed).await?;
    if !out.success || out.stdout.is_empty() {
        return Err(MediaError::TranscodeFailed(if out.stderr.is_empty() {
            "ffmpeg produced nothing".into()
        } else {
            out.stderr
        }));
    }
    Ok(out.stdout)
}

/// A copied video can only start on a key frame, and a seek lands on the key frame at or
/// before its target. So a remuxed segment runs from the key frame a seek to its nominal
/// start lands on to the one a seek to its nominal end lands on, audio included: the
/// segments tile the file with neither gaps nor overlaps (players shift their timeline by
/// an overlap, which lengthens the duration they show). A key frame interval longer than
/// a segment falls back to the nominal span.
async fn remux_cut(
    tools: &Tools,
    input: &Input,
    start: f64,
    len: f64,
    spec: &SegmentSpec,
    idle: Duration,
) -> Result<Cut, MediaError> {
    // The seek lands on the key frame when aimed a hair after it.
    let from = if spec.n == 0 {
        Some(0.0)
    } else {
        keyframe_at(tools, input, start, idle)
            .await?
            .map(|k| k + 0.001)
    };
    let last = spec.n + 1 >= segment_count(spec.duration);
    let to = if last {
        None
    } else {
        keyframe_at(tools, input, start + len, idle).await?
    };
    Ok(match (from, to, last) {
        (Some(from), _, true) => Cut {
            start: from,
            len: None,
        },
        (Some(from), Some(to), false) if to > from + 0.5 => Cut {
            start: from,
            len: Some(to - from),
        },
        _ => Cut {
            start,
            len: Some(len),
        },
    })
}

/// The time of the video key frame a seek to `t` lands on (ffprobe reads one packet).
pub async fn keyframe_at(
    tools: &Tools,
    input: &Input,
    t: f64,
    idle: Duration,
) -> Result<Option<f64>, MediaError> {
    let mut args: Vec<String> = ["-v", "error", "-select_streams", "v:0"]
        .map(String::from)
        .to_vec();
    args.extend([
        "-read_intervals".into(),
        format!("{t:.3}%+#1"),
        "-show_entries".into(),
        "packet=pts_time".into(),
        "-of".into(),
        "csv=p=0".into(),
    ]);
    args.extend(input.args(&[]));
    let out = process::run(&tools.ffprobe, &args, idle, MediaError::TranscodeFailed).await?;
    if !out.success {
        return Err(MediaError::TranscodeFailed(out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().trim_end_matches(',').parse::<f64>().ok())
        .map(|k| (k * 1000.0).floor() / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_the_true_duration() {
        assert_eq!(segment_count(30.0), 5);
        assert_eq!(segment_count(31.5), 6);
        assert_eq!(segment_count(0.0), 1);
        assert_eq!(segment_span(31.5, 5), Some((30.0, 1.5)));
        assert_eq!(segment_span(31.5, 6), None);
        let text = playlist(31.5, |n| format!("{n}.ts?x=1"));
        assert!(text.starts_with("#EXTM3U\n"));
        assert!(text.ends_with("#EXT-X-ENDLIST\n"));
        let total: f64 = text
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .map(|l| l.trim_end_matches(',').parse::<f64>().unwrap())
            .sum();
        assert!((total - 31.5).abs() < 1e-6, "{total}");
        assert!(text.contains("#EXTINF:1.500,\n5.ts?x=1\n"));
    }

    #[test]
    fn a_segment_seeks_before_its_input_and_keeps_original_timestamps() {
        let input = Input {
            url: "http://127.0.0.1:1/x".into(),
            headers: vec!["Authorization: Bearer t".into()],
        };
        let spec = SegmentSpec {
            mode: PlaybackMode::Remux,
            audio: 1,
            encoder: VideoEncoder::Libx264,
            duration: 20.0,
            n: 2,
        };
        let args = segment_args(&input, &spec, None).unwrap().join(" ");
        assert!(
            args.contains("-ss 12.000 -i http://127.0.0.1:1/x -t 6.000"),
            "{args}"
        );
        assert!(
            args.contains("-map 0:a:1?") && args.contains("-c:v copy"),
            "{args}"
        );
        assert!(args.contains("-output_ts_offset 12.000"), "{args}");
        let cut = Cut {
            start: 10.022,
            len: Some(5.5),
        };
        let args = segment_args(&input, &spec, Some(cut)).unwrap().join(" ");
        assert!(
            args.contains("-ss 10.022 -i http://127.0.0.1:1/x -t 5.500"),
            "{args}"
        );
        assert!(args.contains("-output_ts_offset 10.022"), "{args}");
        let spec = SegmentSpec {
            mode: PlaybackMode::Transcode,
            ..spec
        };
        let args = segment_args(&input, &spec, None).unwrap().join(" ");
        assert!(args.contains("-c:v libx264"), "{args}");
        assert!(segment_args(&input, &SegmentSpec { n: 4, ..spec }, None).is_none());
    }
}
