//! `shaders/reduce.wgsl`: per-row residual norms and column sums.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "reduce.wgsl", source: include_str!("../../../../shaders/reduce.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    beta: f32,
    nx: u32,
    alpha: f32,
    _pad: [u32; 3],
}

/// out [rows] = ||a_r - b_r|| with a, b viewed as [rows, numel / rows] (e.g. rows = B for ||Δz||).
pub fn diff_norm(ctx: &GpuContext, a: &GpuTensor, b: &GpuTensor, rows: usize) -> Result<GpuTensor, GpuError> {
    if rows == 0 || a.numel() != b.numel() || a.numel() % rows != 0 {
        return Err(GpuError::Shape(format!("diff_norm: {:?} - {:?} in {rows} rows", a.shape, b.shape)));
    }
    let out = ctx.empty(&[rows])?;
    let groups = groups_1d(rows, 1);
    let p = Params { rows: rows as u32, cols: (a.numel() / rows) as u32, beta: 0.0, nx: groups[0], alpha: 1.0, _pad: [0; 3] };
    let k = ctx.kernel(&SHADER, "diff_norm", &[(0, Access::Read), (1, Access::Read), (2, Access::ReadWrite)], &[]);
    ctx.dispatch(&k, &[a, b, &out], &p, groups)?;
    Ok(out)
}

/// out [cols] = beta * out + alpha * column sums of x viewed as [numel / cols, cols].
pub fn dispatch_col_sum(ctx: &GpuContext, x: &GpuTensor, out: &GpuTensor, alpha: f32, beta: f32) -> Result<(), GpuError> {
    let cols = out.numel();
    if cols == 0 || x.numel() % cols != 0 {
        return Err(GpuError::Shape(format!("col_sum: {:?} into {cols} columns", x.shape)));
    }
    let groups = groups_1d(cols, 256);
    let p = Params { rows: (x.numel() / cols) as u32, cols: cols as u32, beta, nx: groups[0], alpha, _pad: [0; 3] };
    let k = ctx.kernel(&SHADER, "col_sum", &[(0, Access::Read), (2, Access::ReadWrite)], &[]);
    ctx.dispatch(&k, &[x, out], &p, groups)
}
