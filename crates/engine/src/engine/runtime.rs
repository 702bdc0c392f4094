//! The engine's own Tokio runtime: one worker thread for the torrent session's tasks.
//!
//! A peer's blocks are received, written and hashed in its connection's task. Served on
//! the caller's runtime too, every HTTP response, search and probe took turns with that
//! work on the same worker. On a runtime of its own the download keeps a core, and what
//! serves a stream (a reader's copy out of the page cache, the socket write) runs on the
//! caller's threads, next to it. Only per-piece notifications cross between the two.
//!
//! Work reaches this runtime one way: [`EngineRuntime::enter`] wraps an engine
//! operation so that each poll of it enters this runtime's context. What the operation
//! spawns (the session's tasks, a torrent's, a peer's) and the sockets and timers it
//! creates then belong to this runtime, wherever the operation itself is awaited.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Handle, Runtime};

pub(super) struct EngineRuntime {
    handle: Handle,
    /// Taken (and shut down) by [`EngineRuntime::stop`], or when dropped.
    runtime: Mutex<Option<Runtime>>,
}

impl EngineRuntime {
    /// One worker, with I/O and timers; a piece's check and a blocking read still leave
    /// the worker for this runtime's blocking threads (`block_in_place`).
    pub(super) fn new() -> std::io::Result<EngineRuntime> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("engine")
            .enable_all()
            .build()?;
        Ok(EngineRuntime {
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
        })
    }

    pub(super) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// `operation`, whose spawns, sockets and timers go to this runtime.
    pub(super) fn enter<F: Future>(&self, operation: F) -> Entered<F> {
        Entered {
            handle: self.handle.clone(),
            operation,
        }
    }

    /// Stops every task left on the runtime, without waiting for them (the session was
    /// stopped before). Safe inside an async context, where dropping a runtime is not.
    pub(super) fn stop(&self) {
        if let Some(runtime) = self.runtime.lock().unwrap().take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        self.stop();
    }
}

pin_project_lite::pin_project! {
    /// See [`EngineRuntime::enter`].
    pub(super) struct Entered<F> {
        handle: Handle,
        #[pin]
        operation: F,
    }
}

impl<F: Future> Future for Entered<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _context = this.handle.enter();
        this.operation.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn what_an_entered_operation_spawns_runs_on_the_engine_thread() {
        let runtime = EngineRuntime::new().unwrap();
        let spawned_on = runtime
            .enter(async {
                tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
                    .await
                    .unwrap()
            })
            .await;
        assert_eq!(spawned_on.as_deref(), Some("engine"));
        // Outside `enter`, spawns stay on the caller's runtime.
        let here = tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap();
        assert_ne!(here.as_deref(), Some("engine"));
        runtime.stop();
    }

    /// The last `Arc<Engine>` may go in one of the engine's own tasks (the reaper holds
    /// one while it looks at the streams): the runtime then stops from its own thread.
    #[test]
    fn the_runtime_stops_from_one_of_its_own_tasks() {
        let runtime = std::sync::Arc::new(EngineRuntime::new().unwrap());
        let (go, dropped_outside) = std::sync::mpsc::channel::<()>();
        let (done, stopped) = std::sync::mpsc::channel();
        let inside = runtime.clone();
        runtime.handle().spawn(async move {
            dropped_outside.recv().unwrap();
            // The last reference: the runtime stops here, on its own worker.
            drop(inside);
            done.send(std::thread::current().name().map(str::to_owned))
                .unwrap();
        });
        drop(runtime);
        go.send(()).unwrap();
        let stopped_on = stopped
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert_eq!(stopped_on.as_deref(), Some("engine"));
    }
}
