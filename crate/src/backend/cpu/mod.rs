//! The CPU backend: plain functions on slices, one file per op family (each is the CPU twin of a WGSL
//! kernel and has its own forward/backward tests), and [`CpuBackend`], which implements
//! [`Backend`](super::Backend) by calling them. Buffers are `Vec`s; every op runs at once.

pub mod attention;
pub mod elementwise;
pub mod embed;
pub mod heads;
pub mod loss;
pub mod math;
pub mod matmul;
pub mod mlp;
#[cfg(target_arch = "x86_64")]
pub mod packed;
pub mod rmsnorm;
pub mod rope;
pub mod swiglu;

use super::{check_adam_lengths, AdamStep, Backend};
use crate::optim::{self, OptimError};
use attention::AttnDims;
use embed::EmbedDims;
use loss::{LmLossKind, LossDims};

/// The CPU reference backend (natively multi-threaded through rayon in the GEMM and attention).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    type Buf = Vec<f32>;
    type IBuf = Vec<i32>;

    fn alloc(&self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }
    fn upload(&self, data: &[f32]) -> Vec<f32> {
        data.to_vec()
    }
    fn write(&self, dst: &mut Vec<f32>, data: &[f32]) {
        dst.copy_from_slice(data)
    }
    fn upload_i32(&self, data: &[i32]) -> Vec<i32> {
        data.to_vec()
    }
    fn write_i32(&self, dst: &mut Vec<i32>, data: &[i32]) {
        dst.copy_from_slice(data)
    }
    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }
    fn read(&self, bufs: &[&Vec<f32>]) -> impl std::future::Future<Output = Vec<Vec<f32>>> {
        std::future::ready(bufs.iter().map(|b| b.to_vec()).collect())
    }

    fn fill(&self, dst: &mut Vec<f32>, value: f32) {
        dst.fill(value)
    }
    fn copy(&self, src: &Vec<f32>, dst: &mut Vec<f32>) {
        dst.copy_from_slice(src)
    }
    fn add(&self, a: &Vec<f32>, b: &Vec<f32>, out: &mut Vec<f32>) {
        elementwise::add(a, b, out)
    }
    fn add_assign(&self, out: &mut Vec<f32>, a: &Vec<f32>) {
        elementwise::add_assign(out, a)
    }
    fn reset_rows(&self, z: &mut Vec<f32>, init: &Vec<f32>, flags: &Vec<i32>, positions: usize) {
        elementwise::reset_rows(z, init, flags, positions)
    }
    fn row_diff_norm(&self, rows: usize, cols: usize, a: &Vec<f32>, b: &Vec<f32>, out: &mut Vec<f32>) {
        elementwise::row_diff_norm(rows, cols, a, b, out)
    }

    fn matmul_nt(&self, m: usize, n: usize, k: usize, x: &Vec<f32>, w: &Vec<f32>, y: &mut Vec<f32>, acc: bool) {
        matmul::matmul_nt(m, n, k, x, w, y, acc)
    }
    fn matmul_nn(&self, m: usize, n: usize, k: usize, dy: &Vec<f32>, w: &Vec<f32>, dx: &mut Vec<f32>, acc: bool) {
        matmul::matmul_nn(m, n, k, dy, w, dx, acc)
    }
    fn matmul_tn(&self, m: usize, n: usize, k: usize, dy: &Vec<f32>, x: &Vec<f32>, dw: &mut Vec<f32>, acc: bool) {
        matmul::matmul_tn(m, n, k, dy, x, dw, acc)
    }

    fn gather_rows(&self, table: &Vec<f32>, ids: &Vec<i32>, dim: usize, rows: &mut Vec<f32>) {
        embed::gather_rows(table, ids, dim, rows)
    }
    fn embed_forward(&self, d: EmbedDims, tokens: &Vec<i32>, puzzle: &Vec<f32>, emb: &Vec<f32>, pos: Option<&Vec<f32>>, scale: f32, x: &mut Vec<f32>) {
        embed::embed_forward(d, tokens, puzzle, emb, pos.map(|p| p.as_slice()), scale, x)
    }
    fn embed_backward(&self, d: EmbedDims, tokens: &Vec<i32>, dx: &Vec<f32>, scale: f32, d_emb: &mut Vec<f32>, d_pos: Option<&mut Vec<f32>>, d_puzzle: &mut Vec<f32>) {
        embed::embed_backward(d, tokens, dx, scale, d_emb, d_pos.map(|p| p.as_mut_slice()), d_puzzle)
    }

    fn rope_forward(&self, d: AttnDims, cos: &Vec<f32>, sin: &Vec<f32>, qkv: &mut Vec<f32>) {
        rope::rope_forward(qkv, cos, sin, d.batch, d.total, d.heads, d.head_dim)
    }
    fn rope_backward(&self, d: AttnDims, cos: &Vec<f32>, sin: &Vec<f32>, dqkv: &mut Vec<f32>) {
        rope::rope_backward(dqkv, cos, sin, d.batch, d.total, d.heads, d.head_dim)
    }
    fn attention_forward(&self, d: AttnDims, qkv: &Vec<f32>, probs: &mut Vec<f32>, out: &mut Vec<f32>) {
        attention::attention_forward(d, qkv, Some(probs), out)
    }
    fn attention_forward_nograd(&self, d: AttnDims, qkv: &Vec<f32>, _probs: &mut Vec<f32>, out: &mut Vec<f32>) {
        attention::attention_forward(d, qkv, None, out)
    }
    fn attention_backward(&self, d: AttnDims, qkv: &Vec<f32>, probs: &Vec<f32>, d_out: &Vec<f32>, scratch: &mut Vec<f32>, d_qkv: &mut Vec<f32>) {
        attention::attention_backward(d, qkv, probs, d_out, scratch, d_qkv)
    }

    fn swiglu_forward(&self, rows: usize, width: usize, gu: &Vec<f32>, a: &mut Vec<f32>) {
        swiglu::swiglu_forward(rows, width, gu, a)
    }
    fn swiglu_backward(&self, rows: usize, width: usize, gu: &Vec<f32>, d_a: &Vec<f32>, d_gu: &mut Vec<f32>) {
        swiglu::swiglu_backward(rows, width, gu, d_a, d_gu)
    }
    fn add_rmsnorm_forward(&self, rows: usize, hidden: usize, eps: f32, a: &Vec<f32>, b: &Vec<f32>, y: &mut Vec<f32>, rstd: &mut Vec<f32>) {
        rmsnorm::add_rmsnorm_forward(rows, hidden, eps, a, b, y, rstd)
    }
    fn rmsnorm_backward(&self, rows: usize, hidden: usize, y: &Vec<f32>, rstd: &Vec<f32>, dy: &Vec<f32>, dx: &mut Vec<f32>) {
        rmsnorm::rmsnorm_backward(rows, hidden, y, rstd, dy, dx)
    }
    fn mlp_forward(&self, rows: usize, hidden: usize, inter: usize, eps: f32, y: &Vec<f32>, w_gu: &Vec<f32>, w_down: &Vec<f32>, keep: bool, gu: &mut Vec<f32>, act: &mut Vec<f32>, mlp_out: &mut Vec<f32>, out: &mut Vec<f32>, rstd: &mut Vec<f32>) {
        mlp::mlp_forward(rows, hidden, inter, eps, y, w_gu, w_down, keep, gu, act, mlp_out, out, rstd)
    }

    fn q_head_forward(&self, batch: usize, total: usize, hidden: usize, z: &Vec<f32>, w: &Vec<f32>, bias: &Vec<f32>, q: &mut Vec<f32>) {
        heads::q_head_forward(batch, total, hidden, z, w, bias, q)
    }
    fn q_head_backward(&self, batch: usize, total: usize, hidden: usize, z: &Vec<f32>, w: &Vec<f32>, dq: &Vec<f32>, dz: &mut Vec<f32>, dw: &mut Vec<f32>, dbias: &mut Vec<f32>) {
        heads::q_head_backward(batch, total, hidden, z, w, dq, dz, dw, dbias)
    }
    fn lm_loss(&self, d: LossDims, kind: LmLossKind, logits: &Vec<f32>, labels: &Vec<i32>, grad_scale: f32, stats: &mut Vec<f32>, d_logits: Option<&mut Vec<f32>>) {
        loss::lm_loss(d, kind, logits, labels, grad_scale, stats, d_logits.map(|g| g.as_mut_slice()))
    }

    fn adam_update(&self, c: &AdamStep, param: &mut Vec<f32>, grad: &Vec<f32>, m: &mut Vec<f32>, v: &mut Vec<f32>) -> Result<(), OptimError> {
        check_adam_lengths(param.len(), grad.len(), m.len(), v.len())?;
        match c {
            AdamStep::Atan2(c) => optim::adam_atan2_update(c, param, grad, m, v),
            AdamStep::AdamW(c) => optim::adamw_update(c, param, grad, m, v),
        }
        Ok(())
    }
    fn sign_sgd_rows(&self, weights: &mut Vec<f32>, dim: usize, ids: &Vec<i32>, row_grads: &Vec<f32>, lr: f64, weight_decay: f64) -> Result<(), OptimError> {
        optim::sign_sgd_rows(weights, dim, ids, row_grads, lr, weight_decay).map(|_| ())
    }
}
