//! The check every torrent's metadata passes before librqbit uses it: a .torrent file from
//! a request before librqbit parses it, and the metadata peers sent for a magnet before
//! the torrent is added for download.
//!
//! librqbit trusts metadata further than it should: a `piece length` of 0 divides by zero
//! in `librqbit-core`'s `Lengths::new`, and a `pieces` field that disagrees with the
//! length leaves pieces without a hash, and a number longer than 64 bits overflows its
//! bencode parser's arithmetic. The metadata is parsed with librqbit's own types
//! and bencode parser (which bounds nesting at 128 levels), so both read the same fields.
//! Only what is truly invalid is refused: a piece length that is not a power of two, or
//! below 16 KiB, is unusual but plays.

use std::fmt;

use librqbit::{ByteBuf, TorrentMetaV1Info};

use crate::InfoHash;

/// Largest `info` dictionary accepted: 16 MiB holds the hashes of 800,000 pieces.
pub const MAX_INFO_LEN: usize = 16 << 20;
/// Most files a torrent may hold.
pub const MAX_FILES: usize = 100_000;
/// Longest file or directory name, in bytes (Linux's `NAME_MAX`).
pub const MAX_NAME_LEN: usize = 255;
/// Longest path of a file inside the torrent, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;

/// Why metadata was refused, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMetainfo(String);

impl fmt::Display for InvalidMetainfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidMetainfo {}

fn invalid<T>(why: impl Into<String>) -> Result<T, InvalidMetainfo> {
    Err(InvalidMetainfo(why.into()))
}

/// What a checked torrent is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedTorrent {
    pub info_hash: InfoHash,
    pub total_length: u64,
    pub pieces: u64,
    pub files: usize,
}

/// Checks the bytes of a .torrent file (the `info` dictionary within a torrent file).
pub fn check_torrent(bytes: &[u8]) -> Result<CheckedTorrent, InvalidMetainfo> {
    check_bencode(bytes)?;
    let torrent = librqbit::torrent_from_bytes(bytes)
        .map_err(|e| InvalidMetainfo(format!("not a torrent file: {e}")))?;
    let info_len = torrent.info.raw_bytes.as_ref().len();
    if info_len > MAX_INFO_LEN {
        return invalid(format!(
            "its info dictionary is {info_len} bytes, more than the {MAX_INFO_LEN} accepted"
        ));
    }
    let (total_length, pieces, files) = check_info(&torrent.info.data)?;
    Ok(CheckedTorrent {
        info_hash: crate::source::from_id20(torrent.info_hash),
        total_length,
        pieces,
        files,
    })
}

/// The trackers a .torrent file names, `announce` and every tier of `announce-list`, in
/// order and without repeats; none when the bytes are not a torrent (run after
/// [`check_torrent`]). Only UTF-8 URLs are kept.
pub fn torrent_trackers(bytes: &[u8]) -> Vec<String> {
    let Ok(torrent) = librqbit::torrent_from_bytes(bytes) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let listed = torrent
        .announce
        .iter()
        .chain(torrent.announce_list.iter().flatten());
    for url in listed {
        if let Ok(url) = std::str::from_utf8(url.as_ref())
            && !url.is_empty()
            && !out.iter().any(|u| u == url)
        {
            out.push(url.to_owned());
        }
    }
    out
}

