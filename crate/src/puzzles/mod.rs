//! The puzzle layer: Sudoku and mazes (formats, validation, exact solvers, generators, the official
//! augmentations and token encodings) and the accuracy metrics shared by trainer, CLI and page.
//! Independent of the network; everything here compiles for wasm32.

pub mod dihedral;
pub mod maze;
pub mod metrics;
pub mod rng;
pub mod sudoku;
pub mod symmetry;

pub use rng::PuzzleRng;

/// The label value the official loader writes for "no loss here" (`IGNORE_LABEL_ID`).
pub const IGNORE_LABEL_ID: i32 = -100;
