//! Features whose geometry cannot be decoded (a corrupt or truncated blob,
//! a ring of fewer than four points, a geometry stored as text...) are
//! skipped, and the rest of the query answered (issue 12): one bad row
//! must not cost every tile it touches. Each is logged once per table and
//! feature id, not once per tile that meets it, so the log says what is
//! wrong without repeating it at every request.
//!
//! The ids already logged are kept per file, at most [`MAX_LOGGED`] of
//! them (a few hundred KB): past that, one line says that further ones go
//! unlogged, and they are skipped silently. A file with thousands of bad
//! rows needs repairing, not thousands of log lines.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use super::wkb::GeometryError;

/// Most (table, feature id) pairs logged per file.
pub(super) const MAX_LOGGED: usize = 4096;

/// The undecodable features of one file already logged.
#[derive(Default)]
pub(super) struct Skipped {
    logged: Mutex<HashSet<(String, Option<i64>)>>,
}

impl Skipped {
    /// Notes that feature `fid` of `table` in `path` was skipped because of
    /// `error`, logging it unless it already was.
    pub(super) fn note(&self, path: &Path, table: &str, fid: Option<i64>, error: &GeometryError) {
        // A poisoned lock only means another thread panicked while logging:
        // the set is still a set.
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let full = logged.len() >= MAX_LOGGED;
        if full || !logged.insert((table.to_owned(), fid)) {
            return;
        }
        let feature = fid.map_or_else(|| "without an integer id".into(), |i| i.to_string());
        tracing::warn!(path = %path.display(), table, feature = %feature,
            "feature skipped: its geometry cannot be read ({error})");
        if logged.len() == MAX_LOGGED {
            tracing::warn!(path = %path.display(),
                "{MAX_LOGGED} undecodable features logged; further ones are skipped without a log line");
        }
    }

    /// How many features have been logged.
    #[cfg(test)]
    fn logged(&self) -> usize {
        self.logged.lock().map(|l| l.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_feature_is_logged_once_and_the_set_stays_bounded() {
        let skipped = Skipped::default();
        let error = GeometryError::Corrupt("test".into());
        let path = Path::new("x.gpkg");
        for _ in 0..3 {
            skipped.note(path, "a", Some(1), &error);
            skipped.note(path, "b", Some(1), &error);
            skipped.note(path, "a", None, &error);
        }
        assert_eq!(skipped.logged(), 3);
        for fid in 0..2 * MAX_LOGGED as i64 {
            skipped.note(path, "c", Some(fid), &error);
        }
        assert_eq!(skipped.logged(), MAX_LOGGED);
    }
}
