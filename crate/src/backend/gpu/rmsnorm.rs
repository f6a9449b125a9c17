//! `shaders/rmsnorm.wgsl`: parameter-free RMSNorm over the last dimension, forward and backward.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "rmsnorm.wgsl", source: include_str!("../../../../shaders/rmsnorm.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    nx: u32,
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

fn rows_cols(what: &str, x: &GpuTensor) -> Result<(usize, usize), GpuError> {
    match x.shape.last() {
        Some(&c) if c > 0 => Ok((x.numel() / c, c)),
        _ => Err(GpuError::Shape(format!("{what}: {:?} has no last dimension to normalise", x.shape))),
    }
}

/// The normalised rows and their 1/rms (kept for the backward).
pub struct Normed {
    pub y: GpuTensor,
    pub rstd: GpuTensor,
}

/// y = rms_norm(x), or rms_norm(x + residual) when `residual` is given.
pub fn dispatch_rmsnorm(ctx: &GpuContext, x: &GpuTensor, residual: Option<&GpuTensor>, eps: f32) -> Result<Normed, GpuError> {
    let (rows, cols) = rows_cols("rmsnorm", x)?;
    let y = ctx.empty(&x.shape)?;
    let rstd = ctx.empty(&[rows])?;
    let groups = groups_1d(rows, 1);
    let p = Params { rows: rows as u32, cols: cols as u32, eps, nx: groups[0] };
    match residual {
        None => {
            let k = ctx.kernel(&SHADER, "norm", &[(0, R), (2, W), (3, W)], &[]);
            ctx.dispatch(&k, &[x, &y, &rstd], &p, groups)?;
        }
        Some(b) => {
            if b.numel() != x.numel() {
                return Err(GpuError::Shape(format!("add_rmsnorm: {:?} + {:?}", x.shape, b.shape)));
            }
            let k = ctx.kernel(&SHADER, "add_norm", &[(0, R), (1, R), (2, W), (3, W)], &[]);
            ctx.dispatch(&k, &[x, b, &y, &rstd], &p, groups)?;
        }
    }
    Ok(Normed { y, rstd })
}

/// dx from dy, the forward output y and its rstd (the same dx reaches both inputs of a fused add).
pub fn dispatch_rmsnorm_backward(ctx: &GpuContext, fwd: &Normed, dy: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let (rows, cols) = rows_cols("rmsnorm backward", &fwd.y)?;
    if dy.numel() != fwd.y.numel() || fwd.rstd.numel() != rows {
        return Err(GpuError::Shape(format!("rmsnorm backward: dy {:?} vs y {:?}", dy.shape, fwd.y.shape)));
    }
    let dx = ctx.empty(&fwd.y.shape)?;
    let groups = groups_1d(rows, 1);
    let p = Params { rows: rows as u32, cols: cols as u32, eps: 0.0, nx: groups[0] };
    let k = ctx.kernel(&SHADER, "backward", &[(4, R), (5, R), (6, R), (7, W)], &[]);
    ctx.dispatch(&k, &[&fwd.y, &fwd.rstd, dy, &dx], &p, groups)?;
    Ok(dx)
}
