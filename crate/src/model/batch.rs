//! A batch of puzzles as the official collate function gives it (HRM_SPEC §9).

use super::ModelError;
use crate::backend::cpu::loss::IGNORE;
use crate::Config;

/// `inputs [rows, seq_len]` tokens, `labels [rows, seq_len]` (-100 = ignored), `puzzle_identifiers [rows]`.
/// A padding row has inputs 0 (PAD), labels -100 and puzzle id 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub rows: usize,
    pub seq_len: usize,
    pub inputs: Vec<i32>,
    pub labels: Vec<i32>,
    pub puzzle_identifiers: Vec<i32>,
}

impl Batch {
    pub fn new(rows: usize, seq_len: usize, inputs: Vec<i32>, labels: Vec<i32>, puzzle_identifiers: Vec<i32>) -> Result<Batch, ModelError> {
        let bad = |what: &str, got: usize, want: usize| ModelError::Batch(format!("{what} has {got} values, expected {want}"));
        if inputs.len() != rows * seq_len {
            return Err(bad("inputs", inputs.len(), rows * seq_len));
        }
        if labels.len() != rows * seq_len {
            return Err(bad("labels", labels.len(), rows * seq_len));
        }
        if puzzle_identifiers.len() != rows {
            return Err(bad("puzzle_identifiers", puzzle_identifiers.len(), rows));
        }
        Ok(Batch { rows, seq_len, inputs, labels, puzzle_identifiers })
    }

    /// Appends padding rows (inputs 0, labels -100, id 0) up to `rows`, as `PuzzleDataset._collate_batch`.
    /// Row `r` of the inputs.
    pub fn input_row(&self, r: usize) -> &[i32] {
        &self.inputs[r * self.seq_len..(r + 1) * self.seq_len]
    }
    /// Row `r` of the labels.
    pub fn label_row(&self, r: usize) -> &[i32] {
        &self.labels[r * self.seq_len..(r + 1) * self.seq_len]
    }

    pub fn padded_to(mut self, rows: usize) -> Batch {
        if rows > self.rows {
            let extra = rows - self.rows;
            self.inputs.extend(std::iter::repeat_n(0, extra * self.seq_len));
            self.labels.extend(std::iter::repeat_n(IGNORE, extra * self.seq_len));
            self.puzzle_identifiers.extend(std::iter::repeat_n(0, extra));
            self.rows = rows;
        }
        self
    }

    /// Checks every value against the model's sizes, naming the first offender.
    pub fn validate(&self, cfg: &Config) -> Result<(), ModelError> {
        if self.seq_len != cfg.seq_len {
            return Err(ModelError::Batch(format!("seq_len {} but the model has seq_len {}", self.seq_len, cfg.seq_len)));
        }
        if self.rows == 0 {
            return Err(ModelError::Batch("a batch needs at least one row".into()));
        }
        let v = cfg.vocab_size as i32;
        if let Some((i, t)) = self.inputs.iter().enumerate().find(|(_, &t)| t < 0 || t >= v) {
            return Err(ModelError::Batch(format!("inputs[{i}] = {t} is outside the vocabulary 0..{v}")));
        }
        if let Some((i, t)) = self.labels.iter().enumerate().find(|(_, &t)| t != IGNORE && (t < 0 || t >= v)) {
            return Err(ModelError::Batch(format!("labels[{i}] = {t} is neither -100 nor inside 0..{v}")));
        }
        let n = cfg.num_puzzle_identifiers as i32;
        if let Some((i, p)) = self.puzzle_identifiers.iter().enumerate().find(|(_, &p)| p < 0 || (cfg.puzzle_emb_ndim > 0 && p >= n)) {
            return Err(ModelError::Batch(format!("puzzle_identifiers[{i}] = {p} is outside 0..{n}")));
        }
        Ok(())
    }

    /// Row `b` of `self` replaced by row `b` of `new` where `take[b]` (the ACT data update of §5).
    pub fn merge_rows(&self, new: &Batch, take: &[bool]) -> Batch {
        let mut out = self.clone();
        let s = self.seq_len;
        for (b, &t) in take.iter().enumerate() {
            if t {
                out.inputs[b * s..(b + 1) * s].copy_from_slice(&new.inputs[b * s..(b + 1) * s]);
                out.labels[b * s..(b + 1) * s].copy_from_slice(&new.labels[b * s..(b + 1) * s]);
                out.puzzle_identifiers[b] = new.puzzle_identifiers[b];
            }
        }
        out
    }
}
