//! Resident memory: sampling it and judging whether it stayed flat after warm-up.

use std::time::Duration;

/// `VmRSS` of a process (`"self"` or a pid), in bytes, from `/proc/<pid>/status`.
pub fn rss_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// How much the RSS may grow from the second third of the run to the last.
#[derive(Debug, Clone, Copy)]
pub struct Margin {
    pub percent: u64,
    pub bytes: u64,
}

/// The RSS over a run, sampled once a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// Median of the second third of the samples: after warm-up.
    pub warm: u64,
    /// Median of the last third.
    pub end: u64,
    pub peak: u64,
    /// The most `end` may be: `warm` plus the margin.
    pub allowed: u64,
}

impl Judgement {
    pub fn flat(&self) -> bool {
        self.end <= self.allowed
    }
}

/// Fewer samples than this cannot be split into thirds worth comparing.
pub const MIN_SAMPLES: usize = 6;

/// Compares the median of the last third of `samples` with that of the second third (the
/// first third is warm-up: streams downloading, pools and caches filling).
pub fn judge(samples: &[u64], margin: Margin) -> Option<Judgement> {
    if samples.len() < MIN_SAMPLES {
        return None;
    }
    let third = samples.len() / 3;
    let warm = median(&samples[third..2 * third]);
    let end = median(&samples[samples.len() - third..]);
    Some(Judgement {
        warm,
        end,
        peak: samples.iter().copied().max().unwrap_or(0),
        allowed: warm + warm * margin.percent / 100 + margin.bytes,
    })
}

fn median(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

/// The sampling period.
pub const PERIOD: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const MARGIN: Margin = Margin {
        percent: 10,
        bytes: 8 * MIB,
    };

    #[test]
    fn reads_vm_rss_in_bytes() {
        let status = "Name:\tx\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n";
        assert_eq!(parse_vm_rss(status), Some(12345 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(rss_of("self").unwrap() > MIB);
    }

    #[test]
    fn warm_up_growth_is_allowed_and_later_growth_is_not() {
        // Climbs during the first third, then holds with noise: flat.
        let flat = [10, 60, 90, 100, 102, 99, 101, 100, 103].map(|m| m * MIB);
        let j = judge(&flat, MARGIN).unwrap();
        assert_eq!((j.warm, j.end, j.peak), (100 * MIB, 101 * MIB, 103 * MIB));
        assert!(j.flat());
        // Keeps climbing after warm-up by more than 10% + 8 MiB: a leak.
        let leak = [10, 60, 90, 100, 105, 110, 120, 125, 130].map(|m| m * MIB);
        let j = judge(&leak, MARGIN).unwrap();
        assert_eq!((j.warm, j.end), (105 * MIB, 125 * MIB));
        assert_eq!(j.allowed, 105 * MIB + 105 * MIB / 10 + 8 * MIB);
        assert!(!j.flat());
    }

    #[test]
    fn too_few_samples_cannot_be_judged() {
        assert_eq!(judge(&[1, 2, 3, 4, 5], MARGIN), None);
    }
}
