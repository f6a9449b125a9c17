//! Random mazes with a minimum shortest-path length.
//!
//! Not the official generator (that one follows Lehnert et al. 2024): here a depth-first "recursive
//! backtracker" carves a spanning tree on the lattice of even coordinates, a small fraction of the
//! remaining walls between two lattice cells is knocked out to make loops (so several routes exist), and
//! S and G are drawn until the shortest path between them is long enough.

use super::path::{distances, neighbours, shortest_path};
use super::{Maze, PathReport, Tile, MAX_SIZE, MIN_SIZE};
use crate::puzzles::rng::PuzzleRng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MazeOptions {
    /// Grid side N, 4..=30.
    pub size: usize,
    /// Minimum number of moves on the shortest S-G path (Maze-Hard: 30x30, more than 110).
    pub min_path: usize,
    /// Probability of knocking out each wall between two lattice cells after carving.
    pub loop_fraction: f64,
    /// Require exactly one shortest path (so the label is the only right answer).
    pub unique_path: bool,
}

impl MazeOptions {
    /// The Maze-Hard setting: 30x30, shortest path longer than 110 moves.
    pub const HARD_30: MazeOptions = MazeOptions { size: 30, min_path: 111, loop_fraction: 0.05, unique_path: false };

    pub fn new(size: usize, min_path: usize) -> Self {
        MazeOptions { size, min_path, ..Self::HARD_30 }
    }
}

/// The minimum path for a `side`-sized maze walled into an `n`-sized grid whose own minimum is
/// `min_path`: scaled by area, at least one move.
pub fn scaled_min_path(min_path: usize, side: usize, n: usize) -> usize {
    (min_path * side * side / (n * n)).max(1)
}

/// A generated maze (the puzzle), its solution (path marked `o`) and the BFS report.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedMaze {
    pub puzzle: Maze,
    pub solution: Maze,
    pub report: PathReport,
    pub attempts: u32,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GenerateError {
    #[error("maze size {0} is outside 4..=30")]
    BadSize(usize),
    #[error("loop fraction {0} is not in [0, 1]")]
    BadLoopFraction(f64),
    #[error("no {size}x{size} maze with a shortest path of {min_path} moves after {attempts} attempts (longest seen: {longest})")]
    GaveUp { size: usize, min_path: usize, attempts: u32, longest: usize },
}

const MAX_ATTEMPTS: u32 = 2_000;

pub fn generate(opts: &MazeOptions, rng: &mut PuzzleRng) -> Result<GeneratedMaze, GenerateError> {
    let n = opts.size;
    if !(MIN_SIZE..=MAX_SIZE).contains(&n) {
        return Err(GenerateError::BadSize(n));
    }
    if !(0.0..=1.0).contains(&opts.loop_fraction) {
        return Err(GenerateError::BadLoopFraction(opts.loop_fraction));
    }
    let mut longest = 0;
    for attempt in 1..=MAX_ATTEMPTS {
        let mut tiles = carve(n, opts.loop_fraction, rng);
        let open: Vec<usize> = (0..n * n).filter(|&i| tiles[i] == Tile::Open).collect();
        let start = open[rng.below(open.len())];
        tiles[start] = Tile::Start;
        // Any goal far enough will do; distances from S decide which.
        let probe = Maze { n, tiles: tiles.clone(), start, goal: start };
        let dist = distances(&probe, start);
        longest = longest.max(dist.iter().filter(|&&d| d != u32::MAX).max().copied().unwrap_or(0) as usize);
        let far: Vec<usize> = open.iter().copied().filter(|&i| dist[i] != u32::MAX && dist[i] as usize >= opts.min_path).collect();
        if far.is_empty() {
            continue;
        }
        let goal = far[rng.below(far.len())];
        tiles[goal] = Tile::Goal;
        let puzzle = Maze::from_tiles(n, tiles).expect("one S and one G");
        let report = shortest_path(&puzzle).expect("G was chosen reachable");
        if opts.unique_path && !report.is_unique() {
            continue;
        }
        let solution = puzzle.with_path(&report.path);
        return Ok(GeneratedMaze { puzzle, solution, report, attempts: attempt });
    }
    Err(GenerateError::GaveUp { size: n, min_path: opts.min_path, attempts: MAX_ATTEMPTS, longest })
}

/// Walls everywhere, then a spanning tree of the even-coordinate lattice carved by randomized DFS, then
/// loops. For even N the last row and column stay walls except where a dead end is extended into them.
fn carve(n: usize, loop_fraction: f64, rng: &mut PuzzleRng) -> Vec<Tile> {
    let mut tiles = vec![Tile::Wall; n * n];
    let k = n.div_ceil(2); // lattice cells per side
    let cell = |a: usize, b: usize| 2 * a * n + 2 * b;
    let mut visited = vec![false; k * k];
    let mut stack = vec![rng.below(k * k)];
    visited[stack[0]] = true;
    tiles[cell(stack[0] / k, stack[0] % k)] = Tile::Open;
    while let Some(&v) = stack.last() {
        let (a, b) = (v / k, v % k);
        let mut options = [0usize; 4];
        let mut m = 0;
        for (da, db) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
            let (na, nb) = (a as i64 + da, b as i64 + db);
            if na >= 0 && nb >= 0 && (na as usize) < k && (nb as usize) < k && !visited[na as usize * k + nb as usize] {
                options[m] = na as usize * k + nb as usize;
                m += 1;
            }
        }
        if m == 0 {
            stack.pop();
            continue;
        }
        let u = options[rng.below(m)];
        let (ua, ub) = (u / k, u % k);
        tiles[(a + ua) * n + (b + ub)] = Tile::Open; // the wall between: midpoint of 2a and 2ua
        tiles[cell(ua, ub)] = Tile::Open;
        visited[u] = true;
        stack.push(u);
    }
    // Loops: walls with open cells on both sides along one axis.
    for i in 0..n * n {
        if tiles[i] != Tile::Wall {
            continue;
        }
        let (r, c) = (i / n, i % n);
        let between_rows = r % 2 == 1 && c % 2 == 0 && r + 1 < n && tiles[i - n] == Tile::Open && tiles[i + n] == Tile::Open;
        let between_cols = c % 2 == 1 && r % 2 == 0 && c + 1 < n && tiles[i - 1] == Tile::Open && tiles[i + 1] == Tile::Open;
        if (between_rows || between_cols) && rng.chance(loop_fraction) {
            tiles[i] = Tile::Open;
        }
    }
    // Even N: extend dead ends on the last lattice row/column into the border strip.
    if n.is_multiple_of(2) {
        for i in 0..n * n {
            let (r, c) = (i / n, i % n);
            if (r == n - 1 || c == n - 1) && tiles[i] == Tile::Wall {
                let open_nbrs = neighbours(n, i).filter(|&u| tiles[u] == Tile::Open).count();
                if open_nbrs == 1 && rng.chance(0.5) {
                    tiles[i] = Tile::Open;
                }
            }
        }
    }
    tiles
}
