//! The official on-disk dataset format (`identifiers.json`, `{train,test}/dataset.json`,
//! `{train,test}/all__{inputs,labels,puzzle_identifiers,puzzle_indices,group_indices}.npy`), the
//! official CSV sources, sampling as the official `PuzzleDataset` does, and endless generated data.
//!
//! Everything works on bytes, so it runs in wasm32; `folder` (native only) reads and writes directories.

pub mod build;
pub mod csv;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod metadata;
pub mod npy;
pub mod sampler;
pub mod split;
pub mod stream;

pub use build::{maze_set, maze_set_from_csv, sudoku_set, sudoku_set_from_csv, CsvOptions};
pub use metadata::Metadata;
pub use sampler::{test_batches, Batch, TrainSampler};
pub use split::{PuzzleSet, SetBuilder, Split};
pub use stream::{ExampleStream, StreamSource};

/// A problem with a dataset, naming the file (relative to the dataset folder) it is in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct DatasetError {
    pub file: String,
    pub problem: String,
}

impl DatasetError {
    pub fn new(file: &str, problem: String) -> Self {
        DatasetError { file: file.to_string(), problem }
    }
}

/// A whole dataset folder: `identifiers.json` and its splits (`train`, `test`).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Puzzle identifier names (official builders: `["<blank>"]`; for visualisation only).
    pub identifiers: Vec<String>,
    pub splits: Vec<Split>,
}

impl Dataset {
    /// Read the named splits through `read(relative path) -> bytes`.
    pub fn read(split_names: &[&str], mut read: impl FnMut(&str) -> Result<Vec<u8>, DatasetError>) -> Result<Dataset, DatasetError> {
        let bytes = read("identifiers.json")?;
        let identifiers: Vec<String> =
            serde_json::from_slice(&bytes).map_err(|e| DatasetError::new("identifiers.json", format!("expected a JSON list of strings: {e}")))?;
        let splits = split_names.iter().map(|name| Split::read(name, &mut read)).collect::<Result<Vec<_>, _>>()?;
        Ok(Dataset { identifiers, splits })
    }

    pub fn split(&self, name: &str) -> Option<&Split> {
        self.splits.iter().find(|s| s.name == name)
    }

    /// All files (relative path, bytes).
    pub fn to_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![("identifiers.json".to_string(), metadata::python_json(&self.identifiers).into_bytes())];
        for s in &self.splits {
            files.extend(s.to_files());
        }
        files
    }
}
