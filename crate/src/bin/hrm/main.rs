//! The `hrm` command line: one module per subcommand.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hrm", version, about = "Hierarchical Reasoning Model: data, training, evaluation, benchmarks, checkpoints")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
