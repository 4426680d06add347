//! Shared by the criterion benches: where the sample archives are.

use std::path::PathBuf;

/// A file of the repository's `data-samples/`.
pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data-samples")
        .join(name)
}
