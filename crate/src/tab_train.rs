//! Training in the browser tab: the task and model-size presets the page offers, a seeded data
//! stream whose whole state is one counter, and a session that steps, evaluates on a fixed held-out
//! set, checkpoints and resumes exactly.
//!
//! Written against [`Backend`] with no wasm-bindgen in it, so it is tested natively; `wasm/train.rs`
//! is the thin wasm-bindgen surface the page's worker holds.
//!
//! Data: batch `n` of a run is drawn from a generator seeded by `(seed, n)` alone, so the data-stream
//! state stored in a checkpoint is just the number of batches drawn ([`SessionData::batches`]), and a
//! resumed run sees exactly the batches an uninterrupted one would have seen.

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::dataset::{ExampleStream, StreamSource};
use crate::model::{Batch, Hrm};
use crate::optim::AdamVariant;
use crate::puzzles::maze::MazeOptions;
use crate::puzzles::sudoku::Band;
use crate::synthetic::{SplitMix64, SyntheticConfig, SyntheticStream, Task as SynthTask};
use crate::train::{evaluate, EvalLog, StateFiles, StepLog, TrainConfig, TrainError, TrainState, Trainer};
use crate::{Checkpoint, Config, LossType, PosEncoding};

/// Everything a session can refuse, in words the page shows as they are.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("unknown training task `{0}` (expected one of: {list})", list = task_ids().join(", "))]
    UnknownTask(String),
    #[error("unknown model preset `{0}` (expected one of: {list})", list = PRESETS.iter().map(|p| p.id).collect::<Vec<_>>().join(", "))]
    UnknownPreset(String),
    #[error("training run: {0}")]
    Spec(String),
    #[error("generating training data: {0}")]
    Data(String),
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// A task the tab can train on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskKind {
    /// A synthetic sequence task (`hrm::synthetic`): fast, for a first run that really learns.
    Synthetic(SyntheticConfig),
    Sudoku(Band),
    Maze(MazeOptions),
}

/// One entry of the task menu.
#[derive(Debug, Clone, Serialize)]
pub struct TaskInfo {
    pub id: String,
    pub label: String,
    /// `synthetic`, `sudoku` or `maze` (which board a trained model can solve).
    pub family: &'static str,
    pub seq_len: usize,
    pub vocab_size: usize,
    /// Length of the lr schedule (and of the progress bar) for this task.
    pub total_steps: u64,
}

const SUDOKU_BANDS: [Band; 4] = [Band::Easy, Band::Medium, Band::Hard, Band::Extreme];
const MAZE_SIZES: [usize; 3] = [6, 8, 12];

/// Task ids in menu order; the first is the default (the one that reaches high accuracy fast).
pub fn task_ids() -> Vec<String> {
    let mut v = vec!["reverse".to_string(), "cumsum".to_string()];
    v.extend(MAZE_SIZES.iter().map(|n| format!("maze-{n}")));
    v.extend(SUDOKU_BANDS.iter().map(|b| format!("sudoku-{b}")));
    v
}

/// Parses a task id (`reverse`, `cumsum`, `maze-N`, `sudoku-BAND`).
pub fn parse_task(id: &str) -> Result<TaskKind, SessionError> {
    let unknown = || SessionError::UnknownTask(id.to_string());
    let synth = |t, min_len| SyntheticConfig::new(t, 8, 4, min_len).map(TaskKind::Synthetic).map_err(|e| SessionError::Spec(e.to_string()));
    match id {
        // Reverse 8 symbols of 4, every example full length: a random guess is exact with p = 4^-8.
        "reverse" => synth(SynthTask::Reverse, 8),
        // Running sum mod 4 over 4..=8 symbols (padded, so the loss mask is exercised).
        "cumsum" => synth(SynthTask::CumSum, 4),
        _ => {
            if let Some(n) = id.strip_prefix("maze-") {
                let n: usize = n.parse().map_err(|_| unknown())?;
                if !MAZE_SIZES.contains(&n) {
                    return Err(unknown());
                }
                // A shortest path of at least n moves: long enough that copying the input is not an answer.
                return Ok(TaskKind::Maze(MazeOptions::new(n, n)));
            }
            if let Some(b) = id.strip_prefix("sudoku-") {
                return b.parse::<Band>().map(TaskKind::Sudoku).map_err(|_| unknown());
            }
            Err(unknown())
        }
    }
}

