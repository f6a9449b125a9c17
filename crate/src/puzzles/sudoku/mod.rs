//! Sudoku: the grid, parsing what people paste, formatting, validation with precise errors, and the
//! official token encoding. The solver, generator and augmentation live in the submodules.

mod augment;
mod generate;
mod solve;

pub use augment::SudokuTransform;
pub use generate::{generate, reduce, Band, GenerateError, Generated, EXTREME_BACKTRACKS};
pub use solve::{count_solutions, solve, Effort, SolveReport};

use std::fmt;

/// Tokens exactly as the official builder writes them: PAD 0, blank 1, digits 1..9 as 2..10.
pub const PAD_TOKEN: u8 = 0;
pub const BLANK_TOKEN: u8 = 1;
pub const VOCAB_SIZE: usize = 11;
pub const SEQ_LEN: usize = 81;
/// Fewer givens than this never have a unique solution (McGuire et al. 2012).
pub const MIN_GIVENS: usize = 17;

/// A cell position, 0-based; shown to people 1-based as `r{row}c{col}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub row: u8,
    pub col: u8,
}

impl Cell {
    pub fn from_index(i: usize) -> Self {
        Self { row: (i / 9) as u8, col: (i % 9) as u8 }
    }
    pub fn index(self) -> usize {
        self.row as usize * 9 + self.col as usize
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}c{}", self.row + 1, self.col + 1)
    }
}

/// Everything that can be wrong with a Sudoku a person typed; each variant says where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SudokuError {
    #[error("bad character {ch:?} at line {line}, column {column} (use 1-9 for digits and . 0 _ for blanks)")]
    BadCharacter { ch: char, line: usize, column: usize },
    #[error("a Sudoku has 81 cells, found {found}")]
    WrongCellCount { found: usize },
    #[error("cell value {value} at {cell} is not 0..9")]
    BadValue { cell: Cell, value: u8 },
    #[error("digit {digit} appears twice in a {unit}: {first} and {second}")]
    Conflict { digit: u8, unit: Unit, first: Cell, second: Cell },
    #[error("only {found} givens: a Sudoku needs at least 17 to have a unique solution")]
    TooFewGivens { found: usize },
    #[error("this Sudoku has no solution")]
    NoSolution,
    #[error("this Sudoku has more than one solution, e.g.\n{first}\n{second}")]
    MultipleSolutions { first: Box<Grid>, second: Box<Grid> },
    #[error("CSV row: {0}")]
    Csv(String),
}

/// Row, column or box: the three kinds of unit a digit may appear in once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Row,
    Column,
    Box,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Row => "row",
            Unit::Column => "column",
            Unit::Box => "box",
        })
    }
}

/// A 9x9 grid of digits, 0 = blank, row-major.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grid {
    cells: [u8; 81],
}

impl Grid {
    pub const EMPTY: Grid = Grid { cells: [0; 81] };

    /// From 81 values 0..=9 (0 = blank).
    pub fn from_cells(cells: &[u8]) -> Result<Grid, SudokuError> {
        if cells.len() != 81 {
            return Err(SudokuError::WrongCellCount { found: cells.len() });
        }
        let mut g = Grid::EMPTY;
        for (i, &v) in cells.iter().enumerate() {
            if v > 9 {
                return Err(SudokuError::BadValue { cell: Cell::from_index(i), value: v });
            }
            g.cells[i] = v;
        }
        Ok(g)
    }

    pub fn cells(&self) -> &[u8; 81] {
        &self.cells
    }
    /// The digit in `cell` (0 = blank), or None for a cell outside the grid.
    pub fn get(&self, cell: Cell) -> Option<u8> {
        (cell.row < 9 && cell.col < 9).then(|| self.cells[cell.index()])
    }
    /// Put `digit` (0 = blank) in `cell`; a digit above 9 or a cell outside the grid is an error.
    pub fn set(&mut self, cell: Cell, digit: u8) -> Result<(), SudokuError> {
        if digit > 9 || cell.row > 8 || cell.col > 8 {
            return Err(SudokuError::BadValue { cell, value: digit });
        }
        self.cells[cell.index()] = digit;
        Ok(())
    }
    pub fn givens(&self) -> usize {
        self.cells.iter().filter(|&&v| v != 0).count()
    }
    pub fn is_complete(&self) -> bool {
        self.cells.iter().all(|&v| v != 0)
    }

