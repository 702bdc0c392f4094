use std::{
    collections::VecDeque,
    io::SeekFrom,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Poll, Waker},
    time::Instant,
};

use anyhow::Context;
use dashmap::DashMap;

use librqbit_core::lengths::{CurrentPiece, Lengths, ValidPieceIndex};
use tokio::io::{AsyncRead, AsyncSeek};
use tokio_util::sync::PollSemaphore;
use tracing::{debug, trace};

use crate::{ManagedTorrent, file_info::FileInfo, storage::TorrentStorage};

use super::{ManagedTorrentHandle, TorrentMetadata};

type StreamId = usize;

// 32 mb lookahead by default.
const PER_STREAM_BUF_DEFAULT: u64 = 32 * 1024 * 1024;

struct StreamState {
    file_id: usize,
    file_len: u64,
    file_abs_offset: u64,
    position: u64,
    waker: Option<Waker>,
}

impl StreamState {
    fn current_piece(&self, lengths: &Lengths) -> Option<CurrentPiece> {
        lengths.compute_current_piece(self.position, self.file_abs_offset)
    }

    fn queue<'a>(
        &self,
        lengths: &'a Lengths,
        read_ahead: u64,
    ) -> impl Iterator<Item = ValidPieceIndex> + use<'a> {
        let start = self.file_abs_offset + self.position;
        let end = start
            .saturating_add(read_ahead)
            .min(self.file_abs_offset + self.file_len);
        let dpl = lengths.default_piece_length();
        let start_id = (start / dpl as u64).try_into().unwrap();
        let end_id = end.div_ceil(dpl as u64).try_into().unwrap();
        (start_id..end_id).filter_map(|i| lengths.validate_piece_index(i))
    }
}

#[derive(Default)]
pub(crate) struct TorrentStreams {
    next_stream_id: AtomicUsize,
    streams: DashMap<StreamId, StreamState>,
    /// How many of these streams wait for a piece (have a waker).
    waiting: AtomicUsize,
    /// How many streams of the whole session wait, shared by its torrents.
    session_waiting: Arc<AtomicUsize>,
    /// How far ahead of its streams' positions a file's pieces go first, where it is not
    /// `PER_STREAM_BUF_DEFAULT`.
    read_ahead: DashMap<usize, u64>,
}

impl TorrentStreams {
    /// The streams of a torrent of the session whose count of waiting streams is
    /// `session_waiting`.
    pub(crate) fn new(session_waiting: Arc<AtomicUsize>) -> Self {
        Self {
            session_waiting,
            ..Default::default()
        }
    }

    fn started_waiting(&self) {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        self.session_waiting.fetch_add(1, Ordering::Relaxed);
    }

    fn stopped_waiting(&self) {
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        self.session_waiting.fetch_sub(1, Ordering::Relaxed);
    }

