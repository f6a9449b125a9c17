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
use crate::backend::CpuBackend;
use crate::tab_train::{self, RunSpec, TabSession};
use crate::train::StateFiles;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export interface TrainTaskInfo { id: string; label: string; family: 'synthetic' | 'sudoku' | 'maze'; seq_len: number; vocab_size: number; total_steps: number }
export interface TrainPresetInfo { id: string; label: string; hidden_size: number; num_heads: number; h_layers: number; l_layers: number; h_cycles: number; l_cycles: number; halt_max_steps: number; batch_size: number; lr: number }
export interface TrainCatalog { tasks: TrainTaskInfo[]; presets: TrainPresetInfo[] }
export interface TrainStepLog { step: number; lr: number; loss: number; lm_loss: number; q_halt_loss: number; q_continue_loss: number; accuracy: number; exact_accuracy: number; q_halt_accuracy: number; steps: number; count: number }
export interface TrainEvalLog { accuracy: number; exact_accuracy: number; q_halt_accuracy: number; steps: number; lm_loss: number; q_halt_loss: number; count: number; segments: number }
export interface TrainCheckpoint { model: Uint8Array; state: Uint8Array; meta: string }
export interface TrainSessionInfo { task: TrainTaskInfo; preset: string; seed: number; total_steps: number; parameters: number; backend: string; config_json: string }
"#;

/// The tasks and model presets the page offers.
#[wasm_bindgen(unchecked_return_type = "TrainCatalog")]
pub fn train_catalog() -> Result<JsValue, JsError> {
    to_js(&tab_train::catalog())
}

type Session = TabSession<CpuBackend>;

/// Only the CPU backend trains in this build: `Trainer<B>` needs `B: Clone`, which `GpuBackend` is not yet.
fn backend_for(name: &str) -> Result<CpuBackend, JsError> {
    match name {
        "cpu" => Ok(CpuBackend),
        "webgpu" => Err(JsError::new("training on WebGPU is not available in this build (the trainer needs a cloneable GPU backend); choose the CPU (wasm) backend")),
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
    config_json: String,
}

/// A training run held by the worker.
#[wasm_bindgen]
pub struct TrainSession {
    cell: Rc<RefCell<Option<Session>>>,
    step: Rc<Cell<u64>>,
    info: JsValue,
}

fn wrap(s: Session, backend: &str) -> Result<TrainSession, JsError> {
    let info = to_js(&Info {
        task: s.task_info(),
        preset: s.spec().preset.clone(),
        seed: s.spec().seed as f64,
        total_steps: s.total_steps() as f64,
        parameters: s.parameter_count() as f64,
        backend: backend.to_string(),
        config_json: s.config().to_json_string(),
    })?;
    Ok(TrainSession { step: Rc::new(Cell::new(s.step_count())), cell: Rc::new(RefCell::new(Some(s))), info })
}

/// Starts a run: `spec_json` is a `RunSpec` (`{"task": "reverse", "preset": "tiny", "seed": 1}`).
#[wasm_bindgen]
pub async fn train_start(spec_json: String, backend: String) -> Result<TrainSession, JsError> {
    let spec: RunSpec = serde_json::from_str(&spec_json).map_err(|e| js_err(format!("training run: {e}")))?;
    let be = backend_for(&backend)?;
    let s = TabSession::start(be, spec).await.map_err(js_err)?;
    wrap(s, &backend)
}

/// Continues the run a checkpoint holds (the three blobs of `TrainSession::checkpoint`).
#[wasm_bindgen]
pub async fn train_resume(model: Vec<u8>, state: Vec<u8>, meta: String, backend: String) -> Result<TrainSession, JsError> {
    let be = backend_for(&backend)?;
    let files = StateFiles { model, state, meta_json: meta };
    let s = TabSession::resume(be, &files).await.map_err(js_err)?;
    wrap(s, &backend)
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
            let r = s.step().await.map_err(js_err).and_then(|log| to_js(&log));
            (s, r.map_err(JsValue::from))
        })
    }

    /// The official evaluation on the run's fixed held-out set.
    #[wasm_bindgen(unchecked_return_type = "Promise<TrainEvalLog>")]
    pub fn evaluate(&self) -> Promise {
        self.with(|mut s| async move {
            let r = s.evaluate().await.map_err(js_err).and_then(|log| to_js(&log));
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
                Err(e) => Err(js_err(e).into()),
            };
            (s, r)
        })
    }

    /// The weights as a normal checkpoint (safetensors, config in its metadata): to export or to solve with.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn model_safetensors(&self) -> Promise {
        self.with(|s| async move {
            let r = s.model_safetensors().await.map(|b| bytes(&b)).map_err(|e| js_err(e).into());
            (s, r)
        })
    }
}
