//! The official optimizers (HRM_SPEC.md §7): AdamATan2 over every parameter, SignSGD over the
//! puzzle-embedding rows a batch touched, AdamW as an option, and the learning-rate schedule.
//!
//! The update math is written as plain slice functions ([`adam_atan2_update`], [`adamw_update`],
//! [`sign_sgd_rows`]): they are the CPU twins that the WGSL optimizer kernels are checked against. The
//! per-step scalars are computed once on the host ([`AdamAtan2Coeffs`], [`AdamWCoeffs`]) exactly as the
//! official kernels compute them (in f64, then rounded to f32), so a GPU kernel takes them as uniforms.
//!
//! AdamATan2 is the `adam-atan2` package (v0.0.3) the official HRM imports: Adam without eps, the
//! division `m̂ / sqrt(v̂)` replaced by `atan2(m̂, sqrt(v̂))` (no extra scale constants in that
//! package), decoupled weight decay `p *= 1 - lr*wd` applied before the update, moments updated by
//! `lerp` (the fused form `fma(t, x, fma(-t, m, m))`).

use std::collections::BTreeMap;

use crate::tensor::{HostTensor, ParamStore};
use crate::backend::cpu::math;

/// Everything an optimizer call can reject; each names the tensor or value at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    #[error("optimizer: tensor `{name}`: parameter has {param} values but its gradient has {grad}")]
    GradLength { name: String, param: usize, grad: usize },
    #[error("optimizer: tensor `{name}`: state has {state} values but the parameter has {param}")]
    StateLength { name: String, state: usize, param: usize },
    #[error("optimizer: tensor `{0}` appears twice in one step")]
    Duplicate(String),
    #[error("puzzle embedding: id {id} at batch row {row} is outside 0..{rows}")]
    PuzzleId { id: i64, row: usize, rows: usize },
    #[error("puzzle embedding: {what}")]
    Shape { what: String },
    #[error("optimizer state: {0}")]
    State(String),
    #[error("optimizer: {0}")]
    Hyper(String),
}

// ------------------------------------------------------------------------------------------------
// Learning-rate schedule
// ------------------------------------------------------------------------------------------------

/// `pretrain.py: cosine_schedule_with_warmup_lr_lambda` with `num_cycles = 0.5`: linear warm-up from 0 over
/// `warmup_steps`, then a half cosine from `base_lr` down to `min_ratio * base_lr` at `total_steps`.
/// The official loop increments its step counter BEFORE asking, so its first optimizer step uses
/// `current_step = 1`.
pub fn cosine_schedule_with_warmup_lr(
    current_step: u64,
    base_lr: f64,
    warmup_steps: u64,
    total_steps: u64,
    min_ratio: f64,
) -> f64 {
    if current_step < warmup_steps {
        return base_lr * current_step as f64 / warmup_steps.max(1) as f64;
    }
    let progress = (current_step - warmup_steps) as f64 / (total_steps.saturating_sub(warmup_steps)).max(1) as f64;
    let cosine = (1.0 - min_ratio) * 0.5 * (1.0 + (std::f64::consts::PI * 0.5 * 2.0 * progress).cos());
    base_lr * (min_ratio + cosine.max(0.0))
}

/// The schedule's knobs (official names: `lr`, `lr_warmup_steps`, total steps, `lr_min_ratio`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LrSchedule {
    pub base_lr: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
    pub min_ratio: f64,
}

impl LrSchedule {
    /// The learning rate of optimizer step `step` (1-based, as the official loop counts).
    pub fn lr(&self, step: u64) -> f64 {
        cosine_schedule_with_warmup_lr(step, self.base_lr, self.warmup_steps, self.total_steps, self.min_ratio)
    }
}

// ------------------------------------------------------------------------------------------------
// Update math on slices (the CPU twins of the GPU kernels)
// ------------------------------------------------------------------------------------------------

