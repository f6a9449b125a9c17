//! The official HRM ACT-v1 (HRM_SPEC §3–§6), written once against [`Backend`](crate::backend::Backend).
//!
//! - [`Hrm`] holds the weights on a backend and runs ACT segments: [`Hrm::eval_segment`] (official
//!   `model.eval()` semantics, optional [`Observer`] of every L/H call) and [`Hrm::train_segment`]
//!   (train-mode halting with exploration, the Q-target forward, the loss and the one-step gradient of
//!   `loss / rows`, left in [`Hrm::grads`] and [`Hrm::puzzle_grad`]).
//! - [`Carry`] is the ACT carry; [`Batch`] the collated input.
//!
//! Use (native; in wasm `.await` the same futures):
//! ```no_run
//! # use hrm::{Config, ParamStore, backend::CpuBackend, model::{Batch, Hrm, SplitMix64}};
//! # fn demo(cfg: &Config, weights: &ParamStore, batch: &Batch) -> Result<(), hrm::model::ModelError> {
//! let mut model = Hrm::new(CpuBackend, cfg, weights)?;
//! // evaluation, as the official evaluate(): halt_max_steps segments on the same batch
//! let mut carry = model.initial_carry(batch);
//! loop {
//!     let out = pollster::block_on(model.eval_segment(&mut carry, batch, None))?;
//!     let logits = pollster::block_on(model.read_logits()); // [rows, seq_len, vocab]
//!     if out.all_halted { break; }
//! }
//! // training: one segment per optimizer step, the carry persists across batches
//! let mut carry = model.initial_carry(batch);
//! let mut rng = SplitMix64(0);
//! let out = pollster::block_on(model.train_segment(&mut carry, batch, &mut rng))?;
//! for (name, param, grad) in model.params_and_grads_mut() { /* optimizer step */ }
//! # Ok(()) }
//! ```
//!
//! Files: `embed` (input embeddings), `block`, `reasoning` (H/L modules), `segment` (cycles + one-step
//! gradient), `act` (carry, halting, Q target), `loss` (metrics and losses), `weights` (names, shapes).

mod act;
mod batch;
mod block;
mod embed;
mod loss;
mod reasoning;
mod segment;
pub mod weights;
#[cfg(test)]
mod tests;

pub use act::{Carry, HaltRng, SegmentOutput, SplitMix64};
pub use batch::Batch;
pub use loss::Metrics;
pub use segment::{CallInfo, Module, Observer};
pub use weights::{buffer_specs, param_specs, BlockParams, Buffers, Params, PREFIX};

use crate::backend::{AttnDims, Backend, EmbedDims, LmLossKind, Local, LossDims};
use crate::{Config, HostTensor, LossType, ParamStore};
use block::Rope;
use segment::Work;

/// Everything that can go wrong building or running the model; each names what is at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("model: tensor `{0}` is missing")]
    MissingTensor(String),
    #[error("model: tensor `{name}` has shape {got:?}, expected {expected:?}")]
    Shape { name: String, expected: Vec<usize>, got: Vec<usize> },
    #[error("model: tensor `{name}` holds a non-finite value at index {index}")]
    NonFinite { name: String, index: usize },
    #[error("model: bad batch: {0}")]
    Batch(String),
    #[error("model: {0}")]
    Config(#[from] crate::ConfigError),
    #[error("model: the carry was made for {carry} rows but the batch has {batch}")]
    CarryRows { carry: usize, batch: usize },
}

/// All sizes one segment needs, for a given number of batch rows.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    pub batch: usize,
    pub seq: usize,
    pub puzzle_len: usize,
    pub puzzle_dim: usize,
    pub total: usize,
    pub hidden: usize,
    pub heads: usize,
    pub head_dim: usize,
    pub inter: usize,
    pub vocab: usize,
    pub eps: f32,
    pub local: Option<Local>,
}

