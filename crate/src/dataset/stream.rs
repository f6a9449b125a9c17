//! Endless training data: fresh generated puzzles (optionally augmented) collated into batches exactly
//! like the file-backed sampler's, so the trainer cannot tell the two apart.

use super::metadata::Metadata;
use super::sampler::Batch;
use crate::puzzles::maze::{self, MazeOptions};
use crate::puzzles::sudoku::{self, Band, SudokuTransform};
use crate::puzzles::PuzzleRng;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StreamSource {
    /// Sudokus of a band; `augment` applies one random official augmentation to each.
    Sudoku { band: Band, augment: bool },
    /// Mazes; `augment` applies one random dihedral transform to each. Each maze's side is drawn from
    /// `sides` (lo..=hi, hi at most `options.size`) and a smaller maze is walled into `options.size`:
    /// short paths give a learning signal long before the full size is solved, and the model then also
    /// reads the smaller mazes a visitor draws. `options.min_path` is for the full size and is scaled
    /// by area for the smaller ones.
    Maze { options: MazeOptions, sides: (usize, usize), augment: bool },
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Sudoku(#[from] sudoku::GenerateError),
    #[error(transparent)]
    Maze(#[from] maze::GenerateError),
    #[error("maze sides {lo}..={hi} are not within {}..={size} (the model's grid)", maze::MIN_SIZE)]
    MazeSides { lo: usize, hi: usize, size: usize },
}

/// A seeded, endless stream of (input tokens, label tokens) examples.
#[derive(Clone, Debug)]
pub struct ExampleStream {
    pub source: StreamSource,
    rng: PuzzleRng,
}

impl ExampleStream {
    pub fn new(source: StreamSource, seed: u64) -> Self {
        ExampleStream { source, rng: PuzzleRng::new(seed) }
    }

    /// The metadata a dataset of this source would carry (for collation and model sizing).
    pub fn metadata(&self) -> Metadata {
        match self.source {
            StreamSource::Sudoku { .. } => Metadata::official(sudoku::VOCAB_SIZE, sudoku::SEQ_LEN, 0),
            StreamSource::Maze { options, .. } => Metadata::official(maze::VOCAB_SIZE, options.size * options.size, 0),
        }
    }

    pub fn next_example(&mut self) -> Result<(Vec<u8>, Vec<u8>), StreamError> {
        match self.source {
            StreamSource::Sudoku { band, augment } => {
                let g = sudoku::generate(band, &mut self.rng)?;
                let t = if augment { SudokuTransform::random(&mut self.rng) } else { SudokuTransform::IDENTITY };
                Ok((t.apply(&g.puzzle).to_tokens().to_vec(), t.apply(&g.solution).to_tokens().to_vec()))
            }
            StreamSource::Maze { options, sides: (lo, hi), augment } => {
                let n = options.size;
                if lo < maze::MIN_SIZE || lo > hi || hi > n {
                    return Err(StreamError::MazeSides { lo, hi, size: n });
                }
                let side = if lo < hi { lo + self.rng.below(hi - lo + 1) } else { hi };
                let min_path = maze::scaled_min_path(options.min_path, side, n);
                let g = maze::generate(&MazeOptions { size: side, min_path, ..options }, &mut self.rng)?;
                let tid = if augment { self.rng.below(8) as u8 } else { 0 };
                let place = |m: &maze::Maze| m.embedded(n).transformed(tid).to_tokens();
                Ok((place(&g.puzzle), place(&g.solution)))
            }
        }
    }

    /// A full batch of fresh examples (puzzle identifier 0, no padding rows).
    pub fn next_batch(&mut self, batch_size: usize) -> Result<Batch, StreamError> {
        let examples = (0..batch_size).map(|_| self.next_example()).collect::<Result<Vec<_>, _>>()?;
        let meta = self.metadata();
        Ok(Batch::collate(&meta, examples.iter().map(|(i, l)| (i.as_slice(), l.as_slice(), 0)), batch_size))
    }
}
