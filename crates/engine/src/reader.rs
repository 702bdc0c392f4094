//! A reader on one file of a stream: reads wait for pieces, seeks move the download.

use std::future::Future;
use std::io::SeekFrom;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::WaitForCancellationFutureOwned;

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

    /// The stream's failure as the reader's error, if the torrent failed.
    fn failed(&self) -> Option<std::io::Error> {
        self.0.check_failure().map(std::io::Error::other)
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
///
/// When the torrent fails (a full disk), a read waiting for a piece ends with the
/// failure's message as its error, and so does every read after it.
pub struct StreamReader {
    inner: Pin<Box<dyn ReadSeek>>,
    /// Ready once the stream has failed: wakes a read waiting for a piece that will
    /// never come.
    failed: Pin<Box<WaitForCancellationFutureOwned>>,
    _slot: OwnedSemaphorePermit,
    guard: ReaderGuard,
}

impl StreamReader {
    pub(crate) fn new(
        inner: Pin<Box<dyn ReadSeek>>,
        slot: OwnedSemaphorePermit,
        guard: ReaderGuard,
    ) -> StreamReader {
        StreamReader {
            inner,
            failed: Box::pin(guard.0.failure.token().cancelled_owned()),
            _slot: slot,
            guard,
        }
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(e) = self.guard.failed() {
            return Poll::Ready(Err(e));
        }
        match self.inner.as_mut().poll_read(cx, buf) {
            // librqbit does not wake a waiting reader when its torrent fails.
            Poll::Pending => match self.failed.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(self
                    .guard
                    .failed()
                    .unwrap_or_else(|| std::io::Error::other("the download failed")))),
                Poll::Pending => Poll::Pending,
            },
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.guard.failed().unwrap_or(e))),
            ready => ready,
        }
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