/// `torch.lerp` as the adam-atan2 kernel writes it: `m + t*(x - m)` in the fused form.
#[inline]
fn lerp(m: f32, x: f32, t: f32) -> f32 {
    t.mul_add(x, (-t).mul_add(m, m))
}

/// The per-step scalars of one AdamATan2 update, as the official kernel derives them (f64, then f32).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamAtan2Coeffs {
    /// `lr / (1 - beta1^step)`
    pub step_size: f32,
    /// `1 - lr * weight_decay`
    pub wd_alpha: f32,
    /// `sqrt(1 - beta2^step)`
    pub bias_correction2_sqrt: f32,
    /// `1 - beta1`
    pub one_minus_beta1: f32,
    /// `1 - beta2`
    pub one_minus_beta2: f32,
}

impl AdamAtan2Coeffs {
    /// `step` is the 1-based count of updates this tensor has had, including this one.
    pub fn new(step: u64, lr: f64, beta1: f64, beta2: f64, weight_decay: f64) -> AdamAtan2Coeffs {
        let t = step as f64;
        AdamAtan2Coeffs {
            step_size: (lr / (1.0 - beta1.powf(t))) as f32,
            wd_alpha: (1.0 - lr * weight_decay) as f32,
            bias_correction2_sqrt: (1.0 - beta2.powf(t)).sqrt() as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
        }
    }
}

/// One AdamATan2 update in place, element by element:
/// `p *= wd_alpha; m = lerp(m, g, 1-β1); v = lerp(v, g², 1-β2); p -= step_size * atan2(m, sqrt(v)/sqrt(bc2))`.
/// All four slices must have the same length (checked by the callers that take user data).
pub fn adam_atan2_update(c: &AdamAtan2Coeffs, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    debug_assert!(grad.len() == param.len() && m.len() == param.len() && v.len() == param.len());
    per_chunk(param, grad, m, v, |param, grad, m, v| {
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            let mut x = *p * c.wd_alpha;
            *m = lerp(*m, g, c.one_minus_beta1);
            *v = lerp(*v, g * g, c.one_minus_beta2);
            let denom = v.sqrt() / c.bias_correction2_sqrt;
            x -= c.step_size * math::atan2(*m, denom);
            *p = x;
        }
    })
}

/// Runs an element-wise update over matching chunks of the four slices: on rayon threads and with
/// AVX2/FMA natively (the update is per element, so the split changes no result).
fn per_chunk<F>(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], f: F)
where
    F: Fn(&mut [f32], &[f32], &mut [f32], &mut [f32]) + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 14;
        param.par_chunks_mut(CHUNK).zip(grad.par_chunks(CHUNK)).zip(m.par_chunks_mut(CHUNK)).zip(v.par_chunks_mut(CHUNK)).for_each(
            |(((p, g), m), v)| math::wide(|| f(p, g, m, v)),
        );
    }
    #[cfg(target_arch = "wasm32")]
    f(param, grad, m, v)
}

/// The per-step scalars of one AdamW update (`torch.optim.AdamW`, single-tensor path).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWCoeffs {
    pub step_size: f32,
    pub wd_alpha: f32,
    pub bias_correction2_sqrt: f32,
    pub one_minus_beta1: f32,
    pub beta2: f32,
    pub one_minus_beta2: f32,
    pub eps: f32,
}

impl AdamWCoeffs {
    pub fn new(step: u64, lr: f64, beta1: f64, beta2: f64, weight_decay: f64, eps: f64) -> AdamWCoeffs {
        let t = step as f64;
        AdamWCoeffs {
            step_size: (lr / (1.0 - beta1.powf(t))) as f32,
            wd_alpha: (1.0 - lr * weight_decay) as f32,
            bias_correction2_sqrt: (1.0 - beta2.powf(t)).sqrt() as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            eps: eps as f32,
        }
    }
}

