//! `hrm bench`: printed throughput figures (never timed tests).

use anyhow::{bail, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Puzzle layer: Sudoku solver and generator per band, maze generation and BFS on 30x30.
    #[arg(long)]
    puzzles: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.puzzles {
        return crate::bench_puzzles::run();
    }
    bail!("choose what to benchmark, e.g. --puzzles")
}
