//! `hrm eval`: how well a checkpoint solves a set — generated Sudokus per band, generated mazes, a
//! dataset folder's test split, or the synthetic task — as exact, cell and valid-solution accuracy
//! and mean ACT steps ([`hrm::puzzle_eval`]), with the number of segments and ACT at evaluation as
//! options (test-time scaling). The synthetic task reports the official `evaluate` metrics.

use std::path::PathBuf;

use anyhow::{bail, Context};
use hrm::backend::Backend;
use hrm::model::Hrm;
use hrm::puzzle_eval::{evaluate_puzzles, EvalOptions};
use hrm::puzzles::metrics::Accuracy;
use hrm::train::{evaluate, TrainMeta};
use hrm::{Checkpoint, Config};
use serde_json::{json, Value};

use crate::source::{Source, SourceSpec};
use crate::train::{set_threads, with_backend, DataArgs, RunData};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory of `hrm train` (its data source is the default) or a checkpoint file
    pub checkpoint: PathBuf,
    /// The data; for a run directory, used only with --override-data
    #[command(flatten)]
    pub data: DataArgs,
    /// Use the data flags even for a run directory
    #[arg(long)]
    pub override_data: bool,
    /// Sudoku: evaluate each of these bands (comma-separated), e.g. easy,medium,hard,extreme
    #[arg(long, value_delimiter = ',')]
    pub bands: Vec<String>,
    /// Mazes: evaluate each of these sides (comma-separated), each walled into --maze-size
    #[arg(long, value_delimiter = ',')]
    pub maze_sides: Vec<usize>,
    /// Examples per set (generated sources; a folder's test split is cut to this many; 0 = all of it)
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Rows per batch
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Held-out seed (default: the run's seed, i.e. the set `hrm train` evaluated on)
    #[arg(long)]
    pub seed: Option<u64>,
    /// ACT segments at evaluation (test-time scaling; default: the model's halt_max_steps). Without
    /// --act, the run also reports every shorter run, with and without ACT (`by_segment`,
    /// `act_by_segment` in its JSON line): one pass gives the whole test-time-scaling curve
    #[arg(long)]
    pub segments: Option<usize>,
    /// Stop each puzzle where the Q-head says halt (ACT at evaluation; the official eval never does)
    #[arg(long)]
    pub act: bool,
    /// Puzzles: run each as this many copies, the others under symmetries (Sudoku augmentations,
    /// maze rotations/reflections, at most 8), and answer with the first copy whose answer passes
    /// the rules check (never the label), else the unaugmented one's. Costs `tries` times the compute
    #[arg(long, default_value_t = 1)]
    pub tries: usize,
    #[arg(long)]
    pub threads: Option<usize>,
    /// cpu | gpu
    #[arg(long, default_value = "cpu")]
    pub backend: String,
}

fn run_data(path: &std::path::Path) -> anyhow::Result<Option<RunData>> {
    let run_json = path.join("train_state.json");
    if !(path.is_dir() && run_json.is_file()) {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&run_json).with_context(|| format!("reading {}", run_json.display()))?;
    let meta: TrainMeta = serde_json::from_str(&text).with_context(|| format!("parsing {}", run_json.display()))?;
    Ok(Some(RunData::of(&meta)?))
}

pub fn run(a: Args) -> anyhow::Result<()> {
    set_threads(a.threads)?;
    with_backend(&a.backend, |be| run_on(&a, be), |be| run_on(&a, be))?
}