/// One AdamW update in place: `p *= wd_alpha; m = lerp(m, g, 1-β1); v = β2 v + (1-β2) g²;
/// p -= step_size * m / (sqrt(v)/sqrt(bc2) + eps)`.
pub fn adamw_update(c: &AdamWCoeffs, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    debug_assert!(grad.len() == param.len() && m.len() == param.len() && v.len() == param.len());
    per_chunk(param, grad, m, v, |param, grad, m, v| {
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            let mut x = *p * c.wd_alpha;
            *m = lerp(*m, g, c.one_minus_beta1);
            *v = *v * c.beta2 + c.one_minus_beta2 * g * g;
            let denom = v.sqrt() / c.bias_correction2_sqrt + c.eps;
            x -= c.step_size * (*m / denom);
            *p = x;
        }
    })
}

/// `torch.sign`: -1, 0 or +1 (0 stays 0, so a row whose summed gradient is exactly 0 only decays).
#[inline]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The official sparse SignSGD (`_sparse_emb_signsgd_dist`, one process): the per-batch-row gradients
/// `row_grads` [B, D] are summed per unique id (scatter-add), then each touched row of `weights`
/// [num_ids, D] becomes `w * (1 - lr*wd) - lr * sign(g)`. Rows no batch row names are left alone
/// (no decay either). Returns the sorted unique ids that were updated.
pub fn sign_sgd_rows(
    weights: &mut [f32],
    dim: usize,
    ids: &[i32],
    row_grads: &[f32],
    lr: f64,
    weight_decay: f64,
) -> Result<Vec<i32>, OptimError> {
    if dim == 0 || weights.len() % dim != 0 {
        return Err(OptimError::Shape { what: format!("weights hold {} values, not a multiple of dim {dim}", weights.len()) });
    }
    if row_grads.len() != ids.len() * dim {
        return Err(OptimError::Shape {
            what: format!("gradient has {} values, expected {} ids x {dim}", row_grads.len(), ids.len()),
        });
    }
    let rows = weights.len() / dim;
    let mut summed: BTreeMap<i32, Vec<f32>> = BTreeMap::new();
    for (row, (&id, g)) in ids.iter().zip(row_grads.chunks_exact(dim)).enumerate() {
        if id < 0 || id as usize >= rows {
            return Err(OptimError::PuzzleId { id: id as i64, row, rows });
        }
        let acc = summed.entry(id).or_insert_with(|| vec![0.0; dim]);
        for (a, &x) in acc.iter_mut().zip(g) {
            *a += x;
        }
    }
    let decay = (1.0 - lr * weight_decay) as f32;
    let neg_lr = -lr as f32;
    for (&id, g) in &summed {
        let w = &mut weights[id as usize * dim..(id as usize + 1) * dim];
        for (w, &g) in w.iter_mut().zip(g) {
            *w = *w * decay + neg_lr * sign(g);
        }
    }
    Ok(summed.into_keys().collect())
}

// ------------------------------------------------------------------------------------------------
// Stateful optimizers
// ------------------------------------------------------------------------------------------------

/// Which Adam rule.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AdamVariant {
    /// The official optimizer (`adam_atan2.AdamATan2`).
    Atan2,
    /// `torch.optim.AdamW` with this eps.
    AdamW { eps: f64 },
}

/// Hyper-parameters of [`Adam`]; the official recipe is β = (0.9, 0.95), weight decay 0.1 (Sudoku 1.0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamConfig {
    pub variant: AdamVariant,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> AdamConfig {
        AdamConfig { variant: AdamVariant::Atan2, beta1: 0.9, beta2: 0.95, weight_decay: 0.1 }
    }
}

/// One tensor's Adam state: its own step count (as torch keeps it) and the two moments.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    pub step: u64,
    pub exp_avg: Vec<f32>,
    pub exp_avg_sq: Vec<f32>,
}

/// Adam (ATan2 or W) over named tensors, state kept per name.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    pub config: AdamConfig,
    state: BTreeMap<String, Moments>,
}

