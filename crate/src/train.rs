//! The official training loop (HRM_SPEC.md §7) and evaluation (§8), shared by the CLI and the page.
//!
//! - [`Trainer::train_step`] is one official `train_batch`: the carry persists across steps, every row
//!   runs one ACT segment, halted rows take the new batch's example, the model leaves the gradient of
//!   `loss / global_batch_size` (the batch holds the whole global batch here), then SignSGD steps the
//!   puzzle-embedding rows and Adam(ATan2) every parameter, both at the scheduled learning rate of the
//!   1-based step (the official loop increments its counter first).
//! - [`evaluate`] is the official `evaluate`: a fresh carry per batch, `halt_max_steps` eval segments,
//!   the metrics of the final segment summed over batches and divided by `count`.
//! - [`Trainer::save_state`] / [`Trainer::resume`] capture everything the next step depends on (weights,
//!   optimizer moments and step counts, the ACT carry with its current examples, the exploration RNG and
//!   an opaque value for the caller's data stream), so a resumed run continues bit for bit.
//!
//! No threads, clocks or files here (none exist in wasm32): the caller times steps and stores states.
//! The optimizers are backend ops ([`Backend::adam_update`], [`Backend::sign_sgd_rows`]): weights and
//! Adam moments stay on the device, and a training step reads back only what the segment itself reads
//! (Q logits and per-row loss statistics). The moments come to the host only in [`Trainer::save_state`].

use serde::{Deserialize, Serialize};

use crate::backend::{AdamStep, Backend};
use crate::model::{param_specs, Batch, Carry, Hrm, Metrics, ModelError, SplitMix64, PREFIX};
use crate::optim::{Adam, AdamAtan2Coeffs, AdamConfig, AdamVariant, AdamWCoeffs, LrSchedule, Moments, OptimError, SignSgd};
use crate::checkpoint::{self, CheckpointError, DType};
use crate::tensor::{HostTensor, ParamStore};
use crate::{Checkpoint, Config};

/// Everything the training loop can refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Optim(#[from] OptimError),
    #[error("training config: `{field}` {problem}")]
    Config { field: &'static str, problem: String },
    #[error("training state: {0}")]
    State(String),
    #[error("evaluation: {0}")]
    Eval(String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// The official recipe's knobs (`config/cfg_pretrain.yaml` names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub lr: f64,
    pub lr_min_ratio: f64,
    pub lr_warmup_steps: u64,
    /// Length of the schedule (the official `total_steps`).
    pub total_steps: u64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub puzzle_emb_lr: f64,
    pub puzzle_emb_weight_decay: f64,
    /// AdamATan2 (official) or AdamW.
    pub optimizer: AdamVariant,
    /// Seeds the halting-exploration draws.
    pub seed: u64,
    /// The step after which the schedule (warm-up, then cosine to `total_steps`) begins: 0 for a
    /// run's own schedule, the restart step for a run continued with [`Trainer::restart_schedule`].
    #[serde(default)]
    pub schedule_start: u64,
}

impl TrainConfig {
    /// `cfg_pretrain.yaml`: lr 1e-4, lr_min_ratio 1.0, 2000 warm-up steps, weight decay 0.1, betas
    /// 0.9/0.95, puzzle_emb_lr 1e-2, puzzle_emb_weight_decay 0.1, AdamATan2.
    pub fn official(total_steps: u64) -> TrainConfig {
        TrainConfig {
            lr: 1e-4,
            lr_min_ratio: 1.0,
            lr_warmup_steps: 2000,
            total_steps,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            puzzle_emb_lr: 1e-2,
            puzzle_emb_weight_decay: 0.1,
            optimizer: AdamVariant::Atan2,
            seed: 0,
            schedule_start: 0,
        }
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |field, problem: String| Err(TrainError::Config { field, problem });
        for (field, v) in [("lr", self.lr), ("puzzle_emb_lr", self.puzzle_emb_lr), ("weight_decay", self.weight_decay), ("puzzle_emb_weight_decay", self.puzzle_emb_weight_decay)] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(field, format!("= {v} must be a finite number >= 0"));
            }
        }
        if !(0.0..=1.0).contains(&self.lr_min_ratio) {
            return bad("lr_min_ratio", format!("= {} must be in [0, 1]", self.lr_min_ratio));
        }
        if self.total_steps == 0 {
            return bad("total_steps", "must be at least 1".into());
        }
        Ok(())
    }

    /// The schedule in its own step count: optimizer step `s` of the run is the schedule's step
    /// `s - schedule_start` (see [`TrainConfig::lr_at`]).
    pub fn schedule(&self, base_lr: f64) -> LrSchedule {
        let total_steps = self.total_steps.saturating_sub(self.schedule_start);
        LrSchedule { base_lr, warmup_steps: self.lr_warmup_steps, total_steps, min_ratio: self.lr_min_ratio }
    }

    /// The learning rate of the run's optimizer step `step` (1-based) for a schedule peaking at `base_lr`.
    pub fn lr_at(&self, base_lr: f64, step: u64) -> f64 {
        self.schedule(base_lr).lr(step.saturating_sub(self.schedule_start))
    }

    fn adam(&self) -> AdamConfig {
        AdamConfig { variant: self.optimizer, beta1: self.beta1, beta2: self.beta2, weight_decay: self.weight_decay }
    }
}

