//! Exact solver: candidate bitmasks with naked- and hidden-single propagation, then depth-first search on
//! the cell with the fewest candidates. It counts solutions up to a limit (2 answers "unique?").

use super::{Grid, PEERS, UNITS};
use crate::puzzles::rng::PuzzleRng;

/// How hard the search worked. `guesses` counts every value tried at a branching cell, `backtracks` the
/// tries that ran into a contradiction. A puzzle that propagation alone solves has zero of both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Effort {
    pub guesses: u32,
    pub backtracks: u32,
}

/// The solutions found (at most the limit asked for) and the effort spent finding them.
#[derive(Clone, Debug, PartialEq)]
pub struct SolveReport {
    pub solutions: Vec<Grid>,
    pub effort: Effort,
}

/// Find up to `limit` solutions. Conflicting givens give zero solutions.
pub fn solve(grid: &Grid, limit: usize) -> SolveReport {
    let mut search = Search { limit, solutions: Vec::new(), effort: Effort::default(), rng: None };
    if let Some(state) = State::from_grid(grid) {
        search.run(state);
    }
    SolveReport { solutions: search.solutions, effort: search.effort }
}

/// Number of solutions, counting no further than `limit`, and the effort.
pub fn count_solutions(grid: &Grid, limit: usize) -> (usize, Effort) {
    let r = solve(grid, limit);
    (r.solutions.len(), r.effort)
}

/// One solution chosen at random among all completions (values tried in random order): the generator's
/// source of uniformly varied full grids.
pub(crate) fn random_solution(grid: &Grid, rng: &mut PuzzleRng) -> Option<Grid> {
    let mut search = Search { limit: 1, solutions: Vec::new(), effort: Effort::default(), rng: Some(rng) };
    search.run(State::from_grid(grid)?);
    search.solutions.pop()
}

/// Whether `grid` has a solution with `digit` NOT in cell `cell`: for a puzzle known to have a solution
/// with `digit` there, this is "has a second solution", and much cheaper than counting to 2.
pub(crate) fn has_solution_without(grid: &Grid, cell: usize, digit: u8) -> bool {
    let Some(mut state) = State::from_grid(grid) else { return false };
    if state.eliminate(cell, 1 << (digit - 1)).is_none() || !state.propagate() {
        return false;
    }
    let mut search = Search { limit: 1, solutions: Vec::new(), effort: Effort::default(), rng: None };
    search.run(state);
    !search.solutions.is_empty()
}

const ALL: u16 = 0x1FF;

/// For each cell, its row, column and box as bits of the 27 units (rows 0..9, columns 9..18, boxes 18..27).
const CELL_UNITS: [u32; 81] = {
    let mut m = [0u32; 81];
    let mut i = 0;
    while i < 81 {
        let (r, c) = (i / 9, i % 9);
        m[i] = 1 << r | 1 << (9 + c) | 1 << (18 + r / 3 * 3 + c / 3);
        i += 1;
    }
    m
};

/// Candidate digits per cell (bit d-1 = digit d) and the set of cells already placed.
#[derive(Clone, Copy)]
struct State {
    cand: [u16; 81],
    placed: u128,
    /// Units (bit u of 27) whose cells changed since hidden singles last looked at them.
    dirty: u32,
}

impl State {
    fn from_grid(grid: &Grid) -> Option<State> {
        let mut s = State { cand: [ALL; 81], placed: 0, dirty: (1 << 27) - 1 };
        for (i, &d) in grid.cells().iter().enumerate() {
            if d != 0 && !s.assign(i, 1 << (d - 1)) {
                return None;
            }
        }
        s.propagate().then_some(s)
    }

    fn is_placed(&self, i: usize) -> bool {
        self.placed >> i & 1 == 1
    }

    /// Place digit `bit` in cell `i`, remove it from the peers, and place every peer left with one
    /// candidate (naked singles). False on a contradiction.
    fn assign(&mut self, i: usize, bit: u16) -> bool {
        if self.cand[i] & bit == 0 {
            return false;
        }
        if self.is_placed(i) {
            return true;
        }
        self.cand[i] = bit;
        self.placed |= 1 << i;
        self.dirty |= CELL_UNITS[i];
        for &p in &PEERS[i] {
            let p = p as usize;
            if self.cand[p] & bit != 0 {
                self.cand[p] &= !bit;
                self.dirty |= CELL_UNITS[p];
                let m = self.cand[p];
                if m == 0 {
                    return false;
                }
                if m & (m - 1) == 0 && !self.assign(p, m) {
                    return false;
                }
            }
        }
        true
    }

