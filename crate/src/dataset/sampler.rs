//! Batches as the official `PuzzleDataset` (puzzle_dataset.py) builds them.
//!
//! Training, per iteration and set: a generator seeded with `seed + iteration` shuffles the groups
//! (`epochs_per_iter` shuffles back to back); batches are packed group by group, each group giving one
//! random puzzle and from it as many distinct random examples as fit (one, for the official Sudoku and
//! maze sets, where every puzzle is one example); an incomplete last batch is dropped. Test: all
//! examples in order, the last batch padded. Collation casts to i32, rewrites labels equal to
//! `ignore_label_id` to -100, and pads rows with inputs `pad_id`, labels -100, identifier
//! `blank_identifier_id`. The random stream is ChaCha8, not numpy's Philox, so batches match the
//! official ones in distribution, not bit for bit.

use super::metadata::Metadata;
use super::split::{PuzzleSet, Split};
use crate::puzzles::{PuzzleRng, IGNORE_LABEL_ID};

/// One batch, row-major `[batch_size, seq_len]`, ready for the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub inputs: Vec<i32>,
    pub labels: Vec<i32>,
    pub puzzle_identifiers: Vec<i32>,
    pub batch_size: usize,
    pub seq_len: usize,
    /// Rows holding real examples (the rest are padding).
    pub effective: usize,
}

impl Batch {
    /// Collate rows of (input tokens, label tokens, identifier) into a fixed-size batch.
    pub fn collate<'a>(meta: &Metadata, rows: impl IntoIterator<Item = (&'a [u8], &'a [u8], u32)>, batch_size: usize) -> Batch {
        let seq_len = meta.seq_len;
        let mut b = Batch {
            inputs: Vec::with_capacity(batch_size * seq_len),
            labels: Vec::with_capacity(batch_size * seq_len),
            puzzle_identifiers: Vec::with_capacity(batch_size),
            batch_size,
            seq_len,
            effective: 0,
        };
        for (input, label, id) in rows {
            assert!(b.effective < batch_size, "more rows than the batch size");
            b.inputs.extend(input.iter().map(|&t| t as i32));
            b.labels.extend(label.iter().map(|&t| match meta.ignore_label_id {
                Some(ignore) if t as i64 == ignore => IGNORE_LABEL_ID,
                _ => t as i32,
            }));
            b.puzzle_identifiers.push(id as i32);
            b.effective += 1;
        }
        let pad = batch_size - b.effective;
        b.inputs.extend(std::iter::repeat_n(meta.pad_id as i32, pad * seq_len));
        b.labels.extend(std::iter::repeat_n(IGNORE_LABEL_ID, pad * seq_len));
        b.puzzle_identifiers.extend(std::iter::repeat_n(meta.blank_identifier_id as i32, pad));
        b
    }

    pub fn input_row(&self, r: usize) -> &[i32] {
        &self.inputs[r * self.seq_len..(r + 1) * self.seq_len]
    }
    pub fn label_row(&self, r: usize) -> &[i32] {
        &self.labels[r * self.seq_len..(r + 1) * self.seq_len]
    }
}

/// The training sampler; it keeps the iteration counter, as the official dataset object does.
#[derive(Clone, Debug)]
pub struct TrainSampler {
    pub seed: u64,
    pub batch_size: usize,
    pub epochs_per_iter: usize,
    iterations: u64,
}

impl TrainSampler {
    pub fn new(seed: u64, batch_size: usize, epochs_per_iter: usize) -> Self {
        assert!(batch_size > 0 && epochs_per_iter > 0, "batch size and epochs per iteration must be positive");
        TrainSampler { seed, batch_size, epochs_per_iter, iterations: 0 }
    }

    /// Iterations started so far.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Continue as if `n` iterations had been started (each is seeded by its index, so this is
    /// all a resumed run needs).
    pub fn set_iterations(&mut self, n: u64) {
        self.iterations = n;
    }

    /// The batches of the next iteration (every set of the split, in order): (set name, batch).
    pub fn next_iteration<'a>(&mut self, split: &'a Split) -> Vec<(&'a str, Batch)> {
        let mut out = Vec::new();
        for set in &split.sets {
            self.iterations += 1;
            let mut rng = PuzzleRng::new(self.seed.wrapping_add(self.iterations));
            let groups = set.groups();
            let order: Vec<usize> = (0..self.epochs_per_iter).flat_map(|_| rng.permutation(groups)).collect();
            let mut next = 0;
            while next < order.len() {
                let (rows, after) = pack(set, &order, next, self.batch_size, &mut rng);
                next = after;
                if rows.len() < self.batch_size {
                    break; // the official loader drops the incomplete last batch
                }
                let batch = Batch::collate(&split.metadata, rows.iter().map(|&(e, id)| (set.example(e).0, set.example(e).1, id)), self.batch_size);
                out.push((set.name.as_str(), batch));
            }
        }
        out
    }
}

/// Fill one batch from `order[start..]`: per group a random puzzle, from it distinct random examples.
/// Returns (example index, puzzle identifier) rows and where the next batch starts.
fn pack(set: &PuzzleSet, order: &[usize], mut next: usize, batch_size: usize, rng: &mut PuzzleRng) -> (Vec<(usize, u32)>, usize) {
    let mut rows = Vec::with_capacity(batch_size);
    while next < order.len() && rows.len() < batch_size {
        let g = order[next];
        next += 1;
        let (p0, p1) = (set.group_indices[g], set.group_indices[g + 1]);
        let puzzle = p0 + rng.below(p1 - p0);
        let (e0, e1) = (set.puzzle_indices[puzzle], set.puzzle_indices[puzzle + 1]);
        let take = (e1 - e0).min(batch_size - rows.len());
        let mut pick = rng.permutation(e1 - e0);
        pick.truncate(take);
        rows.extend(pick.into_iter().map(|k| (e0 + k, set.puzzle_identifiers[puzzle])));
    }
    (rows, next)
}

/// Evaluation batches: every example of every set once, in order, the last batch padded.
pub fn test_batches<'a>(split: &'a Split, batch_size: usize) -> impl Iterator<Item = (&'a str, Batch)> + 'a {
    assert!(batch_size > 0, "batch size must be positive");
    split.sets.iter().flat_map(move |set| {
        // Identifier of each example: that of the puzzle containing it.
        let mut ids = Vec::with_capacity(set.examples());
        for p in 0..set.puzzles() {
            ids.extend(std::iter::repeat_n(set.puzzle_identifiers[p], set.puzzle_indices[p + 1] - set.puzzle_indices[p]));
        }
        (0..set.examples()).step_by(batch_size).map(move |start| {
            let end = (start + batch_size).min(set.examples());
            let rows = (start..end).map(|e| (set.example(e).0, set.example(e).1, ids[e]));
            (set.name.as_str(), Batch::collate(&split.metadata, rows, batch_size))
        })
    })
}
