//! The watch history: where each file of each torrent was left, so that opening it again
//! resumes there and the home screen can offer "Continue watching". One JSON file,
//! `history.json` in the data dir, rewritten whole (a temporary file, then a rename) on
//! every change, so a crash leaves the old file or the new one, never half of one. A file
//! that cannot be read as a history is moved aside to `history.json.damaged` and the app
//! goes on with an empty history.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use cinemahalal_engine::{InfoHash, Magnet};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::wire::{HistoryEntry, SavePosition};

/// The file's name in the data dir.
pub const HISTORY_FILE: &str = "history.json";
/// Most entries kept; saving one more drops the least recently updated.
pub const MAX_ENTRIES: usize = 200;
/// Longest name kept, in characters (a longer one is cut).
pub const MAX_NAME_CHARS: usize = 300;
/// A file counts as watched once at most this many seconds are left...
pub const WATCHED_REMAINING_SECONDS: f64 = 60.0;
/// ...or this share of its duration, whichever is less (so a short clip is not
/// "watched" the moment it starts).
pub const WATCHED_REMAINING_SHARE: f64 = 0.05;

/// Whether a file left at `position` of `duration` seconds was watched to its end (then
/// opening it again starts from the beginning). A duration of 0 means unknown: never.
pub fn is_watched(position: f64, duration: f64) -> bool {
    if duration <= 0.0 {
        return false;
    }
    let remaining = duration - position;
    remaining <= (duration * WATCHED_REMAINING_SHARE).min(WATCHED_REMAINING_SECONDS)
}

#[derive(Serialize, Deserialize)]
struct HistoryFile {
    entries: Vec<HistoryEntry>,
}

/// The history, in memory and on disk. Entries are kept newest first.
pub struct History {
    path: PathBuf,
    /// Taken for the whole of a change including its (small, synchronous) write, so two
    /// changes never interleave their files; never held across an `.await`.
    entries: Mutex<Vec<HistoryEntry>>,
}

impl History {
    /// Loads `<data_dir>/history.json`; a missing file is an empty history, a damaged
    /// one is moved aside (see the module's docs).
    pub fn load(data_dir: &Path) -> History {
        let path = data_dir.join(HISTORY_FILE);
        let entries = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<HistoryFile>(&bytes) {
                Ok(file) => {
                    let mut entries = file.entries;
                    entries.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
                    entries.truncate(MAX_ENTRIES);
                    entries
                }
                Err(e) => {
                    let aside = path.with_extension("json.damaged");
                    match std::fs::rename(&path, &aside) {
                        Ok(()) => tracing::warn!(
                            "the watch history {} was damaged ({e}); moved it to {} and started a new one",
                            path.display(),
                            aside.display()
                        ),
                        Err(re) => tracing::warn!(
                            "the watch history {} was damaged ({e}) and could not be moved aside: {re}",
                            path.display()
                        ),
                    }
                    Vec::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                tracing::warn!("could not read the watch history {}: {e}", path.display());
                Vec::new()
            }
        };
        History {
            path,
            entries: Mutex::new(entries),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, most recently updated first.
    pub fn list(&self) -> Vec<HistoryEntry> {
        self.lock().clone()
    }

    /// Records where `file_index` of `info_hash` was left.
    pub fn save(
        &self,
        info_hash: InfoHash,
        file_index: usize,
        save: SavePosition,
    ) -> Result<HistoryEntry, ApiError> {
        let invalid = |m: &str| ApiError::new(ErrorCode::InvalidRequest, m);
        let position = save.position_seconds;
        let duration = save.duration_seconds.unwrap_or(0.0);
        if !position.is_finite() || position < 0.0 {
            return Err(invalid(
                "positionSeconds must be a finite number of seconds, 0 or more",
            ));
        }
        if !duration.is_finite() || duration < 0.0 {
            return Err(invalid(
                "durationSeconds must be a finite number of seconds, 0 or more",
            ));
        }
        let position = if duration > 0.0 {
            position.min(duration)
        } else {
            position
        };
        let magnet = match save.magnet.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(link) => {
                let magnet = Magnet::parse(link)
                    .map_err(|e| invalid(&format!("magnet is not a magnet link: {e}")))?;
                if magnet.info_hash() != info_hash {
                    return Err(invalid("magnet names another info hash than the path"));
                }
                Some(magnet.to_string())
            }
        };
        let name: String = save
            .name
            .unwrap_or_default()
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        let mut entries = self.lock();
        let previous = entries
            .iter()
            .position(|e| e.info_hash == info_hash && e.file_index == file_index)
            .map(|i| entries.remove(i));
        let entry = HistoryEntry {
            info_hash,
            file_index,
            name: if name.is_empty() {
                previous
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default()
            } else {
                name
            },
            magnet: magnet.or_else(|| previous.as_ref().and_then(|p| p.magnet.clone())),
            position_seconds: position,
            duration_seconds: duration,
            updated_at: now_millis(),
            watched: is_watched(position, duration),
        };
        let mut next = Vec::with_capacity(entries.len() + 1);
        next.push(entry.clone());
        next.extend(entries.iter().cloned());
        next.truncate(MAX_ENTRIES);
        self.write(&next)?;
        *entries = next;
        Ok(entry)
    }

    /// Forgets one file; answers how many entries went (0 or 1).
    pub fn forget(&self, info_hash: InfoHash, file_index: usize) -> Result<usize, ApiError> {
        let mut entries = self.lock();
        let next: Vec<HistoryEntry> = entries
            .iter()
            .filter(|e| !(e.info_hash == info_hash && e.file_index == file_index))
            .cloned()
            .collect();
        let removed = entries.len() - next.len();
        if removed > 0 {
            self.write(&next)?;
            *entries = next;
        }
        Ok(removed)
    }

    /// Forgets everything; answers how many entries went.
    pub fn clear(&self) -> Result<usize, ApiError> {
        let mut entries = self.lock();
        let removed = entries.len();
        self.write(&[])?;
        entries.clear();
        Ok(removed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<HistoryEntry>> {
        // A panic while holding it cannot leave the list half-changed (changes replace
        // it whole), so a poisoned lock is still good.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `entries` to a temporary file beside the history, then renames it over.
    fn write(&self, entries: &[HistoryEntry]) -> Result<(), ApiError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!("watch history: {what}: {e}");
            ApiError::new(
                ErrorCode::HistoryFailed,
                format!("the watch history could not be saved: {what}: {e}"),
            )
        };
        let json = serde_json::to_vec_pretty(&serde_json::json!({ "entries": entries }))
            .map_err(|e| failed("encoding", &e))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed("creating its folder", &e))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, &json).map_err(|e| failed("writing", &e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            failed("replacing the old file", &e)
        })
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watched_means_the_last_five_percent_or_minute_whichever_is_less() {
        assert!(!is_watched(0.0, 0.0), "unknown duration: never watched");
        assert!(!is_watched(30.0, 40.0));
        assert!(is_watched(38.5, 40.0), "40 s clip: the last 2 s");
        assert!(!is_watched(37.0, 40.0));
        assert!(is_watched(7141.0, 7200.0), "2 h film: the last minute");
        assert!(!is_watched(7000.0, 7200.0));
        assert!(is_watched(40.0, 40.0));
    }
}
