//! The soak test: a real CinemaHalal server (in this process, through
//! `cinemahalal_server::start`) streaming several torrents from a local swarm (in child
//! processes), under concurrent range requests for minutes. Every byte read is compared
//! with the source, every status counted, the process's RSS sampled each second.
//! Passes with zero 5xx, zero wrong bytes or answers, no request stalled past its limit,
//! and the RSS flat after warm-up. Everything binds 127.0.0.1 and stops by itself.
//!
//! `cargo run --release -p cinemahalal-testkit --bin cinemahalal-soak -- --help`

mod load;
mod pattern;
mod rss;
mod seeders;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::Context;
use cinemahalal_server::Settings;
use serde_json::json;

pub use load::{Kind, Plan, Tally, Target};
pub use pattern::Pattern;
pub use rss::Margin;

const MIB: u64 = 1 << 20;

/// The soak test's settings (also its command line).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "cinemahalal-soak",
    about = "Soak test: concurrent range requests against a real CinemaHalal server on a local swarm, every byte checked, RSS sampled. Loopback only; stops by itself."
)]
pub struct Options {
    /// Concurrent clients (each its own connection pool, like one player).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub clients: u64,
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u64).range(6..=3600))]
    pub duration: u64,
    /// Stop after this many requests, if sooner than the duration.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Torrents (one generated file each) streamed at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub files: u64,
    /// Size of each file: bytes, or with KiB, MiB or GiB.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub size: u64,
    /// A request that makes no progress for this many seconds counts as hung (a failure).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub stall_limit: u64,
    /// The RSS of the last third may exceed the second third's by this percentage...
    #[arg(long, default_value_t = 10)]
    pub rss_margin_percent: u64,
    /// ...plus this many MiB.
    #[arg(long, default_value_t = 8)]
    pub rss_margin_mib: u64,
    /// Seed of the file contents and of the clients' choices (random when unset).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Internal: seed this file and print its magnet (the swarm's child processes).
    #[arg(long, hide = true)]
    pub seed_path: Option<PathBuf>,
}

/// `1234`, `16KiB`, `64MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, …, all powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 64MiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use KiB, MiB or GiB)"
            ));
        }
    };
    match n.checked_mul(1 << shift) {
        Some(0) => Err("the size must be at least one byte".into()),
        Some(size) => Ok(size),
        None => Err(format!("{text:?} is too large")),
    }
}

/// One criterion of a run.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub found: String,
}

/// What a run found.
#[derive(Debug)]
pub struct Report {
    pub options: Options,
    pub seed: u64,
    pub tally: Tally,
    /// Time the load ran (clients started to last one done).
    pub load: Duration,
    /// Time to prepare the streams (POST /api/stream until each is STREAM_READY).
    pub prepare: Duration,
    /// RSS of this process (the server and its clients), once a second during the load.
    pub rss_samples: Vec<u64>,
    /// RSS of the seeding child processes together, at the end (for scale only).
    pub seeders_rss: u64,
    /// Clients still running at the hard limit (aborted).
    pub stuck_clients: u64,
}

impl Report {
    fn margin(&self) -> Margin {
        Margin {
            percent: self.options.rss_margin_percent,
            bytes: self.options.rss_margin_mib * MIB,
        }
    }

    pub fn rss(&self) -> Option<rss::Judgement> {
        rss::judge(&self.rss_samples, self.margin())
    }

