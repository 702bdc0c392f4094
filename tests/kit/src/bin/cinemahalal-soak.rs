//! The soak test: a real CinemaHalal server on a local swarm under concurrent range
//! requests, every byte checked, RSS sampled. Loopback only; stops by itself.
//! Prints a table (and `--json PATH`); exits non-zero on any failure.
//!
//! `cinemahalal-soak [--clients 64] [--duration 180] [--size 64MiB] [--files 4] …`
//! (`--help` lists every option).

use std::process::ExitCode;

use cinemahalal_server::config::{LogFormat, init_logging};
use cinemahalal_testkit::soak::{self, Options};
use cinemahalal_testkit::swarm::{SeederOptions, seed_until_stdin_closes};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let options = Options::parse();
    if let Some(path) = &options.seed_path {
        // A seeder of the swarm, in a child process (see `soak::run`).
        seed_until_stdin_closes(path, SeederOptions::default()).await?;
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(LogFormat::Human, "warn");
    let json = options.json.clone();
    let exe = std::env::current_exe()?;
    let report = soak::run(options, exe).await?;
    print!("{}", report.table());
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&report.json())? + "\n")?;
    }
    let failures = report.failures();
    if failures.is_empty() {
        println!("soak test passed");
        return Ok(ExitCode::SUCCESS);
    }
    for sample in &report.tally.failures {
        eprintln!("  e.g. {sample}");
    }
    for f in &failures {
        println!("FAILED: {f}");
    }
    Ok(ExitCode::FAILURE)
}
