//! The cache of torrents played before: each one's data (`downloads/<info hash>/`), its
//! metadata (`torrents/<info hash>.torrent`) and an index (`cache.json`) saying when it
//! was last used. A stream that goes idle leaves the session but stays here; prepared
//! again, it is added from its .torrent file and librqbit's hash check decides which of
//! its pieces are kept (nothing unverified is ever served).
//!
//! The cache is capped: above `cache_max_bytes`, or when its disk has less than
//! `cache_min_free_bytes` free, the least recently used inactive torrents are evicted.
//! An active stream (prepared, or being prepared) is never evicted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::stream::Stream;
use super::{Engine, torrent_id};
use crate::InfoHash;

/// What `GET /api/cache` answers: how much the cache holds, its cap and its torrents.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CacheInfo {
    /// Bytes on disk for every cached torrent, active streams included.
    pub used_bytes: u64,
    /// The configured cap (`cache_max_bytes`); the cache also leaves 1 GiB free on its disk.
    pub max_bytes: u64,
    /// Most recently used first.
    pub torrents: Vec<CachedTorrent>,
}

/// One torrent in the cache.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CachedTorrent {
    pub info_hash: InfoHash,
    pub name: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Streaming now (prepared or being prepared): never evicted.
    pub active: bool,
    /// When it was last used, in seconds since the Unix epoch.
    pub last_used: u64,
}

/// One entry of `cache.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IndexEntry {
    pub name: String,
    /// Seconds since the Unix epoch.
    pub last_used: u64,
}

/// `cache.json`: the torrents whose data and metadata are kept, by info hash.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CacheIndex {
    pub torrents: BTreeMap<InfoHash, IndexEntry>,
}

impl CacheIndex {
    /// Reads the index; a missing or unreadable file is an empty index (the data it
    /// described is then removed as orphaned by [`CacheIndex::reconcile`]).
    pub fn load(path: &Path) -> CacheIndex {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), "cache index unreadable, starting empty: {e}");
                CacheIndex::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CacheIndex::default(),
            Err(e) => {
                tracing::warn!(file = %path.display(), "reading the cache index: {e}");
                CacheIndex::default()
            }
        }
    }

    /// Writes the index atomically: a temporary file next to it, then a rename, so a
    /// crash leaves either the old index or the new one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Makes the index and the disk agree: entries without a .torrent file are dropped,
    /// and data or .torrent files the index does not name (left by a run that crashed
    /// before writing its index, or by an older version) are removed. Only names shaped
    /// like an info hash are touched.
    pub fn reconcile(&mut self, downloads: &Path, torrents: &Path) {
        self.torrents
            .retain(|h, _| torrent_file(torrents, *h).is_file());
        for (dir, suffix) in [(downloads, ""), (torrents, ".torrent")] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(hash) = name
                    .to_str()
                    .and_then(|n| n.strip_suffix(suffix))
                    .filter(|n| n.len() == 40)
                    .and_then(|n| n.parse::<InfoHash>().ok())
                else {
                    continue;
                };
                if !self.torrents.contains_key(&hash) {
                    tracing::info!(path = %entry.path().display(), "removing data the cache index does not name");
                    remove_path(&entry.path());
                }
            }
        }
    }
}

pub(crate) fn torrent_file(torrents: &Path, info_hash: InfoHash) -> PathBuf {
    torrents.join(format!("{info_hash}.torrent"))
}

/// Removes a file or a folder with what it holds; a missing one is fine.
pub(crate) fn remove_path(path: &Path) {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), "removing cached data: {e}"),
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Bytes a file or folder takes on disk: allocated blocks, so a sparse file of which
/// librqbit wrote a few pieces counts for those pieces only.
pub(crate) fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| disk_usage(&e.path())).sum())
            .unwrap_or(0)
    } else {
        allocated(&meta)
    }
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

/// Bytes free for an unprivileged user on the disk holding `path`.
pub(crate) fn free_space(path: &Path) -> std::io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
    // Both are u64 on 64-bit Linux, narrower on other targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(stat.blocks_available()) * u64::from(stat.fragment_size()))
}

/// A cached torrent as eviction sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub info_hash: InfoHash,
    pub bytes: u64,
    pub last_used: u64,
    pub active: bool,
}

/// The most the cache may hold: `max_bytes`, and no more than leaves `min_free` on a
/// disk that has `free` bytes free while the cache holds `used`.
pub(crate) fn limit(max_bytes: u64, min_free: u64, used: u64, free: u64) -> u64 {
    max_bytes.min((used + free).saturating_sub(min_free))
}

