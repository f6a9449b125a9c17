//! Helpers shared by the integration tests: where the fixtures are.
use std::path::PathBuf;

/// `tests/fixtures/` of this repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}
