//! `hrm info CHECKPOINT`: what a checkpoint holds — config, derived sizes, parameter count, every tensor.

use std::path::PathBuf;

use anyhow::Context;
use hrm::Checkpoint;

#[derive(clap::Args)]
pub struct Args {
    /// This project's .safetensors, an official torch.save `checkpoint` (with its all_config.yaml beside
    /// it), or a directory holding one of them
    pub checkpoint: PathBuf,
    /// Sequence length, for a RoPE torch checkpoint whose dataset the yaml's data_path does not name
    #[arg(long)]
    pub seq_len: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let ck = Checkpoint::open(&args.checkpoint, args.seq_len)
        .with_context(|| format!("reading {}", args.checkpoint.display()))?;
    println!("checkpoint: {}", args.checkpoint.display());
    print!("{}", ck.summary());
    Ok(())
}
