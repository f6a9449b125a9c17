//! The page's HRM solve session (issue 5): a loaded checkpoint on the CPU or the GPU (WebGPU)
//! backend, run one ACT segment per call with every L and H call recorded for the trace player.
//!
//! The worker (`web/src/worker.ts`) drives it: `hrm_load` → `hrm_set_backend` → `hrm_start(tokens)` →
//! `hrm_segment()` as often as it wants (it decides when ACT halts and can stop between segments
//! when the user edits the puzzle) → `hrm_pca()`. Sessions live in slots (one per task, so a Sudoku
//! model and a maze model can both stay loaded); an async call takes its slot out while it runs, so a
//! second call on the same slot meanwhile gets a "busy" error instead of a borrow panic.
//!
//! What one recorded step holds (all small typed arrays, puzzle positions dropped):
//! - after an H update: the decoded `lm_head(z_H)` (argmax token, its probability, the distribution);
//! - after an L step: the "planner preview" `lm_head(f_H(z_H, z_L))`, i.e. what the head would read if
//!   the planner updated now with the worker's current state. After the last L step of a cycle this
//!   is exactly the H update that follows; earlier it costs one extra H-module call per L step;
//! - ‖z(k) − z(k−1)‖ over the whole state `[T, h]` of the module that just ran.
//!
//! Probabilities are the model's own output distribution: stablemax for a model trained with the
//! stablemax loss (the official default), softmax otherwise. States are also kept on the host for a
//! 2-D PCA of the z_L and z_H trajectories of the run (exact, through the Gram matrix).

use std::cell::RefCell;
use std::collections::BTreeMap;

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::backend::gpu::GpuBackend;
use crate::backend::{Backend, CpuBackend};
use crate::checkpoint::DType;
use crate::model::{Batch, CallInfo, Carry, Hrm, Module, Observer};
use crate::puzzle_eval::{argmax_tokens, choose_answer, tried_batch, TRIES_SEED};
use crate::puzzles::metrics::PuzzleKind;
use crate::puzzles::symmetry::{symmetries, TokenSymmetry};
use crate::{Checkpoint, Config, LossType};

#[wasm_bindgen(typescript_custom_section)]
const TS_SOLVE: &str = r#"
export interface HrmModelInfo { task: 'sudoku' | 'maze' | 'unknown'; seq_len: number; vocab: number; size: number;
  h_cycles: number; l_cycles: number; halt_max_steps: number; parameters: number; hidden: number;
  distribution: 'stablemax' | 'softmax'; config_json: string }
export interface HrmBackendInfo { backend: 'cpu' | 'webgpu'; adapter: string; software: boolean }
export interface HrmStep { module: 'L' | 'H'; h_cycle: number; l_step: number; residual: number;
  prediction: Uint8Array; confidence: Float32Array; probs: Float32Array }
export interface HrmSegment { segment: number; q_halt: number; q_continue: number; steps: HrmStep[] }
export interface HrmTries { solved: boolean; answer: Uint8Array; copy: number; segment: number; tries: number }
export interface HrmPca { l: Float32Array; h: Float32Array; explained_l: number[]; explained_h: number[]; truncated: boolean }
"#;

/// Host floats of states kept for the PCA per run (64 MiB); later states are left out and said so.
const PCA_BUDGET: usize = 16 << 20;

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    // Reflect::set on a fresh plain object cannot fail.
    let _ = Reflect::set(o, &JsValue::from_str(k), &v.into());
}

/// One model on one backend, with the ACT carry of the run in progress.
struct Loaded<B: Backend> {
    model: Hrm<B>,
    carry: Option<Carry<B>>,
}

enum Engine {
    Cpu(Loaded<CpuBackend>),
    Gpu(Loaded<GpuBackend>, String),
}

/// The z_L / z_H states of the current run and their running Gram matrix, for the PCA.
#[derive(Default)]
struct Trajectory {
    states: Vec<Vec<f32>>,
    gram: Vec<Vec<f64>>,
    truncated: bool,
}

