//! [`GpuBackend`]: the model's [`Backend`] trait on the GPU, so one model runs on both backends.
//!
//! Every op records into the context's open encoder; nothing is submitted until [`Backend::submit`] or
//! [`Backend::read`]. The trait's methods return no `Result` (the CPU cannot fail), so a failure here —
//! device loss, out of memory, a shape the kernels reject — is kept as the context's sticky error:
//! [`GpuBackend::error`] says what went wrong, reads return zeros from then on, and the caller falls
//! back to the CPU backend.
//!
//! Outputs passed as `&mut Buf` that an op overwrites completely are often *replaced* by a fresh pooled
//! tensor of the same length instead of written through (the old buffer goes back to the pool).
//! Attention keeps no [B, nh, T, T] probabilities: `attention_forward` replaces `probs` by the row
//! log-sum-exp [B, nh, T] that the tiled backward recomputes the probabilities from.

use std::future::Future;
use std::sync::Arc;

use super::adds::{dispatch_add_bias, dispatch_add_into, dispatch_axpy, dispatch_fill, dispatch_reset_rows};
use super::attention::{dispatch_attention_backward, dispatch_attention_into, AttnOut};
use super::context::{GpuContext, GpuError};
use super::embedding::{dispatch_add_rows, dispatch_finish, dispatch_gather, dispatch_index_add, dispatch_place_puzzle, puzzle_grad, take_rows, SeqMap};
use super::loss::dispatch_lm_loss;
use super::matmul::{dispatch_matmul, Operand};
use super::optim::{dispatch_adam_atan2, dispatch_adamw, dispatch_sign_sgd};
use super::pool::GpuTensor;
use super::reduce::{diff_norm, dispatch_col_sum};
use super::rmsnorm::{dispatch_rmsnorm, dispatch_rmsnorm_backward, Normed};
use super::rope::{dispatch_rope, dispatch_rope_backward};
use super::swiglu::{dispatch_swiglu, dispatch_swiglu_backward};
use crate::backend::cpu::embed::POS_MIX;
use crate::backend::{check_adam_lengths, AdamStep, AttnDims, Backend, EmbedDims, LmLossKind, LossDims};
use crate::optim::OptimError;

/// The GPU implementation of [`Backend`]. Buffers are [`GpuTensor`]s (i32 buffers too). Cloning shares
/// the device (one [`GpuContext`], which is safe to use from several threads).
#[derive(Clone)]
pub struct GpuBackend {
    ctx: Arc<GpuContext>,
}