    /// Hidden singles (a digit with one place left in a unit goes there) over the units that changed,
    /// then box-line eliminations, until nothing changes. False on a contradiction.
    fn propagate(&mut self) -> bool {
        loop {
            while self.dirty != 0 {
                let u = self.dirty.trailing_zeros() as usize;
                self.dirty &= self.dirty - 1;
                let unit = &UNITS[u];
                let (mut once, mut twice, mut done) = (0u16, 0u16, 0u16);
                for &c in unit {
                    let m = self.cand[c as usize];
                    twice |= once & m;
                    once |= m;
                    if self.is_placed(c as usize) {
                        done |= m;
                    }
                }
                if once != ALL {
                    return false; // some digit has no place in this unit
                }
                // Digits with one place left that is not yet placed: hidden singles.
                let mut exactly = once & !twice & !done;
                while exactly != 0 {
                    let bit = exactly & exactly.wrapping_neg();
                    exactly &= exactly - 1;
                    // An earlier placement in this pass may have taken the digit's last place.
                    let Some(c) = unit.iter().map(|&c| c as usize).find(|&c| self.cand[c] & bit != 0) else {
                        return false;
                    };
                    if !self.is_placed(c) && !self.assign(c, bit) {
                        return false;
                    }
                }
            }
            match self.locked_candidates() {
                None => return false,
                Some(false) => return true,
                Some(true) => {}
            }
        }
    }

    /// Box-line interactions: a digit whose places in a box all lie on one row (column) leaves the rest
    /// of that row (column), and a digit whose places in a row (column) all lie in one box leaves the
    /// rest of that box. Some(changed), or None on a contradiction. This cuts the search tree of hard
    /// puzzles several-fold for little cost.
    fn locked_candidates(&mut self) -> Option<bool> {
        let mut changed = false;
        for transpose in [false, true] {
            // seg[l][s]: candidates of the 3 cells where line l crosses stack s.
            let at = |l: usize, k: usize| if transpose { k * 9 + l } else { l * 9 + k };
            let mut seg = [[0u16; 3]; 9];
            for (l, row) in seg.iter_mut().enumerate() {
                for (s, m) in row.iter_mut().enumerate() {
                    *m = self.cand[at(l, 3 * s)] | self.cand[at(l, 3 * s + 1)] | self.cand[at(l, 3 * s + 2)];
                }
            }
            for l in 0..9 {
                for s in 0..3 {
                    let here = seg[l][s];
                    let line_rest = seg[l][(s + 1) % 3] | seg[l][(s + 2) % 3];
                    let band = l / 3 * 3;
                    let box_rest = seg[band + (l + 1) % 3][s] | seg[band + (l + 2) % 3][s];
                    let pointing = here & !box_rest & line_rest; // leave the rest of the line
                    let claiming = here & !line_rest & box_rest; // leave the rest of the box
                    if pointing != 0 {
                        for k in (0..9).filter(|k| k / 3 != s) {
                            if !self.eliminate(at(l, k), pointing)? {
                                continue;
                            }
                            changed = true;
                        }
                    }
                    if claiming != 0 {
                        for other in [band + (l + 1) % 3, band + (l + 2) % 3] {
                            for k in 3 * s..3 * s + 3 {
                                if self.eliminate(at(other, k), claiming)? {
                                    changed = true;
                                }
                            }
                        }
                    }
                }
            }
            if changed {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Remove `bits` from cell `i`: Some(true) if something was removed, None on a contradiction.
    fn eliminate(&mut self, i: usize, bits: u16) -> Option<bool> {
        if self.cand[i] & bits == 0 {
            return Some(false);
        }
        self.cand[i] &= !bits;
        self.dirty |= CELL_UNITS[i];
        let m = self.cand[i];
        if m == 0 || (m & (m - 1) == 0 && !self.assign(i, m)) {
            return None;
        }
        Some(true)
    }

    /// The unplaced cell with the fewest candidates, or None when every cell is placed.
    fn branch_cell(&self) -> Option<usize> {
        let mut best = None;
        let mut best_n = 10;
        for i in 0..81 {
            if !self.is_placed(i) {
                let n = self.cand[i].count_ones();
                if n < best_n {
                    best_n = n;
                    best = Some(i);
                    if n == 2 {
                        break;
                    }
                }
            }
        }
        best
    }

    fn solution(self) -> Grid {
        let mut cells = [0u8; 81];
        for (c, &m) in cells.iter_mut().zip(&self.cand) {
            *c = m.trailing_zeros() as u8 + 1;
        }
        Grid::from_cells(&cells).expect("digits 1..9")
    }
}

struct Search<'r> {
    limit: usize,
    solutions: Vec<Grid>,
    effort: Effort,
    rng: Option<&'r mut PuzzleRng>,
}

impl Search<'_> {
    /// Depth-first search from a propagated state; stops once `limit` solutions are found.
    fn run(&mut self, state: State) {
        let Some(cell) = state.branch_cell() else {
            self.solutions.push(state.solution());
            return;
        };
        let mut digits = [0u16; 9];
        let mut n = 0;
        let mut m = state.cand[cell];
        while m != 0 {
            digits[n] = m & m.wrapping_neg();
            m &= m - 1;
            n += 1;
        }
        if let Some(rng) = self.rng.as_deref_mut() {
            rng.shuffle(&mut digits[..n]);
        }
        for &bit in &digits[..n] {
            self.effort.guesses += 1;
            let mut next = state;
            if next.assign(cell, bit) && next.propagate() {
                self.run(next);
            } else {
                self.effort.backtracks += 1;
            }
            if self.solutions.len() >= self.limit {
                return;
            }
        }
    }
}
