//! `hrm bench --puzzles`: single-thread throughput of the Sudoku solver and generator per band, and of
//! maze generation and BFS on 30x30. Each figure is the median of several timed rounds, because the
//! machine may be shared.

use anyhow::Result;
use hrm::puzzles::maze::{self, MazeOptions};
use hrm::puzzles::sudoku::{self, Band, Grid};
use hrm::puzzles::PuzzleRng;
use std::time::Instant;

const ROUNDS: usize = 5;

/// Median of `ROUNDS` runs of `f`, each returning (items, seconds): items per second.
fn median_rate(mut f: impl FnMut() -> (usize, f64)) -> f64 {
    let mut rates: Vec<f64> = (0..ROUNDS).map(|_| {
        let (n, s) = f();
        n as f64 / s
    }).collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    rates[ROUNDS / 2]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

/// Well-known hard puzzles ("hardest"-style), checked unique before use.
const KNOWN_HARD: [&str; 2] = [
    "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
    "..53.....8......2..7..1.5..4....53...1..7...6..32...8..6.5....9..4....3......97..",
];

pub fn run() -> Result<()> {
    println!("hrm bench --puzzles (one thread; median of {ROUNDS} rounds)");
    println!("\nSudoku generator and solver per band (solver = count solutions up to 2, as validation does)");
    println!("{:<8} {:>12} {:>10} {:>14} {:>14} {:>14}", "band", "generate/s", "givens", "guesses/puz", "backtr./puz", "solve/s");
    let mut rng = PuzzleRng::new(2024);
    let mut hardest: Vec<Grid> = Vec::new();
    for band in Band::ALL {
        let per_round = match band {
            Band::Easy | Band::Medium => 200,
            Band::Hard => 60,
            Band::Extreme => 12,
        };
        let mut made = Vec::new();
        let gen_rate = median_rate(|| {
            let (batch, s) = timed(|| (0..per_round).map(|_| sudoku::generate(band, &mut rng).expect("generator")).collect::<Vec<_>>());
            made.extend(batch);
            (per_round, s)
        });
        let puzzles: Vec<Grid> = made.iter().map(|g| g.puzzle).collect();
        let solve_rate = solve_rate(&puzzles);
        let n = made.len() as f64;
        println!(
            "{:<8} {:>12.0} {:>10.1} {:>14.1} {:>14.1} {:>14.0}",
            band.name(),
            gen_rate,
            made.iter().map(|g| g.puzzle.givens()).sum::<usize>() as f64 / n,
            made.iter().map(|g| g.effort.guesses as f64).sum::<f64>() / n,
            made.iter().map(|g| g.effort.backtracks as f64).sum::<f64>() / n,
            solve_rate
        );
        if band == Band::Extreme {
            hardest = puzzles;
        }
    }
    let known: Vec<Grid> = KNOWN_HARD.iter().filter_map(|s| Grid::parse(s).ok()).filter(|g| g.validate().is_ok()).collect();
    for g in &known {
        let (_, e) = sudoku::count_solutions(g, 2);
        println!("known hard {}: {} guesses, {} backtracks, {:.0} solves/s", g, e.guesses, e.backtracks, solve_rate(std::slice::from_ref(g)));
    }
    hardest.extend(known);
    println!("all extreme + known hard ({} puzzles): {:.0} solves/s", hardest.len(), solve_rate(&hardest));

    println!("\nMazes 30x30 (Maze-Hard rule: shortest path >= 111 moves)");
    let opts = MazeOptions::HARD_30;
    let mut mazes = Vec::new();
    let gen_rate = median_rate(|| {
        let (batch, s) = timed(|| (0..50).map(|_| maze::generate(&opts, &mut rng).expect("maze generator")).collect::<Vec<_>>());
        mazes.extend(batch);
        (50, s)
    });
    let unique = mazes.iter().filter(|m| m.report.is_unique()).count();
    let mean_len = mazes.iter().map(|m| m.report.length as f64).sum::<f64>() / mazes.len() as f64;
    println!("generate: {gen_rate:.0} mazes/s (mean shortest path {mean_len:.1} moves, {unique}/{} with a unique shortest path)", mazes.len());
    let puzzles: Vec<_> = mazes.iter().map(|m| m.puzzle.clone()).collect();
    let bfs_rate = median_rate(|| {
        let (_, s) = timed(|| {
            for _ in 0..20 {
                for p in &puzzles {
                    std::hint::black_box(maze::shortest_path(std::hint::black_box(p)).expect("reachable"));
                }
            }
        });
        (20 * puzzles.len(), s)
    });
    println!("BFS shortest path + path count: {:.1} µs per 30x30 maze ({bfs_rate:.0}/s)", 1e6 / bfs_rate);
    Ok(())
}

/// Solves per second over `puzzles` (repeated to at least ~0.1 s per round).
fn solve_rate(puzzles: &[Grid]) -> f64 {
    if puzzles.is_empty() {
        return 0.0;
    }
    let (_, once) = timed(|| puzzles.iter().map(|p| sudoku::count_solutions(p, 2).0).sum::<usize>());
    let reps = ((0.1 / once.max(1e-9)).ceil() as usize).clamp(1, 100_000);
    median_rate(|| {
        let (_, s) = timed(|| {
            for _ in 0..reps {
                for p in puzzles {
                    std::hint::black_box(sudoku::count_solutions(std::hint::black_box(p), 2));
                }
            }
        });
        (reps * puzzles.len(), s)
    })
}
