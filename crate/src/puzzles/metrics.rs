//! Accuracy metrics shared by trainer, CLI and page, on official token sequences.
//!
//! - cell accuracy: per example, the fraction of labelled cells predicted right, then averaged over
//!   examples (the official `accuracy` metric of `ACTLossHead`);
//! - exact accuracy: every labelled cell right (the official `exact_accuracy`);
//! - valid accuracy: the prediction is *a* right answer even where it differs from the label. Sudoku: a
//!   complete grid obeying the rules that keeps the givens. Maze: walls, S and G kept, and the `o` cells
//!   form a shortest path from S to G.
//!
//! Labels equal to `IGNORE_LABEL_ID` (-100) are not scored; an example with no labelled cell (a padding
//! row) is skipped, as the official loss head skips it.

use super::maze::{self, Maze, Tile};
use super::sudoku::{self, Grid};
use super::IGNORE_LABEL_ID;

/// Which puzzle the tokens encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PuzzleKind {
    Sudoku,
    /// An N x N maze (sequence length N*N).
    Maze,
}

/// The score of one example.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExampleScore {
    pub labelled: usize,
    pub correct: usize,
    pub exact: bool,
    pub valid: bool,
}

/// Running totals over examples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Accuracy {
    /// Examples scored (padding rows excluded).
    pub count: u64,
    /// Sum over examples of their cell accuracy.
    pub cell_sum: f64,
    pub exact: u64,
    pub valid: u64,
}

impl Accuracy {
    pub fn add(&mut self, s: &ExampleScore) {
        if s.labelled == 0 {
            return;
        }
        self.count += 1;
        self.cell_sum += s.correct as f64 / s.labelled as f64;
        self.exact += s.exact as u64;
        self.valid += s.valid as u64;
    }
    fn ratio(&self, x: f64) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            x / self.count as f64
        }
    }
    pub fn cell_accuracy(&self) -> f64 {
        self.ratio(self.cell_sum)
    }
    pub fn exact_accuracy(&self) -> f64 {
        self.ratio(self.exact as f64)
    }
    pub fn valid_accuracy(&self) -> f64 {
        self.ratio(self.valid as f64)
    }
}

/// Score one example. `inputs`, `labels` and `prediction` are official tokens of one sequence (labels may
/// hold `IGNORE_LABEL_ID`); any integer type works. Mismatched lengths or a length that is not a valid
/// puzzle score as not valid (never a panic).
pub fn score<I, L, P>(kind: PuzzleKind, inputs: &[I], labels: &[L], prediction: &[P]) -> ExampleScore
where
    I: Copy + Into<i64>,
    L: Copy + Into<i64>,
    P: Copy + Into<i64>,
{
    let (mut labelled, mut correct) = (0, 0);
    for (l, p) in labels.iter().zip(prediction) {
        let l: i64 = (*l).into();
        if l != IGNORE_LABEL_ID as i64 {
            labelled += 1;
            correct += (l == (*p).into()) as usize;
        }
    }
    let lengths_agree = labels.len() == prediction.len() && inputs.len() == prediction.len();
    let exact = lengths_agree && labelled > 0 && correct == labelled;
    let valid = lengths_agree && passes_rules(kind, inputs, prediction);
    ExampleScore { labelled, correct, exact, valid }
}

/// The rules check of an answer, from the puzzle and the answer alone (no label): a complete
/// Sudoku keeping the givens, or exactly one shortest S-G path ([`sudoku_valid`], [`maze_valid`]).
pub fn passes_rules<I, P>(kind: PuzzleKind, inputs: &[I], prediction: &[P]) -> bool
where
    I: Copy + Into<i64>,
    P: Copy + Into<i64>,
{
    inputs.len() == prediction.len()
        && match kind {
            PuzzleKind::Sudoku => sudoku_valid(&to_u8(inputs), &to_u8(prediction)),
            PuzzleKind::Maze => maze_valid(&to_u8(inputs), &to_u8(prediction)),
        }
}

/// Tokens outside 0..=255 become 255, which no decoder accepts.
fn to_u8<T: Copy + Into<i64>>(xs: &[T]) -> Vec<u8> {
    xs.iter().map(|&x| u8::try_from(x.into()).unwrap_or(u8::MAX)).collect()
}

/// A complete, rule-abiding grid that keeps the puzzle's givens.
pub fn sudoku_valid(input_tokens: &[u8], prediction_tokens: &[u8]) -> bool {
    if input_tokens.len() != sudoku::SEQ_LEN || prediction_tokens.len() != sudoku::SEQ_LEN {
        return false;
    }
    let (Ok(puzzle), Ok(answer)) = (Grid::from_tokens(input_tokens), Grid::from_tokens(prediction_tokens)) else {
        return false;
    };
    answer.solves(&puzzle)
}

/// Walls, S and G as in the input, no `o` where the input has a wall, and the `o` cells form exactly one
/// shortest S-G path.
pub fn maze_valid(input_tokens: &[u8], prediction_tokens: &[u8]) -> bool {
    let (Ok(puzzle), Ok(answer)) = (Maze::from_tokens(input_tokens), Maze::from_tokens(prediction_tokens)) else {
        return false;
    };
    let puzzle = puzzle.without_path();
    if puzzle.size() != answer.size() || answer.start() != puzzle.start() || answer.goal() != puzzle.goal() {
        return false;
    }
    let kept = puzzle.tiles().iter().zip(answer.tiles()).all(|(&p, &a)| match p {
        Tile::Open => matches!(a, Tile::Open | Tile::Path),
        other => a == other,
    });
    if !kept {
        return false;
    }
    let Ok(best) = maze::shortest_path(&puzzle) else { return false };
    // The marked cells (o plus S and G) must hold exactly length+1 cells and connect S to G in `length`
    // moves; then they are one shortest path and nothing else.
    let marked = answer.tiles().iter().filter(|t| matches!(t, Tile::Path | Tile::Start | Tile::Goal)).count();
    if marked != best.length + 1 {
        return false;
    }
    let only_marked: Vec<Tile> =
        answer.tiles().iter().map(|&t| if matches!(t, Tile::Path | Tile::Start | Tile::Goal) { t } else { Tile::Wall }).collect();
    let restricted = Maze::from_tiles(answer.size(), only_marked).expect("S and G kept");
    maze::distances(&restricted, restricted.start())[restricted.goal()] == best.length as u32
}