/// Which torrents to evict, least recently used first, until what is left fits in
/// `limit`; active ones are never chosen, even when the rest does not fit.
pub(crate) fn to_evict(torrents: &[Usage], limit: u64) -> Vec<InfoHash> {
    let mut used: u64 = torrents.iter().map(|t| t.bytes).sum();
    let mut candidates: Vec<&Usage> = torrents.iter().filter(|t| !t.active).collect();
    candidates.sort_by_key(|t| (t.last_used, t.info_hash.0));
    let mut out = Vec::new();
    for t in candidates {
        if used <= limit {
            break;
        }
        used -= t.bytes;
        out.push(t.info_hash);
    }
    out
}

impl Engine {
    /// The .torrent file of a cached torrent, if the index names it.
    pub(super) fn cached_metadata(&self, info_hash: InfoHash) -> Option<Bytes> {
        if !self.cache.lock().unwrap().torrents.contains_key(&info_hash) {
            return None;
        }
        let path = torrent_file(&self.config.torrents_dir(), info_hash);
        match std::fs::read(&path) {
            Ok(bytes) => Some(bytes.into()),
            Err(e) => {
                tracing::warn!(file = %path.display(), "reading cached metadata: {e}");
                None
            }
        }
    }

    /// Enters a torrent being added into the cache: its .torrent file, then its index
    /// entry, so a restart (even after a crash) finds the data it downloads.
    pub(super) fn remember(&self, info_hash: InfoHash, name: &str, torrent: &[u8]) {
        let path = torrent_file(&self.config.torrents_dir(), info_hash);
        if !path.is_file()
            && let Err(e) = write_atomically(&path, torrent)
        {
            tracing::warn!(file = %path.display(), "saving metadata, the torrent will not be cached: {e}");
            return;
        }
        let mut cache = self.cache.lock().unwrap();
        cache.torrents.insert(
            info_hash,
            IndexEntry {
                name: name.to_owned(),
                last_used: now_secs(),
            },
        );
        self.save_index(&cache);
    }

    fn save_index(&self, index: &CacheIndex) {
        let path = self.config.cache_index_path();
        if let Err(e) = index.save(&path) {
            tracing::warn!(file = %path.display(), "saving the cache index: {e}");
        }
    }

    /// Stops a stream that went idle, or every stream at shutdown: its torrent leaves the
    /// session (peers and memory freed) and its data and metadata stay in the cache.
    pub(super) async fn park(&self, info_hash: InfoHash, stream: &Stream) {
        if let Err(e) = self.session.delete(torrent_id(info_hash), false).await {
            tracing::warn!(%info_hash, "removing torrent from the session: {e:#}");
        }
        let cached = {
            let mut cache = self.cache.lock().unwrap();
            let entry = cache.torrents.get_mut(&info_hash);
            let cached = entry.is_some();
            if let Some(entry) = entry {
                entry.last_used = now_secs();
                self.save_index(&cache);
            }
            cached
        };
        if cached {
            tracing::info!(%info_hash, "stream stopped, data kept in the cache");
        } else {
            // Not cached (its metadata could not be saved): nothing would find the data.
            self.delete_files(self.trash(info_hash, &stream.output_dir))
                .await;
            tracing::info!(%info_hash, "stream stopped, data removed (it was not cached)");
        }
    }

    /// Removes a torrent from the session and the cache, data and metadata, at once.
    pub(super) async fn forget(&self, info_hash: InfoHash) {
        if let Err(e) = self.session.delete(torrent_id(info_hash), false).await {
            tracing::debug!(%info_hash, "removing torrent from the session: {e:#}");
        }
        let trashed = {
            let mut cache = self.cache.lock().unwrap();
            if cache.torrents.remove(&info_hash).is_some() {
                self.save_index(&cache);
            }
            self.trash_all(info_hash)
        };
        self.delete_files(trashed).await;
    }

    /// Evicts an inactive cached torrent; `None` when it is active or not cached. The
    /// check and the removal from the index are made under the maps' locks, and its
    /// files are moved out of the way under them too, so a preparation that starts
    /// meanwhile either sees it active or finds no cache and starts afresh.
    async fn evict(&self, info_hash: InfoHash) -> Option<u64> {
        let trashed = {
            let preparing = self.preparing.lock().unwrap();
            let streams = self.streams.lock().unwrap();
            if preparing.contains_key(&info_hash) || streams.contains_key(&info_hash) {
                return None;
            }
            let mut cache = self.cache.lock().unwrap();
            cache.torrents.remove(&info_hash)?;
            self.save_index(&cache);
            self.trash_all(info_hash)
        };
        Some(self.delete_files(trashed).await)
    }