/// Lengths, pieces and names; the total length, piece count and file count.
fn check_info(info: &TorrentMetaV1Info<ByteBuf<'_>>) -> Result<(u64, u64, usize), InvalidMetainfo> {
    if info.piece_length == 0 {
        return invalid("its piece length is 0");
    }
    let total_length = match (info.length, &info.files) {
        (Some(length), None) => {
            let name = info.name.as_ref().map(|n| n.as_ref()).unwrap_or_default();
            check_path(&[name])?;
            length
        }
        (None, Some(files)) => {
            if files.is_empty() {
                return invalid("it lists no file");
            }
            if files.len() > MAX_FILES {
                return invalid(format!(
                    "it lists {} files, more than the {MAX_FILES} accepted",
                    files.len()
                ));
            }
            // The directory the files go in, when named.
            if let Some(name) = info.name.as_ref().filter(|n| !n.as_ref().is_empty()) {
                check_path(&[name.as_ref()])?;
            }
            let mut total = 0u64;
            for file in files {
                let path: Vec<&[u8]> = file.path.iter().map(|c| c.as_ref()).collect();
                check_path(&path)?;
                total = total
                    .checked_add(file.length)
                    .ok_or_else(|| InvalidMetainfo("its file lengths overflow".into()))?;
            }
            total
        }
        (Some(_), Some(_)) => return invalid("it has both a length and a file list"),
        (None, None) => return invalid("it has neither a length nor a file list"),
    };
    if total_length == 0 {
        return invalid("it holds no data (total length 0)");
    }
    let hashes = info.pieces.as_ref().len();
    if hashes % 20 != 0 {
        return invalid(format!(
            "its pieces field is {hashes} bytes, not a whole number of 20-byte hashes"
        ));
    }
    let pieces = total_length.div_ceil(u64::from(info.piece_length));
    // librqbit's own torrent creator (9.1) adds the hash of an empty piece when the data
    // ends exactly on a piece boundary; such torrents are common and the surplus hash is
    // never used, so exactly that one is tolerated. Any other disagreement is refused.
    let creator_surplus =
        total_length % u64::from(info.piece_length) == 0 && (hashes / 20) as u64 == pieces + 1;
    if pieces != (hashes / 20) as u64 && !creator_surplus {
        return invalid(format!(
            "it has {} piece hashes for {pieces} pieces of {} bytes in {total_length} bytes",
            hashes / 20,
            info.piece_length
        ));
    }
    let files = info.files.as_ref().map_or(1, Vec::len);
    Ok((total_length, pieces, files))
}

/// A file's path inside the torrent: components that stay inside the download folder.
fn check_path(components: &[&[u8]]) -> Result<(), InvalidMetainfo> {
    if components.is_empty() {
        return invalid("a file has an empty path");
    }
    let mut len = 0;
    for c in components {
        let shown = String::from_utf8_lossy(c);
        if c.is_empty() {
            return invalid("a file name has an empty component");
        }
        if *c == b"." || *c == b".." {
            return invalid(format!("a file name has a {shown:?} component"));
        }
        if c.iter().any(|&b| b == b'/' || b == b'\\' || b == 0) {
            return invalid(format!(
                "the file name component {shown:?} holds a path separator or NUL"
            ));
        }
        if c.len() > MAX_NAME_LEN {
            return invalid(format!(
                "a file name component is {} bytes, more than {MAX_NAME_LEN}",
                c.len()
            ));
        }
        len += c.len() + 1;
    }
    if len > MAX_PATH_LEN {
        return invalid(format!(
            "a file path is {len} bytes, more than {MAX_PATH_LEN}"
        ));
    }
    Ok(())
}

/// Scans the first bencoded value of `bytes` without recursion: every string length and
/// integer is digits that fit in 64 bits. librqbit-bencode reads them with unchecked
/// arithmetic (`atoi`), which panics on overflow in a debug build and wraps in a release
/// one, so they are checked before it sees them.
fn check_bencode(bytes: &[u8]) -> Result<(), InvalidMetainfo> {
    let malformed =
        |what: &str, at: usize| InvalidMetainfo(format!("not a torrent file: {what} at byte {at}"));
    let mut depth = 0usize;
    let mut i = 0usize;
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(malformed("the bencode ends early", i));
        };
        match b {
            b'l' | b'd' => {
                depth += 1;
                i += 1;
                continue;
            }
            b'e' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b'i' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'e')
                    .ok_or_else(|| malformed("an unterminated integer", i))?;
                let text = std::str::from_utf8(&bytes[i + 1..i + end]).ok();
                let fits = text
                    .and_then(|t| t.parse::<i128>().ok())
                    .is_some_and(|n| (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&n));
                if !fits {
                    return Err(malformed("an integer that is not a 64-bit number", i));
                }
                i += end + 1;
            }
            b'0'..=b'9' => {
                let colon = bytes[i..]
                    .iter()
                    .position(|&b| !b.is_ascii_digit())
                    .filter(|&n| bytes[i + n] == b':')
                    .ok_or_else(|| malformed("a string without its length", i))?;
                let len: usize = std::str::from_utf8(&bytes[i..i + colon])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| malformed("a string length that is too large", i))?;
                i = (i + colon + 1)
                    .checked_add(len)
                    .filter(|&end| end <= bytes.len())
                    .ok_or_else(|| malformed("a string past the end", i))?;
            }
            _ => return Err(malformed(&format!("an unexpected byte {b:#04x}"), i)),
        }
        if depth == 0 {
            return Ok(());
        }
    }
}

