//! `shaders/adds.wgsl`: residual and injection adds, gradient accumulation, the carry reset.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "adds.wgsl", source: include_str!("../../../../shaders/adds.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    nx: u32,
    alpha: f32,
    cols: u32,
    row_len: u32,
    _pad: [u32; 3],
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

fn run(ctx: &GpuContext, entry: &str, bindings: &[(u32, Access)], tensors: &[&GpuTensor], n: usize, alpha: f32, cols: usize, row_len: usize) -> Result<(), GpuError> {
    let groups = groups_1d(n, 256);
    let p = Params { n: n as u32, nx: groups[0], alpha, cols: cols as u32, row_len: row_len as u32, _pad: [0; 3] };
    let k = ctx.kernel(&SHADER, entry, bindings, &[]);
    ctx.dispatch(&k, tensors, &p, groups)
}

fn same_len(what: &str, a: &GpuTensor, b: &GpuTensor) -> Result<(), GpuError> {
    if a.numel() != b.numel() {
        return Err(GpuError::Shape(format!("{what}: {:?} and {:?} differ in size", a.shape, b.shape)));
    }
    Ok(())
}

/// out = a + alpha * b, into `out` (which may not be `a` or `b`).
pub fn dispatch_add_into(ctx: &GpuContext, a: &GpuTensor, b: &GpuTensor, alpha: f32, out: &GpuTensor) -> Result<(), GpuError> {
    same_len("add", a, b)?;
    same_len("add", a, out)?;
    run(ctx, "add", &[(0, R), (1, R), (2, W)], &[a, b, out], a.numel(), alpha, 0, 1)
}

/// a + b as a new tensor with a's shape.
pub fn add(ctx: &GpuContext, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let out = ctx.empty(&a.shape)?;
    dispatch_add_into(ctx, a, b, 1.0, &out)?;
    Ok(out)
}

/// a - b as a new tensor (the residual of one reasoning step, for the norms the page plots).
pub fn sub(ctx: &GpuContext, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let out = ctx.empty(&a.shape)?;
    dispatch_add_into(ctx, a, b, -1.0, &out)?;
    Ok(out)
}

/// y += alpha * x in place.
pub fn dispatch_axpy(ctx: &GpuContext, y: &GpuTensor, alpha: f32, x: &GpuTensor) -> Result<(), GpuError> {
    same_len("axpy", x, y)?;
    run(ctx, "axpy", &[(0, R), (2, W)], &[x, y], y.numel(), alpha, 0, 1)
}

/// y = value everywhere.
pub fn dispatch_fill(ctx: &GpuContext, y: &GpuTensor, value: f32) -> Result<(), GpuError> {
    if value == 0.0 {
        ctx.with_encoder(|enc| enc.clear_buffer(y.buffer(), 0, None));
        return Ok(());
    }
    run(ctx, "fill", &[(2, W)], &[y], y.numel(), value, 0, 1)
}

/// y *= alpha in place.
pub fn dispatch_scale(ctx: &GpuContext, y: &GpuTensor, alpha: f32) -> Result<(), GpuError> {
    run(ctx, "scale", &[(2, W)], &[y], y.numel(), alpha, 0, 1)
}

/// The ACT carry reset: z [B, T, h] takes init [h] at every position of each row b with flags[b] != 0.
pub fn dispatch_reset_rows(ctx: &GpuContext, z: &GpuTensor, init: &GpuTensor, flags: &GpuTensor) -> Result<(), GpuError> {
    let b = flags.numel();
    let h = init.numel();
    if b == 0 || h == 0 || z.numel() % b != 0 || (z.numel() / b) % h != 0 {
        return Err(GpuError::Shape(format!("reset_rows: z {:?}, init {:?}, flags {:?} do not fit", z.shape, init.shape, flags.shape)));
    }
    run(ctx, "reset_rows", &[(0, R), (2, W), (3, R)], &[init, z, flags], z.numel(), 0.0, h, z.numel() / b)
}

/// y [rows, cols] += bias [cols] broadcast over the rows.
pub fn dispatch_add_bias(ctx: &GpuContext, y: &GpuTensor, bias: &GpuTensor) -> Result<(), GpuError> {
    let cols = bias.numel();
    if cols == 0 || y.numel() % cols != 0 {
        return Err(GpuError::Shape(format!("add_bias: bias {:?} does not divide {:?}", bias.shape, y.shape)));
    }
    run(ctx, "add_bias", &[(0, R), (2, W)], &[bias, y], y.numel(), 0.0, cols, 1)
}
