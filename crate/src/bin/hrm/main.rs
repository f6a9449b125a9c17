//! The `hrm` command line: one module per subcommand.

mod bench;
mod convert;
mod eval;
mod info;
mod bench_puzzles;
mod data;
mod solve_classic;
mod source;
mod train;
mod bench_gpu;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hrm", version, about = "Hierarchical Reasoning Model: data, training, evaluation, benchmarks, checkpoints")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// CPU benchmarks: GEMM crates (--gemm), training/eval presets (--preset)
    Bench(bench::Args),
    /// Show a checkpoint: config, derived sizes, parameter count, every tensor
    Info(info::Args),
    /// Convert an official torch checkpoint (with its all_config.yaml) to a single .safetensors file
    Convert(convert::Args),
    /// Build or inspect datasets in the official on-disk format (Sudoku, mazes).
    Data(data::Args),
    /// Solve a Sudoku or a maze exactly, without the network.
    SolveClassic(solve_classic::Args),
    /// Train on the built-in synthetic task (progress bar, JSON-lines log, checkpoints, --resume)
    Train(train::Args),
    /// Evaluate a checkpoint or run directory on the synthetic task (official ACT evaluation)
    Eval(eval::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Info(args) => info::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Data(a) => data::run(a),
        Command::SolveClassic(a) => solve_classic::run(a),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
    }
}
