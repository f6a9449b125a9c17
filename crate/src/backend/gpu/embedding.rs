//! `shaders/embedding.wgsl`: token and puzzle embeddings into the [B, T, h] sequence, row picking, and
//! the deterministic scatter-add the embedding gradient (and SignSGD's aggregation) needs.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "embedding.wgsl", source: include_str!("../../../../shaders/embedding.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    s_in: u32,
    t_out: u32,
    offset: u32,
    nv: u32,
    alpha: f32,
    beta: f32,
    nx: u32,
    stride: u32,
    _pad: [u32; 2],
}

const R: Access = Access::Read;
const W: Access = Access::ReadWrite;

/// Where the S tokens of each example sit in the sequence: rows `offset..offset+S` of every `T` rows.
#[derive(Clone, Copy, Debug)]
pub struct SeqMap {
    pub s_in: usize,
    pub t_out: usize,
    pub offset: usize,
}

impl SeqMap {
    /// Tokens fill the whole sequence (no puzzle positions).
    pub fn identity(s: usize) -> SeqMap {
        SeqMap { s_in: s, t_out: s, offset: 0 }
    }
    fn check(&self, what: &str, ids: usize, rows_available: usize, cols: usize) -> Result<(), GpuError> {
        if self.s_in == 0 || ids % self.s_in != 0 || self.offset + self.s_in > self.t_out {
            return Err(GpuError::Shape(format!("{what}: {ids} ids do not fit {self:?}")));
        }
        if (ids / self.s_in) * self.t_out * cols > rows_available {
            return Err(GpuError::Shape(format!("{what}: the sequence tensor is too small for {} examples of {self:?}", ids / self.s_in)));
        }
        Ok(())
    }
}

fn run(ctx: &GpuContext, entry: &str, bindings: &[(u32, Access)], tensors: &[&GpuTensor], n: usize, mut p: Params) -> Result<(), GpuError> {
    let groups = groups_1d(n, 256);
    p.nx = groups[0];
    let k = ctx.kernel(&SHADER, entry, bindings, &[]);
    ctx.dispatch(&k, tensors, &p, groups)
}

fn width(what: &str, t: &GpuTensor) -> Result<usize, GpuError> {
    match t.shape.as_slice() {
        [_, c] if *c > 0 => Ok(*c),
        _ => Err(GpuError::Shape(format!("{what}: expected [rows, cols], got {:?}", t.shape))),
    }
}

/// out[map(r)] = table[ids[r]] for every id (u32) of a [B, S] grid; out is [B*T, h].
pub fn dispatch_gather(ctx: &GpuContext, ids: &GpuTensor, table: &GpuTensor, out: &GpuTensor, map: SeqMap) -> Result<(), GpuError> {
    let h = width("gather table", table)?;
    map.check("gather", ids.numel(), out.numel(), h)?;
    let p = Params { rows: ids.numel() as u32, cols: h as u32, s_in: map.s_in as u32, t_out: map.t_out as u32, offset: map.offset as u32, nv: table.shape[0] as u32, ..Default::default() };
    run(ctx, "gather", &[(0, R), (1, R), (2, W)], &[ids, table, out], ids.numel() * h, p)
}

/// Rows 0..P of each example of out [B*T, h] = pe [B, ndim] zero-padded to P*h (ndim <= P*h).
pub fn dispatch_place_puzzle(ctx: &GpuContext, pe: &GpuTensor, out: &GpuTensor, seq: usize, p_len: usize) -> Result<(), GpuError> {
    let ndim = width("puzzle embedding", pe)?;
    let h = width("sequence", out)?;
    let b = pe.shape[0];
    if ndim > p_len * h || p_len > seq || out.numel() < b * seq * h {
        return Err(GpuError::Shape(format!("place_puzzle: pe {:?} into {:?} with T {seq}, P {p_len}", pe.shape, out.shape)));
    }
    let p = Params { rows: b as u32, cols: h as u32, t_out: seq as u32, offset: p_len as u32, nv: ndim as u32, ..Default::default() };
    run(ctx, "place_puzzle", &[(1, R), (2, W)], &[pe, out], b * p_len * h, p)
}

