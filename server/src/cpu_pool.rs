//! The one place CPU-heavy work (decoding, rendering) leaves the async
//! reactor: a job runs on tokio's blocking threads (as many as cores, set
//! on the runtime) behind a bound on jobs in flight, so overload answers
//! `503 Retry-After` instead of queueing without limit and growing memory.
//!
//! A rayon pool would do as well for the jobs themselves; `spawn_blocking`
//! needs no bridge back to the reactor, and rayon stays free for parallelism
//! inside a job (warping a tile by rows).
//!
//! Jobs that never wait on another thread, of a kind whose recent runs all
//! took less than [`IN_PLACE_BELOW`], run in place instead, on the reactor
//! thread that asked: handing a job to a blocking thread and back costs two
//! wake-ups and context switches, an eighth of a small vector tile's CPU
//! time (0.25 → 0.22 ms at z16).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// Jobs running or queued at once, unless configured: enough to keep every
/// core busy through bursts (a tile decode takes about a millisecond), few
/// enough that the queue drains within a client's patience.
pub const DEFAULT_MAX_JOBS: usize = 64;

/// The pool was full: the caller answers 503.
#[derive(Debug)]
pub struct Overloaded;

/// A job kind whose recent runs all took less than this runs in place: it
/// blocks its reactor thread for less than a small tile takes to send.
pub const IN_PLACE_BELOW: Duration = Duration::from_micros(500);

/// Runs CPU-bound jobs off the reactor with a bound on jobs in flight.
pub struct CpuPool {
    slots: Arc<Semaphore>,
    costs: Arc<Costs>,
}

/// The recent cost of each kind of job, in seconds: the longest run,
/// forgotten by an eighth per run since (a run of 2 ms keeps its kind on
/// the blocking threads for 11 runs after it, one of 10 ms for 23: a kind
/// that mixes cheap and costly jobs, such as stored tiles sent as they are
/// and edge tiles rendered, would otherwise block the reactor with its
/// costly ones). A kind never run is not in the map, and its first job
/// goes to a blocking thread.
#[derive(Default)]
struct Costs(Mutex<HashMap<u64, f64>>);

impl Costs {
    fn cheap(&self, kind: u64) -> bool {
        self.lock()
            .get(&kind)
            .is_some_and(|&secs| secs < IN_PLACE_BELOW.as_secs_f64())
    }

    fn record(&self, kind: u64, took: Duration) {
        let took = took.as_secs_f64();
        let mut costs = self.lock();
        let cost = costs.entry(kind).or_insert(took);
        *cost = took.max(*cost * 7.0 / 8.0);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, f64>> {
        // Every mutation is one call: a poisoned map is still consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `job`, timed into `costs` under its `kind` if it has one; `None`
/// if it panicked.
fn timed<T>(costs: &Costs, kind: Option<u64>, job: impl FnOnce() -> T) -> Option<T> {
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(job)).ok();
    if let Some(kind) = kind {
        costs.record(kind, start.elapsed());
    }
    outcome
}

impl CpuPool {
    pub fn new(max_jobs: usize) -> Self {
        CpuPool {
            slots: Arc::new(Semaphore::new(max_jobs)),
            costs: Arc::default(),
        }
    }

    /// Runs `job`: in place when the caller gives its `kind` (jobs of a
    /// kind cost about the same; a job given one must never wait on
    /// another thread) and the kind is cheap, otherwise on a blocking
    /// thread, or refuses at once when `max_jobs` are already there. A
    /// panicking job is reported as a failure of that request only.
    pub async fn run<T: Send + 'static>(
        &self,
        kind: Option<u64>,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Overloaded> {
        if kind.is_some_and(|kind| self.costs.cheap(kind)) {
            return Ok(timed(&self.costs, kind, job));
        }
        let slot = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| Overloaded)?;
        let costs = Arc::clone(&self.costs);
        let outcome = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            timed(&costs, kind, job)
        })
        .await;
        Ok(outcome.ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Option<u64> = Some(1);
    const CHEAP: Option<u64> = Some(2);

    /// Runs a job of `kind` that sleeps `ms`; whether it ran on this thread.
    async fn in_place(pool: &CpuPool, kind: Option<u64>, ms: u64) -> bool {
        let caller = std::thread::current().id();
        let ran_on = pool
            .run(kind, move || {
                if ms > 0 {
                    std::thread::sleep(Duration::from_millis(ms));
                }
                std::thread::current().id()
            })
            .await
            .unwrap()
            .unwrap();
        ran_on == caller
    }

    #[tokio::test]
    async fn cheap_kinds_run_in_place_until_they_turn_costly() {
        let pool = CpuPool::new(4);
        // Unknown kinds go to a blocking thread.
        assert!(!in_place(&pool, CHEAP, 0).await);
        assert!(in_place(&pool, CHEAP, 0).await);
        // Jobs without a kind (they may wait on other threads) never do.
        assert!(!in_place(&pool, None, 0).await);
        assert!(!in_place(&pool, None, 0).await);
        assert!(!in_place(&pool, SLOW, 2).await);
        assert!(
            !in_place(&pool, SLOW, 0).await,
            "one cheap run is not enough"
        );
        // A cheap kind with one job taking 2 ms is back on the pool at
        // once, and stays there for a while.
        assert!(in_place(&pool, CHEAP, 2).await);
        for _ in 0..8 {
            assert!(!in_place(&pool, CHEAP, 0).await);
        }
        // A panic in place fails only its own request.
        let pool = CpuPool::new(1);
        assert!(in_place(&pool, CHEAP, 0).await || in_place(&pool, CHEAP, 0).await);
        let out: Option<()> = pool.run(CHEAP, || panic!("boom")).await.unwrap();
        assert!(out.is_none());
        assert_eq!(pool.run(CHEAP, || 5).await.unwrap(), Some(5));
    }

    #[tokio::test]
    async fn jobs_beyond_the_bound_are_refused_not_queued() {
        let pool = Arc::new(CpuPool::new(1));
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                pool.run(None, move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                    1
                })
                .await
            })
        };
        started_rx.await.unwrap();
        assert!(
            pool.run(None, || 2).await.is_err(),
            "second job while the first runs"
        );
        release_tx.send(()).unwrap();
        assert_eq!(busy.await.unwrap().unwrap(), Some(1));
        assert_eq!(pool.run(None, || 3).await.unwrap(), Some(3));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_only_itself() {
        let pool = CpuPool::new(2);
        let out: Option<()> = pool.run(None, || panic!("boom")).await.unwrap();
        assert!(out.is_none());
        assert_eq!(pool.run(None, || 5).await.unwrap(), Some(5));
    }
}
