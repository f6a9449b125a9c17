//! Symmetries of a puzzle at the token level, for test-time tries (`puzzle_eval`, `hrm eval
//! --tries`): a Sudoku under an official augmentation (digits relabelled, transposed, bands, rows,
//! stacks and columns shuffled) or a maze grid under one of the 8 dihedral transforms is a puzzle of
//! the same kind, whose answer, mapped back, answers the original.

use super::dihedral::source_cell;
use super::metrics::PuzzleKind;
use super::sudoku::SudokuTransform;
use super::{maze, sudoku, PuzzleRng};

/// Token `t` at position `src[i]` moves to position `i` as `token[t]` (values outside the table,
/// such as the ignore label, stay as they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSymmetry {
    src: Vec<usize>,
    token: Vec<i32>,
}

impl TokenSymmetry {
    pub fn identity(seq_len: usize, vocab: usize) -> TokenSymmetry {
        TokenSymmetry { src: (0..seq_len).collect(), token: (0..vocab as i32).collect() }
    }

    pub fn is_identity(&self) -> bool {
        self.src.iter().enumerate().all(|(i, &s)| i == s) && self.token.iter().enumerate().all(|(i, &t)| i as i32 == t)
    }

    pub fn apply(&self, tokens: &[i32]) -> Vec<i32> {
        assert_eq!(tokens.len(), self.src.len(), "a row of {} tokens under a symmetry of {}", tokens.len(), self.src.len());
        self.src.iter().map(|&s| self.map_token(tokens[s])).collect()
    }

    fn map_token(&self, t: i32) -> i32 {
        usize::try_from(t).ok().and_then(|i| self.token.get(i)).copied().unwrap_or(t)
    }

    /// The symmetry that undoes this one.
    pub fn inverse(&self) -> TokenSymmetry {
        let mut src = vec![0; self.src.len()];
        for (i, &s) in self.src.iter().enumerate() {
            src[s] = i;
        }
        let mut token = vec![0; self.token.len()];
        for (i, &t) in self.token.iter().enumerate() {
            token[t as usize] = i as i32;
        }
        TokenSymmetry { src, token }
    }

    fn sudoku(t: &SudokuTransform) -> TokenSymmetry {
        let src = (0..sudoku::SEQ_LEN)
            .map(|k| {
                let (r, c) = (t.row_perm[k / 9] as usize, t.col_perm[k % 9] as usize);
                if t.transpose { c * 9 + r } else { r * 9 + c }
            })
            .collect();
        // PAD and blank stay; digit d (token d + 1) becomes digit_map[d]
        let token = (0..sudoku::VOCAB_SIZE).map(|tok| if tok < 2 { tok as i32 } else { t.digit_map[tok - 1] as i32 + 1 }).collect();
        TokenSymmetry { src, token }
    }

    fn dihedral(n: usize, tid: u8) -> TokenSymmetry {
        let src = (0..n * n).map(|k| source_cell(n, tid, k / n, k % n)).map(|(i, j)| i * n + j).collect();
        TokenSymmetry { src, token: (0..maze::VOCAB_SIZE as i32).collect() }
    }
}

/// `count` symmetries for `kind` puzzles of `seq_len` tokens, the identity first; the others drawn
/// from `seed`: official Sudoku augmentations, or distinct dihedral transforms (so at most 8 for a
/// maze). Mazes smaller than the grid are walled into it, and the trainer's `--augment` transforms
/// the whole grid, so every orientation of the walled grid is one the model trained on.
pub fn symmetries(kind: PuzzleKind, seq_len: usize, count: usize, seed: u64) -> Result<Vec<TokenSymmetry>, String> {
    let mut rng = PuzzleRng::new(seed);
    match kind {
        PuzzleKind::Sudoku => {
            let mut v = vec![TokenSymmetry::identity(seq_len, sudoku::VOCAB_SIZE)];
            v.extend((1..count).map(|_| TokenSymmetry::sudoku(&SudokuTransform::random(&mut rng))));
            Ok(v)
        }
        PuzzleKind::Maze => {
            let n = (1..=seq_len).find(|n| n * n >= seq_len).filter(|n| n * n == seq_len).ok_or(format!("a maze of {seq_len} tokens is not a square grid"))?;
            if count > 8 {
                return Err(format!("a maze has 8 symmetries, not {count}"));
            }
            // the identity, then the other 7 in a seeded order
            let others = rng.permutation(7).into_iter().map(|i| i as u8 + 1);
            Ok(std::iter::once(0).chain(others).take(count).map(|tid| TokenSymmetry::dihedral(n, tid)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::puzzles::metrics::{maze_valid, sudoku_valid};
    use crate::puzzles::{maze as mz, sudoku as sd};

    fn tokens(t: &[u8]) -> Vec<i32> {
        t.iter().map(|&v| v as i32).collect()
    }
    fn bytes(t: &[i32]) -> Vec<u8> {
        t.iter().map(|&v| v as u8).collect()
    }

    /// Every Sudoku symmetry maps a puzzle and its solution to a puzzle and its solution (the rules
    /// check says so), and its inverse brings both back exactly; the ignore label passes through.
    #[test]
    fn sudoku_symmetries_keep_solutions_and_invert() {
        let mut rng = PuzzleRng::new(4);
        let g = sd::generate(sd::Band::Medium, &mut rng).unwrap();
        let (p, s) = (tokens(&g.puzzle.to_tokens()), tokens(&g.solution.to_tokens()));
        let syms = symmetries(PuzzleKind::Sudoku, 81, 6, 9).unwrap();
        assert!(syms[0].is_identity() && syms[1..].iter().all(|t| !t.is_identity()));
        for t in &syms {
            let (tp, ts) = (t.apply(&p), t.apply(&s));
            assert!(sudoku_valid(&bytes(&tp), &bytes(&ts)));
            assert_eq!((t.inverse().apply(&tp), t.inverse().apply(&ts)), (p.clone(), s.clone()));
        }
        let mut ignored = s.clone();
        ignored[5] = crate::puzzles::IGNORE_LABEL_ID;
        assert_eq!(syms[1].inverse().apply(&syms[1].apply(&ignored)), ignored);
    }

    /// The 8 maze symmetries are distinct, keep a shortest path a shortest path (here of a 5x5 maze
    /// walled into a 7x7 grid), and invert; a 9th or a non-square grid is refused.
    #[test]
    fn maze_symmetries_are_the_dihedral_group() {
        let mut rng = PuzzleRng::new(2);
        let g = mz::generate(&mz::MazeOptions::new(5, 3), &mut rng).unwrap();
        let (p, s) = (tokens(&g.puzzle.embedded(7).to_tokens()), tokens(&g.solution.embedded(7).to_tokens()));
        let syms = symmetries(PuzzleKind::Maze, 49, 8, 1).unwrap();
        let images: std::collections::HashSet<Vec<i32>> = syms.iter().map(|t| t.apply(&p)).collect();
        assert_eq!(images.len(), 8);
        assert!(syms[0].is_identity());
        for t in &syms {
            assert!(maze_valid(&bytes(&t.apply(&p)), &bytes(&t.apply(&s))));
            assert_eq!(t.inverse().apply(&t.apply(&s)), s);
        }
        assert!(symmetries(PuzzleKind::Maze, 49, 9, 1).unwrap_err().contains("8 symmetries"));
        assert!(symmetries(PuzzleKind::Maze, 50, 2, 1).unwrap_err().contains("not a square grid"));
    }
}
