//! `shaders/rope.wgsl`: half-split RoPE on the q and k heads of a packed qkv, in place.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "rope.wgsl", source: include_str!("../../../../shaders/rope.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    seq: u32,
    heads: u32,
    d: u32,
    sign: f32,
    nx: u32,
    _pad: [u32; 2],
}

fn run(ctx: &GpuContext, qkv: &GpuTensor, cos: &GpuTensor, sin: &GpuTensor, heads: usize, sign: f32) -> Result<(), GpuError> {
    let (seq, d) = match cos.shape.as_slice() {
        [t, d] => (*t, *d),
        _ => return Err(GpuError::Shape(format!("rope: cos table must be [T, d], got {:?}", cos.shape))),
    };
    if sin.shape != cos.shape || d % 2 != 0 || d == 0 || heads == 0 {
        return Err(GpuError::Shape(format!("rope: cos {:?} / sin {:?} / {heads} heads do not fit", cos.shape, sin.shape)));
    }
    let width = 3 * heads * d;
    if qkv.shape.last() != Some(&width) || (qkv.numel() / width) % seq != 0 {
        return Err(GpuError::Shape(format!("rope: qkv {:?} is not [B*T, 3*{heads}*{d}] with T = {seq}", qkv.shape)));
    }
    let rows = qkv.numel() / width;
    let groups = groups_1d(rows * heads * d, 256); // rows * 2nh * d/2 pairs
    let p = Params { rows: rows as u32, seq: seq as u32, heads: heads as u32, d: d as u32, sign, nx: groups[0], _pad: [0; 2] };
    let k = ctx.kernel(&SHADER, "rotate", &[(0, Access::ReadWrite), (1, Access::Read), (2, Access::Read)], &[]);
    ctx.dispatch(&k, &[qkv, cos, sin], &p, groups)
}

/// Rotate the q and k heads of qkv [B*T, 3*nh*d] in place with the tables cos/sin [T, d].
pub fn dispatch_rope(ctx: &GpuContext, qkv: &GpuTensor, cos: &GpuTensor, sin: &GpuTensor, heads: usize) -> Result<(), GpuError> {
    run(ctx, qkv, cos, sin, heads, 1.0)
}

/// The backward of [`dispatch_rope`], in place on dqkv (the v part passes through).
pub fn dispatch_rope_backward(ctx: &GpuContext, dqkv: &GpuTensor, cos: &GpuTensor, sin: &GpuTensor, heads: usize) -> Result<(), GpuError> {
    run(ctx, dqkv, cos, sin, heads, -1.0)
}