    /// Parse what people paste: 81 cells with `.`, `0` or `_` for blanks, digits 1..9; whitespace and the
    /// grid decoration `|`, `-`, `+` are ignored. A line with commas is read as an official CSV row
    /// (`source,question,answer,rating`) and its question is returned.
    pub fn parse(text: &str) -> Result<Grid, SudokuError> {
        if text.contains(',') {
            return parse_csv_row(text.trim()).map(|row| row.question);
        }
        let mut cells = Vec::with_capacity(81);
        for (line_no, line) in text.lines().enumerate() {
            for (col_no, ch) in line.chars().enumerate() {
                match ch {
                    '1'..='9' => cells.push(ch as u8 - b'0'),
                    '.' | '0' | '_' => cells.push(0),
                    '|' | '-' | '+' => {}
                    c if c.is_whitespace() => {}
                    c => return Err(SudokuError::BadCharacter { ch: c, line: line_no + 1, column: col_no + 1 }),
                }
                if cells.len() > 81 {
                    return Err(SudokuError::WrongCellCount { found: count_cells(text) });
                }
            }
        }
        Grid::from_cells(&cells)
    }

    /// The 81-character form, `.` for blanks (what the official CSV uses).
    pub fn to_line(&self) -> String {
        self.cells.iter().map(|&v| if v == 0 { '.' } else { (b'0' + v) as char }).collect()
    }

    /// A readable grid with box lines; `Grid::parse` reads it back.
    pub fn to_pretty(&self) -> String {
        let mut s = String::with_capacity(256);
        for r in 0..9 {
            if r == 3 || r == 6 {
                s.push_str("------+-------+------\n");
            }
            for c in 0..9 {
                if c == 3 || c == 6 {
                    s.push_str("| ");
                }
                let v = self.cells[r * 9 + c];
                s.push(if v == 0 { '.' } else { (b'0' + v) as char });
                if c != 8 {
                    s.push(' ');
                }
            }
            s.push('\n');
        }
        s
    }

    /// The first pair of equal digits sharing a unit, scanning rows, then columns, then boxes.
    pub fn first_conflict(&self) -> Option<SudokuError> {
        for (unit, cells) in UNITS.iter().enumerate().map(|(u, cells)| (unit_kind(u), cells)) {
            let mut seen: [Option<u8>; 10] = [None; 10];
            for &i in cells {
                let d = self.cells[i as usize];
                if d == 0 {
                    continue;
                }
                if let Some(prev) = seen[d as usize] {
                    return Some(SudokuError::Conflict {
                        digit: d,
                        unit,
                        first: Cell::from_index(prev as usize),
                        second: Cell::from_index(i as usize),
                    });
                }
                seen[d as usize] = Some(i);
            }
        }
        None
    }

    /// Check that this is a proper puzzle: no conflicting givens, at least 17 givens, exactly one
    /// solution. Returns the solution and the solver's effort.
    pub fn validate(&self) -> Result<(Grid, Effort), SudokuError> {
        if let Some(e) = self.first_conflict() {
            return Err(e);
        }
        let givens = self.givens();
        if givens < MIN_GIVENS {
            return Err(SudokuError::TooFewGivens { found: givens });
        }
        let report = solve(self, 2);
        match report.solutions.as_slice() {
            [] => Err(SudokuError::NoSolution),
            [one] => Ok((*one, report.effort)),
            [a, b, ..] => Err(SudokuError::MultipleSolutions { first: Box::new(*a), second: Box::new(*b) }),
        }
    }

    /// True if `self` is a complete grid obeying the rules and agreeing with every given of `puzzle`.
    pub fn solves(&self, puzzle: &Grid) -> bool {
        self.is_complete()
            && self.first_conflict().is_none()
            && puzzle.cells.iter().zip(&self.cells).all(|(&p, &s)| p == 0 || p == s)
    }

    /// Official tokens: blank 1, digit d as d + 1.
    pub fn to_tokens(&self) -> [u8; 81] {
        let mut t = [0u8; 81];
        for (t, &v) in t.iter_mut().zip(&self.cells) {
            *t = v + 1;
        }
        t
    }