/// Names of the optimizer state inside a checkpoint: `{prefix}{param}.exp_avg`, `….exp_avg_sq`, `….step`.
const EXP_AVG: &str = ".exp_avg";
const EXP_AVG_SQ: &str = ".exp_avg_sq";
const STEP: &str = ".step";

impl Adam {
    pub fn new(config: AdamConfig) -> Result<Adam, OptimError> {
        for (name, b) in [("beta1", config.beta1), ("beta2", config.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(OptimError::Hyper(format!("{name} = {b} is outside [0, 1)")));
            }
        }
        if !(config.weight_decay >= 0.0) {
            return Err(OptimError::Hyper(format!("weight_decay = {} must be >= 0", config.weight_decay)));
        }
        if let AdamVariant::AdamW { eps } = config.variant {
            if !(eps >= 0.0) {
                return Err(OptimError::Hyper(format!("eps = {eps} must be >= 0")));
            }
        }
        Ok(Adam { config, state: BTreeMap::new() })
    }

    /// One optimizer step with learning rate `lr` over `(name, parameter, gradient)` triples. A tensor
    /// seen for the first time starts from zero moments (as torch does lazily).
    pub fn step<'a, I>(&mut self, lr: f64, tensors: I) -> Result<(), OptimError>
    where
        I: IntoIterator<Item = (&'a str, &'a mut [f32], &'a [f32])>,
    {
        let mut seen = std::collections::BTreeSet::new();
        for (name, param, grad) in tensors {
            if !seen.insert(name) {
                return Err(OptimError::Duplicate(name.to_string()));
            }
            self.step_tensor(lr, name, param, grad)?;
        }
        Ok(())
    }

    /// The update of one tensor (the building block of [`Adam::step`], for callers that own their
    /// parameters in another layout).
    pub fn step_tensor(&mut self, lr: f64, name: &str, param: &mut [f32], grad: &[f32]) -> Result<(), OptimError> {
        if grad.len() != param.len() {
            return Err(OptimError::GradLength { name: name.into(), param: param.len(), grad: grad.len() });
        }
        let n = param.len();
        let st = self
            .state
            .entry(name.to_string())
            .or_insert_with(|| Moments { step: 0, exp_avg: vec![0.0; n], exp_avg_sq: vec![0.0; n] });
        if st.exp_avg.len() != n || st.exp_avg_sq.len() != n {
            return Err(OptimError::StateLength { name: name.into(), state: st.exp_avg.len(), param: n });
        }
        st.step += 1;
        let AdamConfig { beta1, beta2, weight_decay, variant } = self.config;
        match variant {
            AdamVariant::Atan2 => {
                let c = AdamAtan2Coeffs::new(st.step, lr, beta1, beta2, weight_decay);
                adam_atan2_update(&c, param, grad, &mut st.exp_avg, &mut st.exp_avg_sq);
            }
            AdamVariant::AdamW { eps } => {
                let c = AdamWCoeffs::new(st.step, lr, beta1, beta2, weight_decay, eps);
                adamw_update(&c, param, grad, &mut st.exp_avg, &mut st.exp_avg_sq);
            }
        }
        Ok(())
    }

    /// The state of one tensor, if it has been stepped.
    pub fn moments(&self, name: &str) -> Option<&Moments> {
        self.state.get(name)
    }

    /// Sets one tensor's state (used when the moments live on a device and are gathered for a save).
    pub fn set_moments(&mut self, name: &str, moments: Moments) {
        self.state.insert(name.to_string(), moments);
    }

    /// The names of the tensors that have state.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.state.keys().map(String::as_str)
    }

