//! A prepared stream: the torrent's handle and files, what it answers ([`StreamInfo`]),
//! and its [`Activity`], which idle cleanup reads.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use librqbit::ManagedTorrent;
use serde::Serialize;

use crate::{EngineError, InfoHash, TorrentFile};

pub(super) type Handle = std::sync::Arc<ManagedTorrent>;

/// What a prepared stream is: the answer to "play this torrent".
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StreamInfo {
    pub info_hash: InfoHash,
    pub name: String,
    /// The file this answer is about (the one played when no index is given, unless one was asked for).
    pub file_index: usize,
    /// That file's name.
    pub video_file: String,
    /// That file's size in bytes.
    pub size: u64,
    pub mime_type: String,
    /// Whether this is the stream's default file (served at `/api/stream/<hash>`).
    pub is_default_file: bool,
    pub files: Vec<TorrentFile>,
}

/// One torrent being streamed. Registered in the engine only once ready.
pub(crate) struct Stream {
    pub(super) handle: Handle,
    pub(super) name: String,
    pub(super) files: Vec<TorrentFile>,
    /// The file played when no index is given: the one chosen when it was prepared.
    pub(super) default_file: usize,
    /// `downloads/<info hash>/`, deleted with the stream.
    pub(super) output_dir: PathBuf,
    pub(crate) activity: Activity,
}

impl Stream {
    pub(super) fn describe(&self, info_hash: InfoHash, index: usize) -> StreamInfo {
        let file = &self.files[index];
        StreamInfo {
            info_hash,
            name: self.name.clone(),
            file_index: index,
            video_file: file.file_name().to_string(),
            size: file.size,
            mime_type: file.mime_type(),
            is_default_file: index == self.default_file,
            files: self.files.clone(),
        }
    }

    /// The file at `index`, or the default file.
    pub(super) fn file(&self, index: Option<usize>) -> Result<&TorrentFile, EngineError> {
        let index = index.unwrap_or(self.default_file);
        self.files
            .get(index)
            .ok_or_else(|| out_of_range(index, self.files.len()))
    }
}

pub(super) fn out_of_range(index: usize, len: usize) -> EngineError {
    EngineError::InvalidRequest(format!(
        "fileIndex {index} is out of range: the torrent has {len} file(s)"
    ))
}

/// When a stream was last used, and by how many readers now: what idle cleanup reads.
pub(crate) struct Activity {
    last: Mutex<Instant>,
    readers: AtomicUsize,
}

impl Activity {
    pub(super) fn new() -> Activity {
        Activity {
            last: Mutex::new(Instant::now()),
            readers: 0.into(),
        }
    }

    pub(crate) fn touch(&self) {
        *self.last.lock().unwrap() = Instant::now();
    }

    pub(crate) fn reader_opened(&self) {
        self.readers.fetch_add(1, Ordering::SeqCst);
        self.touch();
    }

    pub(crate) fn reader_closed(&self) {
        self.touch();
        self.readers.fetch_sub(1, Ordering::SeqCst);
    }

    /// How long the stream has been unused; `None` while a reader is open.
    pub(super) fn idle_for(&self) -> Option<Duration> {
        let readers = self.readers.load(Ordering::SeqCst);
        (readers == 0).then(|| self.last.lock().unwrap().elapsed())
    }
}
