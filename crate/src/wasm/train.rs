//! The in-tab trainer's surface: a `TrainSession` the page's worker holds (`web/src/train-worker.ts`).
//!
//! The logic lives in `crate::tab_train` (natively tested); this file only moves values across the
//! boundary. Every long call returns a Promise, and the session is taken out of its cell for the
//! duration of the call and put back after it, so a second call that arrives while one is running
//! gets a clear "busy" error instead of a RefCell panic.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{js_err, to_js};
use crate::backend::gpu::GpuBackend;
use crate::backend::CpuBackend;
use crate::tab_train::{self, RunSpec, TabSession};
use crate::train::{EvalLog, StateFiles, StepLog};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface TrainTaskInfo { id: string; label: string; family: 'synthetic' | 'sudoku' | 'maze'; seq_len: number; vocab_size: number; total_steps: number }
export interface TrainPresetInfo { id: string; label: string; hidden_size: number; num_heads: number; h_layers: number; l_layers: number; h_cycles: number; l_cycles: number; halt_max_steps: number; batch_size: number; lr: number }
export interface TrainCatalog { tasks: TrainTaskInfo[]; presets: TrainPresetInfo[] }
export interface TrainStepLog { step: number; lr: number; loss: number; lm_loss: number; q_halt_loss: number; q_continue_loss: number; accuracy: number; exact_accuracy: number; q_halt_accuracy: number; steps: number; count: number }
export interface TrainEvalLog { accuracy: number; exact_accuracy: number; q_halt_accuracy: number; steps: number; lm_loss: number; q_halt_loss: number; count: number; segments: number }
export interface TrainCheckpoint { model: Uint8Array; state: Uint8Array; meta: string }
export interface TrainSessionInfo { task: TrainTaskInfo; preset: string; seed: number; total_steps: number; parameters: number; backend: 'cpu' | 'webgpu'; adapter: string; config_json: string }
"#;

/// The tasks and model presets the page offers.
#[wasm_bindgen(unchecked_return_type = "TrainCatalog")]
pub fn train_catalog() -> Result<JsValue, JsError> {
    to_js(&tab_train::catalog())
}

/// A run on either backend (the CPU reference, or WebGPU through wgpu).
enum Session {
    Cpu(TabSession<CpuBackend>),
    Gpu(TabSession<GpuBackend>),
}

macro_rules! each {
    ($session:expr, $s:ident => $body:expr) => {
        match $session {
            Session::Cpu($s) => $body,
            Session::Gpu($s) => $body,
        }
    };
}

impl Session {
    /// The GPU's first asynchronous error (validation, lost device), which wgpu reports late.
    fn gpu_error(&self) -> Result<(), JsError> {
        match self {
            Session::Gpu(s) => s.backend().error().map_or(Ok(()), |e| Err(js_err(e))),
            Session::Cpu(_) => Ok(()),
        }
    }
    fn step_count(&self) -> u64 {
        each!(self, s => s.step_count())
    }
    async fn step(&mut self) -> Result<StepLog, JsError> {
        let log = each!(self, s => s.step().await).map_err(js_err)?;
        self.gpu_error()?;
        Ok(log)
    }
    async fn evaluate(&mut self) -> Result<EvalLog, JsError> {
        let log = each!(self, s => s.evaluate().await).map_err(js_err)?;
        self.gpu_error()?;
        Ok(log)
    }
    async fn checkpoint(&self) -> Result<StateFiles, JsError> {
        each!(self, s => s.checkpoint().await).map_err(js_err)
    }
    async fn model_safetensors(&self) -> Result<Vec<u8>, JsError> {
        each!(self, s => s.model_safetensors().await).map_err(js_err)
    }
}

/// The backend a run asked for: `cpu`, or `webgpu` (an error that says why when no adapter is usable).
enum Choice {
    Cpu,
    Gpu(GpuBackend, String),
}

async fn backend_for(name: &str) -> Result<Choice, JsError> {
    match name {
        "cpu" => Ok(Choice::Cpu),
        "webgpu" => {
            let be = GpuBackend::new().await.map_err(js_err)?;
            let i = be.context().info();
            // The browser does not always name its adapter; say at least whether it is software.
            let name = if i.name.is_empty() { "browser adapter" } else { &i.name };
            let adapter = format!("{name}{}", if i.is_software { ", software" } else { "" });
            Ok(Choice::Gpu(be, adapter))
        }
        other => Err(JsError::new(&format!("unknown training backend `{other}` (expected cpu or webgpu)"))),
    }
}

#[derive(Serialize)]
struct Info {
    task: tab_train::TaskInfo,
    preset: String,
    seed: f64,
    total_steps: f64,
    parameters: f64,
    backend: String,
    /// The GPU adapter (empty on the CPU).
    adapter: String,
    config_json: String,
}

/// A training run held by the worker.
#[wasm_bindgen]
pub struct TrainSession {
    cell: Rc<RefCell<Option<Session>>>,
    step: Rc<Cell<u64>>,
    info: JsValue,
}