impl Trajectory {
    fn push(&mut self, s: Vec<f32>, budget: &mut usize) {
        if s.len() > *budget {
            self.truncated = true;
            return;
        }
        *budget -= s.len();
        let row: Vec<f64> = self.states.iter().chain(std::iter::once(&s)).map(|o| dot(o, &s)).collect();
        for (g, &v) in self.gram.iter_mut().zip(&row) {
            g.push(v);
        }
        self.gram.push(row);
        self.states.push(s);
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

struct Run {
    segment: usize,
    l: Trajectory,
    h: Trajectory,
    budget: usize,
}

struct Slot {
    ck: Checkpoint,
    engine: Engine,
    run: Option<Run>,
}

thread_local! {
    static SLOTS: RefCell<BTreeMap<String, Option<Slot>>> = const { RefCell::new(BTreeMap::new()) };
}

fn take(slot: &str) -> Result<Slot, JsError> {
    SLOTS.with(|s| match s.borrow_mut().get_mut(slot) {
        None => Err(JsError::new(&format!("no model is loaded for {slot}"))),
        Some(v) => v.take().ok_or_else(|| JsError::new(&format!("the {slot} model is busy with another request"))),
    })
}

fn put(slot: &str, s: Slot) {
    SLOTS.with(|m| m.borrow_mut().insert(slot.to_string(), Some(s)));
}

/// The puzzle a model reads, from its shape: 81 cells of 11 tokens, or a square grid of 6.
fn task_of(c: &Config) -> Option<PuzzleKind> {
    match c.vocab_size {
        11 if c.seq_len == 81 => Some(PuzzleKind::Sudoku),
        6 if c.grid_side().is_some() => Some(PuzzleKind::Maze),
        _ => None,
    }
}

/// What the page needs to know about a model: its task (from its shape), sizes and recurrence.
fn model_info(ck: &Checkpoint) -> JsValue {
    let c = &ck.config;
    let side = (c.seq_len as f64).sqrt().round() as usize;
    let task = match task_of(c) {
        Some(PuzzleKind::Sudoku) => "sudoku",
        Some(PuzzleKind::Maze) => "maze",
        None => "unknown",
    };
    let o = Object::new();
    set(&o, "task", task);
    set(&o, "seq_len", c.seq_len as u32);
    set(&o, "vocab", c.vocab_size as u32);
    set(&o, "size", side as u32);
    set(&o, "h_cycles", c.h_cycles as u32);
    set(&o, "l_cycles", c.l_cycles as u32);
    set(&o, "halt_max_steps", c.halt_max_steps as u32);
    set(&o, "parameters", ck.parameter_count() as f64);
    set(&o, "hidden", c.hidden_size as u32);
    set(&o, "distribution", if c.loss_type == LossType::StablemaxCrossEntropy { "stablemax" } else { "softmax" });
    set(&o, "config_json", c.to_json_string());
    o.into()
}

/// Loads a checkpoint into `slot` on the CPU backend (replacing what was there): this project's
/// safetensors with the config in its metadata, or any safetensors with `config_json` beside it (a
/// converted official checkpoint). Wrong files get the reader's message.
#[wasm_bindgen(unchecked_return_type = "HrmModelInfo")]
pub fn hrm_load(slot: &str, weights: &[u8], config_json: Option<String>) -> Result<JsValue, JsError> {
    let config = config_json.as_deref().map(Config::from_json_str).transpose().map_err(|e| err(format!("config.json: {e}")))?;
    let ck = Checkpoint::from_safetensors(weights, config.as_ref()).map_err(err)?;
    let model = Hrm::new(CpuBackend, &ck.config, &ck.params).map_err(err)?;
    let info = model_info(&ck);
    put(slot, Slot { ck, engine: Engine::Cpu(Loaded { model, carry: None }), run: None });
    Ok(info)
}

/// Moves the loaded weights to `backend` ("cpu" or "webgpu"); the run in progress is dropped. On a
/// GPU failure the slot stays on the backend it was on and the error says why.
#[wasm_bindgen(unchecked_return_type = "HrmBackendInfo")]
pub async fn hrm_set_backend(slot: String, backend: String) -> Result<JsValue, JsError> {
    let mut s = take(&slot)?;
    let r = switch(&mut s, &backend).await;
    let info = backend_info(&s.engine);
    put(&slot, s);
    r?;
    Ok(info)
}

async fn switch(s: &mut Slot, backend: &str) -> Result<(), JsError> {
    let (cfg, params) = (&s.ck.config, &s.ck.params);
    match (backend, &s.engine) {
        ("cpu", Engine::Cpu(_)) | ("webgpu", Engine::Gpu(..)) => return Ok(()),
        ("cpu", _) => s.engine = Engine::Cpu(Loaded { model: Hrm::new(CpuBackend, cfg, params).map_err(err)?, carry: None }),
        ("webgpu", _) => {
            let be = GpuBackend::new().await.map_err(err)?;
            let adapter = be.context().info().to_string();
            let model = Hrm::new(be, cfg, params).map_err(err)?;
            if let Some(e) = model.backend().error() {
                return Err(err(e));
            }
            s.engine = Engine::Gpu(Loaded { model, carry: None }, adapter);
        }
        (other, _) => return Err(JsError::new(&format!("unknown backend `{other}` (use cpu or webgpu)"))),
    }
    s.run = None;
    Ok(())
}

fn backend_info(e: &Engine) -> JsValue {
    let o = Object::new();
    match e {
        Engine::Cpu(_) => {
            set(&o, "backend", "cpu");
            set(&o, "adapter", "wasm CPU");
            set(&o, "software", false);
        }
        Engine::Gpu(l, name) => {
            set(&o, "backend", "webgpu");
            set(&o, "adapter", name.as_str());
            set(&o, "software", l.model.backend().context().info().is_software);
        }
    }
    o.into()
}

/// Starts a run on `tokens` (the task's official tokens, `seq_len` of them). With `resume` and a run
/// in progress, the planner and worker keep their current states and only the input changes (the
/// page's "edit mid-run": watch it re-converge); otherwise they start from H_init / L_init.
#[wasm_bindgen]
pub fn hrm_start(slot: &str, tokens: &[u8], resume: bool) -> Result<(), JsError> {
    let mut s = take(slot)?;
    let r = start(&mut s, tokens, resume);
    put(slot, s);
    r
}

fn start(s: &mut Slot, tokens: &[u8], resume: bool) -> Result<(), JsError> {
    let cfg = &s.ck.config;
    if tokens.len() != cfg.seq_len {
        return Err(JsError::new(&format!("the puzzle has {} cells but this model reads {}", tokens.len(), cfg.seq_len)));
    }
    let inputs: Vec<i32> = tokens.iter().map(|&t| t as i32).collect();
    let batch = Batch::new(1, cfg.seq_len, inputs, vec![-100; cfg.seq_len], vec![0]).map_err(err)?;
    batch.validate(cfg).map_err(err)?;
    match &mut s.engine {
        Engine::Cpu(l) => l.begin(batch, resume),
        Engine::Gpu(l, _) => l.begin(batch, resume),
    }
    s.run = Some(Run { segment: 0, l: Trajectory::default(), h: Trajectory::default(), budget: PCA_BUDGET });
    Ok(())
}

impl<B: Backend> Loaded<B> {
    fn begin(&mut self, batch: Batch, resume: bool) {
        match self.carry.as_mut() {
            Some(c) if resume => {
                c.current_data = batch;
                c.halted = vec![false];
                c.steps = vec![0];
            }
            _ => self.carry = Some(self.model.initial_carry(&batch)),
        }
    }
}

/// Runs the next ACT segment of the run and returns every step it recorded and its Q values.
#[wasm_bindgen(unchecked_return_type = "HrmSegment")]
pub async fn hrm_segment(slot: String) -> Result<JsValue, JsError> {
    let mut s = take(&slot)?;
    let r = match (&mut s.engine, s.run.as_mut()) {
        (_, None) => Err(JsError::new("no run started: call hrm_start first")),
        (Engine::Cpu(l), Some(run)) => l.segment(run, s.ck.config.loss_type).await,
        (Engine::Gpu(l, _), Some(run)) => {
            let r = l.segment(run, s.ck.config.loss_type).await;
            match l.model.backend().error() {
                Some(e) => Err(err(format!("{e} (switch to the CPU backend)"))),
                None => r,
            }
        }
    };
    put(&slot, s);
    r
}

/// Keeps a copy of the state after every call and its distance from the state before.
struct Recorder<B: Backend> {
    calls: Vec<CallInfo>,
    states: Vec<B::Buf>,
    norms: Vec<B::Buf>,
    prev_l: B::Buf,
    prev_h: B::Buf,
}

impl<B: Backend> Observer<B> for Recorder<B> {
    fn on_call(&mut self, be: &B, call: CallInfo, z: &B::Buf) {
        let n = be.len(z);
        let prev = if call.module == Module::L { &mut self.prev_l } else { &mut self.prev_h };
        let mut norm = be.alloc(1);
        be.row_diff_norm(1, n, z, prev, &mut norm);
        be.copy(z, prev);
        let mut copy = be.alloc(n);
        be.copy(z, &mut copy);
        self.calls.push(call);
        self.states.push(copy);
        self.norms.push(norm);
    }
}

impl<B: Backend> Loaded<B> {
    async fn segment(&mut self, run: &mut Run, loss: LossType) -> Result<JsValue, JsError> {
        let carry = self.carry.as_mut().ok_or_else(|| JsError::new("no run started"))?;
        let m = &mut self.model;
        let cfg = m.config().clone();
        let (t, v, p) = (cfg.total_seq(), cfg.vocab_size, cfg.puzzle_emb_len());
        let n = t * cfg.hidden_size;
        if carry.halted[0] {
            // The segment resets the state to (H_init, L_init) first; do it here too so the first
            // residuals are measured from the initial state.
            let be = m.backend();
            let flags = be.upload_i32(&[1]);
            be.reset_rows(&mut carry.z_h, &m.buffers().h_init, &flags, t);
            be.reset_rows(&mut carry.z_l, &m.buffers().l_init, &flags, t);
        }
        let be = m.backend();
        let (mut prev_l, mut prev_h) = (be.alloc(n), be.alloc(n));
        be.copy(&carry.z_l, &mut prev_l);
        be.copy(&carry.z_h, &mut prev_h);
        let start_h = {
            let mut c = be.alloc(n);
            be.copy(&carry.z_h, &mut c);
            c
        };
        let mut rec = Recorder::<B> { calls: Vec::new(), states: Vec::new(), norms: Vec::new(), prev_l, prev_h };
        let batch = carry.current_data.clone();
        let out = m.eval_segment(carry, &batch, Some(&mut rec)).await.map_err(err)?;
        // Beyond halt_max_steps the carry must not be reset: test-time scaling continues the run.
        carry.halted = vec![false];

        // Decode: lm_head of z_H after an H update; of the planner preview after an L step.
        // `which[k]` is the index in `heads` of call k's logits; the last L step of a cycle shares
        // the logits of the H update right after it (its preview IS that update).
        let lc = cfg.l_cycles;
        let mut heads: Vec<B::Buf> = Vec::new();
        let mut which: Vec<usize> = Vec::with_capacity(rec.calls.len());
        let mut z_h_now = start_h;
        let head_of = |m: &Hrm<B>, z: &B::Buf| {
            let mut out = m.backend().alloc(t * v);
            m.lm_head(z, 1, &mut out);
            out
        };
        for (k, call) in rec.calls.iter().enumerate() {
            match call.module {
                Module::H => {
                    m.backend().copy(&rec.states[k], &mut z_h_now);
                    heads.push(head_of(m, &rec.states[k]));
                    if k > 0 && rec.calls[k - 1].module == Module::L && which[k - 1] == usize::MAX {
                        which[k - 1] = heads.len() - 1;
                    }
                    which.push(heads.len() - 1);
                }
                Module::L if call.l_step == Some(lc - 1) => which.push(usize::MAX), // set by the H call
                Module::L => {
                    let mut preview = m.backend().alloc(n);
                    m.backend().copy(&z_h_now, &mut preview);
                    m.h_update(&mut preview, &rec.states[k]).map_err(err)?;
                    heads.push(head_of(m, &preview));
                    which.push(heads.len() - 1);
                }
            }
        }
        let mut refs: Vec<&B::Buf> = heads.iter().collect();
        refs.extend(rec.norms.iter());
        refs.extend(rec.states.iter());
        let mut read = m.backend().read(&refs).await.into_iter();
        let decoded: Vec<Vec<f32>> = (0..heads.len()).map(|_| read.next().unwrap_or_default()).collect();
        let norms: Vec<f32> = (0..rec.calls.len()).map(|_| read.next().and_then(|x| x.first().copied()).unwrap_or(f32::NAN)).collect();
        let states: Vec<Vec<f32>> = read.collect();

        let steps = Array::new();
        for (k, call) in rec.calls.iter().enumerate() {
            let o = Object::new();
            set(&o, "module", if call.module == Module::L { "L" } else { "H" });
            set(&o, "h_cycle", call.h_cycle as u32);
            set(&o, "l_step", call.l_step.map(|j| j as u32).unwrap_or(lc as u32));
            set(&o, "residual", norms[k]);
            let lg: &[f32] = decoded.get(which[k]).map(Vec::as_slice).unwrap_or(&[]);
            let (pred, conf, probs) = decode(lg, p, t, v, loss);
            set(&o, "prediction", Uint8Array::from(pred.as_slice()));
            set(&o, "confidence", Float32Array::from(conf.as_slice()));
            set(&o, "probs", Float32Array::from(probs.as_slice()));
            steps.push(&o);
        }
        for (call, st) in rec.calls.iter().zip(states) {
            let traj = if call.module == Module::L { &mut run.l } else { &mut run.h };
            traj.push(st, &mut run.budget);
        }
        let o = Object::new();
        set(&o, "segment", run.segment as u32);
        set(&o, "q_halt", out.q_halt[0]);
        set(&o, "q_continue", out.q_continue[0]);
        set(&o, "steps", steps);
        run.segment += 1;
        Ok(o.into())
    }
}

/// Test-time tries (`hrm eval --tries`): runs `tokens` as `tries` copies, the others under symmetries
/// of the puzzle, for up to `segments` segments, and stops at the first segment where a copy's
/// answer, mapped back, passes the rules check. Its own carry: the watched run is left as it is.
/// `answer` is that answer (or, unsolved, the unaugmented copy's after the last segment); `copy` is
/// the copy's index (0 = the puzzle as given), `segment` the segments it took.
#[wasm_bindgen(unchecked_return_type = "HrmTries")]
pub async fn hrm_tries(slot: String, tokens: Vec<u8>, tries: u32, segments: u32) -> Result<JsValue, JsError> {
    let mut s = take(&slot)?;
    let c = &s.ck.config;
    let kind = task_of(c).ok_or_else(|| JsError::new(&format!("tries need a Sudoku or maze model, not one of {} cells and vocab {}", c.seq_len, c.vocab_size)));
    let r = match kind {
        Err(e) => Err(e),
        Ok(kind) => match &mut s.engine {
            Engine::Cpu(l) => try_copies(&mut l.model, kind, &tokens, tries as usize, segments as usize).await,
            Engine::Gpu(l, _) => {
                let r = try_copies(&mut l.model, kind, &tokens, tries as usize, segments as usize).await;
                match l.model.backend().error() {
                    Some(e) => Err(err(format!("{e} (switch to the CPU backend)"))),
                    None => r,
                }
            }
        },
    };
    put(&slot, s);
    let (answer, copy, segment) = r?;
    let o = Object::new();
    set(&o, "solved", copy.is_some());
    set(&o, "answer", Uint8Array::from(answer.iter().map(|&t| t.clamp(0, 255) as u8).collect::<Vec<u8>>().as_slice()));
    set(&o, "copy", copy.map_or(-1, |c| c as i32));
    set(&o, "segment", segment as u32);
    set(&o, "tries", tries);
    Ok(o.into())
}

async fn try_copies<B: Backend>(model: &mut Hrm<B>, kind: PuzzleKind, tokens: &[u8], tries: usize, segments: usize) -> Result<(Vec<i32>, Option<usize>, usize), JsError> {
    let seq = model.config().seq_len;
    if tokens.len() != seq {
        return Err(JsError::new(&format!("the puzzle has {} cells but this model reads {seq}", tokens.len())));
    }
    if tries == 0 || segments == 0 {
        return Err(JsError::new("tries need at least one copy and one segment"));
    }
    let syms = symmetries(kind, seq, tries, TRIES_SEED).map_err(err)?;
    let inverses: Vec<TokenSymmetry> = syms.iter().map(TokenSymmetry::inverse).collect();
    let input: Vec<i32> = tokens.iter().map(|&t| t as i32).collect();
    let one = Batch::new(1, seq, input.clone(), vec![-100; seq], vec![0]).map_err(err)?;
    one.validate(model.config()).map_err(err)?;
    let batch = tried_batch(&one, &syms);
    let trained = model.config().halt_max_steps;
    // rows halt only at the last segment, as in `hrm eval`
    model.set_halt_max_steps(segments);
    let mut carry = model.initial_carry(&batch);
    let mut last = (input.clone(), None, 0);
    let mut result = Ok(());
    for k in 0..segments {
        if let Err(e) = model.eval_segment(&mut carry, &batch, None).await {
            result = Err(err(e));
            break;
        }
        let pred = argmax_tokens(&model.read_logits().await, model.config().vocab_size);
        let (answer, copy) = choose_answer(kind, &input, &pred, &inverses);
        last = (answer, copy, k + 1);
        if copy.is_some() {
            break;
        }
    }
    model.set_halt_max_steps(trained);
    result.map(|_| last)
}

/// Per sequence position (puzzle positions `0..p` dropped): argmax token, its probability and the
/// whole distribution under the model's output function.
fn decode(logits: &[f32], p: usize, t: usize, v: usize, loss: LossType) -> (Vec<u8>, Vec<f32>, Vec<f32>) {
    let s = t.saturating_sub(p);
    let (mut pred, mut conf, mut probs) = (vec![0u8; s], vec![0f32; s], vec![0f32; s * v]);
    if logits.len() != t * v {
        return (pred, conf, probs);
    }
    for i in 0..s {
        let row = &logits[(p + i) * v..(p + i + 1) * v];
        let w: Vec<f64> = match loss {
            // stablemax: s(x) = x + 1 for x >= 0, 1 / (1 - x) below (HRM_SPEC §6)
            LossType::StablemaxCrossEntropy => row.iter().map(|&x| if x >= 0.0 { x as f64 + 1.0 } else { 1.0 / (1.0 - x as f64) }).collect(),
            LossType::SoftmaxCrossEntropy => {
                let mx = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
                row.iter().map(|&x| (x as f64 - mx).exp()).collect()
            }
        };
        let sum: f64 = w.iter().sum();
        let mut best = 0;
        for (k, &x) in row.iter().enumerate() {
            if x > row[best] {
                best = k;
            }
            probs[i * v + k] = (w[k] / sum) as f32;
        }
        pred[i] = best as u8;
        conf[i] = probs[i * v + best];
    }
    (pred, conf, probs)
}

/// The run's z_L and z_H trajectories projected on their own first two principal components
/// (`[x0, y0, x1, y1, …]` per recorded call, in order) and the share of variance each explains.
#[wasm_bindgen(unchecked_return_type = "HrmPca")]
pub fn hrm_pca(slot: &str) -> Result<JsValue, JsError> {
    let s = take(slot)?;
    let r = s.run.as_ref().map(|run| {
        let o = Object::new();
        let (l, el) = pca2(&run.l.gram);
        let (h, eh) = pca2(&run.h.gram);
        set(&o, "l", Float32Array::from(l.as_slice()));
        set(&o, "h", Float32Array::from(h.as_slice()));
        set(&o, "explained_l", Array::of2(&el[0].into(), &el[1].into()));
        set(&o, "explained_h", Array::of2(&eh[0].into(), &eh[1].into()));
        set(&o, "truncated", run.l.truncated || run.h.truncated);
        JsValue::from(o)
    });
    put(slot, s);
    r.ok_or_else(|| JsError::new("no run started"))
}

/// PCA from an (uncentred) Gram matrix: centre it (`Gc = J G J`), take its top two eigenvectors by
/// orthogonal iteration; the scores are `u_k * sqrt(λ_k)`, the explained shares `λ_k / trace(Gc)`.
fn pca2(g: &[Vec<f64>]) -> (Vec<f32>, [f64; 2]) {
    let n = g.len();
    if n < 2 {
        return (vec![0.0; 2 * n], [0.0, 0.0]);
    }
    let row: Vec<f64> = g.iter().map(|r| r.iter().sum::<f64>() / n as f64).collect();
    let all = row.iter().sum::<f64>() / n as f64;
    let c: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| g[i][j] - row[i] - row[j] + all).collect()).collect();
    let trace: f64 = (0..n).map(|i| c[i][i]).sum();
    // deterministic, generic start vectors
    let mut u: [Vec<f64>; 2] = [(0..n).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect(), (0..n).map(|i| (i as f64 * 1.3).cos()).collect()];
    let mut lambda = [0.0; 2];
    for _ in 0..300 {
        let w: Vec<Vec<f64>> = u.iter().map(|v| (0..n).map(|i| dot64(&c[i], v)).collect()).collect();
        let (a, b) = (w[0].clone(), w[1].clone());
        let na = dot64(&a, &a).sqrt().max(1e-300);
        let a: Vec<f64> = a.iter().map(|x| x / na).collect();
        let proj = dot64(&b, &a);
        let b: Vec<f64> = b.iter().zip(&a).map(|(x, y)| x - proj * y).collect();
        let nb = dot64(&b, &b).sqrt().max(1e-300);
        u = [a, b.iter().map(|x| x / nb).collect()];
    }
    for k in 0..2 {
        let cu: Vec<f64> = (0..n).map(|i| dot64(&c[i], &u[k])).collect();
        lambda[k] = dot64(&u[k], &cu).max(0.0);
    }
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        out.push((u[0][i] * lambda[0].sqrt()) as f32);
        out.push((u[1][i] * lambda[1].sqrt()) as f32);
    }
    let share = |l: f64| if trace > 0.0 { l / trace } else { 0.0 };
    (out, [share(lambda[0]), share(lambda[1])])
}

fn dot64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A freshly initialised (untrained) checkpoint for `config_json`, as safetensors bytes: for tests
/// and for trying the page without a trained model (its predictions are noise and labelled so).
#[wasm_bindgen]
pub fn checkpoint_init(config_json: &str, seed: u32) -> Result<Vec<u8>, JsError> {
    let cfg = Config::from_json_str(config_json).map_err(err)?;
    let ck = Checkpoint::init(cfg, u64::from(seed)).map_err(err)?;
    ck.to_safetensors(DType::F32).map_err(err)
}

/// Moves the model in slot `from` to slot `to` (replacing what `to` held): the page reads a file
/// into a scratch slot first, so a wrong file never replaces the loaded model.
#[wasm_bindgen]
pub fn hrm_move(from: &str, to: &str) -> Result<(), JsError> {
    let s = take(from)?;
    SLOTS.with(|m| m.borrow_mut().remove(from));
    put(to, s);
    Ok(())
}
