//! The backend interface: every op the model runs, on buffers the backend owns.
//!
//! Design (shared by the CPU reference here and the wgpu/WGSL backend):
//! - Buffers are opaque handles: [`Backend::Buf`] (f32) and [`Backend::IBuf`] (i32). The model never
//!   touches their contents; shapes are passed to each op as plain integers (or the small `*Dims`
//!   structs re-exported below). Outputs are `&mut` so Rust's borrow rules also rule out aliasing.
//! - One method per op and one per backward. The CPU backend runs each at once by calling the plain
//!   slice functions in `cpu/` (one file per op family; those functions are the documented CPU twins of
//!   the WGSL kernels). A GPU backend may instead record the calls into a command encoder and submit
//!   later: nothing here returns data to the host except [`Backend::read`].
//! - Reading back is explicit, batched and asynchronous ([`Backend::read`] returns a future), because
//!   WebGPU in wasm cannot block. On the CPU the future is ready at once; native callers drive the
//!   model's `async fn`s with `pollster::block_on`. The model does at most one small read per ACT
//!   segment (Q logits and per-row loss statistics); logits and states are read only on request.
//! - Uploads (`upload*`, `write*`) are host → device copies that a GPU backend may queue.
//! - [`Backend::submit`] is a hint that a unit of work (a segment) is complete; a no-op on the CPU.
//! - The optimizers are ops too ([`Backend::adam_update`], [`Backend::sign_sgd_rows`]): the weights and
//!   moments never leave the device during training. The per-step scalars are computed on the host
//!   ([`AdamStep`], from `optim.rs`), so both backends apply exactly the same rule.
//! - [`Backend::failure`] reports a device that can no longer be trusted (lost, out of memory), so a
//!   caller can stop and fall back to the CPU backend.

pub mod cpu;
pub mod gpu;

use std::future::Future;

pub use cpu::attention::{AttnDims, Local};
pub use cpu::embed::EmbedDims;
pub use cpu::loss::{LmLossKind, LossDims};
pub use cpu::CpuBackend;

use crate::optim::{AdamAtan2Coeffs, AdamWCoeffs, OptimError};

/// The host-computed scalars of one Adam update of one tensor (see `optim.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AdamStep {
    /// The official AdamATan2.
    Atan2(AdamAtan2Coeffs),
    AdamW(AdamWCoeffs),
}

#[allow(clippy::too_many_arguments)]
pub trait Backend {
    /// A device buffer of f32 values.
    type Buf;
    /// A device buffer of i32 values.
    type IBuf;

    // ---- memory ----
    /// A zero-filled buffer of `len` values.
    fn alloc(&self, len: usize) -> Self::Buf;
    fn upload(&self, data: &[f32]) -> Self::Buf;
    /// Overwrites the whole buffer; `data.len()` must equal its length.
    fn write(&self, dst: &mut Self::Buf, data: &[f32]);
    fn upload_i32(&self, data: &[i32]) -> Self::IBuf;
    fn write_i32(&self, dst: &mut Self::IBuf, data: &[i32]);
    /// Number of f32 values in the buffer.
    fn len(&self, buf: &Self::Buf) -> usize;
    /// Reads several buffers back to the host, in order, in one round trip.
    fn read(&self, bufs: &[&Self::Buf]) -> impl Future<Output = Vec<Vec<f32>>>;
    /// End of a unit of work (a GPU backend submits its recorded commands).
    fn submit(&self) {}
    /// Why this backend's results can no longer be trusted (device lost, out of memory, a rejected
    /// shape), if they cannot; sticky. The CPU never fails. The caller falls back to the CPU backend.
    fn failure(&self) -> Option<String> {
        None
    }

    // ---- element-wise ----
    fn fill(&self, dst: &mut Self::Buf, value: f32);
    fn copy(&self, src: &Self::Buf, dst: &mut Self::Buf);
    /// `out = a + b`.
    fn add(&self, a: &Self::Buf, b: &Self::Buf, out: &mut Self::Buf);
    /// `out += a`.
    fn add_assign(&self, out: &mut Self::Buf, a: &Self::Buf);
    /// For rows b with `flags[b] != 0`: `z[b, t, :] = init` for all `positions` t. `z [B,positions,h]`.
    fn reset_rows(&self, z: &mut Self::Buf, init: &Self::Buf, flags: &Self::IBuf, positions: usize);
    /// `out[r] = ||a[r,:] - b[r,:]||` for `[rows, cols]` inputs.
    fn row_diff_norm(&self, rows: usize, cols: usize, a: &Self::Buf, b: &Self::Buf, out: &mut Self::Buf);