impl Dims {
    pub fn new(cfg: &Config, batch: usize) -> Dims {
        Dims {
            batch,
            seq: cfg.seq_len,
            puzzle_len: cfg.puzzle_emb_len(),
            puzzle_dim: cfg.puzzle_emb_ndim,
            total: cfg.total_seq(),
            hidden: cfg.hidden_size,
            heads: cfg.num_heads,
            head_dim: cfg.head_dim(),
            inter: cfg.swiglu_width(),
            vocab: cfg.vocab_size,
            eps: cfg.rms_norm_eps as f32,
            // validate() has checked that a non-zero radius comes with a square grid
            local: (cfg.attn_radius > 0).then(|| Local { prefix: cfg.puzzle_emb_len(), side: cfg.grid_side().unwrap_or(1), radius: cfg.attn_radius }),
        }
    }
    /// `M = B*T`: the rows every per-position op sees.
    pub fn rows(&self) -> usize {
        self.batch * self.total
    }
    /// `nh*d`: the attention width.
    pub fn inner(&self) -> usize {
        self.heads * self.head_dim
    }
    pub fn attn(&self) -> AttnDims {
        AttnDims { batch: self.batch, total: self.total, heads: self.heads, head_dim: self.head_dim, local: self.local }
    }
    pub fn embed(&self) -> EmbedDims {
        EmbedDims { batch: self.batch, seq: self.seq, puzzle_len: self.puzzle_len, puzzle_dim: self.puzzle_dim, hidden: self.hidden, vocab: self.vocab }
    }
    pub fn loss(&self) -> LossDims {
        LossDims { batch: self.batch, puzzle_len: self.puzzle_len, seq: self.seq, vocab: self.vocab }
    }
}

/// The HRM on backend `B`.
pub struct Hrm<B: Backend> {
    be: B,
    cfg: Config,
    params: Params<B::Buf>,
    buffers: Buffers<B>,
    rope: Option<Rope<B>>,
    /// Gradients of the last train segment (same layout as `params`).
    grads: Params<B::Buf>,
    /// Per-row puzzle-embedding gradient of the last train segment `[rows, puzzle_emb_ndim]`.
    puzzle_grad: B::Buf,
    /// Activations and scratch, sized for `work.dims.batch` rows; reused across segments.
    work: Option<Work<B>>,
    /// The copy of the carry the Q-target forward runs on (reused).
    next_carry: Option<(B::Buf, B::Buf)>,
}

