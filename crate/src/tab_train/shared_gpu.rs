//! `Trainer<B>` needs `B: Clone` (it keeps a handle to the backend while it borrows the model), and
//! `GpuBackend` owns its device, so it is not. The tab shares one `GpuBackend` through an `Rc`; every
//! op is passed straight through.

use std::future::Future;
use std::rc::Rc;

use crate::backend::gpu::{GpuBackend, GpuTensor};
use crate::backend::{AttnDims, Backend, EmbedDims, LmLossKind, LossDims};

#[derive(Clone)]
pub struct SharedGpu(pub Rc<GpuBackend>);

#[allow(clippy::too_many_arguments)]
impl Backend for SharedGpu {
    type Buf = GpuTensor;
    type IBuf = GpuTensor;
    fn alloc(&self, len: usize) -> GpuTensor {
        self.0.alloc(len)
    }
    fn upload(&self, data: &[f32]) -> GpuTensor {
        self.0.upload(data)
    }
    fn write(&self, dst: &mut GpuTensor, data: &[f32]) {
        self.0.write(dst, data)
    }
    fn upload_i32(&self, data: &[i32]) -> GpuTensor {
        self.0.upload_i32(data)
    }
    fn write_i32(&self, dst: &mut GpuTensor, data: &[i32]) {
        self.0.write_i32(dst, data)
    }
    fn len(&self, buf: &GpuTensor) -> usize {
        self.0.len(buf)
    }
    fn read(&self, bufs: &[&GpuTensor]) -> impl Future<Output = Vec<Vec<f32>>> {
        self.0.read(bufs)
    }
    fn submit(&self) {
        self.0.submit()
    }
    fn fill(&self, dst: &mut GpuTensor, value: f32) {
        self.0.fill(dst, value)
    }
    fn copy(&self, src: &GpuTensor, dst: &mut GpuTensor) {
        self.0.copy(src, dst)
    }
    fn add(&self, a: &GpuTensor, b: &GpuTensor, out: &mut GpuTensor) {
        self.0.add(a, b, out)
    }
    fn add_assign(&self, out: &mut GpuTensor, a: &GpuTensor) {
        self.0.add_assign(out, a)
    }
    fn reset_rows(&self, z: &mut GpuTensor, init: &GpuTensor, flags: &GpuTensor, positions: usize) {
        self.0.reset_rows(z, init, flags, positions)
    }
    fn row_diff_norm(&self, rows: usize, cols: usize, a: &GpuTensor, b: &GpuTensor, out: &mut GpuTensor) {
        self.0.row_diff_norm(rows, cols, a, b, out)
    }
    fn matmul_nt(&self, m: usize, n: usize, k: usize, x: &GpuTensor, w: &GpuTensor, y: &mut GpuTensor, accumulate: bool) {
        self.0.matmul_nt(m, n, k, x, w, y, accumulate)
    }
    fn matmul_nn(&self, m: usize, n: usize, k: usize, dy: &GpuTensor, w: &GpuTensor, dx: &mut GpuTensor, accumulate: bool) {
        self.0.matmul_nn(m, n, k, dy, w, dx, accumulate)
    }
    fn matmul_tn(&self, m: usize, n: usize, k: usize, dy: &GpuTensor, x: &GpuTensor, dw: &mut GpuTensor, accumulate: bool) {
        self.0.matmul_tn(m, n, k, dy, x, dw, accumulate)
    }
    fn gather_rows(&self, table: &GpuTensor, ids: &GpuTensor, dim: usize, rows: &mut GpuTensor) {
        self.0.gather_rows(table, ids, dim, rows)
    }
    fn embed_forward(&self, d: EmbedDims, tokens: &GpuTensor, puzzle: &GpuTensor, emb: &GpuTensor, pos: Option<&GpuTensor>, scale: f32, x: &mut GpuTensor) {
        self.0.embed_forward(d, tokens, puzzle, emb, pos, scale, x)
    }
    fn embed_backward(&self, d: EmbedDims, tokens: &GpuTensor, dx: &GpuTensor, scale: f32, d_emb: &mut GpuTensor, d_pos: Option<&mut GpuTensor>, d_puzzle: &mut GpuTensor) {
        self.0.embed_backward(d, tokens, dx, scale, d_emb, d_pos, d_puzzle)
    }
    fn rope_forward(&self, d: AttnDims, cos: &GpuTensor, sin: &GpuTensor, qkv: &mut GpuTensor) {
        self.0.rope_forward(d, cos, sin, qkv)
    }
    fn rope_backward(&self, d: AttnDims, cos: &GpuTensor, sin: &GpuTensor, dqkv: &mut GpuTensor) {
        self.0.rope_backward(d, cos, sin, dqkv)
    }
    fn attention_forward(&self, d: AttnDims, qkv: &GpuTensor, probs: &mut GpuTensor, out: &mut GpuTensor) {
        self.0.attention_forward(d, qkv, probs, out)
    }
    fn attention_backward(&self, d: AttnDims, qkv: &GpuTensor, probs: &GpuTensor, d_out: &GpuTensor, scratch: &mut GpuTensor, d_qkv: &mut GpuTensor) {
        self.0.attention_backward(d, qkv, probs, d_out, scratch, d_qkv)
    }
    fn swiglu_forward(&self, rows: usize, width: usize, gu: &GpuTensor, a: &mut GpuTensor) {
        self.0.swiglu_forward(rows, width, gu, a)
    }
    fn swiglu_backward(&self, rows: usize, width: usize, gu: &GpuTensor, d_a: &GpuTensor, d_gu: &mut GpuTensor) {
        self.0.swiglu_backward(rows, width, gu, d_a, d_gu)
    }
    fn add_rmsnorm_forward(&self, rows: usize, hidden: usize, eps: f32, a: &GpuTensor, b: &GpuTensor, y: &mut GpuTensor, rstd: &mut GpuTensor) {
        self.0.add_rmsnorm_forward(rows, hidden, eps, a, b, y, rstd)
    }
    fn rmsnorm_backward(&self, rows: usize, hidden: usize, y: &GpuTensor, rstd: &GpuTensor, dy: &GpuTensor, dx: &mut GpuTensor) {
        self.0.rmsnorm_backward(rows, hidden, y, rstd, dy, dx)
    }
    fn q_head_forward(&self, batch: usize, total: usize, hidden: usize, z: &GpuTensor, w: &GpuTensor, bias: &GpuTensor, q: &mut GpuTensor) {
        self.0.q_head_forward(batch, total, hidden, z, w, bias, q)
    }
    fn q_head_backward(&self, batch: usize, total: usize, hidden: usize, z: &GpuTensor, w: &GpuTensor, dq: &GpuTensor, dz: &mut GpuTensor, dw: &mut GpuTensor, dbias: &mut GpuTensor) {
        self.0.q_head_backward(batch, total, hidden, z, w, dq, dz, dw, dbias)
    }
    fn lm_loss(&self, d: LossDims, kind: LmLossKind, logits: &GpuTensor, labels: &GpuTensor, grad_scale: f32, stats: &mut GpuTensor, d_logits: Option<&mut GpuTensor>) {
        self.0.lm_loss(d, kind, logits, labels, grad_scale, stats, d_logits)
    }
}
