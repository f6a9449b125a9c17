//! The page's surface: what `web/src/worker.ts` calls through wasm-bindgen.
//!
//! Kept small and typed: plain numbers, strings and byte arrays in; `serde-wasm-bindgen` structs
//! out, typed for TypeScript by the interfaces below; every failure a `JsError` whose message the
//! page shows as it is (the puzzle layer's errors already say what and where). Only built for wasm32.

mod solve;
pub use solve::*;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::puzzles::maze::{self, Maze, MazeOptions};
use crate::{Checkpoint, Config};
use crate::puzzles::sudoku::{self, Band, Grid};
use crate::puzzles::PuzzleRng;

pub mod train;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface SudokuAnswer { solution: number[]; solutions: number; guesses: number; backtracks: number }
export interface MazeAnswer { path: number[]; length: number; shortest_paths: number }
export interface CheckpointInfo { parameters: number; tensors: number; config_json: string; summary: string }
"#;

/// Installs the panic hook so a Rust panic reaches the console with its message (the e2e tests fail
/// on any console error, so a panic can never pass silently).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The crate version, shown in the page footer so a screenshot says which build it is.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    // Vecs become plain arrays of numbers, as the interfaces above say.
    serde_wasm_bindgen::to_value(v).map_err(js_err)
}

/// Reads what a person pasted (81 cells, blanks as `.`/`0`/`_`, grid decoration and whitespace
/// ignored, or an official CSV row): 81 digits, 0 for blank.
#[wasm_bindgen]
pub fn sudoku_parse(text: &str) -> Result<Vec<u8>, JsError> {
    Ok(Grid::parse(text).map_err(js_err)?.cells().to_vec())
}

#[derive(Serialize)]
struct SudokuAnswer {
    solution: Vec<u8>,
    solutions: u32,
    guesses: u32,
    backtracks: u32,
}

/// The exact solver on the board as typed: the first solution and whether it is unique (the search
/// stops at two). Conflicting givens and unsolvable boards are errors that say why. Unlike
/// `Grid::validate`, fewer than 17 givens is allowed: a reference answer is still useful there.
#[wasm_bindgen(unchecked_return_type = "SudokuAnswer")]
pub fn sudoku_solve(cells: &[u8]) -> Result<JsValue, JsError> {
    let grid = Grid::from_cells(cells).map_err(js_err)?;
    if let Some(conflict) = grid.first_conflict() {
        return Err(js_err(conflict));
    }
    let report = sudoku::solve(&grid, 2);
    let first = report.solutions.first().ok_or_else(|| js_err(sudoku::SudokuError::NoSolution))?;
    to_js(&SudokuAnswer {
        solution: first.cells().to_vec(),
        solutions: report.solutions.len() as u32,
        guesses: report.effort.guesses,
        backtracks: report.effort.backtracks,
    })
}

/// A unique-solution puzzle of the named band (easy, medium, hard, extreme), reproducible by seed.
#[wasm_bindgen]
pub fn sudoku_generate(band: &str, seed: u32) -> Result<Vec<u8>, JsError> {
    let band: Band = band.parse().map_err(|e: String| JsError::new(&e))?;
    let g = sudoku::generate(band, &mut PuzzleRng::new(u64::from(seed))).map_err(js_err)?;
    Ok(g.puzzle.cells().to_vec())
}

#[derive(Serialize)]
struct MazeAnswer {
    path: Vec<u32>,
    length: u32,
    /// f64: a JS number; saturates far above anything a 30x30 maze can show exactly.
    shortest_paths: f64,
}

/// BFS shortest path of a maze in the official text form; an unreachable goal is an error.
#[wasm_bindgen(unchecked_return_type = "MazeAnswer")]
pub fn maze_solve(text: &str) -> Result<JsValue, JsError> {
    let m = Maze::parse(text).map_err(js_err)?;
    let r = maze::shortest_path(&m).map_err(js_err)?;
    to_js(&MazeAnswer {
        path: r.path.iter().map(|&i| i as u32).collect(),
        length: r.length as u32,
        shortest_paths: r.shortest_paths as f64,
    })
}

/// A random size x size maze whose shortest path has at least `min_path` moves (official text form,
/// without the path), reproducible by seed.
#[wasm_bindgen]
pub fn maze_generate(size: u32, min_path: u32, seed: u32) -> Result<String, JsError> {
    let opts = MazeOptions::new(size as usize, min_path as usize);
    let g = maze::generate(&opts, &mut PuzzleRng::new(u64::from(seed))).map_err(js_err)?;
    Ok(g.puzzle.to_text())
}

#[derive(Serialize)]
struct CheckpointInfo {
    parameters: f64,
    tensors: u32,
    config_json: String,
    summary: String,
}

/// Reads and checks a checkpoint the user dropped in: this project's safetensors format, with the
/// config from `config_json` (a config.json beside it) or else from the file's metadata. Wrong
/// files get the reader's message (which tensor, which shape, what is wrong with the bytes).
#[wasm_bindgen(unchecked_return_type = "CheckpointInfo")]
pub fn checkpoint_inspect(weights: &[u8], config_json: Option<String>) -> Result<JsValue, JsError> {
    let config = config_json.as_deref().map(Config::from_json_str).transpose().map_err(|e| js_err(format!("config.json: {e}")))?;
    let ck = Checkpoint::from_safetensors(weights, config.as_ref()).map_err(js_err)?;
    to_js(&CheckpointInfo {
        parameters: ck.parameter_count() as f64,
        tensors: ck.params.len() as u32,
        config_json: ck.config.to_json_string(),
        summary: ck.summary(),
    })
}
