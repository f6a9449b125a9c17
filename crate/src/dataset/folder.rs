//! Native wrapper: datasets as directories.

use super::{Dataset, DatasetError};
use std::path::Path;

/// Read a dataset folder; loads `train` and `test`, whichever exist (at least one must).
pub fn read_folder(dir: &Path) -> Result<Dataset, DatasetError> {
    let names: Vec<&str> = ["train", "test"].into_iter().filter(|s| dir.join(s).is_dir()).collect();
    if names.is_empty() {
        return Err(DatasetError::new(&dir.display().to_string(), "has neither a train/ nor a test/ folder".into()));
    }
    Dataset::read(&names, |rel| std::fs::read(dir.join(rel)).map_err(|e| DatasetError::new(rel, e.to_string())))
}

/// Write a dataset folder (directories created as needed; existing files replaced).
pub fn write_folder(dir: &Path, dataset: &Dataset) -> Result<(), DatasetError> {
    for (rel, bytes) in dataset.to_files() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| DatasetError::new(&rel, format!("creating {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, bytes).map_err(|e| DatasetError::new(&rel, e.to_string()))?;
    }
    Ok(())
}
