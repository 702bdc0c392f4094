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
    let checks = report.checks();
    for c in &checks {
        let mark = if c.passed { "ok    " } else { "FAILED" };
        println!("{mark} {}: {}", c.name, c.found);
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        for sample in &report.tally.failures {
            eprintln!("  e.g. {sample}");
        }
    }
    // The test command adds up this line's counts.
    println!("{} passed, {failed} failed", checks.len() - failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