    /// Each criterion of the run, passed or not, with what was found.
    pub fn checks(&self) -> Vec<Check> {
        let t = &self.tally;
        let zero = |name: &'static str, n: u64, what: &str| Check {
            name,
            passed: n == 0,
            found: format!("{n} {what}"),
        };
        let mut checks = vec![
            Check {
                name: "requests made",
                passed: t.requests > 0,
                found: format!("{} requests", t.requests),
            },
            zero("no 5xx", t.server_errors(), "answers with a 5xx status"),
            zero("no wrong byte", t.wrong_bytes, "wrong bytes"),
            zero(
                "right statuses and headers",
                t.wrong_answers,
                "answers with the wrong status or headers",
            ),
            zero(
                "right body lengths",
                t.wrong_lengths,
                "bodies of the wrong length",
            ),
            zero(
                "no transport error",
                t.transport_errors,
                "requests that failed below HTTP",
            ),
            zero(
                "no stalled request",
                t.hung + self.stuck_clients,
                "requests stalled past the limit or cut at the hard limit",
            ),
        ];
        checks.push(match self.rss() {
            None => Check {
                name: "RSS flat after warm-up",
                passed: false,
                found: format!(
                    "only {} RSS samples: too few to judge (at least {})",
                    self.rss_samples.len(),
                    rss::MIN_SAMPLES
                ),
            },
            Some(j) => Check {
                name: "RSS flat after warm-up",
                passed: j.flat(),
                found: format!(
                    "median {} MiB in the second third, {} MiB in the last (at most {} MiB: +{}% + {} MiB)",
                    j.warm / MIB,
                    j.end / MIB,
                    j.allowed / MIB,
                    self.options.rss_margin_percent,
                    self.options.rss_margin_mib
                ),
            },
        });
        checks
    }

    /// Every reason the run failed; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        self.checks()
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.name, c.found))
            .collect()
    }

    fn first_byte_ms(&self) -> [f64; 4] {
        let mut v = self.tally.first_byte_us.clone();
        v.sort_unstable();
        let at = |q: f64| {
            if v.is_empty() {
                return 0.0;
            }
            let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
            v[i] as f64 / 1000.0
        };
        [at(0.50), at(0.95), at(0.99), at(1.0)]
    }

    /// The figures as a table.
    pub fn table(&self) -> String {
        let t = &self.tally;
        let secs = self.load.as_secs_f64();
        let [p50, p95, p99, max] = self.first_byte_ms();
        let mut rows: Vec<(String, String)> = vec![
            (
                "setup".into(),
                format!(
                    "{} clients, {} files of {} MiB, seed {}",
                    self.options.clients,
                    self.options.files,
                    self.options.size / MIB,
                    self.seed
                ),
            ),
            (
                "streams ready in".into(),
                format!("{:.1} s", self.prepare.as_secs_f64()),
            ),
            ("load ran".into(), format!("{secs:.1} s")),
            (
                "requests".into(),
                format!(
                    "{} ({:.0}/s)",
                    t.requests,
                    t.requests as f64 / secs.max(1e-9)
                ),
            ),
        ];
        for (kind, n) in &t.kinds {
            rows.push((format!("  {kind}"), n.to_string()));
        }
        for (status, n) in &t.statuses {
            rows.push((format!("status {status}"), n.to_string()));
        }
        rows.extend([
            (
                "bytes checked".into(),
                format!(
                    "{} ({:.1} GiB, {:.0} MB/s)",
                    t.bytes_checked,
                    t.bytes_checked as f64 / (1u64 << 30) as f64,
                    t.bytes_checked as f64 / secs.max(1e-9) / 1e6
                ),
            ),
            ("wrong bytes".into(), t.wrong_bytes.to_string()),
            ("wrong status/headers".into(), t.wrong_answers.to_string()),
            ("wrong body lengths".into(), t.wrong_lengths.to_string()),
            ("transport errors".into(), t.transport_errors.to_string()),
            ("stalled requests".into(), t.hung.to_string()),
            ("hung up mid-body".into(), t.hung_up.to_string()),
            (
                "first body byte".into(),
                format!("p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms, max {max:.1} ms"),
            ),
        ]);
        match self.rss() {
            Some(j) => rows.push((
                "RSS (server + clients)".into(),
                format!(
                    "warm {} MiB, end {} MiB, peak {} MiB (limit {} MiB)",
                    j.warm / MIB,
                    j.end / MIB,
                    j.peak / MIB,
                    j.allowed / MIB
                ),
            )),
            None => rows.push(("RSS".into(), "too few samples".into())),
        }
        rows.push((
            "RSS of the seeders".into(),
            format!(
                "{} MiB (child processes, not judged)",
                self.seeders_rss / MIB
            ),
        ));
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            out.push_str(&format!("{k:<width$}  {v}\n"));
        }
        out
    }

    /// The figures as JSON (camelCase names, bytes and milliseconds).
    pub fn json(&self) -> serde_json::Value {
        let t = &self.tally;
        let [p50, p95, p99, max] = self.first_byte_ms();
        let rss = self.rss();
        let failures = self.failures();
        json!({
            "passed": failures.is_empty(),
            "failures": failures,
            "failureSamples": t.failures,
            "clients": self.options.clients,
            "files": self.options.files,
            "fileSize": self.options.size,
            "seed": self.seed,
            "durationSecs": self.options.duration,
            "requestCap": self.options.requests,
            "prepareSecs": self.prepare.as_secs_f64(),
            "loadSecs": self.load.as_secs_f64(),
            "requests": t.requests,
            "kinds": t.kinds,
            "statuses": t.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "serverErrors": t.server_errors(),
            "bytesChecked": t.bytes_checked,
            "wrongBytes": t.wrong_bytes,
            "wrongAnswers": t.wrong_answers,
            "wrongLengths": t.wrong_lengths,
            "transportErrors": t.transport_errors,
            "stalled": t.hung,
            "hungUp": t.hung_up,
            "stuckClients": self.stuck_clients,
            "firstByteMs": { "p50": p50, "p95": p95, "p99": p99, "max": max },
            "rss": {
                "warmBytes": rss.as_ref().map(|j| j.warm),
                "endBytes": rss.as_ref().map(|j| j.end),
                "peakBytes": rss.as_ref().map(|j| j.peak),
                "allowedBytes": rss.as_ref().map(|j| j.allowed),
                "samples": self.rss_samples,
            },
            "seedersRssBytes": self.seeders_rss,
        })
    }
}