/// out [rows, h] = src rows `r * stride + offset` (e.g. zH[:, 0] with stride T, offset 0).
pub fn take_rows(ctx: &GpuContext, src: &GpuTensor, rows: usize, stride: usize, offset: usize) -> Result<GpuTensor, GpuError> {
    let h = width("take_rows", src)?;
    if rows > 0 && ((rows - 1) * stride + offset + 1) * h > src.numel() {
        return Err(GpuError::Shape(format!("take_rows: {rows} rows of stride {stride} from {:?}", src.shape)));
    }
    let out = ctx.empty(&[rows, h])?;
    let p = Params { rows: rows as u32, cols: h as u32, offset: offset as u32, stride: stride as u32, ..Default::default() };
    run(ctx, "take_rows", &[(1, R), (2, W)], &[src, &out], rows * h, p)?;
    Ok(out)
}

/// dst [nv, h] = beta * dst + alpha * sum over tokens r with ids[r] = v of src[map(r)].
#[allow(clippy::too_many_arguments)]
pub fn dispatch_index_add(ctx: &GpuContext, ids: &GpuTensor, src: &GpuTensor, dst: &GpuTensor, map: SeqMap, alpha: f32, beta: f32) -> Result<(), GpuError> {
    let h = width("index_add dst", dst)?;
    map.check("index_add", ids.numel(), src.numel(), h)?;
    let nv = dst.shape[0];
    let p = Params { rows: ids.numel() as u32, cols: h as u32, s_in: map.s_in as u32, t_out: map.t_out as u32, offset: map.offset as u32, nv: nv as u32, alpha, beta, ..Default::default() };
    run(ctx, "index_add", &[(0, R), (1, R), (2, W)], &[ids, src, dst], nv * h, p)
}

/// d(puzzle embedding) [B, ndim] = alpha * rows 0..P of each example of src [B*T, h], flattened.
pub fn puzzle_grad(ctx: &GpuContext, src: &GpuTensor, batch: usize, seq: usize, ndim: usize, alpha: f32) -> Result<GpuTensor, GpuError> {
    let h = width("puzzle_grad", src)?;
    if ndim > seq * h || src.numel() < batch * seq * h {
        return Err(GpuError::Shape(format!("puzzle_grad: {batch} x {ndim} from {:?} with T {seq}", src.shape)));
    }
    let out = ctx.empty(&[batch, ndim])?;
    let p = Params { rows: batch as u32, cols: h as u32, t_out: seq as u32, nv: ndim as u32, alpha, ..Default::default() };
    run(ctx, "puzzle_grad", &[(1, R), (2, W)], &[src, &out], batch * ndim, p)?;
    Ok(out)
}

/// x [B*T, h] *= scale, or with learned positions pos [T, h]: x = scale * (mix * (x + pos[t])).
pub fn dispatch_finish(ctx: &GpuContext, x: &GpuTensor, pos: Option<&GpuTensor>, seq: usize, scale: f32, mix: f32) -> Result<(), GpuError> {
    let h = width("embedding finish", x)?;
    match pos {
        None => super::adds::dispatch_scale(ctx, x, scale),
        Some(pos) => {
            if pos.numel() != seq * h || x.numel() % (seq * h) != 0 {
                return Err(GpuError::Shape(format!("embedding finish: pos {:?} vs x {:?} with T {seq}", pos.shape, x.shape)));
            }
            let p = Params { rows: (x.numel() / h) as u32, cols: h as u32, t_out: seq as u32, alpha: scale, beta: mix, ..Default::default() };
            run(ctx, "finish", &[(1, R), (2, W)], &[pos, x], x.numel(), p)
        }
    }
}

/// dst rows `r * stride + offset` += alpha * src[r] for src [rows, h].
pub fn dispatch_add_rows(ctx: &GpuContext, src: &GpuTensor, dst: &GpuTensor, stride: usize, offset: usize, alpha: f32) -> Result<(), GpuError> {
    let h = width("add_rows src", src)?;
    let rows = src.shape[0];
    if rows > 0 && ((rows - 1) * stride + offset + 1) * h > dst.numel() {
        return Err(GpuError::Shape(format!("add_rows: {rows} rows of stride {stride} into {:?}", dst.shape)));
    }
    let p = Params { rows: rows as u32, cols: h as u32, offset: offset as u32, stride: stride as u32, alpha, ..Default::default() };
    run(ctx, "add_rows", &[(1, R), (2, W)], &[src, dst], rows * h, p)
}
