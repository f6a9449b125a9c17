//! The `hrm` command line: one module per subcommand.

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
    /// Printed benchmarks; `--backend gpu`: matmul GFLOP/s at the model's shapes and peak buffer bytes
    Bench(bench_gpu::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench_gpu::command(args),
    }
}
