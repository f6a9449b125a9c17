//! The `hrm` command line: one module per subcommand.

mod bench;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench(args) => bench::run(args),
    }
}
