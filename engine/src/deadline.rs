//! A render's deadline: the time after which its work is abandoned.
//!
//! Bounded kernels bound the work per output pixel, but a render can still
//! be slow for reasons no bound sees (a slow disk, a huge image without
//! overviews decoded block by block, a dense feature table): the deadline
//! is the last guard, so one request cannot hold a CPU slot for minutes.
//! Renders check it between rows (warp) or every few hundred features
//! (vector tiles): a few calls to the clock per tile.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// When a render must have finished, if ever.
#[derive(Debug, Clone, Copy, Default)]
pub struct Deadline(Option<(Instant, Duration)>);

impl Deadline {
    /// No deadline: the render runs to its end (tests, benches, tools).
    pub const NONE: Deadline = Deadline(None);

    /// `limit` from now.
    pub fn after(limit: Duration) -> Self {
        Deadline(Instant::now().checked_add(limit).map(|at| (at, limit)))
    }

    /// `Err(DeadlineExceeded)` naming `what` once the deadline has passed.
    /// A fixed name: renders check often, and the server's log line names
    /// the layer and tile.
    pub fn check(&self, what: &'static str) -> Result<()> {
        match self.0 {
            Some((at, limit)) if Instant::now() >= at => {
                Err(Error::DeadlineExceeded { what, limit })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_fails_its_check_and_none_never_does() {
        assert!(Deadline::NONE.check("x").is_ok());
        assert!(Deadline::after(Duration::from_secs(3600))
            .check("x")
            .is_ok());
        let passed = Deadline::after(Duration::ZERO);
        let error = passed.check("warp").unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Timeout);
        assert!(error.to_string().contains("warp"), "{error}");
    }
}
