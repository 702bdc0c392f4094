//! One run of ffmpeg or ffprobe: its standard output collected, standard error kept for
//! the error message, killed when dropped (the request that wanted it went away) or when
//! it writes nothing for the idle timeout (its input stalled).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::MediaError;

/// Most bytes of standard error kept for a message.
const STDERR_KEPT: usize = 4096;

/// What a finished run gave.
pub struct Output {
    pub stdout: Vec<u8>,
    pub success: bool,
    pub stderr: String,
}

/// Runs `program` with `args`; fails with [`MediaError::Missing`] when it cannot start,
/// and with `stalled` when it writes nothing to stdout for `idle` (it is then killed).
pub async fn run(
    program: &Path,
    args: &[String],
    idle: Duration,
    stalled: impl Fn(String) -> MediaError,
) -> Result<Output, MediaError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| MediaError::Missing {
            program: program.display().to_string(),
            reason: e.to_string(),
        })?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = tokio::spawn(async move {
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if text.len() < STDERR_KEPT {
                text.extend_from_slice(&buf[..n.min(STDERR_KEPT - text.len())]);
            }
        }
        String::from_utf8_lossy(&text).trim().to_string()
    });
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(idle, stdout.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(stalled(format!("reading its output: {e}"))),
            Err(_) => {
                let _ = child.start_kill();
                errors.abort();
                return Err(stalled(format!(
                    "no output for {} s; it was stopped",
                    idle.as_secs()
                )));
            }
        }
    }
    let status = match tokio::time::timeout(idle, child.wait()).await {
        Ok(Ok(status)) => status,
        _ => {
            let _ = child.start_kill();
            return Err(stalled("it did not exit".into()));
        }
    };
    let stderr = errors.await.unwrap_or_default();
    Ok(Output {
        stdout: out,
        success: status.success(),
        stderr,
    })
}
