//! Probe, HLS remux and transcode, and WebVTT subtitles of real media (made here by
//! ffmpeg) on a local swarm, over real HTTP; and that no ffmpeg outlives its viewer.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cinemahalal_server::media::MediaSettings;
use common::*;
use reqwest::StatusCode;
use serde_json::Value;

const SRT: &str = "1\n00:00:01,000 --> 00:00:04,000\nHello from the side file\n\n\
2\n00:00:20,000 --> 00:00:23,000\nLater in the film\n";
const EMBEDDED_SRT: &str = "1\n00:00:02,000 --> 00:00:05,000\nEmbedded hello\n\n\
2\n00:00:16,000 --> 00:00:18,000\nEmbedded middle\n";

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("running ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 30 s MKV: H.264 320x180 (a key frame every 2 s), AC-3 5.1 and an English AAC
/// stereo track, an embedded French subtitle; `Movie.en.srt` beside it.
fn ac3_release(dir: &Path) -> PathBuf {
    let release = dir.join("Release");
    std::fs::create_dir_all(&release).unwrap();
    let embedded = dir.join("embedded.srt");
    std::fs::write(&embedded, EMBEDDED_SRT).unwrap();
    std::fs::write(release.join("Movie.en.srt"), SRT).unwrap();
    let movie = release.join("Movie.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=24:d=30",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=30:r=48000",
        "-i",
        embedded.to_str().unwrap(),
        "-filter_complex",
        "[1:a]asplit=2[s][t];[s]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[six]",
        "-map",
        "0:v",
        "-map",
        "[six]",
        "-map",
        "[t]",
        "-map",
        "2:s",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "48",
        "-pix_fmt",
        "yuv420p",
        "-c:a:0",
        "ac3",
        "-c:a:1",
        "aac",
        "-ac:a:1",
        "2",
        "-c:s",
        "srt",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:0",
        "title=Surround",
        "-metadata:s:a:1",
        "language=fre",
        "-metadata:s:s:0",
        "language=fre",
        movie.to_str().unwrap(),
    ]);
    release
}

/// A 20 s MKV with HEVC video and AAC audio.
fn hevc_file(dir: &Path) -> PathBuf {
    let path = dir.join("Hevc Film.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=24:d=20",
        "-f",
        "lavfi",
        "-i",
        "sine=f=330:d=20:r=48000",
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "log-level=error:keyint=48",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        path.to_str().unwrap(),
    ]);
    path
}

/// A 10 s MP4, H.264 and AAC, that browsers play as it is.
fn mp4_file(dir: &Path) -> PathBuf {
    let path = dir.join("Clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=24:d=10",
        "-f",
        "lavfi",
        "-i",
        "sine=f=550:d=10:r=48000",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        path.to_str().unwrap(),
    ]);
    path
}