fn run_on<B: Backend + Clone>(a: &Args, be: B) -> anyhow::Result<()> {
    if a.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let run = run_data(&a.checkpoint)?;
    let spec = match (&run, a.override_data) {
        (Some(r), false) => r.source.clone(),
        _ => a.data.spec()?,
    };
    let seed = a.seed.or(run.as_ref().map(|r| r.seed)).unwrap_or(0);
    let ck = Checkpoint::open(&a.checkpoint, None).with_context(|| format!("reading {}", a.checkpoint.display()))?;
    let cfg = ck.config.clone();
    let segments = a.segments.unwrap_or(cfg.halt_max_steps);
    if segments == 0 {
        bail!("--segments must be at least 1");
    }
    let mut model = Hrm::new(be.clone(), &cfg, &ck.params)?;

    // One set per requested band for Sudoku, else the one set.
    let specs: Vec<SourceSpec> = match (&spec, a.bands.is_empty()) {
        (SourceSpec::Sudoku { augment, .. }, false) => a.bands.iter().map(|b| SourceSpec::Sudoku { band: b.clone(), augment: *augment }).collect(),
        (_, false) => bail!("--bands is for Sudoku data"),
        _ if a.maze_sides.is_empty() => vec![spec],
        (SourceSpec::Maze { size, min_path, loops, augment, .. }, _) => a
            .maze_sides
            .iter()
            // a side equal to the grid is the plain set (no walls added)
            .map(|&s| SourceSpec::Maze { size: *size, min_path: *min_path, loops: *loops, augment: *augment, sides: (s != *size).then_some((s, s)) })
            .collect(),
        _ => bail!("--maze-sides is for maze data"),
    };
    let tries = if a.tries > 1 { format!(", {} tries checked by the rules", a.tries) } else { String::new() };
    println!("{}: {} segments{}{tries}, seed {seed}", a.checkpoint.display(), segments, if a.act { ", ACT at evaluation" } else { "" });
    for spec in specs {
        let source = Source::open(spec.clone(), seed)?;
        if (cfg.seq_len != source.seq_len() && !cfg.pos_encodings.is_rotary()) || cfg.vocab_size != source.vocab_size() {
            bail!("the model has seq_len {} and vocab {} ({:?} positions), the data seq_len {} and vocab {}", cfg.seq_len, cfg.vocab_size, cfg.pos_encodings, source.seq_len(), source.vocab_size());
        }
        if model.config().seq_len != source.seq_len() {
            // Rotary positions have no weights tied to the length: the same weights read the other grid.
            let cfg = Config { seq_len: source.seq_len(), ..cfg.clone() };
            cfg.validate().with_context(|| format!("running the model on {}", set_name(&spec)))?;
            model = Hrm::new(be.clone(), &cfg, &ck.params)?;
        }
        if cfg.seq_len != source.seq_len() {
            println!("  (the model was trained on {} tokens; this set has {})", cfg.seq_len, source.seq_len());
        }
        let batches = source.held_out(seed, a.count, a.batch)?;
        let t = std::time::Instant::now();
        let name = set_name(&spec);
        match source.kind() {
            Some(kind) => {
                let r = pollster::block_on(evaluate_puzzles(&mut model, &batches, kind, EvalOptions { segments, act: a.act, tries: a.tries }))?;
                let s = r.final_score;
                println!(
                    "  {name:<24} n {:>5}  exact {:.4}  cell {:.4}  valid {:.4}  mean steps {:.2}  ({:.1} s)",
                    s.count,
                    s.exact_accuracy(),
                    s.cell_accuracy(),
                    s.valid_accuracy(),
                    r.mean_steps(),
                    t.elapsed().as_secs_f64()
                );
                // Without ACT the same pass also scored every shorter run, with and without ACT.
                for (curve, what) in [(&r.by_segment, "exact after each segment"), (&r.act_by_segment, "exact with ACT, at most k")] {
                    if !curve.is_empty() {
                        let c: Vec<String> = curve.iter().map(|acc| format!("{:.3}", acc.exact_accuracy())).collect();
                        println!("  {:<24} {what}: {}", "", c.join(" "));
                    }
                }
                let scores = |curve: &[Accuracy]| -> Vec<Value> {
                    curve.iter().map(|acc| json!({"exact": acc.exact_accuracy(), "cell": acc.cell_accuracy(), "valid": acc.valid_accuracy()})).collect()
                };
                let line = json!({"set": name, "count": s.count, "exact_accuracy": s.exact_accuracy(), "cell_accuracy": s.cell_accuracy(),
                    "valid_accuracy": s.valid_accuracy(), "mean_steps": r.mean_steps(), "segments": segments, "act": a.act, "tries": a.tries,
                    "by_segment": scores(&r.by_segment), "act_by_segment": scores(&r.act_by_segment)});
                println!("{line}");
            }
            None if a.tries > 1 => bail!("--tries is for Sudoku and maze data (their symmetries and rules check)"),
            None => {
                model.set_halt_max_steps(segments);
                let ev = pollster::block_on(evaluate(&mut model, &batches))?;
                println!("  {name:<24} n {:>5}  exact {:.4}  token accuracy {:.4}  mean steps {:.2}", ev.count, ev.exact_accuracy, ev.accuracy, ev.steps);
                println!("{}", serde_json::to_string(&ev)?);
            }
        }
    }
    Ok(())
}

fn set_name(spec: &SourceSpec) -> String {
    match spec {
        SourceSpec::Synthetic { task } => format!("{} (seq {}, {} symbols)", task.task, task.seq_len, task.num_symbols),
        SourceSpec::Sudoku { band, .. } => format!("sudoku {band}"),
        SourceSpec::Maze { size, min_path, sides: Some((lo, hi)), .. } if lo == hi => {
            format!("maze {lo}x{lo} in {size}x{size} (path >= {})", hrm::puzzles::maze::scaled_min_path(*min_path, *lo, *size))
        }
        SourceSpec::Maze { size, min_path, sides: Some((lo, hi)), .. } => {
            format!("mazes {lo}x{lo}..{hi}x{hi} in {size}x{size} (path >= {min_path} at full size)")
        }
        SourceSpec::Maze { size, min_path, .. } => format!("maze {size}x{size} (path >= {min_path})"),
        SourceSpec::Folder { path } => format!("{} test", path.display()),
    }
}