    /// Whether streams of other torrents of the session wait for pieces while none of
    /// these does.
    pub(crate) fn only_other_torrents_wait(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) == 0
            && self.session_waiting.load(Ordering::Relaxed) > 0
    }

    fn read_ahead(&self, file_id: usize) -> u64 {
        self.read_ahead
            .get(&file_id)
            .map_or(PER_STREAM_BUF_DEFAULT, |r| *r)
    }

    fn next_id(&self) -> usize {
        self.next_stream_id.fetch_add(1, Ordering::Relaxed)
    }

    fn register_waker(&self, stream_id: StreamId, waker: Waker) {
        if let Some(mut s) = self.streams.get_mut(&stream_id) {
            let vm = s.value_mut();
            if vm.waker.replace(waker).is_none() {
                self.started_waiting();
            }
        }
    }

    // Interleave 1st, 2nd etc pieces from each active stream in turn until they get 1/10th of the file .
    pub(crate) fn iter_next_pieces<'a>(
        &'a self,
        lengths: &'a Lengths,
    ) -> impl Iterator<Item = ValidPieceIndex> + 'a {
        struct Interleave<I> {
            all: VecDeque<I>,
        }

        impl<I: Iterator<Item = ValidPieceIndex>> Iterator for Interleave<I> {
            type Item = ValidPieceIndex;

            fn next(&mut self) -> Option<Self::Item> {
                while let Some(mut it) = self.all.pop_front() {
                    if let Some(piece) = it.next() {
                        self.all.push_back(it);
                        return Some(piece);
                    }
                }
                None
            }
        }

        let mut all: Vec<_> = self
            .streams
            .iter()
            .map(|s| s.queue(lengths, self.read_ahead(s.file_id)))
            .collect();

        // Shuffle to decrease determinism and make queueing fairer.
        use rand::seq::SliceRandom;
        all.shuffle(&mut rand::rng());

        Interleave { all: all.into() }
    }

    pub(crate) fn wake_streams_on_piece_completed(
        &self,
        piece_id: ValidPieceIndex,
        lengths: &Lengths,
    ) {
        for mut w in self.streams.iter_mut() {
            if w.value().current_piece(lengths).map(|p| p.id) == Some(piece_id)
                && let Some(waker) = w.value_mut().waker.take()
            {
                self.stopped_waiting();
                debug!(
                    stream_id = *w.key(),
                    piece_id = piece_id.get(),
                    "waking stream"
                );
                waker.wake();
            }
        }
    }

    fn drop_stream(&self, stream_id: StreamId) -> Option<StreamState> {
        debug!(stream_id, "dropping stream");
        let (_, stream) = self.streams.remove(&stream_id)?;
        if stream.waker.is_some() {
            self.stopped_waiting();
        }
        Some(stream)
    }

    /// The pieces streams are waiting for now.
    pub(crate) fn waiting_pieces(&self, lengths: &Lengths) -> Vec<ValidPieceIndex> {
        if !self.any_waiting() {
            return Vec::new();
        }
        self.streams
            .iter()
            .filter(|s| s.value().waker.is_some())
            .filter_map(|s| s.value().current_piece(lengths).map(|p| p.id))
            .collect()
    }

    fn any_waiting(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) > 0
    }

    pub(crate) fn streamed_file_ids(&self) -> impl Iterator<Item = usize> + '_ {
        self.streams.iter().map(|s| s.value().file_id)
    }
}

pub struct FileStream {
    torrent: ManagedTorrentHandle,
    metadata: Arc<TorrentMetadata>,
    streams: Arc<TorrentStreams>,
    stream_id: usize,
    file_id: usize,
    position: u64,

    // file params
    file_len: u64,
    file_torrent_abs_offset: u64,

    // The session's blocking permits. A stream takes one only for the duration of a read,
    // never while it waits for a piece: writing that piece needs a permit too.
    blocking_permits: PollSemaphore,

    // Opened or seeked, and not read since.
    repositioned: bool,
}

macro_rules! map_io_err {
    ($e:expr) => {
        $e.map_err(|e| std::io::Error::new(std::io::ErrorKind::Other, e))
    };
}

macro_rules! poll_try_io {
    ($e:expr) => {{
        let e = map_io_err!($e);
        match e {
            Ok(r) => r,
            Err(e) => {
                debug!("stream error {e:#}");
                return Poll::Ready(Err(e));
            }
        }
    }};
}

