//! The soak test's swarm, in child processes: the server's process then holds only the
//! server and its clients, so its RSS is the server's (plus the clients', which stay
//! flat), not the seeders'. Each child is this same binary run with `--seed-path PATH`,
//! which seeds as `cinemahalal-swarm` does ([`crate::swarm::seed_until_stdin_closes`]).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a child may take to hash its file and start seeding.
const START_LIMIT: Duration = Duration::from_secs(120);
/// How long a child may take to stop once its stdin closes.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// One seeding child process; killed if dropped while running.
pub struct ChildSeeder {
    child: Child,
    pub magnet: String,
}

impl ChildSeeder {
    /// Runs `exe --seed-path path` and waits for the magnet it prints.
    pub async fn spawn(exe: &Path, path: &Path) -> anyhow::Result<ChildSeeder> {
        let mut child = Command::new(exe)
            .arg("--seed-path")
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let stdout = child.stdout.take().context("the seeder's stdout")?;
        let mut seeder = ChildSeeder {
            child,
            magnet: String::new(),
        };
        let read = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .map(|_| line)
        });
        let shown = PathBuf::from(path);
        let line = tokio::time::timeout(START_LIMIT, read)
            .await
            .with_context(|| format!("the seeder of {} did not start", shown.display()))???;
        let announced: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("the seeder of {} said {line:?}", shown.display()))?;
        seeder.magnet = announced["magnet"]
            .as_str()
            .with_context(|| format!("no magnet in {line:?}"))?
            .to_string();
        Ok(seeder)
    }

    /// The child's process id, to read its memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the child's stdin so it stops seeding; kills it if it does not exit in time.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Drop kills it.
    }
}

impl Drop for ChildSeeder {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