impl TaskKind {
    fn seq_len(&self) -> usize {
        match self {
            TaskKind::Synthetic(c) => c.seq_len,
            TaskKind::Sudoku(_) => crate::puzzles::sudoku::SEQ_LEN,
            TaskKind::Maze(o) => o.size * o.size,
        }
    }
    fn vocab_size(&self) -> usize {
        match self {
            TaskKind::Synthetic(c) => c.vocab_size(),
            TaskKind::Sudoku(_) => crate::puzzles::sudoku::VOCAB_SIZE,
            TaskKind::Maze(_) => crate::puzzles::maze::VOCAB_SIZE,
        }
    }
    fn family(&self) -> &'static str {
        match self {
            TaskKind::Synthetic(_) => "synthetic",
            TaskKind::Sudoku(_) => "sudoku",
            TaskKind::Maze(_) => "maze",
        }
    }
    fn label(&self) -> String {
        match self {
            TaskKind::Synthetic(c) if c.task == SynthTask::Reverse => format!("Reverse {} symbols (fast)", c.seq_len),
            TaskKind::Synthetic(c) => format!("Running sum mod {} ({}–{} symbols)", c.num_symbols, c.min_len, c.seq_len),
            TaskKind::Sudoku(b) => format!("Sudoku ({b})"),
            TaskKind::Maze(o) => format!("Maze {n}×{n}", n = o.size),
        }
    }
    /// Grids (Sudoku, mazes) get 2-D rotary positions, which learn them several times faster than
    /// learned or 1-D ones (README, Trained models); the synthetic sequences keep learned positions.
    fn positions(&self) -> PosEncoding {
        match self {
            TaskKind::Synthetic(_) => PosEncoding::Learned,
            TaskKind::Sudoku(_) | TaskKind::Maze(_) => PosEncoding::Rope2d,
        }
    }
    /// How long a run is by default: enough for the small presets to get somewhere on this task.
    fn total_steps(&self) -> u64 {
        match self {
            TaskKind::Synthetic(c) if c.task == SynthTask::Reverse => 300,
            TaskKind::Synthetic(_) => 1000,
            TaskKind::Maze(o) => 250 * o.size as u64,
            TaskKind::Sudoku(_) => 5000,
        }
    }
    pub fn info(&self, id: &str) -> TaskInfo {
        TaskInfo { id: id.to_string(), label: self.label(), family: self.family(), seq_len: self.seq_len(), vocab_size: self.vocab_size(), total_steps: self.total_steps() }
    }
}

/// A model-size preset (official config names in the fields).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Preset {
    pub id: &'static str,
    pub label: &'static str,
    pub hidden_size: usize,
    pub num_heads: usize,
    pub h_layers: usize,
    pub l_layers: usize,
    pub h_cycles: usize,
    pub l_cycles: usize,
    pub halt_max_steps: usize,
    pub batch_size: usize,
    pub lr: f64,
}

/// The presets, smallest first; `tiny` is the default.
pub const PRESETS: [Preset; 3] = [
    Preset { id: "tiny", label: "tiny (hidden 32, 1+1 layers)", hidden_size: 32, num_heads: 2, h_layers: 1, l_layers: 1, h_cycles: 2, l_cycles: 2, halt_max_steps: 2, batch_size: 32, lr: 3e-3 },
    Preset { id: "small", label: "small (hidden 64, 1+1 layers)", hidden_size: 64, num_heads: 2, h_layers: 1, l_layers: 1, h_cycles: 2, l_cycles: 2, halt_max_steps: 4, batch_size: 32, lr: 3e-3 },
    Preset { id: "medium", label: "medium (hidden 128, 2+2 layers)", hidden_size: 128, num_heads: 4, h_layers: 2, l_layers: 2, h_cycles: 2, l_cycles: 2, halt_max_steps: 4, batch_size: 32, lr: 1e-3 },
];

pub fn parse_preset(id: &str) -> Result<Preset, SessionError> {
    PRESETS.iter().copied().find(|p| p.id == id).ok_or_else(|| SessionError::UnknownPreset(id.to_string()))
}

