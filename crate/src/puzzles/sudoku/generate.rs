//! Generator of unique-solution puzzles by difficulty band.
//!
//! A random full grid (search with random value order) loses givens one at a time in random order; a
//! removal is undone when the puzzle stops being unique, or, for the easy bands, when it would need a
//! guess. Hard and extreme puzzles are minimal (no given can go) and are then sorted by solver effort.

use super::solve::{has_solution_without, random_solution};
use super::{count_solutions, Effort, Grid};
use crate::puzzles::rng::PuzzleRng;

/// Difficulty bands, by number of givens and by the effort of our solver (its uniqueness search).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Band {
    /// 36..=45 givens, solvable by singles alone (no guess).
    Easy,
    /// 28..=35 givens, solvable by singles alone.
    Medium,
    /// Minimal puzzles that need at least one guess and fewer than `EXTREME_BACKTRACKS` dead ends.
    Hard,
    /// Minimal puzzles with at least `EXTREME_BACKTRACKS` dead ends in the search.
    Extreme,
}

/// Dead ends in the uniqueness search from which a puzzle counts as extreme.
pub const EXTREME_BACKTRACKS: u32 = 4;

impl Band {
    pub const ALL: [Band; 4] = [Band::Easy, Band::Medium, Band::Hard, Band::Extreme];

    pub fn name(self) -> &'static str {
        match self {
            Band::Easy => "easy",
            Band::Medium => "medium",
            Band::Hard => "hard",
            Band::Extreme => "extreme",
        }
    }

    /// The givens range a puzzle of this band ends up in.
    pub fn givens(self) -> (usize, usize) {
        match self {
            Band::Easy => (36, 45),
            Band::Medium => (28, 35),
            Band::Hard | Band::Extreme => (17, 35),
        }
    }

    /// Whether a unique puzzle with this effort belongs to the band (givens checked separately).
    pub fn accepts(self, effort: Effort) -> bool {
        match self {
            Band::Easy | Band::Medium => effort.guesses == 0,
            Band::Hard => effort.guesses > 0 && effort.backtracks < EXTREME_BACKTRACKS,
            Band::Extreme => effort.backtracks >= EXTREME_BACKTRACKS,
        }
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Band {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Band::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown band {s:?}: use easy, medium, hard or extreme"))
    }
}

/// A generated puzzle, its unique solution and the solver's effort on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    pub puzzle: Grid,
    pub solution: Grid,
    pub effort: Effort,
    /// Full grids tried before one gave a puzzle of the band.
    pub attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("no {band} puzzle after {attempts} attempts")]
    GaveUp { band: Band, attempts: u32 },
}

/// Attempts (full grids) before giving up; far above what any band needs on average.
const MAX_ATTEMPTS: u32 = 10_000;

/// Generate one puzzle of `band`; the same rng state gives the same puzzle on every platform.
pub fn generate(band: Band, rng: &mut PuzzleRng) -> Result<Generated, GenerateError> {
    let (lo, hi) = band.givens();
    for attempt in 1..=MAX_ATTEMPTS {
        let solution = random_solution(&Grid::EMPTY, rng).expect("the empty grid has solutions");
        let (target, guess_free) = match band {
            Band::Easy | Band::Medium => (rng.between(lo, hi), true),
            Band::Hard | Band::Extreme => (lo, false),
        };
        let puzzle = reduce(&solution, target, guess_free, rng);
        let givens = puzzle.givens();
        let (n, effort) = count_solutions(&puzzle, 2);
        debug_assert_eq!(n, 1);
        if (lo..=hi).contains(&givens) && band.accepts(effort) {
            return Ok(Generated { puzzle, solution, effort, attempts: attempt });
        }
    }
    Err(GenerateError::GaveUp { band, attempts: MAX_ATTEMPTS })
}

/// Blank the givens of `solution` in random order while the puzzle keeps a unique solution (and, with
/// `guess_free`, stays solvable by propagation alone), stopping at `target` givens. With a target of 17
/// the result is minimal: no given can be removed.
pub fn reduce(solution: &Grid, target: usize, guess_free: bool, rng: &mut PuzzleRng) -> Grid {
    let mut puzzle = *solution;
    let mut givens = solution.givens();
    for i in rng.permutation(81) {
        if givens <= target {
            break;
        }
        let digit = puzzle.cells()[i];
        if digit == 0 {
            continue;
        }
        let mut trial = *puzzle.cells();
        trial[i] = 0;
        let candidate = Grid::from_cells(&trial).expect("digits 0..9");
        let keep = if guess_free {
            let (n, effort) = count_solutions(&candidate, 2);
            n == 1 && effort.guesses == 0
        } else {
            !has_solution_without(&candidate, i, digit)
        };
        if keep {
            puzzle = candidate;
            givens -= 1;
        }
    }
    puzzle
}
