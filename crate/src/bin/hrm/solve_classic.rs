//! `hrm solve-classic`: solve a Sudoku or a maze exactly (no network) and report the solution, the
//! number of solutions and the effort.

use anyhow::{bail, Context, Result};
use hrm::puzzles::maze::{self, Maze};
use hrm::puzzles::sudoku::{self, Grid};
use std::path::Path;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// A Sudoku (81 cells, `.` `0` `_` blanks, decoration ignored, or an official CSV row), or the path
    /// of a file holding a Sudoku or a maze (`#` wall, space open, `S` start, `G` goal).
    input: String,
    /// Read the input as a maze even if it looks like a Sudoku.
    #[arg(long)]
    maze: bool,
}

pub fn run(args: Args) -> Result<()> {
    let text = if Path::new(&args.input).is_file() {
        std::fs::read_to_string(&args.input).with_context(|| format!("reading {}", args.input))?
    } else {
        args.input.clone()
    };
    let looks_like_maze = text.contains(['#', 'S', 'G']);
    if args.maze || looks_like_maze {
        solve_maze(&text)
    } else {
        solve_sudoku(&text)
    }
}

fn solve_sudoku(text: &str) -> Result<()> {
    let grid = Grid::parse(text)?;
    if let Some(conflict) = grid.first_conflict() {
        bail!(conflict);
    }
    let t = Instant::now();
    let report = sudoku::solve(&grid, 2);
    let elapsed = t.elapsed();
    println!("puzzle ({} givens):\n{}", grid.givens(), grid.to_pretty());
    match report.solutions.as_slice() {
        [] => bail!(sudoku::SudokuError::NoSolution),
        [one] => println!("solution (unique):\n{}{}", one.to_pretty(), one),
        [a, b, ..] => {
            println!("not unique: two of its solutions:\n{}{a}\n\n{}{b}", a.to_pretty(), b.to_pretty());
        }
    }
    println!(
        "solutions: {}\neffort: {} guesses, {} backtracks ({:.1} µs)",
        if report.solutions.len() >= 2 { "2 or more".to_string() } else { report.solutions.len().to_string() },
        report.effort.guesses,
        report.effort.backtracks,
        elapsed.as_secs_f64() * 1e6
    );
    if grid.givens() < sudoku::MIN_GIVENS {
        println!("note: {} givens; fewer than 17 never give a unique solution", grid.givens());
    }
    Ok(())
}

fn solve_maze(text: &str) -> Result<()> {
    let puzzle = Maze::parse(text)?.without_path();
    let t = Instant::now();
    let report = maze::shortest_path(&puzzle)?;
    let elapsed = t.elapsed();
    println!("{}", puzzle.with_path(&report.path));
    println!(
        "shortest path: {} moves\nshortest paths: {}{}\neffort: BFS over {} cells ({:.1} µs)",
        report.length,
        report.shortest_paths,
        if report.is_unique() { " (unique)" } else { " (this is one of them)" },
        puzzle.size() * puzzle.size(),
        elapsed.as_secs_f64() * 1e6
    );
    Ok(())
}
