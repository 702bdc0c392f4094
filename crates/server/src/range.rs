//! The `Range` request header, with the semantics of RFC 9110 §14.
//!
//! Written here rather than taken from a crate: the common parser crates reject a suffix
//! longer than the file (RFC 9110 serves the whole file) and answer 416 for ranges that
//! are merely malformed (RFC 9110 ignores the header). Fuzzed by the property tests below.

/// What to send for a request, given the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable `Range`: 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

impl RangeRequest {
    /// Reads a `Range` header value for a file of `len` bytes. A header that is not a
    /// single well-formed byte range is ignored (RFC 9110 allows a server to ignore
    /// `Range`, and requires it for an invalid one); several ranges are answered whole.
    pub fn parse(header: Option<&str>, len: u64) -> RangeRequest {
        let Some(spec) = header.and_then(|h| {
            let (unit, spec) = h.trim().split_once('=')?;
            unit.trim()
                .eq_ignore_ascii_case("bytes")
                .then_some(spec.trim())
        }) else {
            return RangeRequest::Full;
        };
        if spec.contains(',') {
            return RangeRequest::Full;
        }
        let Some((first, last)) = spec.split_once('-') else {
            return RangeRequest::Full;
        };
        let (first, last) = (first.trim(), last.trim());
        match (digits(first), digits(last)) {
            // bytes=-n: the last n bytes.
            (None, Some(suffix)) if first.is_empty() => {
                if suffix == 0 || len == 0 {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Partial {
                        start: len - suffix.min(len),
                        end: len - 1,
                    }
                }
            }
            // bytes=a- and bytes=a-b.
            (Some(start), end) if end.is_some() || last.is_empty() => {
                if end.is_some_and(|e| e < start) {
                    RangeRequest::Full
                } else if start >= len {
                    RangeRequest::Unsatisfiable
                } else {
                    let end = end.map_or(len - 1, |e| e.min(len - 1));
                    RangeRequest::Partial { start, end }
                }
            }
            _ => RangeRequest::Full,
        }
    }
}

/// The fuzz target `range` (in `fuzz/`), and the corpus test that runs it on stable
/// Rust. The input is `<file length>\n<Range header>` (a length that is not a number is
/// 1000). A partial answer lies within the file, and its `bytes=start-end` reads back
/// as itself.
#[doc(hidden)]
pub fn fuzz_range(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (len, header) = match text.split_once('\n') {
        Some((len, header)) => (len.trim().parse().unwrap_or(1000), header),
        None => (1000, text.as_ref()),
    };
    let got = RangeRequest::parse(Some(header), len);
    assert_eq!(got, RangeRequest::parse(Some(header), len), "deterministic");
    match got {
        RangeRequest::Partial { start, end } => {
            assert!(start <= end && end < len, "{header:?} on {len}: {got:?}");
            let again = RangeRequest::parse(Some(&format!("bytes={start}-{end}")), len);
            assert_eq!(again, got, "{header:?} on {len}");
        }
        RangeRequest::Unsatisfiable | RangeRequest::Full => {}
    }
}

/// A non-empty run of ASCII digits as a number; `None` for anything else (or overflow).
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::{self, *};
    use proptest::prelude::*;

    fn p(h: &str, len: u64) -> RangeRequest {
        RangeRequest::parse(Some(h), len)
    }

    #[test]
    fn rfc9110_examples() {
        assert_eq!(p("bytes=0-499", 10000), Partial { start: 0, end: 499 });
        assert_eq!(
            p("bytes=500-999", 10000),
            Partial {
                start: 500,
                end: 999
            }
        );
        assert_eq!(
            p("bytes=-500", 10000),
            Partial {
                start: 9500,
                end: 9999
            }
        );
        assert_eq!(
            p("bytes=9500-", 10000),
            Partial {
                start: 9500,
                end: 9999
            }
        );
        assert_eq!(p("Bytes = 0-0", 10), Partial { start: 0, end: 0 });
    }

    #[test]
    fn clamps_and_unsatisfiable() {
        assert_eq!(p("bytes=5-1000", 10), Partial { start: 5, end: 9 });
        assert_eq!(p("bytes=-1000", 10), Partial { start: 0, end: 9 });
        assert_eq!(p("bytes=10-", 10), Unsatisfiable);
        assert_eq!(p("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(p("bytes=-0", 10), Unsatisfiable);
        assert_eq!(p("bytes=0-", 0), Unsatisfiable);
        assert_eq!(p("bytes=-5", 0), Unsatisfiable);
    }

    #[test]
    fn ignores_what_is_not_one_valid_range() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5-2",
            "items=0-1",
            "bytes=a-b",
            "bytes=0-1,3-4",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(p(h, 100), Full, "{h:?}");
        }
        assert_eq!(RangeRequest::parse(None, 100), Full);
    }

    #[test]
    fn fuzz_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/range");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            super::fuzz_range(&bytes);
            n += 1;
        }
        assert!(n > 0, "no corpus in {}", dir.display());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn fuzz_target_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            super::fuzz_range(&data);
        }

        #[test]
        fn fuzz_target_on_range_like_input(len in 0u64..u64::MAX, h in "(bytes|BYTES| bytes)?=? ?[0-9]{0,21}-?[0-9]{0,21}(,[0-9]{0,3}-[0-9]{0,3})?") {
            super::fuzz_range(format!("{len}\n{h}").as_bytes());
        }

        #[test]
        fn fuzz_any_header_is_safe(h in "\\PC{0,40}", len in 0u64..1_000_000) {
            if let Partial { start, end } = RangeRequest::parse(Some(&h), len) {
                prop_assert!(start <= end && end < len);
            }
        }

        #[test]
        fn fuzz_numeric_ranges_match_the_rfc(a in 0u64..2000, b in 0u64..2000, len in 0u64..1500) {
            let got = p(&format!("bytes={a}-{b}"), len);
            let want = if b < a { Full } else if a >= len { Unsatisfiable } else { Partial { start: a, end: b.min(len - 1) } };
            prop_assert_eq!(got, want);
            let got = p(&format!("bytes=-{b}"), len);
            let want = if b == 0 || len == 0 { Unsatisfiable } else { Partial { start: len - b.min(len), end: len - 1 } };
            prop_assert_eq!(got, want);
        }
    }
}
