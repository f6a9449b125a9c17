//! `shaders/matmul.wgsl`: the one GEMM, with the transposes a linear layer's backward needs.

use super::context::{GpuContext, GpuError};
use super::kernels::{Access, Shader, MAX_GROUPS};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "matmul.wgsl", source: include_str!("../../../../shaders/matmul.wgsl") };
const TILE: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    alpha: f32,
    beta: f32,
}

/// One operand of a GEMM: a tensor, whether it is stored transposed, and an element offset.
#[derive(Clone, Copy)]
pub struct Operand<'a> {
    pub t: &'a GpuTensor,
    pub transposed: bool,
    pub offset: usize,
}

impl<'a> Operand<'a> {
    pub fn plain(t: &'a GpuTensor) -> Self {
        Operand { t, transposed: false, offset: 0 }
    }
    pub fn transposed(t: &'a GpuTensor) -> Self {
        Operand { t, transposed: true, offset: 0 }
    }
}

/// C[m, n] = alpha * op(A)[m, k] @ op(B)[k, n] + beta * C (beta = 0 never reads C).
#[allow(clippy::too_many_arguments)]
pub fn dispatch_matmul(ctx: &GpuContext, a: Operand, b: Operand, c: &GpuTensor, m: usize, n: usize, k: usize, alpha: f32, beta: f32) -> Result<(), GpuError> {
    let need = |name: &str, t: &GpuTensor, off: usize, len: usize| {
        if off + len > t.numel() {
            Err(GpuError::Shape(format!("matmul: {name} {:?} (offset {off}) is smaller than the {len} elements of a {m}x{n}x{k} product", t.shape)))
        } else {
            Ok(())
        }
    };
    need("A", a.t, a.offset, m * k)?;
    need("B", b.t, b.offset, k * n)?;
    need("C", c, 0, m * n)?;
    if c.same_buffer(a.t) || c.same_buffer(b.t) {
        return Err(GpuError::Shape("matmul: C must not share a buffer with A or B".into()));
    }
    let groups = [n.div_ceil(TILE) as u32, m.div_ceil(TILE) as u32, 1];
    if groups[0] > MAX_GROUPS || groups[1] > MAX_GROUPS {
        return Err(GpuError::Shape(format!("matmul: {m}x{n} needs more than {MAX_GROUPS} tiles per dimension")));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let constants = [("TRANS_A", a.transposed as u32 as f64), ("TRANS_B", b.transposed as u32 as f64)];
    let kernel = ctx.kernel(&SHADER, "main", &[(0, Access::Read), (1, Access::Read), (2, Access::ReadWrite)], &constants);
    let p = Params { m: m as u32, n: n as u32, k: k as u32, a_off: a.offset as u32, b_off: b.offset as u32, c_off: 0, alpha, beta };
    ctx.dispatch(&kernel, &[a.t, b.t, c], &p, groups)
}

fn dims2(name: &str, t: &GpuTensor) -> Result<(usize, usize), GpuError> {
    match t.shape.as_slice() {
        [r, c] => Ok((*r, *c)),
        _ => Err(GpuError::Shape(format!("{name}: expected a 2-d tensor, got {:?}", t.shape))),
    }
}

/// y[M, N] = x[M, K] @ W[N, K]^T (a bias-free linear layer, `F.linear`).
pub fn linear(ctx: &GpuContext, x: &GpuTensor, w: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let (m, k) = dims2("linear x", x)?;
    let (n, k2) = dims2("linear W", w)?;
    if k != k2 {
        return Err(GpuError::Shape(format!("linear: x {:?} and W {:?} disagree on the input width", x.shape, w.shape)));
    }
    let y = ctx.empty(&[m, n])?;
    dispatch_matmul(ctx, Operand::plain(x), Operand::transposed(w), &y, m, n, k, 1.0, 0.0)?;
    Ok(y)
}

/// dx[M, K] = dy[M, N] @ W[N, K].
pub fn linear_backward_input(ctx: &GpuContext, dy: &GpuTensor, w: &GpuTensor) -> Result<GpuTensor, GpuError> {
    let (m, n) = dims2("linear dy", dy)?;
    let (n2, k) = dims2("linear W", w)?;
    if n != n2 {
        return Err(GpuError::Shape(format!("linear backward: dy {:?} and W {:?} disagree on the output width", dy.shape, w.shape)));
    }
    let dx = ctx.empty(&[m, k])?;
    dispatch_matmul(ctx, Operand::plain(dy), Operand::plain(w), &dx, m, k, n, 1.0, 0.0)?;
    Ok(dx)
}

/// dW[N, K] (+)= dy[M, N]^T @ x[M, K]; `accumulate` adds to dW instead of overwriting it.
pub fn linear_backward_weight(ctx: &GpuContext, dy: &GpuTensor, x: &GpuTensor, dw: &GpuTensor, accumulate: bool) -> Result<(), GpuError> {
    let (m, n) = dims2("linear dy", dy)?;
    let (m2, k) = dims2("linear x", x)?;
    let (n3, k3) = dims2("linear dW", dw)?;
    if m != m2 || n != n3 || k != k3 {
        return Err(GpuError::Shape(format!("linear weight grad: dy {:?}, x {:?}, dW {:?} do not fit", dy.shape, x.shape, dw.shape)));
    }
    dispatch_matmul(ctx, Operand::transposed(dy), Operand::plain(x), dw, n, k, m, 1.0, if accumulate { 1.0 } else { 0.0 })
}
