//! The official Sudoku augmentation (`build_sudoku_dataset.py: shuffle_sudoku`), re-implemented:
//! relabel digits 1..9 (blank stays blank), transpose with p = 0.5, then permute rows as a shuffle of the
//! 3 bands with a shuffle of the 3 rows inside each, and columns likewise by stacks. Random draws happen
//! in the official order: digits, transpose flag, bands, rows per band, stacks, columns per stack.

use super::Grid;
use crate::puzzles::rng::PuzzleRng;

/// One validity-preserving symmetry of Sudoku. Applying it to a puzzle and to its solution gives a
/// puzzle and its solution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SudokuTransform {
    /// `digit_map[d]` replaces digit `d`; `digit_map[0] == 0`.
    pub digit_map: [u8; 10],
    /// Transpose before the row/column mapping.
    pub transpose: bool,
    /// New row `i` comes from old row `row_perm[i]` (of the possibly transposed grid).
    pub row_perm: [u8; 9],
    /// New column `j` comes from old column `col_perm[j]`.
    pub col_perm: [u8; 9],
}

impl SudokuTransform {
    pub const IDENTITY: SudokuTransform = SudokuTransform {
        digit_map: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        transpose: false,
        row_perm: [0, 1, 2, 3, 4, 5, 6, 7, 8],
        col_perm: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    };

    /// A random transform drawn like the official builder draws it.
    pub fn random(rng: &mut PuzzleRng) -> Self {
        let mut digit_map = [0u8; 10];
        for (slot, d) in digit_map[1..].iter_mut().zip(rng.permutation(9)) {
            *slot = d as u8 + 1;
        }
        let transpose = rng.chance(0.5);
        let row_perm = banded_permutation(rng);
        let col_perm = banded_permutation(rng);
        SudokuTransform { digit_map, transpose, row_perm, col_perm }
    }

    pub fn apply(&self, grid: &Grid) -> Grid {
        let src = grid.cells();
        let mut out = [0u8; 81];
        for i in 0..9 {
            for j in 0..9 {
                let (r, c) = (self.row_perm[i] as usize, self.col_perm[j] as usize);
                let from = if self.transpose { c * 9 + r } else { r * 9 + c };
                out[i * 9 + j] = self.digit_map[src[from] as usize];
            }
        }
        Grid::from_cells(&out).expect("digit map keeps 0..9")
    }

    /// The transform that undoes this one.
    pub fn inverse(&self) -> Self {
        let mut digit_map = [0u8; 10];
        for d in 0..10 {
            digit_map[self.digit_map[d] as usize] = d as u8;
        }
        let invert = |p: &[u8; 9]| {
            let mut q = [0u8; 9];
            for (i, &v) in p.iter().enumerate() {
                q[v as usize] = i as u8;
            }
            q
        };
        // Forward: out[i][j] = T?(in)[row[i]][col[j]]. Undoing it transposes after un-permuting, which is
        // the same as un-permuting with the roles of rows and columns swapped, then transposing.
        let (row_inv, col_inv) = (invert(&self.row_perm), invert(&self.col_perm));
        if self.transpose {
            SudokuTransform { digit_map, transpose: true, row_perm: col_inv, col_perm: row_inv }
        } else {
            SudokuTransform { digit_map, transpose: false, row_perm: row_inv, col_perm: col_inv }
        }
    }
}

/// Bands in random order, rows within each band in random order.
fn banded_permutation(rng: &mut PuzzleRng) -> [u8; 9] {
    let bands = rng.permutation(3);
    let mut perm = [0u8; 9];
    for (k, &b) in bands.iter().enumerate() {
        for (m, r) in rng.permutation(3).into_iter().enumerate() {
            perm[k * 3 + m] = (b * 3 + r) as u8;
        }
    }
    perm
}