    /// Inverse of `to_tokens`; PAD (0) or tokens above 10 are an error naming the cell.
    pub fn from_tokens(tokens: &[u8]) -> Result<Grid, SudokuError> {
        if tokens.len() != 81 {
            return Err(SudokuError::WrongCellCount { found: tokens.len() });
        }
        let mut g = Grid::EMPTY;
        for (i, &t) in tokens.iter().enumerate() {
            if t == 0 || t > 10 {
                return Err(SudokuError::BadValue { cell: Cell::from_index(i), value: t });
            }
            g.cells[i] = t - 1;
        }
        Ok(g)
    }
}

fn count_cells(text: &str) -> usize {
    text.chars().filter(|c| c.is_ascii_digit() || matches!(c, '.' | '_')).count()
}

impl fmt::Display for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_line())
    }
}

impl fmt::Debug for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grid({})", self.to_line())
    }
}

impl std::str::FromStr for Grid {
    type Err = SudokuError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Grid::parse(s)
    }
}

/// One row of an official Sudoku CSV (`source,question,answer,rating`).
#[derive(Clone, Debug, PartialEq)]
pub struct CsvPuzzle {
    pub source: String,
    pub question: Grid,
    pub answer: Option<Grid>,
    pub rating: Option<f64>,
}

/// Parse one official CSV row. The question and answer must be exactly 81 characters, as the official
/// builder asserts; the answer and rating may be missing.
pub fn parse_csv_row(line: &str) -> Result<CsvPuzzle, SudokuError> {
    let fields = crate::dataset::csv::split_row(line).map_err(SudokuError::Csv)?;
    let field = |i: usize| fields.get(i).map(|s| s.as_str()).unwrap_or("");
    let grid = |name: &str, s: &str| -> Result<Grid, SudokuError> {
        if s.chars().count() != 81 {
            return Err(SudokuError::Csv(format!("{name} has {} characters, expected 81", s.chars().count())));
        }
        Grid::parse(s).map_err(|e| SudokuError::Csv(format!("{name}: {e}")))
    };
    if fields.len() < 2 {
        return Err(SudokuError::Csv("expected source,question[,answer[,rating]]".into()));
    }
    let question = grid("question", field(1))?;
    let answer = if field(2).is_empty() { None } else { Some(grid("answer", field(2))?) };
    let rating = if field(3).is_empty() {
        None
    } else {
        Some(field(3).trim().parse::<f64>().map_err(|_| SudokuError::Csv(format!("rating {:?} is not a number", field(3))))?)
    };
    Ok(CsvPuzzle { source: field(0).to_string(), question, answer, rating })
}

/// The 27 units: 9 rows, 9 columns, 9 boxes, each as 9 cell indices.
pub(crate) const UNITS: [[u8; 9]; 27] = build_units();
/// For each cell its 20 peers (cells sharing a unit).
pub(crate) const PEERS: [[u8; 20]; 81] = build_peers();

fn unit_kind(u: usize) -> Unit {
    match u / 9 {
        0 => Unit::Row,
        1 => Unit::Column,
        _ => Unit::Box,
    }
}

const fn build_units() -> [[u8; 9]; 27] {
    let mut units = [[0u8; 9]; 27];
    let mut k = 0;
    while k < 9 {
        let mut j = 0;
        while j < 9 {
            units[k][j] = (k * 9 + j) as u8;
            units[9 + k][j] = (j * 9 + k) as u8;
            let (br, bc) = ((k / 3) * 3, (k % 3) * 3);
            units[18 + k][j] = ((br + j / 3) * 9 + bc + j % 3) as u8;
            j += 1;
        }
        k += 1;
    }
    units
}

const fn build_peers() -> [[u8; 20]; 81] {
    let mut peers = [[0u8; 20]; 81];
    let mut c = 0;
    while c < 81 {
        let (r, col) = (c / 9, c % 9);
        let mut n = 0;
        let mut o = 0;
        while o < 81 {
            let (ro, co) = (o / 9, o % 9);
            let same_box = r / 3 == ro / 3 && col / 3 == co / 3;
            if o != c && (ro == r || co == col || same_box) {
                peers[c][n] = o as u8;
                n += 1;
            }
            o += 1;
        }
        c += 1;
    }
    peers
}