    /// Moves a torrent's data and metadata into `trash/`, to be deleted with no lock held.
    fn trash_all(&self, info_hash: InfoHash) -> Vec<PathBuf> {
        let mut out = self.trash(
            info_hash,
            &self.config.downloads_dir().join(info_hash.to_string()),
        );
        out.extend(self.trash(
            info_hash,
            &torrent_file(&self.config.torrents_dir(), info_hash),
        ));
        out
    }

    fn trash(&self, info_hash: InfoHash, path: &Path) -> Vec<PathBuf> {
        if std::fs::symlink_metadata(path).is_err() {
            return Vec::new();
        }
        let trash = self.config.trash_dir();
        let n = self
            .trashed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let to = trash.join(format!("{info_hash}-{n}"));
        match std::fs::create_dir_all(&trash).and_then(|()| std::fs::rename(path, &to)) {
            Ok(()) => vec![to],
            Err(e) => {
                tracing::debug!(path = %path.display(), "moving to the trash, deleting in place: {e}");
                vec![path.to_path_buf()]
            }
        }
    }

    /// Deletes files and folders; answers the bytes they took on disk.
    async fn delete_files(&self, paths: Vec<PathBuf>) -> u64 {
        if paths.is_empty() {
            return 0;
        }
        tokio::task::spawn_blocking(move || {
            paths
                .iter()
                .map(|p| {
                    let bytes = disk_usage(p);
                    remove_path(p);
                    bytes
                })
                .sum()
        })
        .await
        .unwrap_or(0)
    }

    /// Every cached torrent with its size on disk, whether it is active, and its name.
    async fn cache_usage(&self) -> Vec<(Usage, String)> {
        let entries: Vec<(InfoHash, IndexEntry, bool)> = {
            let preparing = self.preparing.lock().unwrap();
            let streams = self.streams.lock().unwrap();
            let cache = self.cache.lock().unwrap();
            cache
                .torrents
                .iter()
                .map(|(h, e)| {
                    let active = preparing.contains_key(h) || streams.contains_key(h);
                    (*h, e.clone(), active)
                })
                .collect()
        };
        let (downloads, torrents) = (self.config.downloads_dir(), self.config.torrents_dir());
        tokio::task::spawn_blocking(move || {
            entries
                .into_iter()
                .map(|(h, e, active)| {
                    let bytes = disk_usage(&downloads.join(h.to_string()))
                        + disk_usage(&torrent_file(&torrents, h));
                    let usage = Usage {
                        info_hash: h,
                        bytes,
                        last_used: e.last_used,
                        active,
                    };
                    (usage, e.name)
                })
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    /// Evicts least recently used inactive torrents until the cache fits under
    /// `cache_max_bytes` and leaves `cache_min_free_bytes` free on its disk.
    pub(super) async fn enforce_cache_cap(&self) {
        let usage: Vec<Usage> = self
            .cache_usage()
            .await
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let used = usage.iter().map(|u| u.bytes).sum();
        let free = match free_space(&self.config.data_dir) {
            Ok(free) => free,
            Err(e) => {
                tracing::warn!("free space of the data folder: {e}");
                u64::MAX / 2
            }
        };
        let limit = limit(
            self.config.cache_max_bytes,
            self.config.cache_min_free_bytes,
            used,
            free,
        );
        for info_hash in to_evict(&usage, limit) {
            if let Some(freed) = self.evict(info_hash).await {
                tracing::info!(%info_hash, freed, used, limit, "evicted from the cache");
            }
        }
    }

    /// What the cache holds: every torrent kept, active streams included.
    pub async fn cache_info(&self) -> CacheInfo {
        let mut torrents: Vec<CachedTorrent> = self
            .cache_usage()
            .await
            .into_iter()
            .map(|(u, name)| CachedTorrent {
                info_hash: u.info_hash,
                name,
                bytes: u.bytes,
                active: u.active,
                last_used: u.last_used,
            })
            .collect();
        torrents.sort_by(|a, b| b.last_used.cmp(&a.last_used).then(a.name.cmp(&b.name)));
        CacheInfo {
            used_bytes: torrents.iter().map(|t| t.bytes).sum(),
            max_bytes: self.config.cache_max_bytes,
            torrents,
        }
    }

    /// Removes every inactive cached torrent, data and metadata; active streams stay.
    /// Answers the bytes freed.
    pub async fn clear_cache(&self) -> u64 {
        let hashes: Vec<InfoHash> = self
            .cache
            .lock()
            .unwrap()
            .torrents
            .keys()
            .copied()
            .collect();
        let mut freed = 0;
        for h in hashes {
            freed += self.evict(h).await.unwrap_or(0);
        }
        tracing::info!(freed, "cache cleared");
        freed
    }
}

/// Writes a file through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> InfoHash {
        InfoHash([n; 20])
    }

    fn usage(n: u8, bytes: u64, last_used: u64, active: bool) -> Usage {
        Usage {
            info_hash: h(n),
            bytes,
            last_used,
            active,
        }
    }

    #[test]
    fn eviction_takes_the_least_recently_used_inactive_torrents_first() {
        let torrents = [
            usage(1, 400, 10, false),
            usage(2, 300, 5, true),
            usage(3, 200, 1, false),
            usage(4, 100, 20, false),
        ];
        assert_eq!(to_evict(&torrents, 1000), []);
        assert_eq!(to_evict(&torrents, 900), [h(3)]);
        assert_eq!(to_evict(&torrents, 800), [h(3)]);
        assert_eq!(to_evict(&torrents, 700), [h(3), h(1)]);
        // The active one stays even when what is left does not fit.
        assert_eq!(to_evict(&torrents, 0), [h(3), h(1), h(4)]);
    }

    #[test]
    fn the_limit_leaves_the_minimum_free() {
        // 10 GiB cap, 1 GiB to leave free.
        let (max, min_free) = (10 << 30, 1 << 30);
        assert_eq!(limit(max, min_free, 0, 100 << 30), max);
        // 3 GiB used, 2 GiB free: the cache may grow by 1 GiB only.
        assert_eq!(limit(max, min_free, 3 << 30, 2 << 30), 4 << 30);
        // Less free than the minimum: the cache must shrink.
        assert_eq!(
            limit(max, min_free, 3 << 30, 512 << 20),
            (3 << 30) - (512 << 20)
        );
        assert_eq!(limit(max, min_free, 0, 0), 0);
    }

    #[test]
    fn the_index_survives_a_round_trip_and_a_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        assert_eq!(CacheIndex::load(&path), CacheIndex::default());
        let mut index = CacheIndex::default();
        index.torrents.insert(
            h(0xab),
            IndexEntry {
                name: "film".into(),
                last_used: 42,
            },
        );
        index.save(&path).unwrap();
        assert_eq!(CacheIndex::load(&path), index);
        assert!(!path.with_extension("json.tmp").exists());
        let json = std::fs::read_to_string(&path).unwrap();
        assert!(json.contains(&"ab".repeat(20)), "{json}");

        std::fs::write(&path, b"{\"torrents\": {\"not a hash").unwrap();
        assert_eq!(CacheIndex::load(&path), CacheIndex::default());
    }

