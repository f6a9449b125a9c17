//! The `hrm` command line: one module per subcommand.

mod bench;
mod bench_puzzles;
mod data;
mod solve_classic;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hrm", version, about = "Hierarchical Reasoning Model: data, training, evaluation, benchmarks, checkpoints")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build or inspect datasets in the official on-disk format (Sudoku, mazes).
    Data(data::Args),
    /// Solve a Sudoku or a maze exactly, without the network.
    SolveClassic(solve_classic::Args),
    /// Print throughput figures.
    Bench(bench::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Data(a) => data::run(a),
        Command::SolveClassic(a) => solve_classic::run(a),
        Command::Bench(a) => bench::run(a),
    }
}