/// The fuzz target `metainfo` (in `fuzz/`), and the corpus test that runs it on stable
/// Rust: the check never panics, and what it accepts librqbit validates without panicking,
/// with the same piece count and file count.
#[doc(hidden)]
pub fn fuzz_check_torrent(data: &[u8]) {
    let Ok(checked) = check_torrent(data) else {
        return;
    };
    let torrent = librqbit::torrent_from_bytes(data).expect("checked, so it parses");
    assert_eq!(checked.info_hash.0, torrent.info_hash.0);
    // librqbit may still refuse it (duplicate names, say), but it must not panic.
    if let Ok(valid) = torrent.info.data.validate() {
        let lengths = valid.lengths();
        assert_eq!(u64::from(lengths.total_pieces()), checked.pieces);
        assert_eq!(lengths.total_length(), checked.total_length);
        assert_eq!(valid.iter_file_details().count(), checked.files);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bencoded byte string.
    fn s(b: &[u8]) -> Vec<u8> {
        let mut v = format!("{}:", b.len()).into_bytes();
        v.extend_from_slice(b);
        v
    }

    /// A .torrent whose info dictionary is `info` (keys given in sorted order).
    fn torrent(info: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut v = b"d4:infod".to_vec();
        for (k, val) in info {
            v.extend(s(k.as_bytes()));
            v.extend(val);
        }
        v.extend(b"ee");
        v
    }

    fn int(n: i128) -> Vec<u8> {
        format!("i{n}e").into_bytes()
    }

    fn list(items: &[Vec<u8>]) -> Vec<u8> {
        let mut v = b"l".to_vec();
        items.iter().for_each(|i| v.extend(i));
        v.push(b'e');
        v
    }

    fn file(len: u64, path: &[&[u8]]) -> Vec<u8> {
        let mut v = b"d".to_vec();
        v.extend(s(b"length"));
        v.extend(int(len.into()));
        v.extend(s(b"path"));
        v.extend(list(&path.iter().map(|c| s(c)).collect::<Vec<_>>()));
        v.push(b'e');
        v
    }

    fn single(len: u64, piece_len: u64, hashes: usize, name: &[u8]) -> Vec<u8> {
        torrent(&[
            ("length", int(len.into())),
            ("name", s(name)),
            ("piece length", int(piece_len.into())),
            ("pieces", s(&vec![7u8; 20 * hashes])),
        ])
    }

    #[test]
    fn trackers_come_from_announce_and_every_tier_without_repeats() {
        let info = single(100, 16384, 1, b"a.mp4");
        // `d8:announce…13:announce-listll…eee4:info…e`: keys in sorted order.
        let mut t = b"d".to_vec();
        t.extend(s(b"announce"));
        t.extend(s(b"wss://tracker.example/announce"));
        t.extend(s(b"announce-list"));
        t.extend(list(&[
            list(&[
                s(b"wss://tracker.example/announce"),
                s(b"ws://127.0.0.1:8000"),
            ]),
            list(&[s(b"udp://tracker.example:80")]),
        ]));
        t.extend_from_slice(&info[1..]);
        check_torrent(&t).unwrap();
        assert_eq!(
            torrent_trackers(&t),
            [
                "wss://tracker.example/announce",
                "ws://127.0.0.1:8000",
                "udp://tracker.example:80"
            ]
        );
        assert!(torrent_trackers(&info).is_empty());
        assert!(torrent_trackers(b"not bencode").is_empty());
    }

    fn multi(files: &[Vec<u8>], piece_len: u64, hashes: usize) -> Vec<u8> {
        torrent(&[
            ("files", list(files)),
            ("name", s(b"dir")),
            ("piece length", int(piece_len.into())),
            ("pieces", s(&vec![7u8; 20 * hashes])),
        ])
    }

    fn refused(bytes: &[u8], why: &str) {
        match check_torrent(bytes) {
            Err(InvalidMetainfo(m)) => assert!(m.contains(why), "{m:?} lacks {why:?}"),
            Ok(t) => panic!("accepted {t:?}, expected {why:?}"),
        }
        fuzz_check_torrent(bytes);
    }

    /// The checked-in corpus of the fuzz target (regressions included), then random
    /// mutations of it: what the short CI version of `scripts/fuzz.sh` runs.
    #[test]
    fn fuzz_corpus_and_mutations() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/metainfo");
        let corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        assert!(corpus.len() >= 5, "no corpus in {}", dir.display());
        let accepted = corpus.iter().filter(|t| check_torrent(t).is_ok()).count();
        assert!(accepted >= 3, "the corpus holds valid torrents");
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for t in &corpus {
            fuzz_check_torrent(t);
            for _ in 0..500 {
                let mut m = t.clone();
                for _ in 0..1 + next() % 4 {
                    let at = next() as usize % m.len().max(1);
                    match next() % 4 {
                        0 if !m.is_empty() => m[at] = next() as u8,
                        1 if !m.is_empty() => m[at] = b"0123456789:eil-"[next() as usize % 15],
                        2 => m.insert(at.min(m.len()), next() as u8),
                        _ => m.truncate(at),
                    }
                }
                fuzz_check_torrent(&m);
            }
        }
    }

    #[test]
    fn valid_torrents_pass_as_librqbit_reads_them() {
        let t = single(100_000, 16384, 7, b"movie.mp4");
        let checked = check_torrent(&t).unwrap();
        assert_eq!(
            (checked.total_length, checked.pieces, checked.files),
            (100_000, 7, 1)
        );
        assert_eq!(
            checked.info_hash.0,
            librqbit::torrent_from_bytes(&t).unwrap().info_hash.0
        );
        // Neither a power of two nor 16 KiB: unusual, valid.
        let t = single(1000, 1000, 1, b"a.mkv");
        assert_eq!(check_torrent(&t).unwrap().pieces, 1);
        let t = multi(
            &[file(10, &[b"a", b"b.mp4"]), file(30_000, &[b"c.srt"])],
            16384,
            2,
        );
        assert_eq!(check_torrent(&t).unwrap().files, 2);
        for t in [
            single(100_000, 16384, 7, b"movie.mp4"),
            single(1000, 1000, 1, b"a.mkv"),
        ] {
            fuzz_check_torrent(&t);
        }
    }

    #[test]
    fn piece_length_zero_and_pieces_that_disagree_are_refused() {
        refused(&single(100, 0, 1, b"a"), "piece length is 0");
        refused(&single(100, 0, 0, b"a"), "piece length is 0");
        refused(
            &single(100_000, 16384, 6, b"a"),
            "6 piece hashes for 7 pieces",
        );
        refused(
            &single(100_000, 16384, 8, b"a"),
            "8 piece hashes for 7 pieces",
        );
        // Data that ends on a piece boundary, with librqbit's surplus hash: accepted; two
        // surplus hashes are not.
        assert!(check_torrent(&single(4 * 16384, 16384, 5, b"a")).is_ok());
        refused(
            &single(4 * 16384, 16384, 6, b"a"),
            "6 piece hashes for 4 pieces",
        );
        let mut short = single(100, 16384, 1, b"a");
        // 19 hashed bytes: "6:pieces20:" becomes "6:pieces19:" and a byte goes.
        let at = short.windows(3).position(|w| w == b"20:").unwrap();
        short.splice(at..at + 2, *b"19");
        short.remove(at + 3);
        refused(&short, "not a whole number of 20-byte hashes");
        refused(&single(0, 16384, 0, b"a"), "total length 0");
        refused(
            &multi(&[file(u64::MAX, &[b"a"]), file(2, &[b"b"])], 16384, 1),
            "overflow",
        );
    }

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        for (path, why) in [
            (
                &[b"..".as_slice(), b"etc", b"passwd"][..],
                "\"..\" component",
            ),
            (&[b"a", b"..", b"..", b"x"], "\"..\" component"),
            (&[b"."], "\".\" component"),
            (&[b"/etc/passwd"], "path separator"),
            (&[b"/", b"etc"], "path separator"),
            (&[b"C:\\Windows"], "path separator"),
            (&[b"a/../../b"], "path separator"),
            (&[b"a", b""], "empty component"),
            (&[b"nul\0byte"], "NUL"),
            (&[], "empty path"),
        ] {
            refused(&multi(&[file(10, path)], 16384, 1), why);
        }
        refused(&single(10, 16384, 1, b".."), "\"..\" component");
        refused(&single(10, 16384, 1, b"/tmp/x"), "path separator");
        refused(&single(10, 16384, 1, b""), "empty component");
        let mut t = multi(&[file(10, &[b"a"])], 16384, 1);
        let at = t.windows(5).position(|w| w == b"3:dir").unwrap();
        t.splice(at..at + 5, s(b"../up"));
        refused(&t, "path separator");
        refused(
            &multi(&[file(10, &[&[b'x'; 256]])], 16384, 1),
            "more than 255",
        );
        let deep: Vec<&[u8]> = vec![&[b'x'; 200]; 21];
        refused(&multi(&[file(10, &deep)], 16384, 1), "more than 4096");
    }

    #[test]
    fn oversized_and_malformed_metadata_is_refused() {
        let files: Vec<Vec<u8>> = (0..=MAX_FILES)
            .map(|i| file(1, &[format!("{i}").as_bytes()]))
            .collect();
        refused(&multi(&files, 1 << 20, 1), "more than the 100000 accepted");
        let huge = single(
            (MAX_INFO_LEN as u64 / 20 + 1) * 16384,
            16384,
            MAX_INFO_LEN / 20 + 1,
            b"a",
        );
        refused(&huge, "info dictionary is");
        let mut nested = b"d4:infod3:abc".to_vec();
        nested.extend(std::iter::repeat_n(b'l', 100_000));
        refused(&nested, "not a torrent file");
        for bad in [
            &b""[..],
            b"d4:info",
            b"d4:infoi1e",
            b"d99999999999999999999999:x",
            b"d4:infod6:lengthi99999999999999999999999eee",
            b"d4:infod6:lengthi-e",
            b"d4:infod6:lengthi1x2e",
            b"d4:infod6:length5x:abc",
            b"d4:infod6:length5:abc",
            b"x",
            b"i1e",
            b"de",
        ] {
            refused(bad, "not a torrent file");
        }
        refused(b"d4:infod6:lengthi5eee", "not a torrent file");
        refused(
            &torrent(&[
                ("length", int(5)),
                ("name", s(b"a")),
                ("piece length", int(16384)),
                ("pieces", s(&[0; 20])),
            ])[..24],
            "not a torrent file",
        );
        refused(
            &torrent(&[
                ("files", list(&[file(1, &[b"a"])])),
                ("length", int(5)),
                ("name", s(b"a")),
                ("piece length", int(16384)),
                ("pieces", s(&[0; 20])),
            ]),
            "both a length and a file list",
        );
        refused(
            &torrent(&[
                ("name", s(b"a")),
                ("piece length", int(16384)),
                ("pieces", s(&[0; 20])),
            ]),
            "neither a length nor a file list",
        );
        refused(&multi(&[], 16384, 0), "no file");
    }
}