    /// The whole state as named tensors (`{prefix}{name}.exp_avg` / `.exp_avg_sq` with the parameter's
    /// length, `.step` as a one-element tensor), ready to go into a safetensors checkpoint. The step is
    /// stored as f32 as torch stores it; it is exact up to 2^24 steps.
    pub fn state_tensors(&self, prefix: &str) -> ParamStore {
        let mut out = ParamStore::new();
        for (name, st) in &self.state {
            let n = st.exp_avg.len();
            out.insert(format!("{prefix}{name}{EXP_AVG}"), HostTensor::new(vec![n], st.exp_avg.clone()));
            out.insert(format!("{prefix}{name}{EXP_AVG_SQ}"), HostTensor::new(vec![n], st.exp_avg_sq.clone()));
            out.insert(format!("{prefix}{name}{STEP}"), HostTensor::new(vec![1], vec![st.step as f32]));
        }
        out
    }

    /// Rebuild the state from [`Adam::state_tensors`] output (tensors not under `prefix` are ignored).
    /// Every tensor needs all three entries with consistent lengths and a whole, non-negative step.
    pub fn load_state(&mut self, prefix: &str, tensors: &ParamStore) -> Result<(), OptimError> {
        let mut state: BTreeMap<String, Moments> = BTreeMap::new();
        for (key, t) in tensors.range(prefix.to_string()..) {
            let Some(rest) = key.strip_prefix(prefix) else { break };
            let Some(name) = rest.strip_suffix(STEP) else { continue };
            let step = match t.data.as_slice() {
                [s] if *s >= 0.0 && s.fract() == 0.0 && s.is_finite() => *s as u64,
                _ => return Err(OptimError::State(format!("`{key}` must be one whole non-negative number"))),
            };
            let get = |suffix: &str| -> Result<Vec<f32>, OptimError> {
                let k = format!("{prefix}{name}{suffix}");
                let t = tensors.get(&k).ok_or_else(|| OptimError::State(format!("`{k}` is missing")))?;
                if t.data.iter().any(|x| !x.is_finite()) {
                    return Err(OptimError::State(format!("`{k}` holds a non-finite value")));
                }
                Ok(t.data.clone())
            };
            let (exp_avg, exp_avg_sq) = (get(EXP_AVG)?, get(EXP_AVG_SQ)?);
            if exp_avg.len() != exp_avg_sq.len() {
                return Err(OptimError::State(format!(
                    "`{prefix}{name}`: exp_avg has {} values, exp_avg_sq {}",
                    exp_avg.len(),
                    exp_avg_sq.len()
                )));
            }
            state.insert(name.to_string(), Moments { step, exp_avg, exp_avg_sq });
        }
        for key in tensors.keys().filter_map(|k| k.strip_prefix(prefix)) {
            let name = key.strip_suffix(EXP_AVG_SQ).or_else(|| key.strip_suffix(EXP_AVG));
            if let Some(name) = name {
                if !state.contains_key(name) {
                    return Err(OptimError::State(format!("`{prefix}{name}{STEP}` is missing")));
                }
            }
        }
        self.state = state;
        Ok(())
    }
}

/// The puzzle-embedding optimizer: stateless SignSGD with decoupled weight decay (official
/// `CastedSparseEmbeddingSignSGD_Distributed`; lr `puzzle_emb_lr`, wd `puzzle_emb_weight_decay`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignSgd {
    pub weight_decay: f64,
}

impl SignSgd {
    /// Update the rows of `weights` [num_ids, dim] named by `ids` with the per-row gradients [B, dim].
    pub fn step(&self, lr: f64, weights: &mut [f32], dim: usize, ids: &[i32], row_grads: &[f32]) -> Result<Vec<i32>, OptimError> {
        sign_sgd_rows(weights, dim, ids, row_grads, lr, self.weight_decay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_is_the_fused_interpolation() {
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        assert_eq!(lerp(0.0, 2.0, 0.1), 0.1f32 * 2.0);
    }

    #[test]
    fn sign_of_zero_is_zero() {
        assert_eq!((sign(-0.0), sign(0.0), sign(2.0), sign(-1e-30)), (0.0, 0.0, 1.0, -1.0));
    }
}