    // ---- GEMM (see cpu/matmul.rs) ----
    /// `y[M,N] (+)= x[M,K] @ W[N,K]^T`.
    fn matmul_nt(&self, m: usize, n: usize, k: usize, x: &Self::Buf, w: &Self::Buf, y: &mut Self::Buf, accumulate: bool);
    /// `dx[M,K] (+)= dy[M,N] @ W[N,K]`.
    fn matmul_nn(&self, m: usize, n: usize, k: usize, dy: &Self::Buf, w: &Self::Buf, dx: &mut Self::Buf, accumulate: bool);
    /// `dW[N,K] (+)= dy[M,N]^T @ x[M,K]`.
    fn matmul_tn(&self, m: usize, n: usize, k: usize, dy: &Self::Buf, x: &Self::Buf, dw: &mut Self::Buf, accumulate: bool);

    // ---- embeddings (cpu/embed.rs) ----
    /// `rows[b,:] = table[ids[b],:]`, `table [N,dim]`, `rows [B,dim]`.
    fn gather_rows(&self, table: &Self::Buf, ids: &Self::IBuf, dim: usize, rows: &mut Self::Buf);
    fn embed_forward(&self, d: EmbedDims, tokens: &Self::IBuf, puzzle: &Self::Buf, emb: &Self::Buf, pos: Option<&Self::Buf>, scale: f32, x: &mut Self::Buf);
    /// Accumulates `d_emb`, `d_pos`; overwrites `d_puzzle`.
    fn embed_backward(&self, d: EmbedDims, tokens: &Self::IBuf, dx: &Self::Buf, scale: f32, d_emb: &mut Self::Buf, d_pos: Option<&mut Self::Buf>, d_puzzle: &mut Self::Buf);

    // ---- attention (cpu/rope.rs, cpu/attention.rs) ----
    /// In place on the q, k heads of `qkv [B,T,3*nh*d]`; `cos, sin [T,d]`.
    fn rope_forward(&self, d: AttnDims, cos: &Self::Buf, sin: &Self::Buf, qkv: &mut Self::Buf);
    fn rope_backward(&self, d: AttnDims, cos: &Self::Buf, sin: &Self::Buf, dqkv: &mut Self::Buf);
    /// Writes `probs [B,nh,T,T]` and `out [B,T,nh*d]`.
    fn attention_forward(&self, d: AttnDims, qkv: &Self::Buf, probs: &mut Self::Buf, out: &mut Self::Buf);
    /// [`Backend::attention_forward`] for a call whose backward never runs: `probs` may be left
    /// unwritten (the CPU skips storing the `[B,nh,T,T]` softmax). By default the same as keeping it.
    fn attention_forward_nograd(&self, d: AttnDims, qkv: &Self::Buf, probs: &mut Self::Buf, out: &mut Self::Buf) {
        self.attention_forward(d, qkv, probs, out)
    }
    /// Overwrites `d_qkv`; `scratch` is `[B,nh,T,T]`.
    fn attention_backward(&self, d: AttnDims, qkv: &Self::Buf, probs: &Self::Buf, d_out: &Self::Buf, scratch: &mut Self::Buf, d_qkv: &mut Self::Buf);

