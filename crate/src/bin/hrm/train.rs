//! `hrm train`: the official training loop (`hrm::train`) on the built-in synthetic task, generated
//! Sudokus or mazes, or an official dataset folder ([`crate::source`]), with a progress bar, periodic
//! evaluation, a JSON-lines log, checkpoints and exact resume.
//!
//! A run directory holds:
//! - `model.safetensors`: the model (official names, config in the metadata) — `hrm info`/`hrm eval` read it;
//! - `train_state.safetensors`: optimizer moments and the ACT carry;
//! - `train_state.json`: step, configs, RNG states ([`TrainMeta`], with [`RunData`] as its `data`);
//! - `train.jsonl`: one JSON object per logged step (`"kind": "train"`) or evaluation (`"kind": "eval"`).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use hrm::backend::gpu::GpuBackend;
use hrm::backend::{Backend, CpuBackend};
use hrm::checkpoint;
use hrm::model::{Batch, Hrm};
use hrm::optim::AdamVariant;
use hrm::puzzle_eval::{evaluate_puzzles, EvalOptions};
use hrm::synthetic::{SyntheticConfig, Task};
use hrm::train::{evaluate, StateFiles, TrainConfig, TrainMeta, TrainState, Trainer};

use crate::source::{default_min_path, Position, Source, SourceSpec};
use hrm::{Checkpoint, Config, LossType, PosEncoding};
use serde::{Deserialize, Serialize};

/// The synthetic task's flags (shared with `hrm eval`).
#[derive(clap::Args, Debug, Clone)]
pub struct TaskArgs {
    /// reverse | sort | cumsum (running sum mod the number of symbols)
    #[arg(long, default_value = "reverse")]
    pub task: Task,
    /// Positions per example (the model's seq_len)
    #[arg(long, default_value_t = 8)]
    pub seq_len: usize,
    /// Number of symbols (vocabulary = symbols + 1 for PAD)
    #[arg(long, default_value_t = 4)]
    pub symbols: usize,
    /// Shortest example (shorter ones are PAD-filled, their labels ignored); default = seq_len
    #[arg(long)]
    pub min_len: Option<usize>,
}

impl TaskArgs {
    pub fn config(&self) -> anyhow::Result<SyntheticConfig> {
        Ok(SyntheticConfig::new(self.task, self.seq_len, self.symbols, self.min_len.unwrap_or(self.seq_len))?)
    }
}

/// Which data (shared with `hrm eval`).
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// synthetic (the --task flags) | sudoku (generated, --band) | maze (generated, --maze-size) | a
    /// dataset folder in the official format (train split for training, test split for evaluation)
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// Sudoku band: easy, medium, hard, extreme
    #[arg(long, default_value = "medium")]
    pub band: String,
    /// Maze side N (4..=30)
    #[arg(long, default_value_t = 15)]
    pub maze_size: usize,
    /// Mazes of every side from this one up to --maze-size, each walled into --maze-size (a
    /// curriculum: short paths first; the model also reads smaller drawn mazes)
    #[arg(long)]
    pub maze_min_size: Option<usize>,
    /// With --maze-min-size: the largest side drawn (default --maze-size). Small mazes in a large
    /// grid keep the grid's width, which the 1-D positions tie the learned geometry to, so a
    /// curriculum can grow the mazes without changing the grid
    #[arg(long, requires = "maze_min_size")]
    pub maze_max_side: Option<usize>,
    /// Shortest S-G path of generated mazes, in moves (default: Maze-Hard's 111 scaled to the area)
    #[arg(long)]
    pub min_path: Option<usize>,
    /// Fraction of inner maze walls knocked out (loops)
    #[arg(long, default_value_t = 0.05)]
    pub loops: f64,
    /// One random official augmentation per generated example (Sudoku relabelling/shuffles, maze dihedral)
    #[arg(long)]
    pub augment: bool,
    #[command(flatten)]
    pub task: TaskArgs,
}