/// One line of the training log (JSON lines). Losses are divided by the global batch size and the
/// other metrics by `max(count, 1)`, as the official `train_batch` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    pub step: u64,
    pub lr: f64,
    /// `(lm_loss + 0.5 (q_halt_loss + q_continue_loss)) / global_batch_size`: what is back-propagated.
    pub loss: f64,
    pub lm_loss: f64,
    pub q_halt_loss: f64,
    pub q_continue_loss: f64,
    pub accuracy: f64,
    pub exact_accuracy: f64,
    pub q_halt_accuracy: f64,
    /// Mean ACT steps of the rows that halted this step.
    pub steps: f64,
    /// Rows that halted this step (with at least one counted label).
    pub count: f64,
    /// Filled in by the caller, which has a clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_per_s: Option<f64>,
}

impl StepLog {
    fn new(step: u64, lr: f64, loss: f64, m: &Metrics, global_batch: usize) -> StepLog {
        let g = global_batch as f64;
        let c = m.count.max(1.0);
        StepLog {
            step,
            lr,
            loss: loss / g,
            lm_loss: m.lm_loss / g,
            q_halt_loss: m.q_halt_loss / g,
            q_continue_loss: m.q_continue_loss / g,
            accuracy: m.accuracy / c,
            exact_accuracy: m.exact_accuracy / c,
            q_halt_accuracy: m.q_halt_accuracy / c,
            steps: m.steps / c,
            count: m.count,
            steps_per_s: None,
        }
    }
}

/// Evaluation metrics of a set (official `evaluate`: every metric of the final segment, summed over
/// batches, divided by `count`), plus how much work it took.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalLog {
    pub accuracy: f64,
    pub exact_accuracy: f64,
    pub q_halt_accuracy: f64,
    pub steps: f64,
    pub lm_loss: f64,
    pub q_halt_loss: f64,
    pub count: f64,
    pub segments: usize,
}

/// The official evaluation of `model` on `batches`: fresh carry per batch, eval segments until every row
/// halts (exactly `halt_max_steps`), metrics of the final segment.
pub async fn evaluate<B: Backend>(model: &mut Hrm<B>, batches: &[Batch]) -> Result<EvalLog, TrainError> {
    let max = model.config().halt_max_steps;
    let mut sum = Metrics::default();
    let mut segments = 0;
    for (i, batch) in batches.iter().enumerate() {
        let mut carry = model.initial_carry(batch);
        let mut last = None;
        for _ in 0..max {
            let out = model.eval_segment(&mut carry, batch, None).await?;
            segments += 1;
            if out.all_halted {
                last = Some(out.metrics);
                break;
            }
        }
        let m = last.ok_or_else(|| TrainError::Eval(format!("batch {i} did not halt within halt_max_steps = {max} segments")))?;
        sum.count += m.count;
        sum.accuracy += m.accuracy;
        sum.exact_accuracy += m.exact_accuracy;
        sum.q_halt_accuracy += m.q_halt_accuracy;
        sum.steps += m.steps;
        sum.lm_loss += m.lm_loss;
        sum.q_halt_loss += m.q_halt_loss;
    }
    // The official code divides by count without a guard; an empty set gives zeros here instead of NaN.
    let c = if sum.count > 0.0 { sum.count } else { 1.0 };
    Ok(EvalLog {
        accuracy: sum.accuracy / c,
        exact_accuracy: sum.exact_accuracy / c,
        q_halt_accuracy: sum.q_halt_accuracy / c,
        steps: sum.steps / c,
        lm_loss: sum.lm_loss / c,
        q_halt_loss: sum.q_halt_loss / c,
        count: sum.count,
        segments,
    })
}

