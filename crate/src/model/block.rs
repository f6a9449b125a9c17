//! One post-norm transformer block (HRM_SPEC §4.2) and its backward:
//! `y = rms_norm(x + Attn(x))`, `out = rms_norm(y + SwiGLU(y))`.

use super::weights::BlockParams;
use super::Dims;
use crate::backend::Backend;

/// The activations of one block call. Kept per layer for the calls that carry gradient; calls under
/// no-grad share one set (only `input`/`out` matter across blocks there).
pub struct BlockActs<B: Backend> {
    pub input: B::Buf,
    /// `[M, 3*nh*d]`, after RoPE
    pub qkv: B::Buf,
    /// `[B, nh, T, T]`
    pub probs: B::Buf,
    /// attention core output `[M, nh*d]` (before o_proj)
    pub attn: B::Buf,
    /// `o_proj` output `[M, h]` (the official `self_attn` output)
    pub attn_out: B::Buf,
    pub y: B::Buf,
    pub rstd1: B::Buf,
    /// `[M, 2I]`
    pub gu: B::Buf,
    /// `[M, I]`
    pub act: B::Buf,
    /// `down_proj` output `[M, h]` (the official `mlp` output)
    pub mlp_out: B::Buf,
    pub out: B::Buf,
    pub rstd2: B::Buf,
}

impl<B: Backend> BlockActs<B> {
    pub fn new(be: &B, d: &Dims) -> Self {
        let (m, h, i) = (d.rows(), d.hidden, d.inter);
        BlockActs {
            input: be.alloc(m * h),
            qkv: be.alloc(m * 3 * d.inner()),
            probs: be.alloc(d.batch * d.heads * d.total * d.total),
            attn: be.alloc(m * d.inner()),
            attn_out: be.alloc(m * h),
            y: be.alloc(m * h),
            rstd1: be.alloc(m),
            gu: be.alloc(m * 2 * i),
            act: be.alloc(m * i),
            mlp_out: be.alloc(m * h),
            out: be.alloc(m * h),
            rstd2: be.alloc(m),
        }
    }
}

/// Gradient scratch shared by all blocks' backward passes.
pub struct BlockGradScratch<B: Backend> {
    pub d_pre2: B::Buf,
    pub d_act: B::Buf,
    pub d_gu: B::Buf,
    pub d_y: B::Buf,
    pub d_pre1: B::Buf,
    pub d_attn: B::Buf,
    pub d_qkv: B::Buf,
    pub d_scores: B::Buf,
}

impl<B: Backend> BlockGradScratch<B> {
    pub fn new(be: &B, d: &Dims) -> Self {
        let (m, h, i) = (d.rows(), d.hidden, d.inter);
        BlockGradScratch {
            d_pre2: be.alloc(m * h),
            d_act: be.alloc(m * i),
            d_gu: be.alloc(m * 2 * i),
            d_y: be.alloc(m * h),
            d_pre1: be.alloc(m * h),
            d_attn: be.alloc(m * d.inner()),
            d_qkv: be.alloc(m * 3 * d.inner()),
            d_scores: be.alloc(d.batch * d.heads * d.total * d.total),
        }
    }
}

/// RoPE tables when `pos_encodings == rope`.
pub struct Rope<B: Backend> {
    pub cos: B::Buf,
    pub sin: B::Buf,
}

/// Forward of one block on `acts.input`, leaving every intermediate in `acts` and the result in `acts.out`.
/// `keep`: the call carries gradient, so what the backward reads is kept (the attention
/// probabilities, the MLP's `gu`, `act`, `mlp_out`); otherwise those may be left stale.
pub fn block_forward<B: Backend>(be: &B, d: &Dims, w: &BlockParams<B::Buf>, rope: Option<&Rope<B>>, a: &mut BlockActs<B>, keep: bool) {
    let (m, h, inner, i) = (d.rows(), d.hidden, d.inner(), d.inter);
    let ad = d.attn();
    be.matmul_nt(m, 3 * inner, h, &a.input, &w.qkv, &mut a.qkv, false);
    if let Some(r) = rope {
        be.rope_forward(ad, &r.cos, &r.sin, &mut a.qkv);
    }
    if keep {
        be.attention_forward(ad, &a.qkv, &mut a.probs, &mut a.attn);
    } else {
        be.attention_forward_nograd(ad, &a.qkv, &mut a.probs, &mut a.attn);
    }
    be.matmul_nt(m, h, inner, &a.attn, &w.o, &mut a.attn_out, false);
    be.add_rmsnorm_forward(m, h, d.eps, &a.input, &a.attn_out, &mut a.y, &mut a.rstd1);
    be.mlp_forward(m, h, i, d.eps, &a.y, &w.gate_up, &w.down, keep, &mut a.gu, &mut a.act, &mut a.mlp_out, &mut a.out, &mut a.rstd2);
}

/// Backward of one block: given `d_out` (gradient w.r.t. `a.out`), ACCUMULATES the weight gradients into
/// `g` and OVERWRITES `d_in` with the gradient w.r.t. `a.input`.
#[allow(clippy::too_many_arguments)]
pub fn block_backward<B: Backend>(
    be: &B,
    d: &Dims,
    w: &BlockParams<B::Buf>,
    rope: Option<&Rope<B>>,
    a: &BlockActs<B>,
    d_out: &B::Buf,
    g: &mut BlockParams<B::Buf>,
    s: &mut BlockGradScratch<B>,
    d_in: &mut B::Buf,
) {
    let (m, h, inner, i) = (d.rows(), d.hidden, d.inner(), d.inter);
    let ad = d.attn();
    // out = rms_norm(y + mlp(y))
    be.rmsnorm_backward(m, h, &a.out, &a.rstd2, d_out, &mut s.d_pre2);
    be.matmul_tn(m, h, i, &s.d_pre2, &a.act, &mut g.down, true);
    be.matmul_nn(m, h, i, &s.d_pre2, &w.down, &mut s.d_act, false);
    be.swiglu_backward(m, i, &a.gu, &s.d_act, &mut s.d_gu);
    be.matmul_tn(m, 2 * i, h, &s.d_gu, &a.y, &mut g.gate_up, true);
    be.copy(&s.d_pre2, &mut s.d_y);
    be.matmul_nn(m, 2 * i, h, &s.d_gu, &w.gate_up, &mut s.d_y, true);
    // y = rms_norm(x + attn(x))
    be.rmsnorm_backward(m, h, &a.y, &a.rstd1, &s.d_y, &mut s.d_pre1);
    be.matmul_tn(m, h, inner, &s.d_pre1, &a.attn, &mut g.o, true);
    be.matmul_nn(m, h, inner, &s.d_pre1, &w.o, &mut s.d_attn, false);
    be.attention_backward(ad, &a.qkv, &a.probs, &s.d_attn, &mut s.d_scores, &mut s.d_qkv);
    if let Some(r) = rope {
        be.rope_backward(ad, &r.cos, &r.sin, &mut s.d_qkv);
    }
    be.matmul_tn(m, 3 * inner, h, &s.d_qkv, &a.input, &mut g.qkv, true);
    be.copy(&s.d_pre1, d_in);
    be.matmul_nn(m, 3 * inner, h, &s.d_qkv, &w.qkv, d_in, true);
}
