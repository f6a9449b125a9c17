//! Building sets the way the official builders do: every example its own puzzle (identifier 0), one
//! group per original puzzle holding it (unaugmented, first) and its augmentations.

use super::csv::{read_records, CsvRecord};
use super::split::{PuzzleSet, SetBuilder};
use super::DatasetError;
use crate::puzzles::maze::{self, Maze};
use crate::puzzles::sudoku::{self, Grid, SudokuTransform};
use crate::puzzles::PuzzleRng;

/// A Sudoku set from (puzzle, solution) pairs with `num_aug` official augmentations per puzzle.
pub fn sudoku_set(pairs: &[(Grid, Grid)], num_aug: usize, rng: &mut PuzzleRng) -> PuzzleSet {
    let mut b = SetBuilder::new("all", sudoku::SEQ_LEN);
    for (q, a) in pairs {
        b.push_example(&q.to_tokens(), &a.to_tokens());
        for _ in 0..num_aug {
            let t = SudokuTransform::random(rng);
            b.push_example(&t.apply(q).to_tokens(), &t.apply(a).to_tokens());
        }
        b.end_group();
    }
    b.finish()
}

/// A maze set from (puzzle, solution) pairs; with `dihedral` each group holds the 8 transforms in the
/// official order (identity first), as `build_maze_dataset.py --aug` does.
pub fn maze_set(pairs: &[(Maze, Maze)], dihedral: bool) -> PuzzleSet {
    let seq_len = pairs.first().map(|(q, _)| q.size() * q.size()).unwrap_or(0);
    let mut b = SetBuilder::new("all", seq_len);
    for (q, a) in pairs {
        for tid in 0..if dihedral { 8 } else { 1 } {
            b.push_example(&q.transformed(tid).to_tokens(), &a.transformed(tid).to_tokens());
        }
        b.end_group();
    }
    b.finish()
}

/// What the official builders' command-line options select from a CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CsvOptions {
    /// Keep rows with rating >= this (Sudoku `--min-difficulty`).
    pub min_rating: Option<f64>,
    /// Keep this many rows chosen at random (`--subsample-size`; the official applies it to train only).
    pub subsample: Option<usize>,
}

fn select(records: Vec<CsvRecord>, opts: &CsvOptions, file: &str, rng: &mut PuzzleRng) -> Result<Vec<CsvRecord>, DatasetError> {
    let mut kept = Vec::with_capacity(records.len());
    for r in records {
        if let Some(min) = opts.min_rating {
            let rating: f64 =
                r.rating.trim().parse().map_err(|_| DatasetError::new(file, format!("line {}: rating {:?} is not a number", r.line, r.rating)))?;
            if rating < min {
                continue;
            }
        }
        kept.push(r);
    }
    if let Some(n) = opts.subsample {
        if n < kept.len() {
            let mut pick = rng.permutation(kept.len());
            pick.truncate(n);
            pick.sort_unstable();
            kept = pick.into_iter().map(|i| kept[i].clone()).collect();
        }
    }
    Ok(kept)
}

/// Read an official Sudoku CSV (`source,question,answer,rating`; `.` blanks) into (puzzle, solution)
/// pairs; the answer must solve the question.
pub fn sudoku_pairs_from_csv(text: &str, file: &str, opts: &CsvOptions, rng: &mut PuzzleRng) -> Result<Vec<(Grid, Grid)>, DatasetError> {
    let records = select(read_records(text, file).map_err(|e| DatasetError::new(file, format!("line {}: {}", e.line, e.problem)))?, opts, file, rng)?;
    records
        .iter()
        .map(|r| {
            let at = |what: &str, e: String| DatasetError::new(file, format!("line {}: {what}: {e}", r.line));
            let cells = |s: &str, what: &str| -> Result<Grid, DatasetError> {
                if s.len() != 81 {
                    return Err(at(what, format!("{} characters, expected 81", s.len())));
                }
                Grid::parse(s).map_err(|e| at(what, e.to_string()))
            };
            let q = cells(&r.question, "question")?;
            let a = cells(&r.answer, "answer")?;
            if !a.solves(&q) {
                return Err(at("answer", "does not solve the question".into()));
            }
            Ok((q, a))
        })
        .collect()
}

/// Read an official maze CSV (question and answer as N*N characters of `# SGo`) into pairs; all mazes
/// must have the size of the first.
pub fn maze_pairs_from_csv(text: &str, file: &str, opts: &CsvOptions, rng: &mut PuzzleRng) -> Result<Vec<(Maze, Maze)>, DatasetError> {
    let records = select(read_records(text, file).map_err(|e| DatasetError::new(file, format!("line {}: {}", e.line, e.problem)))?, opts, file, rng)?;
    let mut size = None;
    records
        .iter()
        .map(|r| {
            let at = |what: &str, e: String| DatasetError::new(file, format!("line {}: {what}: {e}", r.line));
            let q = Maze::parse_flat(&r.question).map_err(|e| at("question", e.to_string()))?;
            let a = Maze::parse_flat(&r.answer).map_err(|e| at("answer", e.to_string()))?;
            let n = *size.get_or_insert(q.size());
            if q.size() != n || a.size() != n {
                return Err(at("maze", format!("size {}x{} differs from the first maze's {n}x{n}", q.size(), q.size())));
            }
            if a.without_path() != q.without_path() {
                return Err(at("answer", "differs from the question outside the path".into()));
            }
            Ok((q, a))
        })
        .collect()
}

/// CSV straight to a set (Sudoku): `num_aug` augmentations per puzzle (the official uses 0 for test).
pub fn sudoku_set_from_csv(text: &str, file: &str, opts: &CsvOptions, num_aug: usize, rng: &mut PuzzleRng) -> Result<PuzzleSet, DatasetError> {
    let pairs = sudoku_pairs_from_csv(text, file, opts, rng)?;
    Ok(sudoku_set(&pairs, num_aug, rng))
}

/// CSV straight to a set (mazes).
pub fn maze_set_from_csv(text: &str, file: &str, opts: &CsvOptions, dihedral: bool, rng: &mut PuzzleRng) -> Result<PuzzleSet, DatasetError> {
    let pairs = maze_pairs_from_csv(text, file, opts, rng)?;
    Ok(maze_set(&pairs, dihedral))
}

/// Vocabulary sizes of the official encodings.
pub const SUDOKU_VOCAB: usize = sudoku::VOCAB_SIZE;
pub const MAZE_VOCAB: usize = maze::VOCAB_SIZE;