impl DataArgs {
    pub fn spec(&self) -> anyhow::Result<SourceSpec> {
        Ok(match self.data.as_str() {
            "synthetic" => SourceSpec::Synthetic { task: self.task.config()? },
            "sudoku" => {
                crate::source::parse_band(&self.band)?;
                SourceSpec::Sudoku { band: self.band.clone(), augment: self.augment }
            }
            "maze" => SourceSpec::Maze {
                sides: match (self.maze_min_size, self.maze_max_side.unwrap_or(self.maze_size)) {
                    (Some(m), _) if m > self.maze_size || m < 4 => {
                        bail!("--maze-min-size {m} must be in 4..={} (the --maze-size)", self.maze_size)
                    }
                    (Some(m), hi) if hi < m || hi > self.maze_size => {
                        bail!("--maze-max-side {hi} must be in {m}..={} (--maze-min-size..=--maze-size)", self.maze_size)
                    }
                    (m, hi) => m.map(|m| (m, hi)),
                },
                size: self.maze_size,
                min_path: self.min_path.unwrap_or_else(|| default_min_path(self.maze_size)),
                loops: self.loops,
                augment: self.augment,
            },
            path => {
                let path = PathBuf::from(path);
                if !path.is_dir() {
                    bail!("--data: `{}` is not synthetic, sudoku, maze or a dataset folder", path.display());
                }
                SourceSpec::Folder { path }
            }
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,

    // ---- model (official names in brackets) ----
    /// [hidden_size]
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// [num_heads]
    #[arg(long, default_value_t = 2)]
    pub heads: usize,
    /// [expansion]
    #[arg(long, default_value_t = 2.0)]
    pub expansion: f64,
    /// [H_layers]
    #[arg(long, default_value_t = 1)]
    pub h_layers: usize,
    /// [L_layers]
    #[arg(long, default_value_t = 1)]
    pub l_layers: usize,
    /// [H_cycles]
    #[arg(long, default_value_t = 2)]
    pub h_cycles: usize,
    /// [L_cycles]
    #[arg(long, default_value_t = 2)]
    pub l_cycles: usize,
    /// [halt_max_steps]
    #[arg(long, default_value_t = 4)]
    pub halt_max_steps: usize,
    /// [halt_exploration_prob]
    #[arg(long, default_value_t = 0.1)]
    pub exploration: f64,
    /// [puzzle_emb_ndim] (0 = no puzzle embedding)
    #[arg(long, default_value_t = 0)]
    pub puzzle_emb_ndim: usize,
    /// [pos_encodings] rope | learned | rope2d (row and column, this project's extension for square grids)
    #[arg(long, default_value = "learned")]
    pub pos: String,
    /// [rope_theta] base of the rotary frequencies; a smaller base gives more pairs a wavelength
    /// short enough to tell a small grid's rows apart
    #[arg(long, default_value_t = 10000.0)]
    pub rope_theta: f64,
    /// [attn_radius] local attention (this project's extension for square grids): a cell attends only
    /// to cells at most this many rows and columns away; 0 = every position (official)
    #[arg(long, default_value_t = 0)]
    pub attn_radius: usize,

    // ---- recipe ----
    /// Global batch size [global_batch_size]
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Optimizer steps to reach (also the schedule's length); a resumed run continues up to it
    #[arg(long, default_value_t = 500)]
    pub steps: u64,
    /// [lr]
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    /// [lr_warmup_steps]
    #[arg(long, default_value_t = 20)]
    pub warmup: u64,
    /// [lr_min_ratio]
    #[arg(long, default_value_t = 0.1)]
    pub lr_min_ratio: f64,
    /// [weight_decay]
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// [beta1]
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f64,
    /// [beta2]
    #[arg(long, default_value_t = 0.95)]
    pub beta2: f64,
    /// [puzzle_emb_lr]
    #[arg(long, default_value_t = 1e-2)]
    pub puzzle_emb_lr: f64,
    /// [puzzle_emb_weight_decay]
    #[arg(long, default_value_t = 0.1)]
    pub puzzle_emb_weight_decay: f64,
    /// adam-atan2 (official) | adamw
    #[arg(long, default_value = "adam-atan2")]
    pub optimizer: String,
    /// [seed]: weights, exploration and data
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    // ---- run ----
    /// Evaluate every N steps (0 = only at the end) [default: 100; with --resume, the run's own]
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Held-out batches per evaluation (of --batch rows; a folder's whole test split with 0)
    #[arg(long, default_value_t = 4)]
    pub eval_batches: usize,
    /// Checkpoint every N steps (0 = only at the end) [default: 100; with --resume, the run's own]
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Write a log line every N steps
    #[arg(long, default_value_t = 1)]
    pub log_every: u64,
    /// Run directory (checkpoints and train.jsonl)
    #[arg(long, default_value = "runs/synthetic")]
    pub out: PathBuf,
    /// Continue the run in --out from its last checkpoint (model/task/recipe flags come from the run)
    #[arg(long)]
    pub resume: bool,
    /// With --resume: lengthen the run's schedule to --steps and train on to it (a finished run
    /// continued with its optimizer moments; the lr follows the longer cosine, so it rises again)
    #[arg(long, requires = "resume")]
    pub extend: bool,
    /// With --extend: restart the schedule instead, a fresh cosine from this lr (no warm-up: the
    /// moments are kept) down to lr * the run's lr_min_ratio at --steps
    #[arg(long, requires = "extend")]
    pub restart_lr: Option<f64>,
    /// Start from this checkpoint's weights and architecture instead of a fresh init (fine-tuning, e.g.
    /// on other data or a converted official checkpoint); optimizer state starts fresh. The model flags
    /// are ignored except the ACT ones (--halt-max-steps, --exploration), which this run sets.
    #[arg(long)]
    pub init_from: Option<PathBuf>,
    /// CPU threads (default: all)
    #[arg(long)]
    pub threads: Option<usize>,
    /// cpu (the reference) | gpu (WGSL through wgpu: Vulkan/Metal/DX12; same numbers within tolerance)
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Stop (after checkpointing) once this step is reached, as if interrupted; --resume continues
    #[arg(long)]
    pub stop_at: Option<u64>,
    /// Stop (after checkpointing) at the first step that ends past this many minutes of wall time, so
    /// that a run on a lent machine or a shared core ends whole; --resume continues
    #[arg(long, value_name = "MINUTES")]
    pub stop_after: Option<f64>,
    /// No progress bar (log lines still go to train.jsonl)
    #[arg(long)]
    pub quiet: bool,
}

/// What the CLI keeps in the training state's `data` field, next to the library's [`TrainMeta`].
#[derive(Serialize, Deserialize)]
pub struct RunData {
    pub source: SourceSpec,
    pub batch: usize,
    pub eval_batches: usize,
    pub seed: u64,
    /// Where the data source is.
    pub position: Position,
    /// The intervals, so that a resumed run keeps them (None in runs saved before they were kept:
    /// serde reads a missing Option field as None).
    pub eval_every: Option<u64>,
    pub checkpoint_every: Option<u64>,
}

impl RunData {
    /// The run description of a state's metadata.
    pub fn of(meta: &TrainMeta) -> anyhow::Result<RunData> {
        serde_json::from_value(meta.data.clone()).context("train_state.json: `data` is not an `hrm train` run description")
    }
}

pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(t) = threads {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new().num_threads(t).build_global().context("building the thread pool")?;
    }
    Ok(())
}

fn model_config(a: &Args, src: &Source) -> anyhow::Result<Config> {
    let pos_encodings = match a.pos.as_str() {
        "rope" => PosEncoding::Rope,
        "learned" => PosEncoding::Learned,
        "rope2d" => PosEncoding::Rope2d,
        other => bail!("--pos: `{other}` is none of rope, learned, rope2d"),
    };
    let cfg = Config {
        batch_size: a.batch,
        seq_len: src.seq_len(),
        puzzle_emb_ndim: a.puzzle_emb_ndim,
        num_puzzle_identifiers: src.num_puzzle_identifiers().max(1),
        vocab_size: src.vocab_size(),
        h_cycles: a.h_cycles,
        l_cycles: a.l_cycles,
        h_layers: a.h_layers,
        l_layers: a.l_layers,
        hidden_size: a.hidden,
        expansion: a.expansion,
        num_heads: a.heads,
        pos_encodings,
        rms_norm_eps: 1e-5,
        rope_theta: a.rope_theta,
        halt_max_steps: a.halt_max_steps,
        halt_exploration_prob: a.exploration,
        forward_dtype: "float32".into(),
        loss_type: LossType::StablemaxCrossEntropy,
        attn_radius: a.attn_radius,
    };
    cfg.validate()?;
    Ok(cfg)
}

fn train_config(a: &Args) -> anyhow::Result<TrainConfig> {
    let optimizer = match a.optimizer.as_str() {
        "adam-atan2" => AdamVariant::Atan2,
        "adamw" => AdamVariant::AdamW { eps: 1e-8 },
        other => bail!("--optimizer: `{other}` is neither adam-atan2 nor adamw"),
    };
    let c = TrainConfig {
        lr: a.lr,
        lr_min_ratio: a.lr_min_ratio,
        lr_warmup_steps: a.warmup,
        total_steps: a.steps,
        weight_decay: a.weight_decay,
        beta1: a.beta1,
        beta2: a.beta2,
        puzzle_emb_lr: a.puzzle_emb_lr,
        puzzle_emb_weight_decay: a.puzzle_emb_weight_decay,
        optimizer,
        seed: a.seed,
        schedule_start: 0,
    };
    c.validate()?;
    Ok(c)
}

/// Writes `bytes` to `path` through a temporary file, so an interruption never leaves a torn file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

const MODEL_FILE: &str = "model.safetensors";
const STATE_FILE: &str = "train_state.safetensors";
const META_FILE: &str = "train_state.json";

/// Saves the run's three files (each atomically; `TrainState::from_files` detects a save torn between them).
fn save_run(dir: &Path, cfg: &Config, state: &TrainState) -> anyhow::Result<()> {
    let files = state.to_files(cfg)?;
    write_atomic(&dir.join(MODEL_FILE), &files.model)?;
    write_atomic(&dir.join(STATE_FILE), &files.state)?;
    write_atomic(&dir.join(META_FILE), files.meta_json.as_bytes())
}

/// Reads a run directory back: (model config, training state).
fn load_run(dir: &Path) -> anyhow::Result<(Config, TrainState)> {
    if !dir.join(MODEL_FILE).exists() {
        bail!("--resume: {} holds no saved run (no {MODEL_FILE}); leave out --resume to start one there", dir.display());
    }
    let files = StateFiles {
        model: checkpoint::read_file(&dir.join(MODEL_FILE))?,
        state: checkpoint::read_file(&dir.join(STATE_FILE))?,
        meta_json: std::fs::read_to_string(dir.join(META_FILE)).with_context(|| format!("reading {}", dir.join(META_FILE).display()))?,
    };
    TrainState::from_files(&files).with_context(|| format!("reading the run in {}", dir.display()))
}

/// Drops the log lines of steps after `step` (written after the checkpoint a resumed run starts from,
/// and about to be redone), so the log has each step once.
fn truncate_log(path: &Path, step: u64) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let keep: String = text
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).ok().and_then(|v| v["step"].as_u64()).is_some_and(|s| s <= step))
        .map(|l| format!("{l}\n"))
        .collect();
    write_atomic(path, keep.as_bytes())
}

/// The backend named by `--backend` (no GPU adapter is an error that says so; the CPU always works).
pub fn with_backend<R>(name: &str, cpu: impl FnOnce(CpuBackend) -> R, gpu: impl FnOnce(GpuBackend) -> R) -> anyhow::Result<R> {
    match name {
        "cpu" => Ok(cpu(CpuBackend)),
        "gpu" => {
            let be = GpuBackend::new_blocking().context("--backend gpu: no usable GPU adapter (use --backend cpu)")?;
            eprintln!("GPU: {}", be.context().info());
            Ok(gpu(be))
        }
        other => bail!("--backend: `{other}` is neither cpu nor gpu"),
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if let Some(m) = a.stop_after {
        anyhow::ensure!(m.is_finite() && m >= 0.0, "--stop-after takes minutes, 0 or more (got {m})");
    }
    set_threads(a.threads)?;
    with_backend(&a.backend, |be| run_on(&a, be), |be| run_on(&a, be))?
}

fn run_on<B: Backend + Clone>(a: &Args, be: B) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    const EVERY: u64 = 100;
    let (cfg, mut trainer, mut source, batch, eval_batches, seed, eval_every, checkpoint_every) = if a.resume {
        let (cfg, state) = load_run(&a.out)?;
        let run = RunData::of(&state.meta)?;
        let model = Hrm::new(be.clone(), &cfg, &state.model)?;
        let (mut trainer, _) = pollster::block_on(Trainer::resume(model, &state))?;
        if a.extend {
            match a.restart_lr {
                None => trainer.extend_schedule(a.steps).map_err(|e| anyhow::anyhow!("--extend: {e}"))?,
                Some(lr) => trainer.restart_schedule(a.steps, lr).map_err(|e| anyhow::anyhow!("--restart-lr: {e}"))?,
            }
        }
        let mut source = Source::open(run.source.clone(), run.seed)?;
        source.restore(run.position, run.seed, run.batch)?;
        eprintln!("resuming {} at step {}", a.out.display(), trainer.step());
        let every = |flag: Option<u64>, kept: Option<u64>| flag.or(kept).unwrap_or(EVERY);
        (cfg, trainer, source, run.batch, run.eval_batches, run.seed, every(a.eval_every, run.eval_every), every(a.checkpoint_every, run.checkpoint_every))
    } else {
        let source = Source::open(a.data.spec()?, a.seed)?;
        let (cfg, init) = match &a.init_from {
            None => {
                let cfg = model_config(&a, &source)?;
                let init = Checkpoint::init(cfg.clone(), a.seed)?;
                (cfg, init)
            }
            Some(path) => {
                let ck = Checkpoint::open(path, None).with_context(|| format!("--init-from {}", path.display()))?;
                let mut cfg = ck.config.clone();
                // With RoPE no weight depends on the sequence length, so a model can move to another
                // grid size (a curriculum over maze sides); learned positions and the vocabulary cannot.
                let seq_ok = cfg.seq_len == source.seq_len() || cfg.pos_encodings.is_rotary();
                if !seq_ok || cfg.vocab_size != source.vocab_size() {
                    bail!(
                        "--init-from: the checkpoint has seq_len {} and vocab {} ({:?} positions), the data {} and {}",
                        cfg.seq_len,
                        cfg.vocab_size,
                        cfg.pos_encodings,
                        source.seq_len(),
                        source.vocab_size()
                    );
                }
                cfg.seq_len = source.seq_len();
                (cfg.batch_size, cfg.halt_max_steps, cfg.halt_exploration_prob) = (a.batch, a.halt_max_steps, a.exploration);
                cfg.validate()?;
                (cfg, ck)
            }
        };
        let model = Hrm::new(be.clone(), &cfg, &init.params)?;
        let trainer = pollster::block_on(Trainer::new(model, train_config(&a)?))?;
        (cfg, trainer, source, a.batch, a.eval_batches, a.seed, a.eval_every.unwrap_or(EVERY), a.checkpoint_every.unwrap_or(EVERY))
    };
    let total = trainer.config().total_steps;
    let held_out: Vec<Batch> = source.held_out(seed, eval_batches * batch, batch)?;
    let kind = source.kind();

    let log_path = a.out.join("train.jsonl");
    if a.resume {
        truncate_log(&log_path, trainer.step())?;
    }
    let mut log = OpenOptions::new().create(true).append(true).open(&log_path).with_context(|| format!("opening {}", log_path.display()))?;
    let bar = if a.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(total) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
            .expect("a valid template"),
    );
    bar.set_position(trainer.step());
    if a.resume && a.steps != total {
        eprintln!("continuing to step {total} (the run's own schedule; --steps is not used on resume without --extend)");
    }