/// The host side of the ACT carry, as stored in a training state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarryMeta {
    pub steps: Vec<i32>,
    pub halted: Vec<bool>,
    pub rows: usize,
    pub seq_len: usize,
    pub inputs: Vec<i32>,
    pub labels: Vec<i32>,
    pub puzzle_identifiers: Vec<i32>,
}

/// The scalar part of a training state (JSON-serialisable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainMeta {
    /// Optimizer steps taken.
    pub step: u64,
    pub config: TrainConfig,
    /// The exploration generator's state.
    pub halt_rng: u64,
    pub carry: Option<CarryMeta>,
    /// The caller's data-stream state (e.g. the synthetic generator's seed state).
    pub data: serde_json::Value,
}

/// Everything a run needs to continue exactly: `model` holds the weights and buffers under their
/// official names (a model checkpoint on its own), `tensors` the optimizer moments
/// (`optim.adam.<name>.exp_avg|exp_avg_sq|step`) and the carry states (`carry.z_H`, `carry.z_L`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    pub model: ParamStore,
    pub tensors: ParamStore,
    pub meta: TrainMeta,
}

/// A [`TrainState`] as three byte blobs, ready for files (CLI) or IndexedDB (page).
#[derive(Debug, Clone, PartialEq)]
pub struct StateFiles {
    /// A normal checkpoint (`model.safetensors`): the weights with the model config in the metadata.
    pub model: Vec<u8>,
    /// `train_state.safetensors`: optimizer moments, carry, and `train.step` (the step they belong to).
    pub state: Vec<u8>,
    /// `train_state.json`: the [`TrainMeta`].
    pub meta_json: String,
}

const STEP_TENSOR: &str = "train.step";

impl TrainState {
    /// Serialises the state for `config` (F32 throughout, so the round trip is exact).
    pub fn to_files(&self, config: &Config) -> Result<StateFiles, TrainError> {
        let model = Checkpoint::new(config.clone(), self.model.clone())?.to_safetensors(DType::F32)?;
        let mut tensors = self.tensors.clone();
        tensors.insert(STEP_TENSOR.into(), HostTensor::new(vec![1], vec![self.meta.step as f32]));
        let state = checkpoint::safetensors::write(&tensors, Some(config), DType::F32)?;
        let meta_json = serde_json::to_string_pretty(&self.meta).map_err(|e| TrainError::State(e.to_string()))?;
        Ok(StateFiles { model, state, meta_json })
    }

    /// Reads [`TrainState::to_files`] output back, with the model config. The model file is checked
    /// like any checkpoint; the state file must belong to the same step as the JSON (a torn save —
    /// new JSON, old tensors or the reverse — is refused).
    pub fn from_files(files: &StateFiles) -> Result<(Config, TrainState), TrainError> {
        let meta: TrainMeta = serde_json::from_str(&files.meta_json).map_err(|e| TrainError::State(format!("train_state.json: {e}")))?;
        let model = Checkpoint::from_safetensors(&files.model, None)?;
        let mut tensors = checkpoint::safetensors::read(&files.state)?.params;
        let saved = tensors.remove(STEP_TENSOR).and_then(|t| t.data.first().copied());
        if saved != Some(meta.step as f32) {
            return Err(TrainError::State(format!(
                "the state tensors belong to step {saved:?} but the metadata to step {} (an interrupted save?)",
                meta.step
            )));
        }
        Ok((model.config, TrainState { model: model.params, tensors, meta }))
    }
}

const ADAM_PREFIX: &str = "optim.adam.";
const CARRY_H: &str = "carry.z_H";
const CARRY_L: &str = "carry.z_L";

