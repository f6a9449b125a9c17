//! `hrm convert CHECKPOINT_OR_DIR -o OUT.safetensors`: a released official checkpoint (or any checkpoint
//! `hrm info` reads) to this project's single-file safetensors format, config included.

use std::path::PathBuf;

use anyhow::Context;
use hrm::checkpoint::DType;
use hrm::Checkpoint;

#[derive(clap::Args)]
pub struct Args {
    /// The torch.save `checkpoint` file (its all_config.yaml beside it) or the directory holding both;
    /// a .safetensors checkpoint is accepted too (e.g. to narrow it with --f16)
    pub input: PathBuf,
    /// Where to write the .safetensors file
    #[arg(short, long)]
    pub output: PathBuf,
    /// Sequence length, for a RoPE model whose dataset the yaml's data_path does not name
    /// (sudoku → 81, maze-NxM → N·M, arc → 900 are recognised); for a rotary model already in this
    /// project's format, the grid to run it on (no weight depends on it: a maze model trained in an
    /// 11x11 grid, written for the page's 15x15 one, takes 225)
    #[arg(long)]
    pub seq_len: Option<usize>,
    /// Store float16 instead of float32: half the size, for shipping small models to the web page
    #[arg(long)]
    pub f16: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut ck = Checkpoint::open(&args.input, args.seq_len)
        .with_context(|| format!("reading {}", args.input.display()))?;
    if let Some(n) = args.seq_len.filter(|&n| n != ck.config.seq_len) {
        anyhow::ensure!(
            ck.config.pos_encodings.is_rotary(),
            "--seq-len {n}: the model's {:?} positions are weights for its seq_len {}",
            ck.config.pos_encodings,
            ck.config.seq_len
        );
        ck.config.seq_len = n;
        ck.config.validate().context("--seq-len")?;
    }
    let dtype = if args.f16 { DType::F16 } else { DType::F32 };
    ck.save(&args.output, dtype)?;
    // Read back what was written: the file must load on its own and hold the same model.
    let back = Checkpoint::open(&args.output, None).context("re-reading the converted file")?;
    anyhow::ensure!(back.config == ck.config, "the written config differs from the converted one");
    if dtype == DType::F32 {
        anyhow::ensure!(back.params == ck.params, "the written tensors differ from the converted ones");
    }
    let c = &ck.config;
    println!(
        "wrote {} ({dtype}, {} bytes): {} tensors, {} trainable parameters; hidden {}, H/L layers {}/{}, \
         vocab {}, seq_len {}, puzzle ids {}, {:?} positions{}",
        args.output.display(),
        std::fs::metadata(&args.output)?.len(),
        ck.params.len(),
        ck.parameter_count(),
        c.hidden_size,
        c.h_layers,
        c.l_layers,
        c.vocab_size,
        c.seq_len,
        c.num_puzzle_identifiers,
        c.pos_encodings,
        if c.attn_radius > 0 { format!(", local attention (radius {})", c.attn_radius) } else { String::new() }
    );
    Ok(())
}