impl<B: Backend> Hrm<B> {
    /// Builds the model from official-named tensors (`model.inner.…`, `_orig_mod.` also accepted).
    /// Extra tensors in `store` are ignored here (the checkpoint loader decides whether to refuse them).
    pub fn new(be: B, cfg: &Config, store: &ParamStore) -> Result<Hrm<B>, ModelError> {
        cfg.validate()?;
        let params = Params::build(cfg, |name, shape| Ok(be.upload(&weights::lookup(store, name, shape)?.data)))?;
        let grads = Params::build(cfg, |_, shape| Ok(be.alloc(shape.iter().product())))?;
        let get = |name: &str, shape: &[usize]| -> Result<B::Buf, ModelError> { Ok(be.upload(&weights::lookup(store, name, shape)?.data)) };
        let h = cfg.hidden_size;
        let buffers = Buffers {
            h_init: get("H_init", &[h])?,
            l_init: get("L_init", &[h])?,
            puzzle_emb: if cfg.puzzle_emb_ndim > 0 {
                get("puzzle_emb.weights", &[cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim])?
            } else {
                be.alloc(0)
            },
        };
        let rope = crate::backend::cpu::rope::tables_for(cfg).map(|(cos, sin)| Rope { cos: be.upload(&cos), sin: be.upload(&sin) });
        let puzzle_grad = be.alloc(0);
        Ok(Hrm { be, cfg: cfg.clone(), params, buffers, rope, grads, puzzle_grad, work: None, next_carry: None })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// Changes the ACT limit (eval rows halt there): evaluation with more segments than the model was
    /// trained with is test-time scaling. Nothing else depends on it.
    pub fn set_halt_max_steps(&mut self, n: usize) {
        self.cfg.halt_max_steps = n.max(1);
    }
    pub fn backend(&self) -> &B {
        &self.be
    }
    /// The trainable parameters on the device (for an optimizer).
    pub fn params(&self) -> &Params<B::Buf> {
        &self.params
    }
    pub fn params_mut(&mut self) -> &mut Params<B::Buf> {
        &mut self.params
    }
    /// Gradients of the last [`Hrm::train_segment`] (of `loss / rows`), same layout as [`Hrm::params`].
    pub fn grads(&self) -> &Params<B::Buf> {
        &self.grads
    }
    /// `puzzle_emb.local_weights.grad [rows, puzzle_emb_ndim]` of the last train segment: one row per
    /// batch row, not aggregated per identifier (the SignSGD optimizer does that with
    /// [`Hrm::puzzle_grad_ids`]). Empty when `puzzle_emb_ndim == 0`.
    pub fn puzzle_grad(&self) -> &B::Buf {
        &self.puzzle_grad
    }
    /// `puzzle_emb.local_ids [rows]` of the last train segment (the identifiers whose rows got `puzzle_grad`).
    pub fn puzzle_grad_ids(&self) -> &[i32] {
        self.work.as_ref().map(|w| w.data_ids.as_slice()).unwrap_or(&[])
    }
    /// `H_init`, `L_init`, `puzzle_emb.weights`.
    pub fn buffers(&self) -> &Buffers<B> {
        &self.buffers
    }
    pub fn buffers_mut(&mut self) -> &mut Buffers<B> {
        &mut self.buffers
    }
    /// Parameters and buffers with their gradients, in [`param_specs`] order: `(name, param, grad)`.
    pub fn params_and_grads_mut(&mut self) -> Vec<(String, &mut B::Buf, &B::Buf)> {
        let names = param_specs(&self.cfg).into_iter().map(|(n, _)| format!("{PREFIX}{n}"));
        names.zip(self.params.iter_mut().into_iter().zip(self.grads.iter())).map(|(n, (p, g))| (n, p, g)).collect()
    }

    fn loss_kind(&self) -> LmLossKind {
        match self.cfg.loss_type {
            LossType::StablemaxCrossEntropy => LmLossKind::Stablemax,
            LossType::SoftmaxCrossEntropy => LmLossKind::Softmax,
        }
    }

    /// Every weight and buffer under its official name (downloaded from the device).
    pub async fn to_param_store(&self) -> ParamStore {
        let mut out = ParamStore::new();
        let specs = param_specs(&self.cfg);
        let bufs = self.params.iter();
        let data = self.be.read(&bufs).await;
        for ((name, shape), d) in specs.into_iter().zip(data) {
            out.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, d));
        }
        let bspecs = buffer_specs(&self.cfg);
        let mut bb = vec![&self.buffers.h_init, &self.buffers.l_init];
        if self.cfg.puzzle_emb_ndim > 0 {
            bb.push(&self.buffers.puzzle_emb);
        }
        let data = self.be.read(&bb).await;
        for ((name, shape), d) in bspecs.into_iter().zip(data) {
            out.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, d));
        }
        out
    }

    /// The gradients of the last train segment under the parameters' names, plus
    /// `model.inner.puzzle_emb.local_weights` `[rows, puzzle_emb_ndim]` when there is a puzzle embedding.
    pub async fn grads_to_store(&self) -> ParamStore {
        let mut out = ParamStore::new();
        let specs = param_specs(&self.cfg);
        let data = self.be.read(&self.grads.iter()).await;
        for ((name, shape), d) in specs.into_iter().zip(data) {
            out.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, d));
        }
        if self.cfg.puzzle_emb_ndim > 0 {
            let d = self.be.read(&[&self.puzzle_grad]).await.remove(0);
            let rows = d.len() / self.cfg.puzzle_emb_ndim;
            out.insert(format!("{PREFIX}puzzle_emb.local_weights"), HostTensor::new(vec![rows, self.cfg.puzzle_emb_ndim], d));
        }
        out
    }
}
