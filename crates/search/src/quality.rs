//! Resolution and release source, read from a torrent's name.
//!
//! Release names follow loose scene conventions (`Movie.2019.1080p.WEB-DL.H264-GRP`,
//! `Movie (2019) [2160p] [BluRay]`). The name is split into words at anything that is
//! not a letter or digit, and the words are matched against known tags. When several
//! tags match, the last one wins, since tags follow the title; words that are also common
//! in titles (`web`, `cam`, `ts`) count only when no other source tag is present.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a name says about a release. Serialized as `{"resolution": "1080p"|null, "source": "WEB-DL"|null}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub struct Quality {
    pub resolution: Option<Resolution>,
    pub source: Option<ReleaseSource>,
}

/// Vertical resolution. `4K`/`UHD` count as 2160p, `1080i` as 1080p.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
pub enum Resolution {
    #[serde(rename = "480p")]
    P480,
    #[serde(rename = "720p")]
    P720,
    #[serde(rename = "1080p")]
    P1080,
    #[serde(rename = "2160p")]
    P2160,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::P480 => "480p",
            Resolution::P720 => "720p",
            Resolution::P1080 => "1080p",
            Resolution::P2160 => "2160p",
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a release was taken from (`quality.source` in JSON). Not the engine's `Source`,
/// which is where a stream comes from (a magnet link, an info hash, a .torrent file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum ReleaseSource {
    /// Blu-ray discs and their rips and remuxes (BluRay, BDRip, BRRip, Remux).
    #[serde(rename = "BluRay")]
    BluRay,
    /// A file downloaded from a streaming service (WEB-DL, WEBDL, or a bare WEB tag).
    #[serde(rename = "WEB-DL")]
    WebDl,
    /// A capture of a stream, re-encoded.
    #[serde(rename = "WEBRip")]
    WebRip,
    #[serde(rename = "HDTV")]
    Hdtv,
    #[serde(rename = "DVDRip")]
    DvdRip,
    /// A full DVD image (DVD5, DVD9, DVDR).
    #[serde(rename = "DVD")]
    Dvd,
    /// A re-encode of an unspecified HD source.
    #[serde(rename = "HDRip")]
    HdRip,
    /// Recorded in a cinema with a camera.
    #[serde(rename = "CAM")]
    Cam,
    /// Telesync: recorded in a cinema with an external audio source.
    #[serde(rename = "TS")]
    Telesync,
}

impl ReleaseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseSource::BluRay => "BluRay",
            ReleaseSource::WebDl => "WEB-DL",
            ReleaseSource::WebRip => "WEBRip",
            ReleaseSource::Hdtv => "HDTV",
            ReleaseSource::DvdRip => "DVDRip",
            ReleaseSource::Dvd => "DVD",
            ReleaseSource::HdRip => "HDRip",
            ReleaseSource::Cam => "CAM",
            ReleaseSource::Telesync => "TS",
        }
    }
}

impl fmt::Display for ReleaseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads resolution and source from a release name; either is `None` when the name
/// does not say.
pub fn parse(name: &str) -> Quality {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();

    let mut resolution = None;
    let mut strong = None;
    let mut weak = None;
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let next = words.get(i + 1).copied();
        if let Some(r) = resolution_of(word) {
            resolution = Some(r);
        }
        // Tags written as two words: WEB-DL, WEB.Rip, Blu-ray, DVD-Rip.
        let pair = match (word, next) {
            ("web", Some("dl")) => Some(ReleaseSource::WebDl),
            ("web", Some("rip")) => Some(ReleaseSource::WebRip),
            ("blu", Some("ray")) => Some(ReleaseSource::BluRay),
            ("dvd", Some("rip")) => Some(ReleaseSource::DvdRip),
            ("hd", Some("rip")) => Some(ReleaseSource::HdRip),
            ("hd", Some("tv")) => Some(ReleaseSource::Hdtv),
            _ => None,
        };
        if let Some(source) = pair {
            strong = Some(source);
            i += 2;
            continue;
        }
        match word {
            "bluray" | "bdrip" | "brrip" | "bdremux" | "remux" | "bd25" | "bd50" | "bdmv" => {
                strong = Some(ReleaseSource::BluRay)
            }
            "webdl" => strong = Some(ReleaseSource::WebDl),
            "webrip" => strong = Some(ReleaseSource::WebRip),
            "hdtv" | "hdtvrip" | "pdtv" => strong = Some(ReleaseSource::Hdtv),
            "dvdrip" => strong = Some(ReleaseSource::DvdRip),
            "dvd5" | "dvd9" | "dvdr" | "dvd" => strong = Some(ReleaseSource::Dvd),
            "hdrip" => strong = Some(ReleaseSource::HdRip),
            "camrip" | "hdcam" => strong = Some(ReleaseSource::Cam),
            "telesync" | "hdts" | "tsrip" => strong = Some(ReleaseSource::Telesync),
            "web" => weak = Some(ReleaseSource::WebDl),
            "cam" => weak = Some(ReleaseSource::Cam),
            "ts" => weak = Some(ReleaseSource::Telesync),
            _ => {}
        }
        i += 1;
    }
    Quality {
        resolution,
        source: strong.or(weak),
    }
}

