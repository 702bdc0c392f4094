//! A reader on one file of a stream: reads wait for pieces, seeks move the download.

use std::io::SeekFrom;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;

use crate::engine::stream::Stream;

pub(crate) trait ReadSeek: AsyncRead + AsyncSeek + Send + Unpin {}
impl<T: AsyncRead + AsyncSeek + Send + Unpin> ReadSeek for T {}

/// Keeps its stream counted as in use (so idle cleanup leaves it) while it lives.
pub(crate) struct ReaderGuard(Arc<Stream>);

impl ReaderGuard {
    pub(crate) fn new(stream: Arc<Stream>) -> ReaderGuard {
        stream.activity.reader_opened();
        ReaderGuard(stream)
    }
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        self.0.activity.reader_closed();
    }
}

/// Reads one file of a torrent in order, from any position. A read of a piece not yet
/// downloaded waits for it (librqbit raises the priority of the pieces ahead of every
/// open reader). Drop it as soon as the client is gone: it holds one of the engine's
/// reader slots.
pub struct StreamReader {
    inner: Pin<Box<dyn ReadSeek>>,
    _slot: OwnedSemaphorePermit,
    _guard: ReaderGuard,
}

impl StreamReader {
    pub(crate) fn new(
        inner: Pin<Box<dyn ReadSeek>>,
        slot: OwnedSemaphorePermit,
        guard: ReaderGuard,
    ) -> StreamReader {
        StreamReader {
            inner,
            _slot: slot,
            _guard: guard,
        }
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_read(cx, buf)
    }
}

impl AsyncSeek for StreamReader {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> std::io::Result<()> {
        self.inner.as_mut().start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<u64>> {
        self.inner.as_mut().poll_complete(cx)
    }
}
