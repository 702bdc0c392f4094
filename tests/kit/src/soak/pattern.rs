//! The soak test's file contents: deterministic bytes that can be computed at any offset,
//! so every byte a client reads is checked without keeping the files in memory.
//!
//! Byte `o` of a file is byte `o % 8` (little-endian) of SplitMix64's output for the
//! counter `o / 8`, started from the file's own seed.

use std::io::Write;
use std::path::Path;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The contents of one generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    seed: u64,
}

impl Pattern {
    /// File number `index` of a run seeded with `run_seed`.
    pub fn new(run_seed: u64, index: u64) -> Pattern {
        Pattern {
            seed: mix(run_seed ^ mix(index.wrapping_add(1).wrapping_mul(GOLDEN))),
        }
    }

    fn word(&self, counter: u64) -> [u8; 8] {
        mix(self
            .seed
            .wrapping_add(counter.wrapping_add(1).wrapping_mul(GOLDEN)))
        .to_le_bytes()
    }

    /// Fills `buf` with the bytes at `offset..offset + buf.len()`.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        // Up to the first word boundary, then whole words (fast even unoptimised), then
        // what is left.
        let head = (((8 - offset % 8) % 8) as usize).min(buf.len());
        let (start, rest) = buf.split_at_mut(head);
        self.fill_bytes(offset, start);
        let first_word = (offset + head as u64) / 8;
        let mut words = rest.chunks_exact_mut(8);
        let mut n = 0;
        for (i, word) in (&mut words).enumerate() {
            word.copy_from_slice(&self.word(first_word + i as u64));
            n += 1;
        }
        self.fill_bytes((first_word + n) * 8, words.into_remainder());
    }

    /// [`Pattern::fill`] a byte at a time.
    fn fill_bytes(&self, offset: u64, buf: &mut [u8]) {
        for (i, byte) in buf.iter_mut().enumerate() {
            let at = offset + i as u64;
            *byte = self.word(at / 8)[(at % 8) as usize];
        }
    }

    /// Compares `bytes` with the file at `offset`: the number of bytes that differ and the
    /// offset of the first. `scratch` is reused between calls.
    pub fn check(&self, offset: u64, bytes: &[u8], scratch: &mut Vec<u8>) -> Mismatch {
        scratch.resize(bytes.len(), 0);
        self.fill(offset, scratch);
        let mut found = Mismatch::default();
        if bytes == &scratch[..] {
            return found;
        }
        for (i, (got, want)) in bytes.iter().zip(scratch.iter()).enumerate() {
            if got != want {
                found.first.get_or_insert(offset + i as u64);
                found.count += 1;
            }
        }
        found
    }

    /// Writes `size` bytes of this pattern to `path`.
    pub fn write(&self, path: &Path, size: u64) -> std::io::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0;
        while at < size {
            let n = (size - at).min(buf.len() as u64) as usize;
            self.fill(at, &mut buf[..n]);
            file.write_all(&buf[..n])?;
            at += n as u64;
        }
        file.into_inner()?.sync_all()
    }
}

/// What [`Pattern::check`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch {
    pub count: u64,
    pub first: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_slice_equals_the_same_bytes_of_the_whole() {
        let p = Pattern::new(7, 3);
        let mut whole = vec![0u8; 1000];
        p.fill(0, &mut whole);
        for (start, len) in [
            (0, 1),
            (1, 7),
            (5, 16),
            (8, 8),
            (13, 400),
            (999, 1),
            (3, 997),
        ] {
            let mut part = vec![0u8; len];
            p.fill(start as u64, &mut part);
            assert_eq!(part, whole[start..start + len], "{start}+{len}");
        }
    }

    #[test]
    fn word_filling_equals_byte_filling() {
        let p = Pattern::new(3, 1);
        for start in 0..20u64 {
            for len in [0, 1, 3, 8, 9, 17, 64, 101] {
                let (mut fast, mut slow) = (vec![0u8; len], vec![0u8; len]);
                p.fill(start, &mut fast);
                p.fill_bytes(start, &mut slow);
                assert_eq!(fast, slow, "{start}+{len}");
            }
        }
    }

    #[test]
    fn files_and_runs_differ() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        Pattern::new(1, 0).fill(0, &mut a);
        Pattern::new(1, 1).fill(0, &mut b);
        assert_ne!(a, b);
        Pattern::new(2, 0).fill(0, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn check_counts_every_wrong_byte_and_finds_the_first() {
        let p = Pattern::new(9, 0);
        let mut bytes = vec![0u8; 300];
        p.fill(100, &mut bytes);
        let mut scratch = Vec::new();
        assert_eq!(p.check(100, &bytes, &mut scratch), Mismatch::default());
        bytes[17] ^= 1;
        bytes[250] ^= 0x80;
        assert_eq!(
            p.check(100, &bytes, &mut scratch),
            Mismatch {
                count: 2,
                first: Some(117)
            }
        );
        // The right bytes at the wrong offset are wrong.
        let mut shifted = vec![0u8; 300];
        p.fill(101, &mut shifted);
        assert!(p.check(100, &shifted, &mut scratch).count > 250);
    }

    #[test]
    fn a_written_file_holds_the_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let p = Pattern::new(5, 2);
        p.write(&path, (1 << 20) + 3).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), (1 << 20) + 3);
        assert_eq!(p.check(0, &bytes, &mut Vec::new()).count, 0);
    }
}