impl AsyncRead for FileStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        tbuf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        // if the file is over, return 0
        if self.position == self.file_len {
            debug!(
                stream_id = self.stream_id,
                file_id = self.file_id,
                "stream completed, EOF"
            );
            return Poll::Ready(Ok(()));
        }

        let current = poll_try_io!(
            self.metadata
                .lengths()
                .compute_current_piece(self.position, self.file_torrent_abs_offset)
                .context("invalid position")
        );

        // if the piece is not there, register to wake when it is
        // check if we have the piece for real
        let have = poll_try_io!(self.torrent.with_chunk_tracker(|ct| {
            let have = ct.get_have_pieces().as_slice()[current.id.get() as usize];
            if !have {
                self.streams
                    .register_waker(self.stream_id, cx.waker().clone());
            }
            have
        }));
        if std::mem::take(&mut self.repositioned)
            && !have
            && let Some(live) = self.torrent.live()
        {
            // Waiting at a new position: what no stream needs any more must not delay it.
            live.cancel_pieces_no_stream_needs();
        }
        if !have {
            debug!(stream_id = self.stream_id, file_id = self.file_id, piece_id = %current.id, "poll pending, not have");
            return Poll::Pending;
        }

        // actually stream the piece
        let file_remaining = self.file_len - self.position;
        let bytes_to_read: usize = poll_try_io!(
            (tbuf.remaining() as u64)
                .min(current.piece_remaining as u64)
                .min(file_remaining)
                .try_into()
        );

        let start = Instant::now();
        // What the page cache holds (a piece just written, usually) is read right here: a
        // read that leaves the runtime's worker for a blocking thread (block_in_place) hands
        // the worker to another thread and back, which costs more than the copy. Only the
        // rest, if any, waits for the disk on a blocking thread.
        //
        // The cached read goes into memory not yet initialized (a body sender's buffer is
        // fresh for every read): zeroing it first would cost a pass over every byte.
        // SAFETY: `pread_cached` only writes into the slice; nothing reads it before it
        // is marked initialized, and only as far as the read went.
        let unfilled = &mut unsafe { tbuf.unfilled_mut() }[..bytes_to_read];
        let cached = poll_try_io!(self.torrent.with_storage_and_file(
            self.file_id,
            |files, _fi| files.pread_cached(self.file_id, self.position, unfilled),
            &self.metadata,
        ))
        .min(bytes_to_read);
        // SAFETY: `pread_cached` returned `cached`: it wrote the first `cached` bytes.
        unsafe { tbuf.assume_init(cached) };
        // Only what the cached read left is zeroed, for the blocking read below.
        let buf = tbuf.initialize_unfilled_to(bytes_to_read);
        if cached < buf.len() {
            // Only a read that leaves the worker takes a blocking permit. Without one yet,
            // this poll ends and the next reads the cached part again.
            let _blocking_permit = match self.blocking_permits.poll_acquire(cx) {
                Poll::Ready(permit) => poll_try_io!(permit.context("blocking semaphore closed")),
                Poll::Pending => return Poll::Pending,
            };
            let (position, rest) = (self.position + cached as u64, &mut buf[cached..]);
            poll_try_io!(poll_try_io!(self.torrent.shared.spawner.block_in_place(
                || {
                    self.torrent.with_storage_and_file(
                        self.file_id,
                        |files, _fi| {
                            files.pread_exact(self.file_id, position, rest)?;
                            Ok::<_, anyhow::Error>(())
                        },
                        &self.metadata,
                    )
                }
            )));
        }

        trace!(
            buflen = buf.len(),
            stream_id = self.stream_id,
            file_id = self.file_id,
            read_time = ?start.elapsed(),
            "will write bytes"
        );

        self.as_mut().advance(bytes_to_read as u64);
        tbuf.advance(bytes_to_read);

        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for FileStream {
    fn start_seek(
        mut self: std::pin::Pin<&mut Self>,
        position: std::io::SeekFrom,
    ) -> std::io::Result<()> {
        let end_i64 = map_io_err!(TryInto::<i64>::try_into(self.file_len))?;
        let new_pos: i64 = match position {
            SeekFrom::Start(s) => map_io_err!(s.try_into())?,
            SeekFrom::End(e) => map_io_err!(TryInto::<i64>::try_into(self.file_len))? + e,
            SeekFrom::Current(o) => map_io_err!(TryInto::<i64>::try_into(self.position))? + o,
        };

        if new_pos < 0 || new_pos > end_i64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                anyhow::anyhow!("invalid seek"),
            ));
        }

        self.as_mut().set_position(map_io_err!(new_pos.try_into())?);
        self.repositioned = true;
        debug!(stream_id = self.stream_id, position = self.position, "seek");
        Ok(())
    }

    fn poll_complete(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<u64>> {
        Poll::Ready(Ok(self.position))
    }
}

impl Drop for FileStream {
    fn drop(&mut self) {
        self.streams.drop_stream(self.stream_id);
        // What only this stream needed must not delay the streams that wait.
        if self.streams.any_waiting()
            && let Some(live) = self.torrent.live()
        {
            live.cancel_pieces_no_stream_needs();
        }
    }
}

impl ManagedTorrent {
    fn with_storage_and_file<F, R>(
        &self,
        file_id: usize,
        f: F,
        metadata: &TorrentMetadata,
    ) -> anyhow::Result<R>
    where
        F: FnOnce(&dyn TorrentStorage, &FileInfo) -> R,
    {
        self.with_state(|s| {
            let files = match s {
                crate::ManagedTorrentState::Paused(p) => &*p.files,
                crate::ManagedTorrentState::Live(l) => &*l.files,
                s => anyhow::bail!("with_storage_and_file: invalid state: {}", s.name()),
            };
            let fi = metadata.file_infos.get(file_id).context("invalid file")?;
            Ok(f(files, fi))
        })
    }

