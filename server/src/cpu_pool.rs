//! The one place CPU-heavy work (decoding now, rendering later) leaves the
//! async reactor: a job runs on tokio's blocking threads (as many as cores,
//! set on the runtime) behind a bound on jobs in flight, so overload answers
//! `503 Retry-After` instead of queueing without limit and growing memory.
//!
//! A rayon pool would do as well for the jobs themselves; `spawn_blocking`
//! needs no bridge back to the reactor, and rayon stays free for parallelism
//! inside a job (warping a tile by rows).

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Jobs running or queued at once, unless configured: enough to keep every
/// core busy through bursts (a tile decode takes about a millisecond), few
/// enough that the queue drains within a client's patience.
pub const DEFAULT_MAX_JOBS: usize = 64;

/// The pool was full: the caller answers 503.
#[derive(Debug)]
pub struct Overloaded;

/// Runs CPU-bound jobs off the reactor with a bound on jobs in flight.
pub struct CpuPool {
    slots: Arc<Semaphore>,
}

impl CpuPool {
    pub fn new(max_jobs: usize) -> Self {
        CpuPool {
            slots: Arc::new(Semaphore::new(max_jobs)),
        }
    }

    /// Runs `job` on a blocking thread, or refuses at once when `max_jobs`
    /// are already in flight. A panicking job is reported as a failure of
    /// that request only.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Overloaded> {
        let slot = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| Overloaded)?;
        let outcome = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            job()
        })
        .await;
        Ok(outcome.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_beyond_the_bound_are_refused_not_queued() {
        let pool = Arc::new(CpuPool::new(1));
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                    1
                })
                .await
            })
        };
        started_rx.await.unwrap();
        assert!(
            pool.run(|| 2).await.is_err(),
            "second job while the first runs"
        );
        release_tx.send(()).unwrap();
        assert_eq!(busy.await.unwrap().unwrap(), Some(1));
        assert_eq!(pool.run(|| 3).await.unwrap(), Some(3));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_only_itself() {
        let pool = CpuPool::new(2);
        let out: Option<()> = pool.run(|| panic!("boom")).await.unwrap();
        assert!(out.is_none());
        assert_eq!(pool.run(|| 5).await.unwrap(), Some(5));
    }
}
