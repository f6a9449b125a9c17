//! The `hrm` command line: one module per subcommand. Native only: on wasm32 (which `wasm-pack test`
//! builds every target for) it is an empty `main`.

#[cfg(not(target_arch = "wasm32"))]
mod average;
#[cfg(not(target_arch = "wasm32"))]
mod bench;
#[cfg(not(target_arch = "wasm32"))]
mod convert;
#[cfg(not(target_arch = "wasm32"))]
mod eval;
#[cfg(not(target_arch = "wasm32"))]
mod info;
#[cfg(not(target_arch = "wasm32"))]
mod bench_puzzles;
#[cfg(not(target_arch = "wasm32"))]
mod data;
#[cfg(not(target_arch = "wasm32"))]
mod solve_classic;
#[cfg(not(target_arch = "wasm32"))]
mod source;
#[cfg(not(target_arch = "wasm32"))]
mod train;
#[cfg(not(target_arch = "wasm32"))]
mod bench_gpu;

#[cfg(not(target_arch = "wasm32"))]
use clap::{Parser, Subcommand};

#[cfg(not(target_arch = "wasm32"))]
#[derive(Parser)]
#[command(name = "hrm", version, about = "Hierarchical Reasoning Model: data, training, evaluation, benchmarks, checkpoints")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Subcommand)]
enum Command {
    /// CPU benchmarks: GEMM crates (--gemm), training/eval presets (--preset)
    Bench(bench::Args),
    /// Show a checkpoint: config, derived sizes, parameter count, every tensor
    Info(info::Args),
    /// Convert an official torch checkpoint (with its all_config.yaml) to a single .safetensors file
    Convert(convert::Args),
    /// Average checkpoints of one architecture tensor by tensor (weight averaging)
    Average(average::Args),
    /// Build or inspect datasets in the official on-disk format (Sudoku, mazes).
    Data(data::Args),
    /// Solve a Sudoku or a maze exactly, without the network.
    SolveClassic(solve_classic::Args),
    /// Train on generated Sudokus or mazes, a dataset folder or the synthetic task (progress bar, JSON-lines log, checkpoints, --resume)
    Train(train::Args),
    /// Evaluate a checkpoint or run directory on generated puzzles, a dataset folder or the synthetic task (exact, cell, valid accuracy)
    Eval(eval::Args),
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Info(args) => info::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Average(args) => average::run(args),
        Command::Data(a) => data::run(a),
        Command::SolveClassic(a) => solve_classic::run(a),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