impl GpuBackend {
    /// Opens the default adapter (async: the browser cannot block). Natively see also
    /// [`GpuBackend::new_blocking`]. Fails with a [`GpuError`] naming why (no adapter, too weak, ...).
    pub async fn new() -> Result<GpuBackend, GpuError> {
        Ok(GpuBackend::from_context(GpuContext::new().await?))
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<GpuBackend, GpuError> {
        pollster::block_on(GpuBackend::new())
    }

    pub fn from_context(ctx: GpuContext) -> GpuBackend {
        GpuBackend { ctx: Arc::new(ctx) }
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// The first error of any op so far (sticky): once set, fall back to the CPU backend.
    pub fn error(&self) -> Option<GpuError> {
        self.ctx.check().err()
    }

    fn note(&self, r: Result<(), GpuError>) {
        if let Err(e) = r {
            self.ctx.record(e);
        }
    }

    /// `t` viewed as [rows, cols]; a wrong length is recorded and the view is left as it was.
    fn view(&self, t: &GpuTensor, rows: usize, cols: usize) -> GpuTensor {
        match t.reshape(vec![rows, cols]) {
            Ok(v) => v,
            Err(e) => {
                self.ctx.record(e);
                t.clone()
            }
        }
    }

    /// Replace `out` by `fresh` when the lengths agree (else record the mismatch).
    fn replace(&self, out: &mut GpuTensor, fresh: Result<GpuTensor, GpuError>, what: &str) {
        match fresh {
            Ok(t) if t.numel() == out.numel() => *out = t.reshape(out.shape.clone()).unwrap_or(t),
            Ok(t) => self.ctx.record(GpuError::Shape(format!("{what}: output holds {} values, the op made {}", out.numel(), t.numel()))),
            Err(e) => self.ctx.record(e),
        }
    }

    fn fallback_tensor(&self, len: usize) -> GpuTensor {
        // A tiny stand-in when an allocation is refused; the error is already recorded.
        self.ctx.empty(&[len.min(4)]).or_else(|_| self.ctx.empty(&[0])).expect("a 16-byte buffer")
    }
}

impl Backend for GpuBackend {
    type Buf = GpuTensor;
    type IBuf = GpuTensor;

    fn alloc(&self, len: usize) -> GpuTensor {
        self.ctx.zeros(&[len]).unwrap_or_else(|e| {
            self.ctx.record(e);
            self.fallback_tensor(len)
        })
    }
    fn upload(&self, data: &[f32]) -> GpuTensor {
        self.ctx.upload(&[data.len()], data).unwrap_or_else(|e| {
            self.ctx.record(e);
            self.fallback_tensor(data.len())
        })
    }
    fn write(&self, dst: &mut GpuTensor, data: &[f32]) {
        self.note(self.ctx.write(dst, data))
    }
    fn upload_i32(&self, data: &[i32]) -> GpuTensor {
        self.ctx.upload(&[data.len()], data).unwrap_or_else(|e| {
            self.ctx.record(e);
            self.fallback_tensor(data.len())
        })
    }
    fn write_i32(&self, dst: &mut GpuTensor, data: &[i32]) {
        self.note(self.ctx.write(dst, data))
    }
    fn len(&self, buf: &GpuTensor) -> usize {
        buf.numel()
    }
    fn read(&self, bufs: &[&GpuTensor]) -> impl Future<Output = Vec<Vec<f32>>> {
        async move {
            if self.ctx.check().is_ok() {
                match self.ctx.read_many(bufs).await {
                    Ok(v) => return v,
                    Err(e) => self.ctx.record(e),
                }
            }
            bufs.iter().map(|b| vec![0.0; b.numel()]).collect()
        }
    }
    fn submit(&self) {
        self.note(self.ctx.flush())
    }
    fn failure(&self) -> Option<String> {
        self.error().map(|e| e.to_string())
    }

    fn fill(&self, dst: &mut GpuTensor, value: f32) {
        self.note(dispatch_fill(&self.ctx, dst, value))
    }
    fn copy(&self, src: &GpuTensor, dst: &mut GpuTensor) {
        self.note(self.ctx.copy(src, dst))
    }
    fn add(&self, a: &GpuTensor, b: &GpuTensor, out: &mut GpuTensor) {
        self.note(dispatch_add_into(&self.ctx, a, b, 1.0, out))
    }
    fn add_assign(&self, out: &mut GpuTensor, a: &GpuTensor) {
        self.note(dispatch_axpy(&self.ctx, out, 1.0, a))
    }
    fn reset_rows(&self, z: &mut GpuTensor, init: &GpuTensor, flags: &GpuTensor, positions: usize) {
        if z.numel() != flags.numel() * positions * init.numel() {
            return self.ctx.record(GpuError::Shape(format!("reset_rows: z {:?} is not [{}, {positions}, {}]", z.shape, flags.numel(), init.numel())));
        }
        self.note(dispatch_reset_rows(&self.ctx, z, init, flags))
    }
    fn row_diff_norm(&self, rows: usize, cols: usize, a: &GpuTensor, b: &GpuTensor, out: &mut GpuTensor) {
        if a.numel() != rows * cols {
            return self.ctx.record(GpuError::Shape(format!("row_diff_norm: {:?} is not [{rows}, {cols}]", a.shape)));
        }
        let fresh = diff_norm(&self.ctx, a, b, rows);
        self.replace(out, fresh, "row_diff_norm")
    }

    fn matmul_nt(&self, m: usize, n: usize, k: usize, x: &GpuTensor, w: &GpuTensor, y: &mut GpuTensor, acc: bool) {
        self.note(dispatch_matmul(&self.ctx, Operand::plain(x), Operand::transposed(w), y, m, n, k, 1.0, acc as u32 as f32))
    }
    fn matmul_nn(&self, m: usize, n: usize, k: usize, dy: &GpuTensor, w: &GpuTensor, dx: &mut GpuTensor, acc: bool) {
        self.note(dispatch_matmul(&self.ctx, Operand::plain(dy), Operand::plain(w), dx, m, k, n, 1.0, acc as u32 as f32))
    }
    fn matmul_tn(&self, m: usize, n: usize, k: usize, dy: &GpuTensor, x: &GpuTensor, dw: &mut GpuTensor, acc: bool) {
        self.note(dispatch_matmul(&self.ctx, Operand::transposed(dy), Operand::plain(x), dw, n, k, m, 1.0, acc as u32 as f32))
    }

    fn gather_rows(&self, table: &GpuTensor, ids: &GpuTensor, dim: usize, rows: &mut GpuTensor) {
        if dim == 0 || table.numel() % dim != 0 {
            return self.ctx.record(GpuError::Shape(format!("gather_rows: table {:?} is not [N, {dim}]", table.shape)));
        }
        let table = self.view(table, table.numel() / dim, dim);
        self.note(dispatch_gather(&self.ctx, ids, &table, rows, SeqMap::identity(1)))
    }
    fn embed_forward(&self, d: EmbedDims, tokens: &GpuTensor, puzzle: &GpuTensor, emb: &GpuTensor, pos: Option<&GpuTensor>, scale: f32, x: &mut GpuTensor) {
        let (h, t) = (d.hidden, d.total());
        let xv = self.view(x, d.batch * t, h);
        let emb = self.view(emb, d.vocab, h);
        self.note(dispatch_gather(&self.ctx, tokens, &emb, &xv, SeqMap { s_in: d.seq, t_out: t, offset: d.puzzle_len }));
        if d.puzzle_len > 0 {
            let pe = self.view(puzzle, d.batch, d.puzzle_dim);
            self.note(dispatch_place_puzzle(&self.ctx, &pe, &xv, t, d.puzzle_len));
        }
        self.note(dispatch_finish(&self.ctx, &xv, pos, t, scale, POS_MIX));
    }
    fn embed_backward(&self, d: EmbedDims, tokens: &GpuTensor, dx: &GpuTensor, scale: f32, d_emb: &mut GpuTensor, d_pos: Option<&mut GpuTensor>, d_puzzle: &mut GpuTensor) {
        let (h, t) = (d.hidden, d.total());
        let k = if d_pos.is_some() { scale * POS_MIX } else { scale };
        let dxv = self.view(dx, d.batch * t, h);
        if let Some(dp) = d_pos {
            self.note(dispatch_col_sum(&self.ctx, dx, dp, k, 1.0));
        }
        let de = self.view(d_emb, d.vocab, h);
        self.note(dispatch_index_add(&self.ctx, tokens, &dxv, &de, SeqMap { s_in: d.seq, t_out: t, offset: d.puzzle_len }, k, 1.0));
        if d.puzzle_len > 0 && d.puzzle_dim > 0 {
            let fresh = puzzle_grad(&self.ctx, &dxv, d.batch, t, d.puzzle_dim, k);
            self.replace(d_puzzle, fresh, "embed_backward d_puzzle");
        }
    }

    fn rope_forward(&self, d: AttnDims, cos: &GpuTensor, sin: &GpuTensor, qkv: &mut GpuTensor) {
        let (qv, c, s) = self.rope_views(d, cos, sin, qkv);
        self.note(dispatch_rope(&self.ctx, &qv, &c, &s, d.heads))
    }
    fn rope_backward(&self, d: AttnDims, cos: &GpuTensor, sin: &GpuTensor, dqkv: &mut GpuTensor) {
        let (qv, c, s) = self.rope_views(d, cos, sin, dqkv);
        self.note(dispatch_rope_backward(&self.ctx, &qv, &c, &s, d.heads))
    }
    fn attention_forward(&self, d: AttnDims, qkv: &GpuTensor, probs: &mut GpuTensor, out: &mut GpuTensor) {
        let qv = self.view(qkv, d.batch * d.total, d.row());
        let lse = match self.ctx.empty(&[d.batch * d.heads * d.total]) {
            Ok(t) => t,
            Err(e) => return self.ctx.record(e),
        };
        let o = self.view(out, d.batch * d.total, d.heads * d.head_dim);
        let res = AttnOut { o, lse };
        self.note(dispatch_attention_into(&self.ctx, &qv, &res, d.total, d.heads, d.head_dim, d.local));
        *probs = res.lse;
    }
    fn attention_backward(&self, d: AttnDims, qkv: &GpuTensor, probs: &GpuTensor, d_out: &GpuTensor, _scratch: &mut GpuTensor, d_qkv: &mut GpuTensor) {
        let qv = self.view(qkv, d.batch * d.total, d.row());
        // The forward output is needed for delta = rowsum(dO * O); the model does not pass it, so it
        // is recomputed here (one extra forward per backward, still O(T) memory).
        let fwd = match (self.ctx.empty(&[d.batch * d.total, d.heads * d.head_dim]), probs.numel() == d.batch * d.heads * d.total) {
            (Ok(o), true) => AttnOut { o, lse: probs.clone() },
            (Ok(_), false) => {
                return self.ctx.record(GpuError::Shape(format!("attention_backward: probs {:?} is not the forward's lse [B*nh*T]", probs.shape)))
            }
            (Err(e), _) => return self.ctx.record(e),
        };
        self.note(dispatch_attention_into(&self.ctx, &qv, &fwd, d.total, d.heads, d.head_dim, d.local));
        let dov = self.view(d_out, d.batch * d.total, d.heads * d.head_dim);
        let fresh = dispatch_attention_backward(&self.ctx, &qv, &fwd, &dov, d.total, d.heads, d.head_dim, d.local);
        self.replace(d_qkv, fresh, "attention_backward");
    }

    fn swiglu_forward(&self, rows: usize, width: usize, gu: &GpuTensor, a: &mut GpuTensor) {
        let fresh = dispatch_swiglu(&self.ctx, &self.view(gu, rows, 2 * width));
        self.replace(a, fresh, "swiglu_forward")
    }
    fn swiglu_backward(&self, rows: usize, width: usize, gu: &GpuTensor, d_a: &GpuTensor, d_gu: &mut GpuTensor) {
        let fresh = dispatch_swiglu_backward(&self.ctx, &self.view(gu, rows, 2 * width), d_a);
        self.replace(d_gu, fresh, "swiglu_backward")
    }
    fn add_rmsnorm_forward(&self, rows: usize, hidden: usize, eps: f32, a: &GpuTensor, b: &GpuTensor, y: &mut GpuTensor, rstd: &mut GpuTensor) {
        match dispatch_rmsnorm(&self.ctx, &self.view(a, rows, hidden), Some(b), eps) {
            Ok(n) => {
                self.replace(y, Ok(n.y), "add_rmsnorm_forward y");
                self.replace(rstd, Ok(n.rstd), "add_rmsnorm_forward rstd");
            }
            Err(e) => self.ctx.record(e),
        }
    }
    fn rmsnorm_backward(&self, rows: usize, hidden: usize, y: &GpuTensor, rstd: &GpuTensor, dy: &GpuTensor, dx: &mut GpuTensor) {
        let fwd = Normed { y: self.view(y, rows, hidden), rstd: rstd.clone() };
        let fresh = dispatch_rmsnorm_backward(&self.ctx, &fwd, dy);
        self.replace(dx, fresh, "rmsnorm_backward")
    }

    fn q_head_forward(&self, batch: usize, total: usize, hidden: usize, z: &GpuTensor, w: &GpuTensor, bias: &GpuTensor, q: &mut GpuTensor) {
        let z0 = match take_rows(&self.ctx, &self.view(z, batch * total, hidden), batch, total, 0) {
            Ok(t) => t,
            Err(e) => return self.ctx.record(e),
        };
        self.note(dispatch_matmul(&self.ctx, Operand::plain(&z0), Operand::transposed(w), q, batch, 2, hidden, 1.0, 0.0));
        self.note(dispatch_add_bias(&self.ctx, q, bias));
    }
    fn q_head_backward(&self, batch: usize, total: usize, hidden: usize, z: &GpuTensor, w: &GpuTensor, dq: &GpuTensor, dz: &mut GpuTensor, dw: &mut GpuTensor, dbias: &mut GpuTensor) {
        let z0 = match take_rows(&self.ctx, &self.view(z, batch * total, hidden), batch, total, 0) {
            Ok(t) => t,
            Err(e) => return self.ctx.record(e),
        };
        self.note(dispatch_col_sum(&self.ctx, dq, dbias, 1.0, 1.0));
        self.note(dispatch_matmul(&self.ctx, Operand::transposed(dq), Operand::plain(&z0), dw, 2, hidden, batch, 1.0, 1.0));
        let dz0 = match self.ctx.empty(&[batch, hidden]) {
            Ok(t) => t,
            Err(e) => return self.ctx.record(e),
        };
        self.note(dispatch_matmul(&self.ctx, Operand::plain(dq), Operand::plain(w), &dz0, batch, hidden, 2, 1.0, 0.0));
        let dzv = self.view(dz, batch * total, hidden);
        self.note(dispatch_add_rows(&self.ctx, &dz0, &dzv, total, 0, 1.0));
    }
    fn lm_loss(&self, d: LossDims, kind: LmLossKind, logits: &GpuTensor, labels: &GpuTensor, grad_scale: f32, stats: &mut GpuTensor, d_logits: Option<&mut GpuTensor>) {
        let t = d.puzzle_len + d.seq;
        let lv = self.view(logits, d.batch * t, d.vocab);
        match dispatch_lm_loss(&self.ctx, &lv, labels, t, d.puzzle_len, grad_scale, kind == LmLossKind::Softmax) {
            Ok(r) => {
                self.replace(stats, Ok(r.stats), "lm_loss stats");
                if let Some(g) = d_logits {
                    self.replace(g, Ok(r.dlogits), "lm_loss d_logits");
                }
            }
            Err(e) => self.ctx.record(e),
        }
    }

    fn adam_update(&self, c: &AdamStep, param: &mut GpuTensor, grad: &GpuTensor, m: &mut GpuTensor, v: &mut GpuTensor) -> Result<(), OptimError> {
        check_adam_lengths(param.numel(), grad.numel(), m.numel(), v.numel())?;
        let r = match c {
            AdamStep::Atan2(c) => dispatch_adam_atan2(&self.ctx, &c.into(), param, grad, m, v),
            AdamStep::AdamW(c) => dispatch_adamw(&self.ctx, c, param, grad, m, v),
        };
        self.note(r);
        Ok(())
    }
    fn sign_sgd_rows(&self, weights: &mut GpuTensor, dim: usize, ids: &GpuTensor, row_grads: &GpuTensor, lr: f64, weight_decay: f64) -> Result<(), OptimError> {
        if dim == 0 || weights.numel() % dim != 0 {
            return Err(OptimError::Shape { what: format!("weights hold {} values, not a multiple of dim {dim}", weights.numel()) });
        }
        if row_grads.numel() != ids.numel() * dim {
            return Err(OptimError::Shape { what: format!("gradient has {} values, expected {} ids x {dim}", row_grads.numel(), ids.numel()) });
        }
        let w = self.view(weights, weights.numel() / dim, dim);
        self.note(dispatch_sign_sgd(&self.ctx, &w, row_grads, ids, lr, weight_decay));
        Ok(())
    }
}

impl GpuBackend {
    fn rope_views(&self, d: AttnDims, cos: &GpuTensor, sin: &GpuTensor, qkv: &GpuTensor) -> (GpuTensor, GpuTensor, GpuTensor) {
        (
            self.view(qkv, d.batch * d.total, d.row()),
            self.view(cos, d.total, d.head_dim),
            self.view(sin, d.total, d.head_dim),
        )
    }
}
