//! Which files of a torrent are video, which one to play, and their MIME types.

use serde::Serialize;

/// Extensions played as video, with the MIME type sent for each.
const VIDEO_TYPES: &[(&str, &str)] = &[
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("mkv", "video/x-matroska"),
    ("webm", "video/webm"),
    ("avi", "video/x-msvideo"),
    ("mov", "video/quicktime"),
    ("ts", "video/mp2t"),
    ("m2ts", "video/mp2t"),
    ("mts", "video/mp2t"),
    ("mpg", "video/mpeg"),
    ("mpeg", "video/mpeg"),
    ("wmv", "video/x-ms-wmv"),
    ("flv", "video/x-flv"),
    ("ogv", "video/ogg"),
    ("3gp", "video/3gpp"),
    ("vob", "video/dvd"),
    ("divx", "video/x-msvideo"),
];

/// One file of a torrent, as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TorrentFile {
    pub index: usize,
    /// Path inside the torrent, components joined with `/`.
    pub path: String,
    pub size: u64,
    pub is_video: bool,
}

impl TorrentFile {
    pub fn new(index: usize, path: String, size: u64) -> TorrentFile {
        let is_video = video_mime(&path).is_some();
        TorrentFile {
            index,
            path,
            size,
            is_video,
        }
    }

    /// The last path component.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The Content-Type to serve this file with.
    pub fn mime_type(&self) -> String {
        match video_mime(&self.path) {
            Some(mime) => mime.to_string(),
            None => mime_guess::from_path(&self.path)
                .first_or_octet_stream()
                .essence_str()
                .to_string(),
        }
    }
}

fn extension(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn video_mime(path: &str) -> Option<&'static str> {
    let ext = extension(path)?;
    VIDEO_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, mime)| *mime)
}

/// The file to play when none is asked for: the largest video. Samples and extras are
/// smaller than the feature, so size alone picks well.
pub fn default_file(files: &[TorrentFile]) -> Option<&TorrentFile> {
    files
        .iter()
        .filter(|f| f.is_video && f.size > 0)
        .max_by_key(|f| (f.size, std::cmp::Reverse(f.index)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, u64)]) -> Vec<TorrentFile> {
        list.iter()
            .enumerate()
            .map(|(i, (p, s))| TorrentFile::new(i, p.to_string(), *s))
            .collect()
    }

    #[test]
    fn picks_the_largest_video() {
        let f = files(&[
            ("Movie/sample.mkv", 50),
            ("Movie/movie.MKV", 5000),
            ("Movie/extras.iso", 90000),
            ("Movie/movie.nfo", 1),
        ]);
        let chosen = default_file(&f).unwrap();
        assert_eq!(chosen.index, 1);
        assert_eq!(chosen.mime_type(), "video/x-matroska");
        assert_eq!(chosen.file_name(), "movie.MKV");
    }

    #[test]
    fn no_video_no_choice() {
        assert!(default_file(&files(&[("a.txt", 10), ("b.srt", 10), (".mp4", 10)])).is_none());
    }

    #[test]
    fn mime_types() {
        let f = files(&[
            ("x.ts", 1),
            ("x.mp4", 1),
            ("x.srt", 1),
            ("noext", 1),
            ("x.webm", 1),
        ]);
        let mimes: Vec<String> = f.iter().map(TorrentFile::mime_type).collect();
        assert_eq!(mimes[0], "video/mp2t");
        assert_eq!(mimes[1], "video/mp4");
        assert_eq!(mimes[3], "application/octet-stream");
        assert_eq!(mimes[4], "video/webm");
        assert!(!f[2].is_video);
    }
}