/// One parameter's Adam state on the backend: its own step count (as torch keeps it) and the moments.
struct DeviceMoments<B: Backend> {
    step: u64,
    exp_avg: B::Buf,
    exp_avg_sq: B::Buf,
}

/// A model being trained: the model, the optimizers, the persistent carry and the step count.
pub struct Trainer<B: Backend + Clone> {
    model: Hrm<B>,
    config: TrainConfig,
    adam: AdamConfig,
    sign: SignSgd,
    step: u64,
    carry: Option<Carry<B>>,
    halt_rng: SplitMix64,
    /// Adam state per parameter, in the model's parameter order: (name, state once stepped).
    moments: Vec<(String, Option<DeviceMoments<B>>)>,
}

impl<B: Backend + Clone> Trainer<B> {
    /// Starts training `model` from its current weights with fresh optimizer state.
    pub async fn new(model: Hrm<B>, config: TrainConfig) -> Result<Trainer<B>, TrainError> {
        config.validate()?;
        let adam = Adam::new(config.adam())?.config;
        let moments = param_specs(model.config()).into_iter().map(|(n, _)| (format!("{PREFIX}{n}"), None)).collect();
        Ok(Trainer {
            model,
            config,
            adam,
            sign: SignSgd { weight_decay: config.puzzle_emb_weight_decay },
            step: 0,
            carry: None,
            halt_rng: SplitMix64(config.seed),
            moments,
        })
    }