fn wrap<B: crate::backend::Backend + Clone>(s: TabSession<B>, backend: &str, adapter: String, make: fn(TabSession<B>) -> Session) -> Result<TrainSession, JsError> {
    let info = to_js(&Info {
        task: s.task_info(),
        preset: s.spec().preset.clone(),
        seed: s.spec().seed as f64,
        total_steps: s.total_steps() as f64,
        parameters: s.parameter_count() as f64,
        backend: backend.to_string(),
        adapter,
        config_json: s.config().to_json_string(),
    })?;
    Ok(TrainSession { step: Rc::new(Cell::new(s.step_count())), cell: Rc::new(RefCell::new(Some(make(s)))), info })
}

/// Starts a run: `spec_json` is a `RunSpec` (`{"task": "reverse", "preset": "tiny", "seed": 1}`);
/// `backend` is `cpu` or `webgpu`.
#[wasm_bindgen]
pub async fn train_start(spec_json: String, backend: String) -> Result<TrainSession, JsError> {
    let spec: RunSpec = serde_json::from_str(&spec_json).map_err(|e| js_err(format!("training run: {e}")))?;
    match backend_for(&backend).await? {
        Choice::Cpu => wrap(TabSession::start(CpuBackend, spec).await.map_err(js_err)?, "cpu", String::new(), Session::Cpu),
        Choice::Gpu(be, adapter) => wrap(TabSession::start(be, spec).await.map_err(js_err)?, "webgpu", adapter, Session::Gpu),
    }
}

/// Continues the run a checkpoint holds (the three blobs of `TrainSession::checkpoint`), on either
/// backend (a checkpoint is plain f32 tensors, whichever backend wrote it).
#[wasm_bindgen]
pub async fn train_resume(model: Vec<u8>, state: Vec<u8>, meta: String, backend: String) -> Result<TrainSession, JsError> {
    let files = StateFiles { model, state, meta_json: meta };
    match backend_for(&backend).await? {
        Choice::Cpu => wrap(TabSession::resume(CpuBackend, &files).await.map_err(js_err)?, "cpu", String::new(), Session::Cpu),
        Choice::Gpu(be, adapter) => wrap(TabSession::resume(be, &files).await.map_err(js_err)?, "webgpu", adapter, Session::Gpu),
    }
}

fn bytes(v: &[u8]) -> JsValue {
    Uint8Array::from(v).into()
}

#[wasm_bindgen]
impl TrainSession {
    /// Task, preset, sizes and backend of the run (fixed for its lifetime).
    #[wasm_bindgen(unchecked_return_type = "TrainSessionInfo")]
    pub fn info(&self) -> JsValue {
        self.info.clone()
    }

    /// Optimizer steps taken (as of the last finished call).
    #[wasm_bindgen(getter)]
    pub fn step_count(&self) -> f64 {
        self.step.get() as f64
    }

    /// Runs `f` on the session, taken out of its cell while the future runs.
    fn with<F, Fut>(&self, f: F) -> Promise
    where
        F: FnOnce(Session) -> Fut + 'static,
        Fut: Future<Output = (Session, Result<JsValue, JsValue>)> + 'static,
    {
        let cell = self.cell.clone();
        let step = self.step.clone();
        future_to_promise(async move {
            let taken = cell.borrow_mut().take();
            let s = taken.ok_or_else(|| JsValue::from(JsError::new("the training session is busy with another call (or was freed)")))?;
            let (s, r) = f(s).await;
            step.set(s.step_count());
            *cell.borrow_mut() = Some(s);
            r
        })
    }

    /// One training step; resolves with its log line.
    #[wasm_bindgen(unchecked_return_type = "Promise<TrainStepLog>")]
    pub fn step(&self) -> Promise {
        self.with(|mut s| async move {
            let r = s.step().await.and_then(|log| to_js(&log));
            (s, r.map_err(JsValue::from))
        })
    }

    /// The official evaluation on the run's fixed held-out set.
    #[wasm_bindgen(unchecked_return_type = "Promise<TrainEvalLog>")]
    pub fn evaluate(&self) -> Promise {
        self.with(|mut s| async move {
            let r = s.evaluate().await.and_then(|log| to_js(&log));
            (s, r.map_err(JsValue::from))
        })
    }

    /// The three checkpoint blobs (model.safetensors, train_state.safetensors, train_state.json).
    #[wasm_bindgen(unchecked_return_type = "Promise<TrainCheckpoint>")]
    pub fn checkpoint(&self) -> Promise {
        self.with(|s| async move {
            let r = match s.checkpoint().await {
                Ok(f) => {
                    let o = Object::new();
                    let set = |k: &str, v: JsValue| Reflect::set(&o, &JsValue::from_str(k), &v).map(|_| ());
                    set("model", bytes(&f.model)).and(set("state", bytes(&f.state))).and(set("meta", JsValue::from_str(&f.meta_json))).map(|_| o.into())
                }
                Err(e) => Err(e.into()),
            };
            (s, r)
        })
    }

    /// The weights as a normal checkpoint (safetensors, config in its metadata): to export or to solve with.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn model_safetensors(&self) -> Promise {
        self.with(|s| async move {
            let r = s.model_safetensors().await.map(|b| bytes(&b)).map_err(JsValue::from);
            (s, r)
        })
    }
}
