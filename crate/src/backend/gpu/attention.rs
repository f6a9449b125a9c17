//! `shaders/attention.wgsl`: tiled non-causal attention over a packed qkv, forward and backward.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader, MAX_GROUPS};
use super::pool::GpuTensor;
use crate::backend::Local;

pub(crate) const SHADER: Shader = Shader { name: "attention.wgsl", source: include_str!("../../../../shaders/attention.wgsl") };

/// Largest head_dim the kernels hold in registers.
pub const MAX_HEAD_DIM: usize = 64;
const ROWS_PER_GROUP: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    seq: u32,
    heads: u32,
    d: u32,
    scale: f32,
    rows: u32,
    /// The local window (radius 0: none).
    prefix: u32,
    side: u32,
    radius: u32,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// The attention output and what its backward needs.
pub struct AttnOut {
    /// [B*T, nh*d], heads concatenated (head-major), ready for `@ Wo^T`.
    pub o: GpuTensor,
    /// Row log-sum-exp of the scaled scores [B, nh, T].
    pub lse: GpuTensor,
}

fn check(qkv: &GpuTensor, seq: usize, heads: usize, d: usize, local: Option<Local>) -> Result<(usize, Params), GpuError> {
    if d == 0 || d > MAX_HEAD_DIM || heads == 0 || seq == 0 {
        return Err(GpuError::Shape(format!("attention: head_dim {d} must be 1..={MAX_HEAD_DIM}, heads {heads} and T {seq} positive")));
    }
    let width = 3 * heads * d;
    if qkv.shape.last() != Some(&width) || (qkv.numel() / width) % seq != 0 {
        return Err(GpuError::Shape(format!("attention: qkv {:?} is not [B*T, 3*{heads}*{d}] with T = {seq}", qkv.shape)));
    }
    let batch = qkv.numel() / width / seq;
    if batch > MAX_GROUPS as usize {
        return Err(GpuError::Shape(format!("attention: batch {batch} > {MAX_GROUPS}")));
    }
    if let Some(w) = local {
        if w.radius == 0 || w.side == 0 || w.prefix + w.side * w.side != seq {
            return Err(GpuError::Shape(format!("attention: local window {w:?} does not lay out T = {seq}")));
        }
    }
    let w = local.unwrap_or(Local { prefix: 0, side: 1, radius: 0 });
    let (prefix, side, radius) = (w.prefix as u32, w.side as u32, w.radius as u32);
    Ok((batch, Params { seq: seq as u32, heads: heads as u32, d: d as u32, scale: 1.0 / (d as f32).sqrt(), rows: (batch * seq) as u32, prefix, side, radius }))
}

fn grid(seq: usize, heads: usize, batch: usize) -> [u32; 3] {
    [seq.div_ceil(ROWS_PER_GROUP) as u32, heads as u32, batch as u32]
}

/// softmax(q k^T / sqrt(d)) v per head, over every key or those a `local` window allows, for qkv
/// [B*T, 3*nh*d] (RoPE already applied).
pub fn dispatch_attention(ctx: &GpuContext, qkv: &GpuTensor, seq: usize, heads: usize, d: usize, local: Option<Local>) -> Result<AttnOut, GpuError> {
    let (batch, _) = check(qkv, seq, heads, d, local)?;
    let out = AttnOut { o: ctx.empty(&[batch * seq, heads * d])?, lse: ctx.empty(&[batch, heads, seq])? };
    dispatch_attention_into(ctx, qkv, &out, seq, heads, d, local)?;
    Ok(out)
}

/// [`dispatch_attention`] into existing tensors (o of at least B*T*nh*d, lse of at least B*nh*T values).
pub fn dispatch_attention_into(ctx: &GpuContext, qkv: &GpuTensor, out: &AttnOut, seq: usize, heads: usize, d: usize, local: Option<Local>) -> Result<(), GpuError> {
    let (batch, p) = check(qkv, seq, heads, d, local)?;
    if out.o.numel() < batch * seq * heads * d || out.lse.numel() < batch * heads * seq {
        return Err(GpuError::Shape(format!("attention: outputs {:?} / {:?} too small for B {batch}, T {seq}, {heads}x{d}", out.o.shape, out.lse.shape)));
    }
    let k = ctx.kernel(&SHADER, "forward", &[(0, R), (1, W), (2, W)], &[]);
    ctx.dispatch(&k, &[qkv, &out.o, &out.lse], &p, grid(seq, heads, batch))
}

/// dqkv [B*T, 3*nh*d] from d_o [B*T, nh*d], the forward input qkv and the forward output.
pub fn dispatch_attention_backward(ctx: &GpuContext, qkv: &GpuTensor, fwd: &AttnOut, d_o: &GpuTensor, seq: usize, heads: usize, d: usize, local: Option<Local>) -> Result<GpuTensor, GpuError> {
    let (batch, p) = check(qkv, seq, heads, d, local)?;
    if d_o.numel() != batch * seq * heads * d || fwd.o.numel() < d_o.numel() || fwd.lse.numel() < batch * heads * seq {
        return Err(GpuError::Shape(format!("attention backward: dO {:?} vs O {:?}", d_o.shape, fwd.o.shape)));
    }
    let delta = ctx.empty(&[batch, heads, seq])?;
    let mut g = groups_1d(batch * seq, ROWS_PER_GROUP as u32);
    g[2] = heads as u32;
    let k = ctx.kernel(&SHADER, "delta", &[(3, R), (4, R), (5, W)], &[]);
    ctx.dispatch(&k, &[&fwd.o, d_o, &delta], &p, g)?;

    let dqkv = ctx.empty(&qkv.shape)?;
    let k = ctx.kernel(&SHADER, "grad_q", &[(0, R), (4, R), (6, R), (7, R), (8, W)], &[]);
    ctx.dispatch(&k, &[qkv, d_o, &fwd.lse, &delta, &dqkv], &p, grid(seq, heads, batch))?;
    let k = ctx.kernel(&SHADER, "grad_kv", &[(0, R), (4, R), (6, R), (7, R), (8, W)], &[]);
    ctx.dispatch(&k, &[qkv, d_o, &fwd.lse, &delta, &dqkv], &p, grid(seq, heads, batch))?;
    Ok(dqkv)
}
