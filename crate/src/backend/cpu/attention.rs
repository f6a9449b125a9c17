//! Non-causal, unmasked multi-head attention core (HRM_SPEC §3): per batch row and head,
//! `o = softmax(q k^T / sqrt(d)) v` over all T keys.
//!
//! Shapes: `qkv [B,T,3*nh*d]` (q heads, then k heads, then v heads, d contiguous values each; RoPE is
//! already applied), `out [B,T,nh*d]` (head-major), `probs [B,nh,T,T]` (the softmax, kept for backward).
//! The per-head products are strided GEMMs (matmul.rs); natively, batch rows run on rayon threads.

use super::math;
use super::matmul::{matmul_strided, View};

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

/// Runs `f(b, a_chunk, c_chunk)` over batch rows, pairing the b-th chunks of two buffers; parallel natively.
fn per_batch<F>(a: &mut [f32], la: usize, c: &mut [f32], lc: usize, f: F)
where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(la).zip(c.par_chunks_mut(lc)).enumerate().for_each(|(b, (x, y))| math::wide(|| f(b, x, y)));
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks_mut(la).zip(c.chunks_mut(lc)).enumerate().for_each(|(b, (x, y))| f(b, x, y));
}

/// Query rows per tile: a tile of scores (`TILE x T`) stays in cache between the QK^T product, the
/// softmax and the PV product (matters for long sequences such as 30x30 mazes).
const TILE: usize = 64;

