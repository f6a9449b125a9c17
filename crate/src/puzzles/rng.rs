//! The one seeded random source of the puzzle layer.
//!
//! ChaCha8 is specified bit for bit, and every draw here goes through `u32` ranges, so a seed gives the
//! same puzzles natively and in wasm32 (no `usize`-width dependence).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seeded, reproducible random numbers for generators, augmentation and sampling.
#[derive(Clone, Debug)]
pub struct PuzzleRng(ChaCha8Rng);

impl PuzzleRng {
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0 && n <= u32::MAX as usize);
        self.0.random_range(0..n as u32) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[0, 1)` with 32 bits of resolution.
    pub fn unit(&mut self) -> f64 {
        self.0.random::<u32>() as f64 / 4_294_967_296.0
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A uniformly random permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }

    /// A fresh generator whose stream is independent of this one's future draws.
    pub fn fork(&mut self) -> Self {
        Self::new(self.0.random::<u64>())
    }
}