    #[test]
    fn reconcile_removes_what_the_index_does_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let (downloads, torrents) = (dir.path().join("downloads"), dir.path().join("torrents"));
        std::fs::create_dir_all(&downloads).unwrap();
        std::fs::create_dir_all(&torrents).unwrap();
        let entry = |name: &str| IndexEntry {
            name: name.into(),
            last_used: 1,
        };
        let mut index = CacheIndex::default();
        // Kept: named, with its .torrent file and data.
        index.torrents.insert(h(1), entry("kept"));
        std::fs::write(torrent_file(&torrents, h(1)), b"d4:infod").unwrap();
        std::fs::create_dir_all(downloads.join(h(1).to_string())).unwrap();
        // Named, but its .torrent is gone: dropped, and its data removed.
        index.torrents.insert(h(2), entry("no metadata"));
        std::fs::create_dir_all(downloads.join(h(2).to_string())).unwrap();
        // Not named: data and .torrent removed.
        std::fs::create_dir_all(downloads.join(h(3).to_string())).unwrap();
        std::fs::write(torrent_file(&torrents, h(3)), b"x").unwrap();
        // Not shaped like an info hash: left alone.
        std::fs::create_dir_all(downloads.join("keep-me")).unwrap();

        index.reconcile(&downloads, &torrents);
        assert_eq!(index.torrents.keys().copied().collect::<Vec<_>>(), [h(1)]);
        let mut left: Vec<String> = std::fs::read_dir(&downloads)
            .unwrap()
            .chain(std::fs::read_dir(&torrents).unwrap())
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                h(1).to_string(),
                format!("{}.torrent", h(1)),
                "keep-me".into()
            ]
        );
    }

    #[test]
    fn disk_usage_counts_allocated_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let sparse = std::fs::File::create(dir.path().join("sparse")).unwrap();
        sparse.set_len(64 << 20).unwrap();
        std::fs::write(dir.path().join("full"), vec![1u8; 256 << 10]).unwrap();
        let used = disk_usage(dir.path());
        assert!((256 << 10..(1 << 20)).contains(&used), "{used}");
        assert!(free_space(dir.path()).unwrap() > 0);
    }
}
