//! `shaders/swiglu.wgsl`: the SwiGLU gate silu(g) * u and its backward.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "swiglu.wgsl", source: include_str!("../../../../shaders/swiglu.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    width: u32,
    nx: u32,
    _pad: u32,
}

fn split(gu: &GpuTensor) -> Result<(usize, usize), GpuError> {
    match gu.shape.as_slice() {
        [m, w2] if w2 % 2 == 0 && *w2 > 0 => Ok((*m, w2 / 2)),
        _ => Err(GpuError::Shape(format!("swiglu: expected [M, 2I], got {:?}", gu.shape))),
    }
}

/// a [M, I] = silu(gu[:, :I]) * gu[:, I:].
pub fn dispatch_swiglu(ctx: &GpuContext, gu: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let (m, i) = split(gu)?;
    let act = ctx.empty(&[m, i])?;
    let groups = groups_1d(m * i, 256);
    let k = ctx.kernel(&SHADER, "forward", &[(0, Access::Read), (1, Access::ReadWrite)], &[]);
    ctx.dispatch(&k, &[gu, &act], &Params { n: (m * i) as u32, width: i as u32, nx: groups[0], _pad: 0 }, groups)?;
    Ok(act)
}

/// dgu [M, 2I] from da [M, I] and the forward input gu.
pub fn dispatch_swiglu_backward(ctx: &GpuContext, gu: &GpuTensor, da: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let (m, i) = split(gu)?;
    if da.numel() != m * i {
        return Err(GpuError::Shape(format!("swiglu backward: da {:?} vs gu {:?}", da.shape, gu.shape)));
    }
    let dgu = ctx.empty(&gu.shape)?;
    let groups = groups_1d(m * i, 256);
    let k = ctx.kernel(&SHADER, "backward", &[(0, Access::Read), (2, Access::Read), (3, Access::ReadWrite)], &[]);
    ctx.dispatch(&k, &[gu, da, &dgu], &Params { n: (m * i) as u32, width: i as u32, nx: groups[0], _pad: 0 }, groups)?;
    Ok(dgu)
}