fn resolution_of(word: &str) -> Option<Resolution> {
    // `1080p`, `1080p60`, `1080i`; `1920x1080`; `4k`, `uhd`.
    let by_height = |height: &str| match height {
        "2160" => Some(Resolution::P2160),
        "1080" => Some(Resolution::P1080),
        "720" => Some(Resolution::P720),
        "480" => Some(Resolution::P480),
        _ => None,
    };
    match word {
        "4k" | "uhd" => return Some(Resolution::P2160),
        _ => {}
    }
    if let Some((width, height)) = word.split_once('x')
        && !width.is_empty()
        && width.bytes().all(|b| b.is_ascii_digit())
    {
        return by_height(height);
    }
    let digits_end = word.find(|c: char| !c.is_ascii_digit())?;
    let (height, rest) = word.split_at(digits_end);
    let rest = rest.strip_prefix('p').or_else(|| rest.strip_prefix('i'))?;
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    by_height(height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_to_quality() {
        use ReleaseSource::*;
        use Resolution::*;
        let table: &[(&str, Option<Resolution>, Option<ReleaseSource>)] = &[
            (
                "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP",
                Some(P1080),
                Some(BluRay),
            ),
            (
                "Movie.2023.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
                Some(P2160),
                Some(WebDl),
            ),
            (
                "Movie 2023 720p WEBRip x264 AAC-[YTS.MX]",
                Some(P720),
                Some(WebRip),
            ),
            ("Movie.2023.1080p.WEB.H264-GROUP", Some(P1080), Some(WebDl)),
            ("Movie.2023.1080p.WEB.Rip.x264", Some(P1080), Some(WebRip)),
            (
                "Movie (2019) [1080p] [BluRay] [5.1] [YTS.MX]",
                Some(P1080),
                Some(BluRay),
            ),
            ("Movie.1999.480p.DVDRip.XviD", Some(P480), Some(DvdRip)),
            ("Show.S01E01.HDTV.x264-LOL", None, Some(Hdtv)),
            ("Movie 2010 BRRip 720p", Some(P720), Some(BluRay)),
            ("Movie.2010.Blu-ray.Remux.1080p", Some(P1080), Some(BluRay)),
            ("Movie 4K UHD HDR", Some(P2160), None),
            ("Movie.2020.3840x2160.HEVC", Some(P2160), None),
            ("Movie.1080i.HDTV", Some(P1080), Some(Hdtv)),
            (
                "Charlotte's Web 2006 1080p BluRay",
                Some(P1080),
                Some(BluRay),
            ),
            ("Cam.2018.720p.WEBRip", Some(P720), Some(WebRip)),
            ("New.Movie.2024.HDCAM.x264", None, Some(Cam)),
            ("New.Movie.2024.TS.x264", None, Some(Telesync)),
            ("Movie.2009.DVD9.NTSC", None, Some(Dvd)),
            ("Movie 2009 HDRip XviD", None, Some(HdRip)),
            ("Torrentio\n4k", Some(P2160), None),
            ("night of the living dead", None, None),
            ("", None, None),
            ("1080", None, None),
            ("Movie.1080px.mkv", None, None),
            ("Фильм.2020.1080p.WEB-DL", Some(P1080), Some(WebDl)),
            ("🎬 Movie 💾 720p", Some(P720), None),
        ];
        for (name, resolution, source) in table {
            let q = parse(name);
            assert_eq!(q.resolution, *resolution, "resolution of {name:?}");
            assert_eq!(q.source, *source, "source of {name:?}");
        }
    }

    #[test]
    fn serializes_as_strings_or_null() {
        let q = parse("Movie.1080p.WEB-DL");
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"resolution":"1080p","source":"WEB-DL"}"#
        );
        assert_eq!(
            serde_json::to_string(&Quality::default()).unwrap(),
            r#"{"resolution":null,"source":null}"#
        );
    }
}
