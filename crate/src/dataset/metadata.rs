//! `{train,test}/dataset.json`: the official `PuzzleDatasetMetadata` (dataset/common.py).

use serde::{Deserialize, Serialize};

/// Field for field the official pydantic model, in its order (so our JSON reads like theirs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub pad_id: i64,
    pub ignore_label_id: Option<i64>,
    pub blank_identifier_id: i64,
    pub vocab_size: usize,
    pub seq_len: usize,
    pub num_puzzle_identifiers: usize,
    pub total_groups: usize,
    pub mean_puzzle_examples: f64,
    pub sets: Vec<String>,
}

impl Metadata {
    /// What the official Sudoku and maze builders write, for `total_groups` groups.
    pub fn official(vocab_size: usize, seq_len: usize, total_groups: usize) -> Self {
        Metadata {
            pad_id: 0,
            ignore_label_id: Some(0),
            blank_identifier_id: 0,
            vocab_size,
            seq_len,
            num_puzzle_identifiers: 1,
            total_groups,
            mean_puzzle_examples: 1.0,
            sets: vec!["all".into()],
        }
    }

    /// JSON as Python's `json.dump` writes it (`", "` and `": "` separators, one line).
    pub fn to_json(&self) -> String {
        python_json(self)
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Serialize with Python's default `json.dump` separators.
pub fn python_json<T: Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut ser).expect("serializing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}
