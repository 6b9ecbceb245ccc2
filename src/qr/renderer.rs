//! The badge-sheet renderer: its own threads and a bounded queue.
//!
//! A sheet of a thousand badges is seconds of CPU. Rendered on actix's blocking pool, a few
//! sheets at once held every thread that database reads and writes wait for, and an unrelated
//! `GET /v1/me` waited minutes. Here sheets render on threads of their own, which nothing else
//! uses; when [`QUEUE`] sheets already wait, a request is turned away at once (503 with
//! `Retry-After`) rather than queued without end.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use tokio::sync::oneshot;

use crate::error::{Error, ErrorCode, Result};

/// Threads that render sheets: one core at most goes to sheets, whatever the load.
pub const THREADS: usize = 1;
/// Sheets that may wait for a thread.
pub const QUEUE: usize = 4;
/// What `Retry-After` says when the queue is full.
pub const BUSY_RETRY_SECS: u64 = 5;

type Job = Box<dyn FnOnce() + Send>;

pub struct Renderer {
    jobs: mpsc::SyncSender<Job>,
}

impl Renderer {
    /// Starts `threads` rendering threads with room for `queue` waiting jobs. The threads end when
    /// the renderer is dropped.
    pub fn start(threads: usize, queue: usize) -> std::io::Result<Self> {
        let (jobs, waiting) = mpsc::sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for n in 0..threads.max(1) {
            let waiting = waiting.clone();
            std::thread::Builder::new().name(format!("sheet-renderer-{n}")).spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job, not while rendering.
                    let next = waiting.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = next else { break };
                    // A panicking render loses only itself: its caller hears of it (500).
                    if catch_unwind(AssertUnwindSafe(job)).is_err() {
                        tracing::error!("a badge sheet render panicked");
                    }
                }
            })?;
        }
        Ok(Self { jobs })
    }

    /// Queues `f`; the receiver gets its result once rendered. When the queue is full: 503
    /// `renderer_busy` with `Retry-After`, and `f` is dropped unrun.
    pub fn submit<T, F>(&self, f: F) -> Result<oneshot::Receiver<Result<T>>>
    where
        F: FnOnce() -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone; the result is dropped then.
            let _ = reply.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_)) => Err(Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::RendererBusy,
                "Badge sheets are being made for others; retry after the given time.",
            )
            .with_retry_after(BUSY_RETRY_SECS)),
            Err(TrySendError::Disconnected(_)) => {
                Err(Error::internal(anyhow::anyhow!("the sheet renderer is gone")))
            }
        }
    }
}

/// Waits for a job's result.
pub async fn finished<T>(answer: oneshot::Receiver<Result<T>>) -> Result<T> {
    answer.await.map_err(|_| Error::internal(anyhow::anyhow!("a badge sheet render failed")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_turns_jobs_away_at_once_with_503() {
        let renderer = Renderer::start(1, 1).unwrap();
        let (started, running) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let first = renderer
            .submit(move || {
                started.send(()).unwrap();
                gate.recv().unwrap();
                Ok(1)
            })
            .unwrap();
        running.recv().unwrap();
        let queued = renderer.submit(|| Ok(2)).unwrap();
        let refused = renderer.submit(|| Ok(3)).err().unwrap();
        assert_eq!(refused.code(), "renderer_busy");
        assert_eq!(refused.problem().status, 503);
        release.send(()).unwrap();
        assert_eq!(first.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(queued.blocking_recv().unwrap().unwrap(), 2);
    }

    #[test]
    fn a_panicking_render_loses_only_itself() {
        let renderer = Renderer::start(1, 2).unwrap();
        let panicked = renderer.submit(|| -> Result<()> { panic!("a bug in a render") }).unwrap();
        assert!(panicked.blocking_recv().is_err(), "the caller hears of it");
        let after = renderer.submit(|| Ok(7)).unwrap();
        assert_eq!(after.blocking_recv().unwrap().unwrap(), 7);
    }
}
