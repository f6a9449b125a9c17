//! Mazes in the official text format: `#` wall, space open, `S` start, `G` goal, `o` path, on a square
//! N x N grid (N in 4..=30; the official Maze-Hard is 30 x 30). Parsing with precise errors, formatting,
//! the official tokens and the dihedral augmentation. BFS and the generator live in the submodules.

mod generate;
mod path;

pub use generate::{generate, scaled_min_path, GenerateError, GeneratedMaze, MazeOptions};
pub use path::{distances, shortest_path, PathReport};

use crate::puzzles::dihedral;
use std::fmt;

/// The official charset; a tile's token is its index here plus 1 (PAD is 0).
pub const CHARSET: &str = "# SGo";
pub const PAD_TOKEN: u8 = 0;
pub const VOCAB_SIZE: usize = 6;
pub const MIN_SIZE: usize = 4;
pub const MAX_SIZE: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tile {
    Wall,
    Open,
    Start,
    Goal,
    Path,
}

impl Tile {
    pub fn from_char(c: char) -> Option<Tile> {
        Some(match c {
            '#' => Tile::Wall,
            ' ' => Tile::Open,
            'S' => Tile::Start,
            'G' => Tile::Goal,
            'o' => Tile::Path,
            _ => return None,
        })
    }
    pub fn to_char(self) -> char {
        CHARSET.as_bytes()[self.token() as usize - 1] as char
    }
    /// Official token: `#`=1, space=2, `S`=3, `G`=4, `o`=5.
    pub fn token(self) -> u8 {
        match self {
            Tile::Wall => 1,
            Tile::Open => 2,
            Tile::Start => 3,
            Tile::Goal => 4,
            Tile::Path => 5,
        }
    }
    pub fn from_token(t: u8) -> Option<Tile> {
        Some(match t {
            1 => Tile::Wall,
            2 => Tile::Open,
            3 => Tile::Start,
            4 => Tile::Goal,
            5 => Tile::Path,
            _ => return None,
        })
    }
    /// Whether a walker may stand here.
    pub fn passable(self) -> bool {
        self != Tile::Wall
    }
}

/// Everything that can be wrong with a maze a person drew; each variant says where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MazeError {
    #[error("the maze is empty")]
    Empty,
    #[error("row {row} has {len} cells but row 1 has {expected}")]
    RaggedRow { row: usize, len: usize, expected: usize },
    #[error("the maze has {rows} rows of {cols} cells; it must be square")]
    NotSquare { rows: usize, cols: usize },
    #[error("a one-line maze must have N*N cells, found {len}")]
    NotASquareCount { len: usize },
    #[error("size {n}x{n} is outside {MIN_SIZE}..={MAX_SIZE}")]
    SizeOutOfRange { n: usize },
    #[error("bad character {ch:?} at row {row}, column {col} (use # wall, space open, S start, G goal, o path)")]
    BadCharacter { ch: char, row: usize, col: usize },
    #[error("no start S")]
    NoStart,
    #[error("no goal G")]
    NoGoal,
    #[error("several starts S: at row {}, column {} and row {}, column {}", .first.0 + 1, .first.1 + 1, .second.0 + 1, .second.1 + 1)]
    SeveralStarts { first: (usize, usize), second: (usize, usize) },
    #[error("several goals G: at row {}, column {} and row {}, column {}", .first.0 + 1, .first.1 + 1, .second.0 + 1, .second.1 + 1)]
    SeveralGoals { first: (usize, usize), second: (usize, usize) },
    #[error("the goal cannot be reached from the start")]
    Unreachable,
    #[error("token {token} at position {index} is not a maze tile (1..=5)")]
    BadToken { index: usize, token: u8 },
}

/// A square maze with exactly one start and one goal. `o` path tiles may be present (a solution).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Maze {
    n: usize,
    tiles: Vec<Tile>,
    start: usize,
    goal: usize,
}

impl Maze {
    /// Build from row-major tiles, checking size and the single S and G.
    pub fn from_tiles(n: usize, tiles: Vec<Tile>) -> Result<Maze, MazeError> {
        if !(MIN_SIZE..=MAX_SIZE).contains(&n) {
            return Err(MazeError::SizeOutOfRange { n });
        }
        if tiles.len() != n * n {
            return Err(MazeError::NotASquareCount { len: tiles.len() });
        }
        type Cell = (usize, usize);
        let find = |want: Tile| -> Result<Option<usize>, (Cell, Cell)> {
            let mut found: Option<usize> = None;
            for (i, &t) in tiles.iter().enumerate() {
                if t == want {
                    if let Some(f) = found {
                        return Err(((f / n, f % n), (i / n, i % n)));
                    }
                    found = Some(i);
                }
            }
            Ok(found)
        };
        let start = find(Tile::Start)
            .map_err(|(first, second)| MazeError::SeveralStarts { first, second })?
            .ok_or(MazeError::NoStart)?;
        let goal = find(Tile::Goal)
            .map_err(|(first, second)| MazeError::SeveralGoals { first, second })?
            .ok_or(MazeError::NoGoal)?;
        Ok(Maze { n, tiles, start, goal })
    }

