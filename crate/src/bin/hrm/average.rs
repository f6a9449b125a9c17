//! `hrm average A B [C…] -o OUT.safetensors`: the mean of checkpoints of one architecture, tensor by
//! tensor (`hrm::checkpoint::average`), with the last one's config.

use std::path::PathBuf;

use anyhow::Context;
use hrm::checkpoint::DType;
use hrm::Checkpoint;
use serde_json::Value;

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoints of one architecture (anything `hrm info` reads); the output takes the last one's
    /// config (e.g. its halt_max_steps)
    #[arg(required = true, num_args = 2..)]
    pub inputs: Vec<PathBuf>,
    /// Where to write the .safetensors file
    #[arg(short, long)]
    pub output: PathBuf,
    /// Store float16 instead of float32
    #[arg(long)]
    pub f16: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cks = args
        .inputs
        .iter()
        .map(|p| Checkpoint::open(p, None).with_context(|| format!("reading {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let names = || args.inputs.iter().enumerate().map(|(k, p)| format!("{}: {}", k + 1, p.display())).collect::<Vec<_>>().join(", ");
    let mean = hrm::checkpoint::average(&cks.iter().collect::<Vec<_>>()).with_context(|| format!("averaging {}", names()))?;
    // Settings that differ (halt_max_steps, say) are not averaged: say which, and whose the output keeps.
    let json = |ck: &Checkpoint| serde_json::from_str::<Value>(&ck.config.to_json_string()).expect("a config's own JSON");
    let configs: Vec<Value> = cks.iter().map(json).collect();
    let last = configs.last().expect("two or more inputs");
    for (key, value) in last.as_object().expect("a JSON object") {
        let values: Vec<String> = configs.iter().map(|c| c[key].to_string()).collect();
        if values.iter().any(|v| *v != value.to_string()) {
            println!("the configs differ in {key} ({}): the output keeps the last one's, {value}", values.join(", "));
        }
    }
    let dtype = if args.f16 { DType::F16 } else { DType::F32 };
    mean.save(&args.output, dtype)?;
    println!("wrote {} ({dtype}, {} bytes): the mean of {} checkpoints, {} trainable parameters", args.output.display(), std::fs::metadata(&args.output)?.len(), cks.len(), mean.parameter_count());
    Ok(())
}