/// What the page offers: every task and preset.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub tasks: Vec<TaskInfo>,
    pub presets: Vec<Preset>,
}

pub fn catalog() -> Catalog {
    let tasks = task_ids().iter().map(|id| parse_task(id).expect("every listed id parses").info(id)).collect();
    Catalog { tasks, presets: PRESETS.to_vec() }
}

/// What the user chose: a run is fully determined by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub task: String,
    pub preset: String,
    pub seed: u64,
    /// Overrides the task's schedule length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_steps: Option<u64>,
    /// Held-out batches per evaluation.
    #[serde(default = "default_eval_batches")]
    pub eval_batches: usize,
    /// The model's positions. A new run takes its task's ([`TabSession::start`] fills it in and the
    /// checkpoint stores it); absent in a run saved before this field existed, which had learned ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positions: Option<PosEncoding>,
}

fn default_eval_batches() -> usize {
    2
}

impl RunSpec {
    pub fn new(task: &str, preset: &str, seed: u64) -> RunSpec {
        RunSpec { task: task.into(), preset: preset.into(), seed, total_steps: None, eval_batches: default_eval_batches(), positions: None }
    }

    /// The model config of this run.
    pub fn model_config(&self) -> Result<Config, SessionError> {
        let task = parse_task(&self.task)?;
        let p = parse_preset(&self.preset)?;
        let cfg = Config {
            batch_size: p.batch_size,
            seq_len: task.seq_len(),
            puzzle_emb_ndim: 0,
            num_puzzle_identifiers: 1,
            vocab_size: task.vocab_size(),
            h_cycles: p.h_cycles,
            l_cycles: p.l_cycles,
            h_layers: p.h_layers,
            l_layers: p.l_layers,
            hidden_size: p.hidden_size,
            expansion: 2.0,
            num_heads: p.num_heads,
            pos_encodings: self.positions.unwrap_or(PosEncoding::Learned),
            rms_norm_eps: 1e-5,
            rope_theta: 10000.0,
            halt_max_steps: p.halt_max_steps,
            halt_exploration_prob: 0.1,
            forward_dtype: "float32".into(),
            loss_type: LossType::StablemaxCrossEntropy,
            attn_radius: 0,
        };
        cfg.validate().map_err(|e| SessionError::Spec(e.to_string()))?;
        Ok(cfg)
    }

    /// The recipe of this run: the `hrm train` defaults for small models (lr from the preset, 20
    /// warm-up steps, cosine to 10 %, weight decay 0.01, AdamATan2).
    pub fn train_config(&self) -> Result<TrainConfig, SessionError> {
        let task = parse_task(&self.task)?;
        let p = parse_preset(&self.preset)?;
        let total_steps = self.total_steps.unwrap_or_else(|| task.total_steps());
        if total_steps == 0 {
            return Err(SessionError::Spec("total_steps must be at least 1".into()));
        }
        if self.eval_batches == 0 || self.eval_batches > 64 {
            return Err(SessionError::Spec(format!("eval_batches = {} must be in 1..=64", self.eval_batches)));
        }
        Ok(TrainConfig {
            lr: p.lr,
            lr_min_ratio: 0.1,
            lr_warmup_steps: 20,
            total_steps,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.95,
            puzzle_emb_lr: 1e-2,
            puzzle_emb_weight_decay: 0.1,
            optimizer: AdamVariant::Atan2,
            seed: self.seed,
            schedule_start: 0,
        })
    }
}

/// Mixes the run seed and a batch index into the seed of that batch's generator.
fn batch_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut r = SplitMix64::new(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
    r.state ^= index.wrapping_mul(0xE703_7ED1_A0B4_28DB);
    r.next_u64()
}

const TRAIN_STREAM: u64 = 1;
const EVAL_STREAM: u64 = 2;