    /// Parse the text form: N lines of N characters (a trailing newline is fine, `\r\n` too), or one
    /// line of N*N characters (the official CSV form).
    pub fn parse(text: &str) -> Result<Maze, MazeError> {
        let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
        // Drop one trailing empty line left by a final newline.
        let lines = match lines.split_last() {
            Some((last, rest)) if last.is_empty() && !rest.is_empty() => rest.to_vec(),
            _ => lines,
        };
        if lines.len() == 1 {
            return Self::parse_flat(lines[0]);
        }
        let expected = lines[0].chars().count();
        if expected == 0 {
            return Err(MazeError::Empty);
        }
        let mut tiles = Vec::with_capacity(expected * lines.len());
        for (r, line) in lines.iter().enumerate() {
            let len = line.chars().count();
            if len != expected {
                return Err(MazeError::RaggedRow { row: r + 1, len, expected });
            }
            for (c, ch) in line.chars().enumerate() {
                tiles.push(Tile::from_char(ch).ok_or(MazeError::BadCharacter { ch, row: r + 1, col: c + 1 })?);
            }
        }
        if lines.len() != expected {
            return Err(MazeError::NotSquare { rows: lines.len(), cols: expected });
        }
        Maze::from_tiles(expected, tiles)
    }

    /// One line of N*N characters, row-major.
    pub fn parse_flat(line: &str) -> Result<Maze, MazeError> {
        let len = line.chars().count();
        if len == 0 {
            return Err(MazeError::Empty);
        }
        let n = (1..=len).find(|k| k * k >= len).unwrap_or(len);
        if n * n != len {
            return Err(MazeError::NotASquareCount { len });
        }
        let mut tiles = Vec::with_capacity(len);
        for (i, ch) in line.chars().enumerate() {
            tiles.push(Tile::from_char(ch).ok_or(MazeError::BadCharacter { ch, row: i / n + 1, col: i % n + 1 })?);
        }
        Maze::from_tiles(n, tiles)
    }

    /// From official tokens (1..=5), row-major N*N.
    pub fn from_tokens(tokens: &[u8]) -> Result<Maze, MazeError> {
        let n = (1..=tokens.len()).find(|k| k * k >= tokens.len()).unwrap_or(0);
        if n * n != tokens.len() {
            return Err(MazeError::NotASquareCount { len: tokens.len() });
        }
        let tiles = tokens
            .iter()
            .enumerate()
            .map(|(index, &token)| Tile::from_token(token).ok_or(MazeError::BadToken { index, token }))
            .collect::<Result<Vec<_>, _>>()?;
        Maze::from_tiles(n, tiles)
    }

    pub fn size(&self) -> usize {
        self.n
    }
    pub fn tiles(&self) -> &[Tile] {
        &self.tiles
    }
    /// The tile at (row, col), or None outside the grid.
    pub fn tile(&self, row: usize, col: usize) -> Option<Tile> {
        (row < self.n && col < self.n).then(|| self.tiles[row * self.n + col])
    }
    /// Start and goal as row-major indices.
    pub fn start(&self) -> usize {
        self.start
    }
    pub fn goal(&self) -> usize {
        self.goal
    }

    /// The same maze with every `o` turned back into open floor: the puzzle of a solution.
    pub fn without_path(&self) -> Maze {
        let tiles = self.tiles.iter().map(|&t| if t == Tile::Path { Tile::Open } else { t }).collect();
        Maze { tiles, ..*self }
    }

    /// Mark `path` (cell indices; S and G keep their letters) with `o`.
    pub fn with_path(&self, path: &[usize]) -> Maze {
        let mut m = self.without_path();
        for &i in path {
            if m.tiles[i] == Tile::Open {
                m.tiles[i] = Tile::Path;
            }
        }
        m
    }

    /// The text form, one line per row, each ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(self.n * (self.n + 1));
        for row in self.tiles.chunks(self.n) {
            s.extend(row.iter().map(|t| t.to_char()));
            s.push('\n');
        }
        s
    }

    /// The one-line form of the official CSV.
    pub fn to_flat(&self) -> String {
        self.tiles.iter().map(|t| t.to_char()).collect()
    }

    /// Official tokens, row-major.
    pub fn to_tokens(&self) -> Vec<u8> {
        self.tiles.iter().map(|t| t.token()).collect()
    }

    /// This maze at the top-left of an `outer`×`outer` grid of walls: walls are impassable, so it is
    /// the same maze, in the shape a larger model reads (the page's `embedMaze` does the same).
    ///
    /// # Panics
    /// If `outer` is smaller than the maze or above the largest size.
    pub fn embedded(&self, outer: usize) -> Maze {
        assert!(self.n <= outer && outer <= MAX_SIZE, "a {0}x{0} maze does not fit in {1}x{1}", self.n, outer);
        let mut tiles = vec![Tile::Wall; outer * outer];
        for (r, row) in self.tiles.chunks(self.n).enumerate() {
            tiles[r * outer..r * outer + self.n].copy_from_slice(row);
        }
        Maze::from_tiles(outer, tiles).expect("walls around it keep one S and one G")
    }

    /// Dihedral transform `tid` (0..8, official numbering; see `puzzles::dihedral`).
    ///
    /// # Panics
    /// If `tid` is not in 0..8.
    pub fn transformed(&self, tid: u8) -> Maze {
        let tiles = dihedral::transform(&self.tiles, self.n, tid);
        Maze::from_tiles(self.n, tiles).expect("a symmetry keeps one S and one G")
    }
}

impl fmt::Display for Maze {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for Maze {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Maze {}x{}:\n{}", self.n, self.n, self.to_text())
    }
}

impl std::str::FromStr for Maze {
    type Err = MazeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Maze::parse(s)
    }
}