/// Runs the soak test. `exe` is a program that seeds with `--seed-path PATH` (this
/// binary). Fails only when it cannot set up or tear down; what the load found is in the
/// report.
pub async fn run(options: Options, exe: PathBuf) -> anyhow::Result<Report> {
    let seed = options.seed.unwrap_or_else(rand::random);
    let stall = Duration::from_secs(options.stall_limit);

    // The files, on disk for the seeders; their contents, computed again for the checks.
    let source = tempfile::Builder::new()
        .prefix("cinemahalal-soak-source")
        .tempdir()?;
    let mut files = Vec::new();
    for i in 0..options.files {
        let path = source.path().join(format!("soak-{i}.mp4"));
        let pattern = Pattern::new(seed, i);
        pattern
            .write(&path, options.size)
            .with_context(|| format!("writing {}", path.display()))?;
        files.push((path, pattern));
    }
    let mut seeders = Vec::new();
    for (path, _) in &files {
        seeders.push(seeders::ChildSeeder::spawn(&exe, path).await?);
    }

    let data = tempfile::Builder::new()
        .prefix("cinemahalal-soak-data")
        .tempdir()?;
    let server = cinemahalal_server::start(Settings::loopback(data.path())).await?;
    let base = server.base_url();
    let outcome = async {
        let prepared = Instant::now();
        let targets = prepare(&base, &seeders, &files, options.size).await?;
        let prepare = prepared.elapsed();
        let (tally, load, rss_samples, stuck_clients) =
            load_and_sample(&options, seed, targets, stall).await;
        anyhow::Ok((tally, load, prepare, rss_samples, stuck_clients))
    }
    .await;
    let seeders_rss = seeders
        .iter()
        .filter_map(|s| rss::rss_of(&s.pid().to_string()))
        .sum();
    server.shutdown().await;
    for s in seeders {
        s.stop().await;
    }
    let (tally, load, prepare, rss_samples, stuck_clients) = outcome?;
    Ok(Report {
        options,
        seed,
        tally,
        load,
        prepare,
        rss_samples,
        seeders_rss,
        stuck_clients,
    })
}

/// POSTs each magnet and waits for STREAM_READY: the load's targets.
async fn prepare(
    base: &str,
    seeders: &[seeders::ChildSeeder],
    files: &[(PathBuf, Pattern)],
    size: u64,
) -> anyhow::Result<Vec<Target>> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let posts = seeders.iter().zip(files).map(|(seeder, (path, pattern))| {
        let http = http.clone();
        async move {
            let response = http
                .post(format!("{base}/api/stream"))
                .json(&json!({ "magnet": seeder.magnet }))
                .send()
                .await?;
            let status = response.status();
            let body: serde_json::Value = response.json().await?;
            anyhow::ensure!(
                status.is_success() && body["status"] == "STREAM_READY",
                "POST /api/stream for {}: {status} {body}",
                path.display()
            );
            anyhow::ensure!(
                body["size"] == size,
                "the stream of {} is {} bytes, not {size}",
                path.display(),
                body["size"]
            );
            let url = body["streamUrl"]
                .as_str()
                .context("no streamUrl")?
                .to_string();
            anyhow::Ok(Target {
                url,
                size,
                pattern: *pattern,
            })
        }
    });
    futures::future::try_join_all(posts).await
}