/// Batch `index` of the stream `stream` of a run: a pure function of its arguments.
pub fn make_batch(task: &TaskKind, rows: usize, seed: u64, stream: u64, index: u64) -> Result<Batch, SessionError> {
    let s = batch_seed(seed, stream, index);
    match task {
        TaskKind::Synthetic(c) => {
            let mut gen = SyntheticStream::new(*c, s).map_err(|e| SessionError::Data(e.to_string()))?;
            Ok(gen.next_batch(rows).into())
        }
        TaskKind::Sudoku(band) => puzzle_batch(StreamSource::Sudoku { band: *band, augment: true }, rows, s),
        TaskKind::Maze(options) => puzzle_batch(StreamSource::Maze { options: *options, sides: (options.size, options.size), augment: true }, rows, s),
    }
}

fn puzzle_batch(source: StreamSource, rows: usize, seed: u64) -> Result<Batch, SessionError> {
    let b = ExampleStream::new(source, seed).next_batch(rows).map_err(|e| SessionError::Data(e.to_string()))?;
    Batch::new(b.batch_size, b.seq_len, b.inputs, b.labels, b.puzzle_identifiers).map_err(|e| SessionError::Data(e.to_string()))
}

/// What a checkpoint keeps in its `data` field: the run's spec and the data stream's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    pub spec: RunSpec,
    /// Training batches drawn so far (batch `n` is `make_batch(.., TRAIN_STREAM, n)`).
    pub batches: u64,
}

/// A training run in the tab.
pub struct TabSession<B: Backend + Clone> {
    spec: RunSpec,
    task: TaskKind,
    config: Config,
    trainer: Trainer<B>,
    batches: u64,
    held_out: Vec<Batch>,
}

impl<B: Backend + Clone> TabSession<B> {
    /// A fresh run: official-init weights from the run's seed.
    pub async fn start(backend: B, mut spec: RunSpec) -> Result<TabSession<B>, SessionError> {
        spec.positions = spec.positions.or(Some(parse_task(&spec.task)?.positions()));
        let config = spec.model_config()?;
        let tc = spec.train_config()?;
        let init = Checkpoint::init(config.clone(), spec.seed).map_err(TrainError::from)?;
        let model = Hrm::new(backend, &config, &init.params).map_err(TrainError::from)?;
        let trainer = Trainer::new(model, tc).await?;
        Self::assemble(spec, config, trainer, 0)
    }

    /// Continues the run a checkpoint ([`TabSession::checkpoint`]) holds, exactly where it stopped.
    pub async fn resume(backend: B, files: &StateFiles) -> Result<TabSession<B>, SessionError> {
        let (config, state) = TrainState::from_files(files)?;
        let data: SessionData = serde_json::from_value(state.meta.data.clone())
            .map_err(|e| SessionError::Spec(format!("the checkpoint's `data` is not an in-tab training run: {e}")))?;
        let expected = data.spec.model_config()?;
        if expected != config {
            return Err(SessionError::Spec(format!("the checkpoint's model config does not match its run ({} / {})", data.spec.task, data.spec.preset)));
        }
        let model = Hrm::new(backend, &config, &state.model).map_err(TrainError::from)?;
        let (trainer, _) = Trainer::resume(model, &state).await?;
        Self::assemble(data.spec, config, trainer, data.batches)
    }