    // ---- MLP and norm (cpu/swiglu.rs, cpu/rmsnorm.rs) ----
    fn swiglu_forward(&self, rows: usize, width: usize, gu: &Self::Buf, a: &mut Self::Buf);
    fn swiglu_backward(&self, rows: usize, width: usize, gu: &Self::Buf, d_a: &Self::Buf, d_gu: &mut Self::Buf);
    /// `y = rms_norm(a + b)` per row of `[rows, hidden]`, keeping `rstd [rows]`.
    fn add_rmsnorm_forward(&self, rows: usize, hidden: usize, eps: f32, a: &Self::Buf, b: &Self::Buf, y: &mut Self::Buf, rstd: &mut Self::Buf);
    fn rmsnorm_backward(&self, rows: usize, hidden: usize, y: &Self::Buf, rstd: &Self::Buf, dy: &Self::Buf, dx: &mut Self::Buf);
    /// The block's MLP half, `out = rms_norm(y + down(swiglu(gate_up(y))))` for `y [rows, hidden]`,
    /// `w_gu [2*inter, hidden]`, `w_down [hidden, inter]`, writing `out`, `rstd` and, when `keep` (the
    /// call carries gradient), the intermediates the backward reads (`gu`, `act`, `mlp_out`). By
    /// default the four ops in turn (the GPU's kernels, which write everything); the CPU overrides it
    /// with one pass over bands of rows that stays in cache (cpu/mlp.rs).
    fn mlp_forward(
        &self,
        rows: usize,
        hidden: usize,
        inter: usize,
        eps: f32,
        y: &Self::Buf,
        w_gu: &Self::Buf,
        w_down: &Self::Buf,
        _keep: bool,
        gu: &mut Self::Buf,
        act: &mut Self::Buf,
        mlp_out: &mut Self::Buf,
        out: &mut Self::Buf,
        rstd: &mut Self::Buf,
    ) {
        self.matmul_nt(rows, 2 * inter, hidden, y, w_gu, gu, false);
        self.swiglu_forward(rows, inter, gu, act);
        self.matmul_nt(rows, hidden, inter, act, w_down, mlp_out, false);
        self.add_rmsnorm_forward(rows, hidden, eps, y, mlp_out, out, rstd);
    }

    // ---- heads and loss (cpu/heads.rs, cpu/loss.rs) ----
    /// `q [B,2] = z[:,0] @ w^T + bias`, `z [B,total,hidden]`.
    fn q_head_forward(&self, batch: usize, total: usize, hidden: usize, z: &Self::Buf, w: &Self::Buf, bias: &Self::Buf, q: &mut Self::Buf);
    /// Accumulates into `dz` (position 0), `dw`, `dbias`.
    fn q_head_backward(&self, batch: usize, total: usize, hidden: usize, z: &Self::Buf, w: &Self::Buf, dq: &Self::Buf, dz: &mut Self::Buf, dw: &mut Self::Buf, dbias: &mut Self::Buf);
    /// Per-row `stats [B,4] = [loss_hi, loss_lo, #correct, #counted]` (see cpu/loss.rs); with `d_logits`, the gradient of
    /// `grad_scale * sum_b loss_b/divisor_b` (overwritten).
    fn lm_loss(&self, d: LossDims, kind: LmLossKind, logits: &Self::Buf, labels: &Self::IBuf, grad_scale: f32, stats: &mut Self::Buf, d_logits: Option<&mut Self::Buf>);

    // ---- optimizers (optim.rs; shaders/optim.wgsl) ----
    /// One Adam update in place of `param`, its first and second moments `m`, `v` from `grad` (all one
    /// length, else an error naming the lengths).
    fn adam_update(&self, c: &AdamStep, param: &mut Self::Buf, grad: &Self::Buf, m: &mut Self::Buf, v: &mut Self::Buf) -> Result<(), OptimError>;
    /// The official sparse SignSGD: every row of `weights [num_ids, dim]` named in `ids [B]` becomes
    /// `w * (1 - lr*wd) - lr * sign(sum of its rows of row_grads [B, dim])`; other rows are untouched.
    /// Ids must lie in `0..num_ids` (the CPU checks; callers check before a GPU call).
    fn sign_sgd_rows(&self, weights: &mut Self::Buf, dim: usize, ids: &Self::IBuf, row_grads: &Self::Buf, lr: f64, weight_decay: f64) -> Result<(), OptimError>;
}

/// The length checks both backends' [`Backend::adam_update`] make.
pub(crate) fn check_adam_lengths(param: usize, grad: usize, m: usize, v: usize) -> Result<(), OptimError> {
    if grad != param {
        return Err(OptimError::GradLength { name: "adam_update".into(), param, grad });
    }
    if m != param || v != param {
        return Err(OptimError::StateLength { name: "adam_update".into(), state: if m != param { m } else { v }, param });
    }
    Ok(())
}