    let save = |trainer: &Trainer<B>, source: &Source| -> anyhow::Result<()> {
        let data = RunData {
            source: source.spec.clone(),
            batch,
            eval_batches,
            seed,
            position: source.position(),
            eval_every: Some(eval_every),
            checkpoint_every: Some(checkpoint_every),
        };
        let state = pollster::block_on(trainer.save_state(serde_json::to_value(data)?));
        save_run(&a.out, &cfg, &state)
    };
    let started = Instant::now();
    let mut window = Instant::now();
    let mut window_steps = 0u64;
    let stop = a.stop_at.unwrap_or(total).min(total);
    let out_of_time = || a.stop_after.is_some_and(|m| started.elapsed().as_secs_f64() >= m * 60.0);
    while trainer.step() < stop {
        let t0 = Instant::now();
        let needed = trainer.rows_taking_new_data().map(<[bool]>::to_vec);
        let next = source.train_batch(trainer.step() + 1, seed, batch, needed.as_deref())?;
        let mut line = pollster::block_on(trainer.train_step(&next))?;
        window_steps += 1;
        let step = line.step;
        if step % a.log_every.max(1) == 0 || step == total {
            line.steps_per_s = Some(window_steps as f64 / window.elapsed().as_secs_f64());
            window = Instant::now();
            window_steps = 0;
            let mut v = serde_json::to_value(line)?;
            v["kind"] = "train".into();
            v["elapsed_s"] = started.elapsed().as_secs_f64().into();
            writeln!(log, "{v}")?;
        }
        bar.set_message(format!("loss {:.4}  exact {:.3}  ({:.0} ms/step)", line.loss, line.exact_accuracy, t0.elapsed().as_secs_f64() * 1e3));
        bar.set_position(step);
        if (eval_every > 0 && step % eval_every == 0) || step == total {
            // Puzzles: exact / cell / valid-solution accuracy of the answers; synthetic: the official metrics.
            let mut v = match kind {
                Some(kind) => {
                    let segments = trainer.model().config().halt_max_steps;
                    let r = pollster::block_on(evaluate_puzzles(trainer.model_mut(), &held_out, kind, EvalOptions { segments, act: false, tries: 1 }))?;
                    let s = r.final_score;
                    serde_json::json!({"exact_accuracy": s.exact_accuracy(), "accuracy": s.cell_accuracy(), "valid_accuracy": s.valid_accuracy(),
                        "steps": r.mean_steps(), "count": s.count})
                }
                None => serde_json::to_value(pollster::block_on(evaluate(trainer.model_mut(), &held_out))?)?,
            };
            v["kind"] = "eval".into();
            v["step"] = step.into();
            v["elapsed_s"] = started.elapsed().as_secs_f64().into();
            writeln!(log, "{v}")?;
            let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            bar.println(format!("step {step}: eval exact {:.4}  token acc {:.4}  mean ACT steps {:.2}", f("exact_accuracy"), f("accuracy"), f("steps")));
        }
        let timed_out = out_of_time();
        if (checkpoint_every > 0 && step % checkpoint_every == 0) || step == stop || timed_out {
            save(&trainer, &source)?;
        }
        if timed_out {
            // suspend, not println: a --quiet (hidden) bar would swallow the line.
            bar.suspend(|| eprintln!("stopped at step {step}: --stop-after {} min reached; --resume continues", a.stop_after.unwrap_or(0.0)));
            break;
        }
    }
    bar.finish();
    eprintln!("done: {} steps; run in {}", trainer.step(), a.out.display());
    Ok(())
}