    fn assemble(spec: RunSpec, config: Config, trainer: Trainer<B>, batches: u64) -> Result<TabSession<B>, SessionError> {
        let task = parse_task(&spec.task)?;
        let held_out = (0..spec.eval_batches as u64).map(|i| make_batch(&task, config.batch_size, spec.seed, EVAL_STREAM, i)).collect::<Result<Vec<_>, _>>()?;
        Ok(TabSession { spec, task, config, trainer, batches, held_out })
    }

    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }
    pub fn backend(&self) -> &B {
        self.trainer.model().backend()
    }
    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn task_info(&self) -> TaskInfo {
        self.task.info(&self.spec.task)
    }
    /// Optimizer steps taken.
    pub fn step_count(&self) -> u64 {
        self.trainer.step()
    }
    pub fn total_steps(&self) -> u64 {
        self.trainer.config().total_steps
    }
    pub fn parameter_count(&self) -> usize {
        crate::model::param_specs(&self.config).iter().map(|(_, s)| s.iter().product::<usize>()).sum()
    }

    /// One training step on the next batch of the stream.
    pub async fn step(&mut self) -> Result<StepLog, SessionError> {
        let batch = make_batch(&self.task, self.config.batch_size, self.spec.seed, TRAIN_STREAM, self.batches)?;
        let log = self.trainer.train_step(&batch).await?;
        self.batches += 1;
        Ok(log)
    }

    /// The official evaluation on the run's fixed held-out set (it does not touch the training carry).
    pub async fn evaluate(&mut self) -> Result<EvalLog, SessionError> {
        Ok(evaluate(self.trainer.model_mut(), &self.held_out).await?)
    }

    /// The three checkpoint blobs; [`TabSession::resume`] continues from them bit for bit.
    pub async fn checkpoint(&self) -> Result<StateFiles, SessionError> {
        let data = SessionData { spec: self.spec.clone(), batches: self.batches };
        let value = serde_json::to_value(&data).map_err(|e| SessionError::Spec(e.to_string()))?;
        let state = self.trainer.save_state(value).await;
        Ok(state.to_files(&self.config)?)
    }

    /// The weights as a normal checkpoint (`model.safetensors`, config in the metadata): the file
    /// the page exports and hands to the solver.
    pub async fn model_safetensors(&self) -> Result<Vec<u8>, SessionError> {
        let store = self.trainer.model().to_param_store().await;
        let ck = Checkpoint::new(self.config.clone(), store).map_err(TrainError::from)?;
        Ok(ck.to_safetensors(crate::checkpoint::DType::F32).map_err(TrainError::from)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        pollster::block_on(f)
    }

    #[test]
    fn every_listed_task_and_preset_makes_a_valid_run() {
        let c = catalog();
        assert_eq!(c.tasks[0].id, "reverse");
        assert_eq!(c.presets[0].id, "tiny");
        for t in &c.tasks {
            for p in &c.presets {
                let spec = RunSpec::new(&t.id, p.id, 0);
                let cfg = spec.model_config().unwrap();
                assert_eq!((cfg.seq_len, cfg.vocab_size), (t.seq_len, t.vocab_size), "{}", t.id);
                assert_eq!(spec.train_config().unwrap().total_steps, t.total_steps);
            }
        }
    }

    #[test]
    fn bad_choices_are_named() {
        let e = parse_task("maze-7").unwrap_err().to_string();
        assert!(e.contains("`maze-7`") && e.contains("maze-8"), "{e}");
        assert!(parse_task("sudoku-impossible").is_err());
        let e = parse_preset("huge").unwrap_err().to_string();
        assert!(e.contains("`huge`") && e.contains("tiny"), "{e}");
        let mut s = RunSpec::new("reverse", "tiny", 0);
        s.total_steps = Some(0);
        assert!(s.train_config().unwrap_err().to_string().contains("total_steps"));
    }

    #[test]
    fn batches_are_pure_functions_of_seed_and_index_and_valid_for_the_model() {
        for id in ["reverse", "cumsum", "maze-6", "sudoku-easy"] {
            let task = parse_task(id).unwrap();
            let cfg = RunSpec::new(id, "tiny", 3).model_config().unwrap();
            let a = make_batch(&task, 4, 3, TRAIN_STREAM, 5).unwrap();
            assert_eq!(a, make_batch(&task, 4, 3, TRAIN_STREAM, 5).unwrap(), "{id}");
            assert_ne!(a, make_batch(&task, 4, 3, TRAIN_STREAM, 6).unwrap(), "{id}");
            assert_ne!(a, make_batch(&task, 4, 3, EVAL_STREAM, 5).unwrap(), "{id}: held-out set = training batch");
            assert_eq!(a.rows, 4);
            let mut full = a.clone();
            full.rows = 4;
            let cfg4 = Config { batch_size: 4, ..cfg };
            full.validate(&cfg4).unwrap();
            assert!(a.labels.iter().any(|&l| l >= 0), "{id}: no counted label");
        }
    }

    fn short_spec() -> RunSpec {
        RunSpec { total_steps: Some(50), eval_batches: 1, ..RunSpec::new("reverse", "tiny", 11) }
    }

    #[test]
    fn a_checkpoint_resumes_to_the_same_next_steps() {
        let mut a = block_on(TabSession::start(CpuBackend, short_spec())).unwrap();
        for _ in 0..3 {
            block_on(a.step()).unwrap();
        }
        let files = block_on(a.checkpoint()).unwrap();
        let mut b = block_on(TabSession::resume(CpuBackend, &files)).unwrap();
        assert_eq!(b.step_count(), 3);
        assert_eq!(b.spec(), a.spec());
        for _ in 0..2 {
            let (la, lb) = (block_on(a.step()).unwrap(), block_on(b.step()).unwrap());
            assert_eq!(la, lb, "a resumed run diverged");
        }
        assert_eq!(block_on(a.model_safetensors()).unwrap(), block_on(b.model_safetensors()).unwrap());
        // The exported weights are a normal checkpoint with the run's config.
        let ck = Checkpoint::from_safetensors(&block_on(a.model_safetensors()).unwrap(), None).unwrap();
        assert_eq!(&ck.config, a.config());
        assert_eq!(ck.parameter_count(), a.parameter_count());
    }

    #[test]
    fn a_checkpoint_of_another_kind_is_refused_by_name() {
        let a = block_on(TabSession::start(CpuBackend, short_spec())).unwrap();
        let mut files = block_on(a.checkpoint()).unwrap();
        files.meta_json = files.meta_json.replace("\"spec\"", "\"not_spec\"");
        let e = block_on(TabSession::resume(CpuBackend, &files)).err().unwrap().to_string();
        assert!(e.contains("not an in-tab training run"), "{e}");
    }

    #[test]
    fn grid_runs_take_2d_positions_and_runs_saved_before_keep_learned_ones() {
        let run = |task: &str, positions| RunSpec { total_steps: Some(5), eval_batches: 1, positions, ..RunSpec::new(task, "tiny", 2) };
        for (task, want) in [("maze-6", PosEncoding::Rope2d), ("sudoku-easy", PosEncoding::Rope2d), ("reverse", PosEncoding::Learned)] {
            let s = block_on(TabSession::start(CpuBackend, run(task, None))).unwrap();
            assert_eq!((s.spec().positions, s.config().pos_encodings), (Some(want), want), "{task}");
        }
        // A maze run saved before `positions` existed: learned positions, no field in its files.
        let mut old = block_on(TabSession::start(CpuBackend, run("maze-6", Some(PosEncoding::Learned)))).unwrap();
        block_on(old.step()).unwrap();
        let mut files = block_on(old.checkpoint()).unwrap();
        let mut meta: serde_json::Value = serde_json::from_str(&files.meta_json).unwrap();
        let spec = meta["data"]["spec"].as_object_mut().unwrap();
        assert_eq!(spec.remove("positions"), Some(serde_json::json!("learned")));
        files.meta_json = meta.to_string();
        let mut back = block_on(TabSession::resume(CpuBackend, &files)).unwrap();
        assert_eq!((back.spec().positions, back.config().pos_encodings), (None, PosEncoding::Learned));
        assert_eq!(block_on(back.step()).unwrap(), block_on(old.step()).unwrap(), "the old run resumed elsewhere");
    }

    #[test]
    fn the_default_preset_learns_its_task() {
        // The default (reverse 8 of 4, tiny model): held-out exact accuracy from ~0 to >= 0.9.
        let spec = RunSpec { total_steps: Some(300), eval_batches: 2, ..RunSpec::new("reverse", "tiny", 0) };
        let mut s = block_on(TabSession::start(CpuBackend, spec)).unwrap();
        let before = block_on(s.evaluate()).unwrap();
        assert!(before.exact_accuracy < 0.05, "{before:?}");
        let mut reached = None;
        while s.step_count() < 300 {
            block_on(s.step()).unwrap();
            if s.step_count() % 25 == 0 {
                let ev = block_on(s.evaluate()).unwrap();
                if ev.exact_accuracy >= 0.9 {
                    reached = Some((s.step_count(), ev));
                    break;
                }
            }
        }
        let (step, ev) = reached.expect("the default in-tab preset stayed below 90 % exact for 300 steps");
        println!("reverse/tiny reached {:.3} exact at step {step}", ev.exact_accuracy);
        assert_eq!(ev.count, 64.0);
    }
}
