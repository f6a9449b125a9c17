//! The `hrm` command line: one module per subcommand.

use clap::{Parser, Subcommand};

mod convert;
mod info;

#[derive(Parser)]
#[command(name = "hrm", version, about = "Hierarchical Reasoning Model: data, training, evaluation, benchmarks, checkpoints")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a checkpoint: config, derived sizes, parameter count, every tensor
    Info(info::Args),
    /// Convert an official torch checkpoint (with its all_config.yaml) to a single .safetensors file
    Convert(convert::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info(args) => info::run(args),
        Command::Convert(args) => convert::run(args),
    }
}