/// Forward: writes `probs` and `out`.
pub fn attention_forward(d: AttnDims, qkv: &[f32], probs: &mut [f32], out: &mut [f32]) {
    let (t, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
    let (tt, inner) = (t * t, nh * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    per_batch(&mut probs[..d.batch * nh * tt], nh * tt, &mut out[..d.batch * t * inner], t * inner, |b, p, o| {
        let base = b * t * row;
        for h in 0..nh {
            let (q, k, v) = (base + h * hd, base + (nh + h) * hd, base + (2 * nh + h) * hd);
            for i0 in (0..t).step_by(TILE) {
                let n = TILE.min(t - i0);
                let pt = h * tt + i0 * t;
                // S = scale * Q K^T for query rows i0..i0+n
                matmul_strided(n, t, hd, scale, qkv, View::rows(q + i0 * row, row), qkv, View::t(k, row), p, View::rows(pt, t), false);
                for r in p[pt..pt + n * t].chunks_exact_mut(t) {
                    let mx = math::max(r);
                    for x in r.iter_mut() {
                        *x = math::exp(*x - mx);
                    }
                    let inv = 1.0 / math::sum(r);
                    r.iter_mut().for_each(|x| *x *= inv);
                }
                // O = P V for those rows
                matmul_strided(n, hd, t, 1.0, p, View::rows(pt, t), qkv, View::rows(v, row), o, View::rows(i0 * inner + h * hd, inner), false);
            }
        }
    });
}

/// Backward: given `d_out [B,T,nh*d]`, the forward's `qkv` and `probs`, OVERWRITES `d_qkv [B,T,3*nh*d]`
/// (gradient w.r.t. the post-RoPE q, k, v). `scratch` holds `[B,nh,T,T]` (dS).
pub fn attention_backward(d: AttnDims, qkv: &[f32], probs: &[f32], d_out: &[f32], scratch: &mut [f32], d_qkv: &mut [f32]) {
    let (t, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
    let (tt, inner) = (t * t, nh * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    per_batch(&mut scratch[..d.batch * nh * tt], nh * tt, &mut d_qkv[..d.batch * t * row], t * row, |b, ds, dq| {
        let base = b * t * row;
        let go = b * t * inner;
        for h in 0..nh {
            let (q, k, v) = (base + h * hd, base + (nh + h) * hd, base + (2 * nh + h) * hd);
            for i0 in (0..t).step_by(TILE) {
                let n = TILE.min(t - i0);
                let (st, ph) = (h * tt + i0 * t, (b * nh + h) * tt + i0 * t);
                let g = go + i0 * inner + h * hd;
                // dP = dO V^T
                matmul_strided(n, t, hd, 1.0, d_out, View::rows(g, inner), qkv, View::t(v, row), ds, View::rows(st, t), false);
                // dS = P * (dP - rowsum(P * dP)) * scale
                for r in 0..n {
                    let pr = &probs[ph + r * t..ph + (r + 1) * t];
                    let dr = &mut ds[st + r * t..st + (r + 1) * t];
                    let dot = math::dot(pr, dr);
                    for (x, &pv) in dr.iter_mut().zip(pr) {
                        *x = pv * (*x - dot) * scale;
                    }
                }
                // dQ = dS K (these rows); dK += dS^T Q, dV += P^T dO (over all tiles)
                let acc = i0 > 0;
                matmul_strided(n, hd, t, 1.0, ds, View::rows(st, t), qkv, View::rows(k, row), dq, View::rows(i0 * row + h * hd, row), false);
                matmul_strided(t, hd, n, 1.0, ds, View::t(st, t), qkv, View::rows(q + i0 * row, row), dq, View::rows((nh + h) * hd, row), acc);
                matmul_strided(t, hd, n, 1.0, probs, View::t(ph, t), d_out, View::rows(g, inner), dq, View::rows((2 * nh + h) * hd, row), acc);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward loops: the reference for the GEMM formulation.
    fn naive(d: AttnDims, qkv: &[f32]) -> Vec<f64> {
        let (t, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
        let mut out = vec![0.0f64; d.batch * t * nh * hd];
        for b in 0..d.batch {
            for h in 0..nh {
                for i in 0..t {
                    let q = |c: usize| qkv[(b * t + i) * row + h * hd + c] as f64;
                    let s: Vec<f64> = (0..t).map(|j| (0..hd).map(|c| q(c) * qkv[(b * t + j) * row + (nh + h) * hd + c] as f64).sum::<f64>() / (hd as f64).sqrt()).collect();
                    let mx = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let z: f64 = s.iter().map(|x| (x - mx).exp()).sum();
                    for j in 0..t {
                        let p = (s[j] - mx).exp() / z;
                        for c in 0..hd {
                            out[(b * t + i) * nh * hd + h * hd + c] += p * qkv[(b * t + j) * row + (2 * nh + h) * hd + c] as f64;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn forward_matches_naive_and_backward_matches_finite_differences() {
        let d = AttnDims { batch: 2, total: 5, heads: 2, head_dim: 4 };
        check(d);
        // more than one query tile
        check(AttnDims { batch: 1, total: TILE + 7, heads: 2, head_dim: 4 });
    }

    fn check(d: AttnDims) {
        let n = d.batch * d.total * d.row();
        let qkv: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.731).sin()).collect();
        let w: Vec<f32> = (0..d.batch * d.total * 8).map(|i| ((i as f32) * 0.377).cos()).collect();
        let mut p = vec![0.0; d.batch * d.heads * d.total * d.total];
        let mut o = vec![0.0; d.batch * d.total * 8];
        attention_forward(d, &qkv, &mut p, &mut o);
        for (a, b) in o.iter().zip(naive(d, &qkv)) {
            assert!((*a as f64 - b).abs() < 1e-5);
        }
        let mut scratch = vec![0.0; p.len()];
        let mut dqkv = vec![0.0; n];
        attention_backward(d, &qkv, &p, &w, &mut scratch, &mut dqkv);
        let f = |x: &[f32]| naive(d, x).iter().zip(&w).map(|(a, b)| a * *b as f64).sum::<f64>();
        let eps = 1e-3;
        for idx in (0..n).step_by(if n > 500 { 7 } else { 1 }) {
            let (mut a, mut b) = (qkv.clone(), qkv.clone());
            a[idx] += eps;
            b[idx] -= eps;
            let fd = (f(&a) - f(&b)) / (2.0 * eps as f64);
            assert!((fd - dqkv[idx] as f64).abs() < 1e-3, "idx {idx}: fd {fd} vs {}", dqkv[idx]);
        }
    }
}
