//! `shaders/loss.wgsl`: stablemax cross-entropy and the Q-head BCE losses with their gradients.

use super::context::{GpuContext, GpuError};
use super::kernels::{Access, Shader, MAX_GROUPS};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "loss.wgsl", source: include_str!("../../../../shaders/loss.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    s: u32,
    t: u32,
    p_len: u32,
    v: u32,
    grad_scale: f32,
    batch: u32,
    has_cont: u32,
    _pad: u32,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// Per-example results of the LM loss: `stats` [B, 4] = (sum_t ce / max(count, 1), 0, correct tokens,
/// counted tokens) as the CPU twin lays them out, and the gradient of `grad_scale * lm_loss`.
pub struct LmLoss {
    pub stats: GpuTensor,
    pub dlogits: GpuTensor,
}

/// Stablemax (or softmax) CE over the label positions: logits [B*T, V] (all T rows; the first P of each example are
/// puzzle positions and get zero gradient), labels i32 [B, S] with -100 = ignore (checked on the host
/// side by the caller: every other label must be < V).
pub fn dispatch_lm_loss(ctx: &GpuContext, logits: &GpuTensor, labels: &GpuTensor, seq: usize, p_len: usize, grad_scale: f32, softmax: bool) -> Result<LmLoss, GpuError> {
    let v = match logits.shape.as_slice() {
        [_, v] if *v > 0 => *v,
        _ => return Err(GpuError::Shape(format!("stablemax_ce: logits must be [B*T, V], got {:?}", logits.shape))),
    };
    let s = seq.checked_sub(p_len).filter(|&s| s > 0).ok_or_else(|| GpuError::Shape(format!("stablemax_ce: T {seq} <= P {p_len}")))?;
    let rows = logits.numel() / v;
    if rows % seq != 0 || labels.numel() != (rows / seq) * s {
        return Err(GpuError::Shape(format!("stablemax_ce: logits {:?} and labels {:?} do not fit T {seq}, P {p_len}", logits.shape, labels.shape)));
    }
    let batch = rows / seq;
    if batch > MAX_GROUPS as usize {
        return Err(GpuError::Shape(format!("stablemax_ce: batch {batch} > {MAX_GROUPS}")));
    }
    let dlogits = ctx.empty(&logits.shape)?;
    let stats = ctx.empty(&[batch, 4])?;
    let p = Params { s: s as u32, t: seq as u32, p_len: p_len as u32, v: v as u32, grad_scale, batch: batch as u32, has_cont: 0, _pad: 0 };
    let k = ctx.kernel(&SHADER, "stablemax_ce", &[(0, R), (1, R), (2, W), (3, W)], &[("SOFTMAX", softmax as u32 as f64)]);
    ctx.dispatch(&k, &[logits, labels, &dlogits, &stats], &p, [batch as u32, 1, 1])?;
    Ok(LmLoss { stats, dlogits })
}

/// Q losses [B, 2] (halt, continue) and the gradient of `grad_scale * 0.5 * (halt + continue)` wrt
/// q [B, 2]. The halt target is `stats[:, 2] == stats[:, 3]` of [`dispatch_lm_loss`]; the continue target [B]
/// exists only in training (None: its loss and gradient are 0).
pub fn dispatch_q_bce(ctx: &GpuContext, q: &GpuTensor, stats: &GpuTensor, cont_target: Option<&GpuTensor>, grad_scale: f32) -> Result<(GpuTensor, GpuTensor), GpuError> {
    let batch = q.numel() / 2;
    if q.numel() != 2 * batch || stats.numel() != 4 * batch || cont_target.is_some_and(|c| c.numel() != batch) {
        return Err(GpuError::Shape(format!("q_bce: q {:?}, stats {:?}, target {:?}", q.shape, stats.shape, cont_target.map(|c| c.shape.clone()))));
    }
    let dq = ctx.empty(&[batch, 2])?;
    let qloss = ctx.empty(&[batch, 2])?;
    let p = Params { s: 0, t: 0, p_len: 0, v: 0, grad_scale, batch: batch as u32, has_cont: cont_target.is_some() as u32, _pad: 0 };
    let k = ctx.kernel(&SHADER, "q_bce", &[(4, R), (5, R), (6, R), (7, W), (8, W)], &[]);
    ctx.dispatch(&k, &[q, stats, cont_target.unwrap_or(q), &dq, &qloss], &p, [batch.div_ceil(64) as u32, 1, 1])?;
    Ok((qloss, dq))
}