    pub fn model(&self) -> &Hrm<B> {
        &self.model
    }
    /// The model for evaluation or inspection (eval does not touch the training carry).
    pub fn model_mut(&mut self) -> &mut Hrm<B> {
        &mut self.model
    }
    pub fn into_model(self) -> Hrm<B> {
        self.model
    }
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    /// Lengthens the schedule to `total_steps`, to continue a run past its end: from the next step
    /// the lr follows the longer schedule (so it rises from the old one's end), while the weights,
    /// the optimizer moments and the carry go on unchanged, which a fresh `--init-from` run loses.
    pub fn extend_schedule(&mut self, total_steps: u64) -> Result<(), String> {
        if total_steps < self.config.total_steps {
            return Err(format!("the schedule is {} steps: it can be lengthened, not shortened to {total_steps}", self.config.total_steps));
        }
        self.config.total_steps = total_steps;
        Ok(())
    }
    /// A warm restart (SGDR-style) of a run past its end: from the next step a fresh cosine starts at
    /// `lr` with no warm-up (the moments are warm) and falls to `lr * lr_min_ratio` at `total_steps`.
    /// The puzzle-embedding lr is scaled by the same factor. Weights, moments and carry go on, as
    /// with [`Trainer::extend_schedule`], whose longer cosine would instead lift the lr to wherever
    /// that cosine is at this step.
    pub fn restart_schedule(&mut self, total_steps: u64, lr: f64) -> Result<(), String> {
        if total_steps <= self.step {
            return Err(format!("the run is at step {}: a restarted schedule must end after it, not at {total_steps}", self.step));
        }
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(format!("the restart lr {lr} must be a finite number > 0"));
        }
        let c = &mut self.config;
        if c.lr > 0.0 {
            c.puzzle_emb_lr *= lr / c.lr;
        }
        c.lr = lr;
        c.lr_warmup_steps = 0;
        c.schedule_start = self.step;
        c.total_steps = total_steps;
        Ok(())
    }
    /// Optimizer steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }
    /// Which rows the next step gives a new example (the halted ones; None before the first step:
    /// all). A data source may fill only these rows; the others keep the example in their carry.
    pub fn rows_taking_new_data(&self) -> Option<&[bool]> {
        self.carry.as_ref().map(|c| c.halted.as_slice())
    }

    /// The learning rate the next step will use.
    pub fn next_lr(&self) -> f64 {
        self.config.lr_at(self.config.lr, self.step + 1)
    }

    /// One official training step on `batch` (which must have the model's batch size every time, as
    /// the carry is per row). Returns the step's log line.
    pub async fn train_step(&mut self, batch: &Batch) -> Result<StepLog, TrainError> {
        if let Some(c) = &self.carry {
            if c.halted.len() != batch.rows {
                return Err(ModelError::CarryRows { carry: c.halted.len(), batch: batch.rows }.into());
            }
        }
        if self.carry.is_none() {
            self.carry = Some(self.model.initial_carry(batch));
        }
        let carry = self.carry.as_mut().expect("carry was just made");
        let out = self.model.train_segment(carry, batch, &mut self.halt_rng).await?;

        let step = self.step + 1;
        let lr = self.config.lr_at(self.config.lr, step);
        let emb_lr = self.config.lr_at(self.config.puzzle_emb_lr, step);
        let be = self.model.backend().clone();

        // SignSGD on the puzzle-embedding rows this batch used (ids checked here: the GPU cannot say).
        let dim = self.model.config().puzzle_emb_ndim;
        if dim > 0 {
            let rows = self.model.config().num_puzzle_identifiers;
            let ids = self.model.puzzle_grad_ids();
            if let Some((row, &id)) = ids.iter().enumerate().find(|(_, &id)| id < 0 || id as usize >= rows) {
                return Err(OptimError::PuzzleId { id: id as i64, row, rows }.into());
            }
            let ids = be.upload_i32(ids);
            // The model's gradient and its embedding cannot be borrowed together: a device copy.
            let mut row_grads = be.alloc(be.len(self.model.puzzle_grad()));
            be.copy(self.model.puzzle_grad(), &mut row_grads);
            be.sign_sgd_rows(&mut self.model.buffers_mut().puzzle_emb, dim, &ids, &row_grads, emb_lr, self.sign.weight_decay)?;
        }

        // Adam(ATan2) on every parameter, moments made (zero) on a tensor's first step as torch does.
        let adam = self.adam;
        for ((name, param, grad), (_, state)) in self.model.params_and_grads_mut().into_iter().zip(&mut self.moments) {
            let n = be.len(param);
            let st = state.get_or_insert_with(|| DeviceMoments { step: 0, exp_avg: be.alloc(n), exp_avg_sq: be.alloc(n) });
            st.step += 1;
            let c = adam_step(&adam, st.step, lr);
            be.adam_update(&c, param, grad, &mut st.exp_avg, &mut st.exp_avg_sq).map_err(|e| name_optim_error(e, &name))?;
        }
        be.submit();
        if let Some(why) = be.failure() {
            return Err(TrainError::State(format!("the backend failed during step {step} (fall back to the CPU backend from the last saved state): {why}")));
        }
        self.step = step;
        Ok(StepLog::new(step, lr, out.loss, &out.metrics, batch.rows))
    }

    /// Everything the next step depends on; `data` is the caller's data-stream state, returned by
    /// [`Trainer::resume`] untouched.
    pub async fn save_state(&self, data: serde_json::Value) -> TrainState {
        let model = self.model.to_param_store().await;
        let be = self.model.backend();
        let stepped: Vec<(&str, &DeviceMoments<B>)> = self.moments.iter().filter_map(|(n, s)| s.as_ref().map(|s| (n.as_str(), s))).collect();
        let bufs: Vec<&B::Buf> = stepped.iter().flat_map(|(_, s)| [&s.exp_avg, &s.exp_avg_sq]).collect();
        let mut values = be.read(&bufs).await.into_iter();
        // Only the state is serialised (the config was validated when the trainer was made).
        let mut adam = Adam::new(AdamConfig::default()).expect("the default Adam config is valid");
        for (name, s) in stepped {
            let (exp_avg, exp_avg_sq) = (values.next().unwrap_or_default(), values.next().unwrap_or_default());
            adam.set_moments(name, Moments { step: s.step, exp_avg, exp_avg_sq });
        }
        let mut tensors = adam.state_tensors(ADAM_PREFIX);
        let carry = match &self.carry {
            Some(c) => {
                let shape = vec![c.halted.len(), self.model.config().total_seq(), self.model.config().hidden_size];
                let mut z = be.read(&[&c.z_h, &c.z_l]).await;
                let zl = z.pop().unwrap_or_default();
                let zh = z.pop().unwrap_or_default();
                tensors.insert(CARRY_H.into(), HostTensor::new(shape.clone(), zh));
                tensors.insert(CARRY_L.into(), HostTensor::new(shape, zl));
                let d = &c.current_data;
                Some(CarryMeta {
                    steps: c.steps.clone(),
                    halted: c.halted.clone(),
                    rows: d.rows,
                    seq_len: d.seq_len,
                    inputs: d.inputs.clone(),
                    labels: d.labels.clone(),
                    puzzle_identifiers: d.puzzle_identifiers.clone(),
                })
            }
            None => None,
        };
        TrainState {
            model,
            tensors,
            meta: TrainMeta { step: self.step, config: self.config, halt_rng: self.halt_rng.0, carry, data },
        }
    }

    /// Continues a run: `model` must have been built from `state.model` (with the same config). Returns
    /// the trainer and the caller's data-stream state.
    pub async fn resume(model: Hrm<B>, state: &TrainState) -> Result<(Trainer<B>, serde_json::Value), TrainError> {
        let meta = &state.meta;
        let mut t = Trainer::new(model, meta.config).await?;
        let mut adam = Adam::new(t.adam)?;
        adam.load_state(ADAM_PREFIX, &state.tensors)?;
        if let Some(unknown) = adam.names().find(|n| !t.moments.iter().any(|(p, _)| p == n)) {
            return Err(TrainError::State(format!("optimizer state for `{unknown}`, which the model does not have")));
        }
        let be = t.model.backend().clone();
        for ((name, param), (_, state)) in t.model.params_and_grads_mut().into_iter().map(|(n, p, _)| (n, be.len(p))).zip(&mut t.moments) {
            if let Some(m) = adam.moments(&name) {
                if m.exp_avg.len() != param {
                    return Err(OptimError::StateLength { name, state: m.exp_avg.len(), param }.into());
                }
                *state = Some(DeviceMoments { step: m.step, exp_avg: be.upload(&m.exp_avg), exp_avg_sq: be.upload(&m.exp_avg_sq) });
            }
        }
        t.step = meta.step;
        t.halt_rng = SplitMix64(meta.halt_rng);
        if let Some(c) = &meta.carry {
            let cfg = t.model.config();
            let n = c.rows * cfg.total_seq() * cfg.hidden_size;
            let get = |name: &str| -> Result<&HostTensor, TrainError> {
                let z = state.tensors.get(name).ok_or_else(|| TrainError::State(format!("`{name}` is missing")))?;
                if z.numel() != n {
                    return Err(TrainError::State(format!("`{name}` has {} values, expected {n} ({} rows)", z.numel(), c.rows)));
                }
                Ok(z)
            };
            let (zh, zl) = (get(CARRY_H)?, get(CARRY_L)?);
            if c.steps.len() != c.rows || c.halted.len() != c.rows {
                return Err(TrainError::State(format!("carry: steps/halted do not have {} rows", c.rows)));
            }
            let current_data = Batch::new(c.rows, c.seq_len, c.inputs.clone(), c.labels.clone(), c.puzzle_identifiers.clone())?;
            current_data.validate(cfg)?;
            let be = t.model.backend();
            t.carry = Some(Carry { z_h: be.upload(&zh.data), z_l: be.upload(&zl.data), steps: c.steps.clone(), halted: c.halted.clone(), current_data });
        }
        Ok((t, meta.data.clone()))
    }
}

/// The scalars of Adam step `step` (1-based, per tensor) at learning rate `lr`.
fn adam_step(c: &AdamConfig, step: u64, lr: f64) -> AdamStep {
    match c.variant {
        AdamVariant::Atan2 => AdamStep::Atan2(AdamAtan2Coeffs::new(step, lr, c.beta1, c.beta2, c.weight_decay)),
        AdamVariant::AdamW { eps } => AdamStep::AdamW(AdamWCoeffs::new(step, lr, c.beta1, c.beta2, c.weight_decay, eps)),
    }
}

/// The backend's length errors name the op; name the tensor instead.
fn name_optim_error(e: OptimError, tensor: &str) -> OptimError {
    match e {
        OptimError::GradLength { param, grad, .. } => OptimError::GradLength { name: tensor.into(), param, grad },
        OptimError::StateLength { state, param, .. } => OptimError::StateLength { name: tensor.into(), state, param },
        e => e,
    }
}
