//! `hrm eval`: the official evaluation (`hrm::train::evaluate`) of a checkpoint on the synthetic task.

use std::path::PathBuf;

use anyhow::{bail, Context};
use hrm::backend::CpuBackend;
use hrm::model::{Batch, Hrm};
use hrm::synthetic::eval_set;
use hrm::train::evaluate;
use hrm::Checkpoint;

use hrm::train::TrainMeta;

use crate::train::{set_threads, RunData, TaskArgs};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory of `hrm train` (task taken from its train_state.json) or a checkpoint file
    pub checkpoint: PathBuf,
    /// The task, for a checkpoint without a run directory (ignored for a run directory unless
    /// --override-task)
    #[command(flatten)]
    pub task: TaskArgs,
    /// Use the task flags even for a run directory
    #[arg(long)]
    pub override_task: bool,
    /// Batches to evaluate
    #[arg(long, default_value_t = 16)]
    pub batches: usize,
    /// Rows per batch
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Held-out set seed (default: the run's seed, i.e. the set `hrm train` evaluated on)
    #[arg(long)]
    pub seed: Option<u64>,
    /// ACT segments at evaluation (test-time scaling; default: the model's halt_max_steps)
    #[arg(long)]
    pub halt_max_steps: Option<usize>,
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    set_threads(a.threads)?;
    if a.batches == 0 || a.batch == 0 {
        bail!("--batches and --batch must be at least 1");
    }
    let run_json = a.checkpoint.join("train_state.json");
    let run: Option<RunData> = if a.checkpoint.is_dir() && run_json.is_file() {
        let text = std::fs::read_to_string(&run_json).with_context(|| format!("reading {}", run_json.display()))?;
        let meta: TrainMeta = serde_json::from_str(&text).with_context(|| format!("parsing {}", run_json.display()))?;
        Some(RunData::of(&meta)?)
    } else {
        None
    };
    let task = match (&run, a.override_task) {
        (Some(r), false) => r.task,
        _ => a.task.config()?,
    };
    let ck = Checkpoint::open(&a.checkpoint, None).with_context(|| format!("reading {}", a.checkpoint.display()))?;
    let mut cfg = ck.config.clone();
    if cfg.seq_len != task.seq_len || cfg.vocab_size != task.vocab_size() {
        bail!(
            "the model has seq_len {} and vocab {}, the task seq_len {} and vocab {}",
            cfg.seq_len,
            cfg.vocab_size,
            task.seq_len,
            task.vocab_size()
        );
    }
    if let Some(h) = a.halt_max_steps {
        if h == 0 {
            bail!("--halt-max-steps must be at least 1");
        }
        cfg.halt_max_steps = h;
    }
    let seed = a.seed.or(run.as_ref().map(|r| r.seed)).unwrap_or(0);
    let mut model = Hrm::new(CpuBackend, &cfg, &ck.params)?;
    let batches: Vec<Batch> = eval_set(&task, seed, a.batches, a.batch).into_iter().map(Batch::from).collect();
    let t = std::time::Instant::now();
    let ev = pollster::block_on(evaluate(&mut model, &batches))?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} on {} examples ({} task, seq_len {}, {} symbols, seed {seed}), {} segments each:",
        a.checkpoint.display(),
        ev.count,
        task.task,
        task.seq_len,
        task.num_symbols,
        cfg.halt_max_steps
    );
    println!("  exact accuracy {:.4}  token accuracy {:.4}  q_halt accuracy {:.4}  mean steps {:.2}", ev.exact_accuracy, ev.accuracy, ev.q_halt_accuracy, ev.steps);
    println!("  {} segments in {secs:.2} s ({:.1} ms/segment)", ev.segments, secs * 1e3 / ev.segments.max(1) as f64);
    println!("{}", serde_json::to_string(&ev)?);
    Ok(())
}