    fn streams(&self) -> anyhow::Result<Arc<TorrentStreams>> {
        self.with_state(|s| match s {
            crate::ManagedTorrentState::Paused(p) => Ok(p.streams.clone()),
            crate::ManagedTorrentState::Live(l) => Ok(l.streams.clone()),
            s => anyhow::bail!("streams: invalid state {}", s.name()),
        })
    }

    /// Sets how many bytes ahead of each stream's position a file's pieces are downloaded
    /// before the others (32 MiB unless set): for the streams open now and those opened
    /// later, until the torrent is initialized again. A player needs more of a file with
    /// a high bit rate to ride out a slow patch of the swarm.
    pub fn set_file_read_ahead(&self, file_id: usize, bytes: u64) -> anyhow::Result<()> {
        let files = self
            .metadata
            .load()
            .as_ref()
            .context("torrent metadata is not resolved")?
            .file_infos
            .len();
        anyhow::ensure!(
            file_id < files,
            "no file {file_id}: the torrent has {files}"
        );
        self.streams()?.read_ahead.insert(file_id, bytes);
        if let Some(live) = self.live() {
            // Peers with nothing left to ask for may have something now.
            live.notify_new_pieces();
        }
        Ok(())
    }

    /// How many bytes ahead of each stream's position a file's pieces are downloaded
    /// first: what [`Self::set_file_read_ahead`] set, or 32 MiB.
    pub fn file_read_ahead(&self, file_id: usize) -> anyhow::Result<u64> {
        Ok(self.streams()?.read_ahead(file_id))
    }

    fn maybe_reconnect_needed_peers_for_file(&self, file_id: usize) -> bool {
        // If we have the full file, don't bother.
        if self.is_file_finished(file_id) {
            return false;
        }
        self.with_state(|state| {
            if let crate::ManagedTorrentState::Live(l) = &state {
                l.reconnect_all_not_needed_peers();
            }
        });
        true
    }

    fn is_file_finished(&self, file_id: usize) -> bool {
        let metadata = self.metadata.load();
        let metadata = match metadata.as_ref() {
            Some(r) => r,
            None => return false,
        };
        // TODO: would be nice to remove locking
        self.with_chunk_tracker(|ct| ct.is_file_finished(&metadata.file_infos[file_id]))
            .unwrap_or(false)
    }

    pub async fn stream(self: Arc<Self>, file_id: usize) -> anyhow::Result<FileStream> {
        // Streams need live or paused state, so wait out the initial check
        // of existing data instead of failing while it runs.
        self.wait_until_initialized().await?;
        let metadata = self
            .metadata
            .load_full()
            .context("torrent metadata is not resolved")?;
        let (fd_len, fd_offset) = self.with_storage_and_file(
            file_id,
            |_fd, fi| (fi.len, fi.offset_in_torrent),
            &metadata,
        )?;
        let streams = self.streams()?;
        let s = FileStream {
            stream_id: streams.next_id(),
            streams: streams.clone(),
            file_id,
            position: 0,

            file_len: fd_len,
            file_torrent_abs_offset: fd_offset,
            blocking_permits: PollSemaphore::new(self.shared().spawner.semaphore()),
            repositioned: true,
            torrent: self,
            metadata,
        };
        s.torrent.maybe_reconnect_needed_peers_for_file(file_id);
        streams.streams.insert(
            s.stream_id,
            StreamState {
                file_id,
                position: 0,
                waker: None,
                file_len: fd_len,
                file_abs_offset: fd_offset,
            },
        );

        debug!(stream_id = s.stream_id, file_id, "started stream");

        Ok(s)
    }
}

impl FileStream {
    pub fn position(&self) -> u64 {
        self.position
    }

    fn advance(&mut self, diff: u64) {
        self.set_position(self.position + diff)
    }

    fn set_position(&mut self, new_pos: u64) {
        self.position = new_pos;
        self.streams
            .streams
            .get_mut(&self.stream_id)
            .unwrap()
            .value_mut()
            .position = new_pos;
    }

    pub fn len(&self) -> u64 {
        self.file_len
    }
}