/// ffprobe's view of a file: streams and format.
fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether every frame of `path` decodes.
fn decodes(path: &Path) -> bool {
    Command::new("ffmpeg")
        .args(["-v", "error", "-xerror", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .status()
        .unwrap()
        .success()
}

/// ffmpeg processes reading from the server at `base` (by their command lines).
fn ffmpeg_processes(base: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains("ffmpeg") && cmdline.contains(base) {
            found.push(cmdline);
        }
    }
    found
}

async fn get(server: &TestServer, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    server.get_range(url, None).await
}

/// Playlist entries: (duration, URI).
fn entries(playlist: &str) -> Vec<(f64, String)> {
    let lines: Vec<&str> = playlist.lines().collect();
    lines
        .windows(2)
        .filter_map(|w| {
            let d = w[0].strip_prefix("#EXTINF:")?.trim_end_matches(',');
            Some((d.parse().unwrap(), w[1].to_string()))
        })
        .collect()
}

/// The URL of a playlist's segment URI (relative to the playlist's URL).
fn resolve(playlist_url: &str, uri: &str) -> String {
    url::Url::parse(playlist_url)
        .unwrap()
        .join(uri)
        .unwrap()
        .to_string()
}

async fn save(server: &TestServer, url: &str, dir: &Path, name: &str) -> PathBuf {
    let (status, headers, body) = get(server, url).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{url}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(headers["content-type"], "video/mp2t");
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn stream_start(probe: &Value, stream: usize) -> f64 {
    probe["streams"][stream]["start_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn start_time(probe: &Value) -> f64 {
    probe["format"]["start_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ac3_mkv_is_probed_remuxed_and_its_subtitles_served() {
    bounded(ac3_scenario()).await;
}

async fn ac3_scenario() {
    let media = tempfile::tempdir().unwrap();
    let release = ac3_release(media.path());
    let seeder = Seeder::seed(&release, SeederOptions::default())
        .await
        .unwrap();
    let server = TestServer::start().await;
    let ready = server.prepare(&seeder.magnet()).await;
    assert_eq!(ready["videoFile"], "Movie.mkv");
    let file = ready["fileIndex"].as_u64().unwrap();
    let hash = seeder.info_hash().to_string();
    let probe_url = ready["probeUrl"].as_str().unwrap().to_string();
    assert_eq!(
        without_token(&probe_url),
        server.url(&format!("/api/stream/{hash}/{file}/probe"))
    );

    let (status, _, body) = get(&server, &probe_url).await;
    let probe: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, StatusCode::OK, "{probe}");
    assert_eq!(probe["container"], "matroska");
    let duration = probe["durationSeconds"].as_f64().unwrap();
    assert!((duration - 30.0).abs() < 0.2, "{probe}");
    assert_eq!(probe["video"]["codec"], "h264");
    assert_eq!(
        (
            probe["video"]["width"].as_u64(),
            probe["video"]["height"].as_u64()
        ),
        (Some(320), Some(180))
    );
    let audio = probe["audioTracks"].as_array().unwrap();
    assert_eq!(audio.len(), 2, "{probe}");
    assert_eq!(audio[0]["codec"], "ac3");
    assert_eq!(audio[0]["channels"], 6);
    assert_eq!(audio[0]["language"], "eng");
    assert_eq!(audio[0]["title"], "Surround");
    assert_eq!(audio[1]["codec"], "aac");
    assert_eq!(audio[1]["language"], "fre");
    assert_eq!(probe["recommended"], "remux");
    let subs = probe["subtitleTracks"].as_array().unwrap();
    let ids: Vec<&str> = subs.iter().map(|s| s["id"].as_str().unwrap()).collect();
    let srt_index = ready["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "Release/Movie.en.srt" || f["path"] == "Movie.en.srt")
        .unwrap_or_else(|| panic!("{ready}"))["index"]
        .as_u64()
        .unwrap();
    assert_eq!(ids, ["embedded-0".to_string(), format!("file-{srt_index}")]);
    assert_eq!(subs[0]["kind"], "embedded");
    assert_eq!(subs[0]["language"], "fre");
    assert_eq!(subs[1]["kind"], "external");
    assert_eq!(subs[1]["language"], "en");

    // The playlist covers the true duration in 6 s segments.
    let token = ready["streamUrl"]
        .as_str()
        .unwrap()
        .split_once("?token=")
        .unwrap()
        .1
        .to_string();
    let base = server.url(&format!("/api/stream/{hash}/{file}"));
    let playlist_url =
        format!("{base}/hls/index.m3u8?mode=remux&audio=0&viewer=test-1&token={token}");
    let (status, headers, body) = get(&server, &playlist_url).await;
    let playlist = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{playlist}");
    assert_eq!(headers["content-type"], "application/vnd.apple.mpegurl");
    assert!(
        playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD") && playlist.ends_with("#EXT-X-ENDLIST\n")
    );
    let segs = entries(&playlist);
    assert_eq!(segs.len(), (duration / 6.0).ceil() as usize, "{playlist}");
    assert!(segs[..4].iter().all(|(d, _)| *d == 6.0), "{playlist}");
    let total: f64 = segs.iter().map(|(d, _)| d).sum();
    assert!((total - duration).abs() < 0.01, "{total} vs {duration}");

    // Segments 0 and 3 (from the middle, fetched first): they decode, carry H.264 copied
    // and AAC stereo, and segment 3 starts 18 s after segment 0.
    let out = tempfile::tempdir().unwrap();
    let mid = save(
        &server,
        &resolve(&playlist_url, &segs[3].1),
        out.path(),
        "3.ts",
    )
    .await;
    let first = save(
        &server,
        &resolve(&playlist_url, &segs[0].1),
        out.path(),
        "0.ts",
    )
    .await;
    for path in [&mid, &first] {
        assert!(decodes(path), "{} does not decode", path.display());
    }
    let (mid, first) = (ffprobe(&mid), ffprobe(&first));
    let codecs: Vec<(&str, &str)> = mid["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap(),
                s["codec_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(codecs, [("video", "h264"), ("audio", "aac")], "{mid}");
    let audio_stream = &mid["streams"][1];
    assert_eq!(audio_stream["channels"], 2);
    // A copied video starts on a key frame: a remuxed segment runs from the key frame a
    // seek to its start lands on to the one its end lands on, audio too, so segments tile
    // the file without gaps or overlaps.
    let origin = start_time(&first);
    let video_at = stream_start(&mid, 0) - origin;
    let audio_at = stream_start(&mid, 1) - origin;
    assert!(
        (12.0..=18.05).contains(&video_at),
        "segment 3's video starts at {video_at} s"
    );
    assert!(
        (audio_at - video_at).abs() < 0.1,
        "segment 3: audio at {audio_at} s, video at {video_at} s"
    );
    let before = save(
        &server,
        &resolve(&playlist_url, &segs[2].1),
        out.path(),
        "2.ts",
    )
    .await;
    let before = ffprobe(&before);
    let end_before = start_time(&before) - origin
        + before["format"]["duration"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap();
    assert!(
        (end_before - video_at).abs() < 0.1,
        "segment 2 ends at {end_before} s, 3 starts at {video_at} s"
    );

    // The second audio track, remuxed.
    let french = save(
        &server,
        &format!("{base}/hls/1.ts?mode=remux&audio=1&token={token}"),
        out.path(),
        "fr.ts",
    )
    .await;
    assert!(decodes(&french));

    // Both subtitle tracks as WebVTT, with their cues at their times (within 0.1 s: the
    // muxer may shift a stream by a few milliseconds).
    for (id, cue, at) in [
        ("embedded-0", "Embedded middle", "00:16.0"),
        (
            subs[1]["id"].as_str().unwrap(),
            "Later in the film",
            "00:20.0",
        ),
    ] {
        let (status, headers, body) =
            get(&server, &format!("{base}/subtitles/{id}.vtt?token={token}")).await;
        let vtt = String::from_utf8(body).unwrap();
        assert_eq!(status, StatusCode::OK, "{id}: {vtt}");
        assert_eq!(headers["content-type"], "text/vtt; charset=utf-8");
        assert!(vtt.starts_with("WEBVTT"), "{vtt}");
        assert!(vtt.contains(cue) && vtt.contains(at), "{id}: {vtt}");
    }

    // Bad tracks, segments and modes: JSON errors with their codes.
    for (url, status, code) in [
        (
            format!("{base}/hls/index.m3u8?audio=2"),
            404,
            "TRACK_NOT_FOUND",
        ),
        (format!("{base}/hls/2.ts?audio=5"), 404, "TRACK_NOT_FOUND"),
        (
            format!("{base}/hls/{}.ts", segs.len()),
            404,
            "SEGMENT_NOT_FOUND",
        ),
        (format!("{base}/hls/x.ts"), 404, "SEGMENT_NOT_FOUND"),
        (
            format!("{base}/hls/index.m3u8?mode=direct"),
            400,
            "INVALID_REQUEST",
        ),
        (
            format!("{base}/hls/index.m3u8?mode=fast"),
            400,
            "INVALID_REQUEST",
        ),
        (
            format!("{base}/hls/0.ts?viewer=a%20b"),
            400,
            "INVALID_REQUEST",
        ),
        (
            format!("{base}/subtitles/embedded-7.vtt"),
            404,
            "TRACK_NOT_FOUND",
        ),
        (
            format!("{base}/subtitles/file-0.vtt"),
            404,
            "TRACK_NOT_FOUND",
        ),
        (
            format!("{base}/subtitles/embedded-0.srt"),
            404,
            "TRACK_NOT_FOUND",
        ),
        (
            server.url(&format!("/api/stream/{}/0/probe", "ab".repeat(20))),
            404,
            "STREAM_NOT_FOUND",
        ),
        (
            server.url(&format!("/api/stream/{hash}/99/probe")),
            400,
            "INVALID_REQUEST",
        ),
    ] {
        let (got, _, body) = get(&server, &url).await;
        let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{url}"));
        assert_error(got, &body, status, code);
    }
    // A file that is no media: PROBE_FAILED.
    let (got, _, body) = get(
        &server,
        &server.url(&format!("/api/stream/{hash}/{srt_index}/probe")),
    )
    .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    // ffprobe reads an .srt as a subtitle-only file: neither video nor audio.
    assert_error(got, &body, 422, "PROBE_FAILED");

    // A page of another site without the token is refused; with it, it may read.
    let r = server
        .client
        .get(format!("{base}/hls/index.m3u8"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = server
        .client
        .get(format!("{base}/hls/index.m3u8?token={token}"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(ffmpeg_processes(&server.base).is_empty());
    server.stop().await;
    seeder.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hevc_is_transcoded_to_h264_and_an_mp4_plays_directly() {
    bounded(hevc_and_mp4_scenario()).await;
}

async fn hevc_and_mp4_scenario() {
    let media = tempfile::tempdir().unwrap();
    let hevc = hevc_file(media.path());
    let mp4 = mp4_file(media.path());
    let hevc_seeder = Seeder::seed(&hevc, SeederOptions::default()).await.unwrap();
    let mp4_seeder = Seeder::seed(&mp4, SeederOptions::default()).await.unwrap();
    let server = TestServer::start().await;

    let ready = server.prepare(&hevc_seeder.magnet()).await;
    let (_, _, body) = get(&server, ready["probeUrl"].as_str().unwrap()).await;
    let probe: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(probe["video"]["codec"], "hevc", "{probe}");
    assert_eq!(probe["audioTracks"][0]["codec"], "aac");
    assert_eq!(probe["recommended"], "transcode");
    assert!(probe["subtitleTracks"].as_array().unwrap().is_empty());
    let hash = hevc_seeder.info_hash();
    let base = server.url(&format!("/api/stream/{hash}/0"));
    let (_, _, body) = get(&server, &format!("{base}/hls/index.m3u8?mode=transcode")).await;
    let playlist = String::from_utf8(body).unwrap();
    let segs = entries(&playlist);
    assert_eq!(segs.len(), 4, "{playlist}");
    assert!(
        segs[0].1.contains("mode=transcode") && segs[0].1.contains("viewer="),
        "{playlist}"
    );
    let out = tempfile::tempdir().unwrap();
    let playlist_url = format!("{base}/hls/index.m3u8");
    let mid = save(
        &server,
        &resolve(&playlist_url, &segs[2].1),
        out.path(),
        "2.ts",
    )
    .await;
    let first = save(
        &server,
        &resolve(&playlist_url, &segs[0].1),
        out.path(),
        "0.ts",
    )
    .await;
    assert!(decodes(&mid) && decodes(&first));
    let (mid, first) = (ffprobe(&mid), ffprobe(&first));
    assert_eq!(mid["streams"][0]["codec_name"], "h264", "{mid}");
    assert_eq!(mid["streams"][1]["codec_name"], "aac", "{mid}");
    let offset = start_time(&mid) - start_time(&first);
    assert!(
        (offset - 12.0).abs() < 0.1,
        "segment 2 starts {offset} s after segment 0"
    );

    let ready = server.prepare(&mp4_seeder.magnet()).await;
    let (_, _, body) = get(&server, ready["probeUrl"].as_str().unwrap()).await;
    let probe: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(probe["container"], "mp4", "{probe}");
    assert_eq!(probe["recommended"], "direct");
    assert!((probe["durationSeconds"].as_f64().unwrap() - 10.0).abs() < 0.2);
    assert!(ffmpeg_processes(&server.base).is_empty());
    server.stop().await;
    hevc_seeder.stop().await;
    mp4_seeder.stop().await;
}

/// A 3 s clip of raw frames: about 2 MB a second, so a minute of it is more than the
/// 32 MiB a file is read ahead by before its duration is known.
fn raw_clip(dir: &Path) -> PathBuf {
    let path = dir.join("Raw Clip.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x180:r=24:d=3",
        "-c:v",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_probed_duration_sizes_the_read_ahead() {
    bounded(read_ahead_scenario()).await;
}

async fn read_ahead_scenario() {
    let media = tempfile::tempdir().unwrap();
    let clip = raw_clip(media.path());
    let size = std::fs::metadata(&clip).unwrap().len();
    let seeder = Seeder::seed(&clip, SeederOptions::default()).await.unwrap();
    let server = TestServer::start().await;
    let ready = server.prepare(&seeder.magnet()).await;
    let status_path = format!("/api/stream/{}/status", seeder.info_hash());

    let (_, status) = server.get_json(&status_path).await;
    assert_eq!(status["readAheadBytes"], 32 << 20, "unprobed: {status}");
    let (code, _, body) = get(&server, ready["probeUrl"].as_str().unwrap()).await;
    assert_eq!(code, StatusCode::OK);
    let probe: Value = serde_json::from_slice(&body).unwrap();
    let duration = probe["durationSeconds"].as_f64().unwrap();
    assert!((duration - 3.0).abs() < 0.1, "{probe}");
    let minute = (size as f64 / duration * 60.0).round() as u64;
    assert!(
        minute > 32 << 20 && minute < 512 << 20,
        "a minute of the clip is {minute} bytes"
    );
    let (_, status) = server.get_json(&status_path).await;
    assert_eq!(status["readAheadBytes"], minute, "probed: {status}");
    // A probe answered from the cache keeps it so.
    get(&server, ready["probeUrl"].as_str().unwrap()).await;
    let (_, status) = server.get_json(&status_path).await;
    assert_eq!(status["readAheadBytes"], minute, "probed twice: {status}");

    server.stop().await;
    seeder.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_ffmpeg_the_answer_says_so() {
    bounded(without_ffmpeg_scenario()).await;
}

async fn without_ffmpeg_scenario() {
    let media = tempfile::tempdir().unwrap();
    let mp4 = mp4_file(media.path());
    let seeder = Seeder::seed(&mp4, SeederOptions::default()).await.unwrap();
    let mut settings = MediaSettings::default();
    settings.tools.ffmpeg = "/nonexistent/ffmpeg".into();
    settings.tools.ffprobe = "/nonexistent/ffprobe".into();
    let server = TestServer::start_full(
        |_| {},
        Options {
            media: settings,
            ..Default::default()
        },
    )
    .await;
    let ready = server.prepare(&seeder.magnet()).await;
    let (status, _, body) = get(&server, ready["probeUrl"].as_str().unwrap()).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_error(status, &body, 503, "FFMPEG_MISSING");
    assert!(
        body["message"].as_str().unwrap().contains("install ffmpeg"),
        "{body}"
    );
    // The stream itself still plays.
    let (status, _, bytes) = get(&server, ready["streamUrl"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes.len() as u64, ready["size"].as_u64().unwrap());
    server.stop().await;
    seeder.stop().await;
}

/// ffmpeg that reads its input at a crawl: its jobs are still running when the test
/// acts on them. A real ffmpeg (exec'd, so killing it kills ffmpeg).
fn slow_ffmpeg(dir: &Path, rate: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("slow-ffmpeg");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nexec ffmpeg -readrate {rate} \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_ffmpeg_outlives_its_viewer() {
    bounded(no_ffmpeg_outlives_scenario()).await;
}

async fn no_ffmpeg_outlives_scenario() {
    let media = tempfile::tempdir().unwrap();
    let mp4 = mp4_file(media.path());
    let seeder = Seeder::seed(&mp4, SeederOptions::default()).await.unwrap();
    let mut settings = MediaSettings::default();
    settings.tools.ffmpeg = slow_ffmpeg(media.path(), "0.0005");
    settings.idle_timeout = Duration::from_secs(3);
    let server = TestServer::start_full(
        |_| {},
        Options {
            media: settings,
            ..Default::default()
        },
    )
    .await;
    let ready = server.prepare(&seeder.magnet()).await;
    let hash = seeder.info_hash();
    let base = server.url(&format!("/api/stream/{hash}/0"));
    let running = |n: usize| {
        let base = server.base.clone();
        async move { (ffmpeg_processes(&base).len() == n).then_some(()) }
    };

    // A viewer that hangs up: its ffmpeg is killed with its request.
    let request = server
        .client
        .get(format!("{base}/hls/1.ts?mode=transcode&viewer=gone"))
        .send();
    let request = tokio::spawn(request);
    eventually(Duration::from_secs(20), || running(1)).await;
    request.abort();
    eventually(Duration::from_secs(5), || running(0)).await;

    // A viewer that seeks: its previous segment's job is stopped for the new one.
    let older = tokio::spawn(
        server
            .client
            .get(format!("{base}/hls/0.ts?viewer=seeker"))
            .send(),
    );
    eventually(Duration::from_secs(20), || running(1)).await;
    let newer = tokio::spawn(
        server
            .client
            .get(format!("{base}/hls/1.ts?viewer=seeker"))
            .send(),
    );
    let older = older.await.unwrap().unwrap();
    let status = older.status();
    let body: Value = older.json().await.unwrap();
    assert_error(status, &body, 500, "TRANSCODE_FAILED");
    eventually(Duration::from_secs(5), || running(1)).await;

    // The newer one stalls (its input crawls): stopped after the idle timeout.
    let newer = newer.await.unwrap().unwrap();
    let status = newer.status();
    let body: Value = newer.json().await.unwrap();
    assert_error(status, &body, 500, "TRANSCODE_FAILED");
    assert!(
        body["message"].as_str().unwrap().contains("no output"),
        "{body}"
    );
    eventually(Duration::from_secs(5), || running(0)).await;

    // Stopping the stream stops its jobs.
    let job = tokio::spawn(
        server
            .client
            .get(format!("{base}/hls/0.ts?viewer=v"))
            .send(),
    );
    eventually(Duration::from_secs(20), || running(1)).await;
    let (status, body) = server
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/stream/{hash}"),
            &Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually(Duration::from_secs(5), || running(0)).await;
    let _ = job.await;
    let _ = ready;
    server.stop().await;
    seeder.stop().await;
}