/// Runs the clients while sampling the RSS once a second. Clients stop starting requests
/// at the deadline; any still running one stall limit plus a minute later is aborted.
async fn load_and_sample(
    options: &Options,
    seed: u64,
    targets: Vec<Target>,
    stall: Duration,
) -> (Tally, Duration, Vec<u64>, u64) {
    let started = Instant::now();
    let budget = Arc::new(load::Budget {
        until: started + Duration::from_secs(options.duration),
        requests: options.requests.map(AtomicU64::new),
    });
    let targets = Arc::new(targets);
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..options.clients {
        clients.spawn(load::client(
            seed ^ (i + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
            targets.clone(),
            budget.clone(),
            stall,
        ));
    }
    let hard_limit = tokio::time::Instant::from_std(budget.until) + stall + Duration::from_secs(60);
    let mut tally = Tally::default();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(rss::PERIOD);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Some(rss) = rss::rss_of("self") {
                    samples.push(rss);
                }
            }
            done = clients.join_next() => match done {
                None => break,
                Some(Ok(t)) => tally.merge(t),
                Some(Err(e)) => {
                    tally.transport_errors += 1;
                    tally.failures.push(format!("a client failed: {e}"));
                }
            },
            _ = tokio::time::sleep_until(hard_limit) => break,
        }
    }
    let stuck = clients.len() as u64;
    clients.shutdown().await;
    (tally, started.elapsed(), samples, stuck)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tally: Tally, rss_mib: &[u64]) -> Report {
        use clap::Parser;
        Report {
            options: Options::parse_from(["cinemahalal-soak"]),
            seed: 1,
            tally,
            load: Duration::from_secs(9),
            prepare: Duration::from_secs(1),
            rss_samples: rss_mib.iter().map(|m| m * MIB).collect(),
            seeders_rss: 0,
            stuck_clients: 0,
        }
    }

    #[test]
    fn a_clean_run_passes_every_check() {
        let tally = Tally {
            requests: 10,
            statuses: [(206, 9), (416, 1)].into(),
            bytes_checked: 1000,
            ..Tally::default()
        };
        let r = report(tally, &[50, 90, 100, 100, 101, 100, 102, 101, 100]);
        assert!(r.checks().iter().all(|c| c.passed), "{:?}", r.checks());
        assert!(r.failures().is_empty());
        assert_eq!(r.json()["passed"], true);
        assert_eq!(r.json()["statuses"]["206"], 9);
    }

    #[test]
    fn a_5xx_a_wrong_byte_a_stall_or_growing_rss_each_fail_the_run() {
        let flat = [50, 90, 100, 100, 101, 100, 102, 101, 100];
        let tally = Tally {
            requests: 10,
            statuses: [(206, 9), (503, 1)].into(),
            ..Tally::default()
        };
        assert_eq!(report(tally, &flat).failures().len(), 1);
        let tally = Tally {
            requests: 10,
            wrong_bytes: 3,
            hung: 1,
            ..Tally::default()
        };
        let failures = report(tally, &flat).failures();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[0].starts_with("no wrong byte: 3 wrong bytes"));
        let tally = Tally {
            requests: 10,
            ..Tally::default()
        };
        let growing = [50, 90, 100, 100, 110, 120, 130, 140, 150];
        let r = report(tally.clone(), &growing);
        assert_eq!(r.failures().len(), 1);
        assert_eq!(r.json()["passed"], false);
        assert_eq!(report(tally, &[100; 5]).failures().len(), 1);
        assert_eq!(report(Tally::default(), &flat).failures().len(), 1);
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("16KiB"), Ok(16 << 10));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("2gib"), Ok(2 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("5 furlongs").is_err());
        assert!(parse_size("99999999999GiB").is_err());
    }
}
