//! Non-causal, unmasked multi-head attention core (HRM_SPEC §3): per batch row and head,
//! `o = softmax(q k^T / sqrt(d)) v` over all T keys.
//!
//! Shapes: `qkv [B,T,3*nh*d]` (q heads, then k heads, then v heads, d contiguous values each; RoPE is
//! already applied), `out [B,T,nh*d]` (head-major), `probs [B,nh,T,T]` (the softmax, kept for backward).
//! Natively, (batch, head) pairs run on rayon threads.

#[cfg(not(target_arch = "wasm32"))]
use rayon::prelude::*;

#[derive(Debug, Clone, Copy)]
pub struct AttnDims {
    pub batch: usize,
    pub total: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl AttnDims {
    fn row(&self) -> usize {
        3 * self.heads * self.head_dim
    }
}

/// Runs `f(b, head, chunk)` over the `[B*nh]` chunks of `buf` (each `chunk_len` long), in parallel natively.
fn for_each_head<F>(buf: &mut [f32], chunk_len: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    buf.par_chunks_mut(chunk_len).enumerate().for_each(|(i, c)| f(i, c));
    #[cfg(target_arch = "wasm32")]
    buf.chunks_mut(chunk_len).enumerate().for_each(|(i, c)| f(i, c));
}

/// Forward: writes `probs` and `out`.
pub fn attention_forward(d: AttnDims, qkv: &[f32], probs: &mut [f32], out: &mut [f32]) {
    let (t_all, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
    let scale = 1.0 / (hd as f32).sqrt();
    let tt = t_all * t_all;
    for_each_head(&mut probs[..d.batch * nh * tt], tt, |bh, p| {
        let (b, h) = (bh / nh, bh % nh);
        let base = b * t_all * row;
        for i in 0..t_all {
            let q = &qkv[base + i * row + h * hd..][..hd];
            let pr = &mut p[i * t_all..(i + 1) * t_all];
            let mut mx = f32::NEG_INFINITY;
            for (j, pj) in pr.iter_mut().enumerate() {
                let k = &qkv[base + j * row + (nh + h) * hd..][..hd];
                let s = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
                *pj = s;
                mx = mx.max(s);
            }
            let mut sum = 0.0;
            for pj in pr.iter_mut() {
                *pj = (*pj - mx).exp();
                sum += *pj;
            }
            let inv = 1.0 / sum;
            pr.iter_mut().for_each(|pj| *pj *= inv);
        }
    });
    // out[b,i,h,:] = sum_j p[b,h,i,j] v[b,j,h,:]; parallel over batch rows (disjoint output slices).
    let inner = nh * hd;
    let probs = &*probs;
    for_each_head(&mut out[..d.batch * t_all * inner], t_all * inner, |b, o| {
        o.fill(0.0);
        let base = b * t_all * row;
        for h in 0..nh {
            let p = &probs[(b * nh + h) * tt..][..tt];
            for i in 0..t_all {
                let oi = &mut o[i * inner + h * hd..][..hd];
                for j in 0..t_all {
                    let w = p[i * t_all + j];
                    let v = &qkv[base + j * row + (2 * nh + h) * hd..][..hd];
                    for (a, &vv) in oi.iter_mut().zip(v) {
                        *a += w * vv;
                    }
                }
            }
        }
    });
}

/// Backward: given `d_out [B,T,nh*d]`, the forward's `qkv` and `probs`, OVERWRITES `d_qkv [B,T,3*nh*d]`
/// (gradient w.r.t. the post-RoPE q, k, v). `scratch` holds `[B,nh,T,T]` (dS).
pub fn attention_backward(d: AttnDims, qkv: &[f32], probs: &[f32], d_out: &[f32], scratch: &mut [f32], d_qkv: &mut [f32]) {
    let (t_all, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
    let scale = 1.0 / (hd as f32).sqrt();
    let tt = t_all * t_all;
    let inner = nh * hd;
    // dS[i,j] = P[i,j] * (dO_i . v_j - sum_j' P[i,j'] dO_i . v_j'), pre-multiplied by the 1/sqrt(d) scale.
    for_each_head(&mut scratch[..d.batch * nh * tt], tt, |bh, ds| {
        let (b, h) = (bh / nh, bh % nh);
        let base = b * t_all * row;
        let p = &probs[bh * tt..][..tt];
        for i in 0..t_all {
            let g = &d_out[(b * t_all + i) * inner + h * hd..][..hd];
            let dsi = &mut ds[i * t_all..(i + 1) * t_all];
            let mut dot = 0.0;
            for (j, x) in dsi.iter_mut().enumerate() {
                let v = &qkv[base + j * row + (2 * nh + h) * hd..][..hd];
                let dp = g.iter().zip(v).map(|(a, b)| a * b).sum::<f32>();
                *x = dp;
                dot += dp * p[i * t_all + j];
            }
            for (j, x) in dsi.iter_mut().enumerate() {
                *x = p[i * t_all + j] * (*x - dot) * scale;
            }
        }
    });
    let scratch = &*scratch;
    // Per batch row: dq_i = sum_j dS[i,j] k_j; dk_j = sum_i dS[i,j] q_i; dv_j = sum_i P[i,j] dO_i.
    for_each_head(&mut d_qkv[..d.batch * t_all * row], t_all * row, |b, dq| {
        dq.fill(0.0);
        let base = b * t_all * row;
        for h in 0..nh {
            let ds = &scratch[(b * nh + h) * tt..][..tt];
            let p = &probs[(b * nh + h) * tt..][..tt];
            for i in 0..t_all {
                let qi = &qkv[base + i * row + h * hd..][..hd];
                let gi = &d_out[(b * t_all + i) * inner + h * hd..][..hd];
                for j in 0..t_all {
                    let s = ds[i * t_all + j];
                    let w = p[i * t_all + j];
                    let kj = &qkv[base + j * row + (nh + h) * hd..][..hd];
                    // dq_i += s * k_j
                    let o = i * row + h * hd;
                    for c in 0..hd {
                        dq[o + c] += s * kj[c];
                    }
                    // dk_j += s * q_i ; dv_j += w * dO_i
                    let ok = j * row + (nh + h) * hd;
                    let ov = j * row + (2 * nh + h) * hd;
                    for c in 0..hd {
                        dq[ok + c] += s * qi[c];
                        dq[ov + c] += w * gi[c];
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward_sum(d: AttnDims, qkv: &[f32], w: &[f32]) -> f64 {
        let mut p = vec![0.0; d.batch * d.heads * d.total * d.total];
        let mut o = vec![0.0; d.batch * d.total * d.heads * d.head_dim];
        attention_forward(d, qkv, &mut p, &mut o);
        o.iter().zip(w).map(|(a, b)| (*a as f64) * (*b as f64)).sum()
    }

    #[test]
    fn rows_of_probs_sum_to_one_and_backward_matches_finite_differences() {
        let d = AttnDims { batch: 2, total: 5, heads: 2, head_dim: 4 };
        let n = d.batch * d.total * d.row();
        let qkv: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.731).sin()).collect();
        let w: Vec<f32> = (0..d.batch * d.total * 8).map(|i| ((i as f32) * 0.377).cos()).collect();
        let mut p = vec![0.0; 2 * 2 * 25];
        let mut o = vec![0.0; 2 * 5 * 8];
        attention_forward(d, &qkv, &mut p, &mut o);
        for r in p.chunks(5) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        let mut scratch = vec![0.0; p.len()];
        let mut dqkv = vec![0.0; n];
        attention_backward(d, &qkv, &p, &w, &mut scratch, &mut dqkv);
        let eps = 1e-2;
        for idx in (0..n).step_by(7) {
            let mut a = qkv.clone();
            a[idx] += eps;
            let mut b = qkv.clone();
            b[idx] -= eps;
            let fd = (forward_sum(d, &a, &w) - forward_sum(d, &b, &w)) / (2.0 * eps as f64);
            assert!((fd - dqkv[idx] as f64).abs() < 2e-3, "idx {idx}: fd {fd} vs {}", dqkv[idx]);
        }
    }
}
