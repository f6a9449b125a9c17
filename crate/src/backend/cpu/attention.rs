//! Non-causal multi-head attention core (HRM_SPEC §3): per batch row and head,
//! `o = softmax(q k^T / sqrt(d)) v` over all T keys, or, with a [`Local`] window (this project's
//! `attn_radius`), over the keys the window allows (the others get probability 0).
//!
//! Shapes: `qkv [B,T,3*nh*d]` (q heads, then k heads, then v heads, d contiguous values each; RoPE is
//! already applied), `out [B,T,nh*d]` (head-major), `probs [B,nh,T,T]` (the softmax, kept for backward).
//! The forward is a dedicated AVX2/FMA kernel where the CPU has those (attention/simd.rs) and
//! per-head strided GEMMs (matmul.rs) elsewhere; the backward's per-head products are strided GEMMs.
//! A local window has its own loops over the keys it reads (attention/local.rs).
//! Natively, batch rows run on rayon threads.

use super::math;
use super::matmul::{matmul_strided, View};

#[derive(Debug, Clone, Copy)]
pub struct AttnDims {
    pub batch: usize,
    pub total: usize,
    pub heads: usize,
    pub head_dim: usize,
    /// `None`: every query reads every key (the official model).
    pub local: Option<Local>,
}

/// Local attention over a square grid laid out row by row after `prefix` puzzle-embedding positions:
/// a cell reads the cells at most `radius` rows and columns away (a (2r+1)² square, clipped at the
/// border) and not the prefix; a prefix position reads everything (the Q head reads position 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    pub prefix: usize,
    pub side: usize,
    pub radius: usize,
}

impl Local {
    /// Whether query position `i` reads key position `j`.
    pub fn allows(&self, i: usize, j: usize) -> bool {
        if i < self.prefix {
            return true;
        }
        if j < self.prefix {
            return false;
        }
        let (a, b) = (i - self.prefix, j - self.prefix);
        (a / self.side).abs_diff(b / self.side) <= self.radius && (a % self.side).abs_diff(b % self.side) <= self.radius
    }
}

impl AttnDims {
    /// Width of one token's packed row in `qkv`: Q, K and V for every head.
    pub fn row(&self) -> usize {
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

/// Runs `f(b, chunk)` over the batch rows of one buffer; parallel natively.
fn per_batch_out<F>(c: &mut [f32], lc: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        c.par_chunks_mut(lc).enumerate().for_each(|(b, y)| f(b, y));
    }
    #[cfg(target_arch = "wasm32")]
    c.chunks_mut(lc).enumerate().for_each(|(b, y)| f(b, y));
}

/// Query rows per tile of the backward: a tile of scores (`TILE x T`) stays in cache between its
/// products (matters for long sequences such as 30x30 mazes).
const TILE: usize = 64;

/// Forward: writes `out`, and `probs` when given (the backward needs them; a no-grad call does not,
/// and at T = 401 they are 20 MB per call). On x86-64 with AVX2 and FMA a dedicated kernel
/// ([`simd`]); elsewhere (wasm32, other CPUs) per-head products through `gemm`, whose own portable
/// kernel was faster in wasm32 than plain loops (40 ms against 55 ms per sudoku-small call, node).
pub fn attention_forward(d: AttnDims, qkv: &[f32], probs: Option<&mut [f32]>, out: &mut [f32]) {
    if let Some(w) = d.local {
        return local::forward(d, w, qkv, probs, out);
    }
    #[cfg(target_arch = "x86_64")]
    if simd::available() {
        return simd::attention_forward(d, qkv, probs, out);
    }
    attention_forward_gemm(d, qkv, probs, out)
}

/// Runs `f(b, probs of row b, out of row b)` over the batch rows, with or without probabilities.
fn per_batch_opt<F>(d: AttnDims, probs: Option<&mut [f32]>, out: &mut [f32], f: F)
where
    F: Fn(usize, Option<&mut [f32]>, &mut [f32]) + Sync + Send,
{
    let (t, inner, nhtt) = (d.total, d.heads * d.head_dim, d.heads * d.total * d.total);
    let out = &mut out[..d.batch * t * inner];
    match probs {
        Some(p) => per_batch(&mut p[..d.batch * nhtt], nhtt, out, t * inner, |b, p, o| f(b, Some(p), o)),
        None => per_batch_out(out, t * inner, |b, o| f(b, None, o)),
    }
}

/// The global forward as per-head strided GEMMs (matmul.rs), a tile of query rows at a time: the
/// scores tile (`TILE x T`) stays in cache between `Q K^T`, the softmax and `P V`.
pub fn attention_forward_gemm(d: AttnDims, qkv: &[f32], probs: Option<&mut [f32]>, out: &mut [f32]) {
    let (t, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
    let (tt, inner) = (t * t, nh * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    per_batch_opt(d, probs, out, |b, mut p, o| {
        let base = b * t * row;
        let mut tile = vec![0.0f32; TILE.min(t) * t];
        for h in 0..nh {
            let (q, k, v) = (base + h * hd, base + (nh + h) * hd, base + (2 * nh + h) * hd);
            for i0 in (0..t).step_by(TILE) {
                let n = TILE.min(t - i0);
                // S = scale * Q K^T for query rows i0..i0+n
                matmul_strided(n, t, hd, scale, qkv, View::rows(q + i0 * row, row), qkv, View::t(k, row), &mut tile, View::rows(0, t), false);
                for r in tile[..n * t].chunks_exact_mut(t) {
                    let mx = math::max(r);
                    for x in r.iter_mut() {
                        *x = math::exp(*x - mx);
                    }
                    let inv = 1.0 / math::sum(r);
                    r.iter_mut().for_each(|x| *x *= inv);
                }
                if let Some(p) = p.as_deref_mut() {
                    p[h * tt + i0 * t..h * tt + (i0 + n) * t].copy_from_slice(&tile[..n * t]);
                }
                // O = P V for those rows
                matmul_strided(n, hd, t, 1.0, &tile, View::rows(0, t), qkv, View::rows(v, row), o, View::rows(i0 * inner + h * hd, inner), false);
            }
        }
    });
}

mod local;

/// The AVX2 + FMA forward (attention/simd.rs).
#[cfg(target_arch = "x86_64")]
mod simd;

/// Backward: given `d_out [B,T,nh*d]`, the forward's `qkv` and `probs`, OVERWRITES `d_qkv [B,T,3*nh*d]`
/// (gradient w.r.t. the post-RoPE q, k, v). `scratch` holds `[B,nh,T,T]` (dS).
pub fn attention_backward(d: AttnDims, qkv: &[f32], probs: &[f32], d_out: &[f32], scratch: &mut [f32], d_qkv: &mut [f32]) {
    if let Some(w) = d.local {
        return local::backward(d, w, qkv, probs, d_out, d_qkv);
    }
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
                    let keep = |j: usize| d.local.is_none_or(|w| w.allows(i, j));
                    let s: Vec<f64> = (0..t).map(|j| if keep(j) { (0..hd).map(|c| q(c) * qkv[(b * t + j) * row + (nh + h) * hd + c] as f64).sum::<f64>() / (hd as f64).sqrt() } else { f64::NEG_INFINITY }).collect();
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
        let d = AttnDims { batch: 2, total: 5, heads: 2, head_dim: 4, local: None };
        check(d);
        // more than one query tile, rows and keys not multiples of the kernel's 6 x 16 block, and a
        // head_dim of one whole 16-lane block as well as one with a partial block
        check(AttnDims { batch: 1, total: TILE + 7, heads: 2, head_dim: 4, local: None });
        check(AttnDims { batch: 2, total: 13, heads: 3, head_dim: 16, local: None });
        check(AttnDims { batch: 1, total: 9, heads: 1, head_dim: 12, local: None });
        // the presets' head_dim (32: not a multiple of the 6-row block) over two query blocks
        check(AttnDims { batch: 1, total: 23, heads: 2, head_dim: 32, local: None });
        // local windows: radius 1 in a 4x4 grid after one prefix position, radius 2 in a 9x9 grid
        // over two query tiles
        check(AttnDims { batch: 2, total: 17, heads: 2, head_dim: 4, local: Some(Local { prefix: 1, side: 4, radius: 1 }) });
        check(AttnDims { batch: 1, total: 81, heads: 1, head_dim: 8, local: Some(Local { prefix: 0, side: 9, radius: 2 }) });
    }

    #[test]
    fn local_window_reads_the_square_around_a_cell_and_the_prefix_reads_all() {
        let w = Local { prefix: 1, side: 5, radius: 1 };
        let cell = |r: usize, c: usize| 1 + r * 5 + c;
        let read = |i: usize| (0..26).filter(|&j| w.allows(i, j)).collect::<Vec<_>>();
        assert_eq!(read(0).len(), 26, "the prefix reads every position");
        assert_eq!(read(cell(2, 2)), vec![cell(1, 1), cell(1, 2), cell(1, 3), cell(2, 1), cell(2, 2), cell(2, 3), cell(3, 1), cell(3, 2), cell(3, 3)]);
        // a corner reads its 2x2 (no wrap to the row before or the other edge)
        assert_eq!(read(cell(0, 4)), vec![cell(0, 3), cell(0, 4), cell(1, 3), cell(1, 4)]);
        assert_eq!(read(cell(1, 0)), vec![cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1), cell(2, 0), cell(2, 1)]);
        // the loops visit exactly the keys the rule allows (the rule is the shader's too)
        for w in [w, Local { prefix: 0, side: 6, radius: 2 }, Local { prefix: 2, side: 3, radius: 4 }] {
            let total = w.prefix + w.side * w.side;
            for i in 0..total {
                assert_eq!(w.keys(i, total), (0..total).filter(|&j| w.allows(i, j)).collect::<Vec<_>>(), "{w:?} row {i}");
            }
        }
    }

    fn check(d: AttnDims) {
        let n = d.batch * d.total * d.row();
        let qkv: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.731).sin()).collect();
        let inner = d.heads * d.head_dim;
        let w: Vec<f32> = (0..d.batch * d.total * inner).map(|i| ((i as f32) * 0.377).cos()).collect();
        let mut p = vec![0.0; d.batch * d.heads * d.total * d.total];
        let mut o = vec![f32::NAN; d.batch * d.total * inner]; // every value must be written
        attention_forward(d, &qkv, Some(&mut p), &mut o);
        let mut o2 = vec![f32::NAN; o.len()];
        attention_forward(d, &qkv, None, &mut o2);
        assert_eq!(o, o2, "the output does not depend on keeping the probabilities");
        // the portable path (wasm32, other CPUs) against the one this machine runs
        if d.local.is_none() {
            let (mut p3, mut o3) = (vec![0.0; p.len()], vec![f32::NAN; o.len()]);
            attention_forward_gemm(d, &qkv, Some(&mut p3), &mut o3);
            let mut o4 = vec![f32::NAN; o.len()];
            attention_forward_gemm(d, &qkv, None, &mut o4);
            assert_eq!(o3, o4);
            for (a, b) in o.iter().zip(&o3).chain(p.iter().zip(&p3)) {
                assert!((a - b).abs() < 1e-5, "{d:?}: {a} vs {b} (kernel vs gemm path)");
            }
        }
        let reference = naive(d, &qkv);
        assert_eq!(o.len(), reference.len());
        for (a, b) in o.iter().zip(reference) {
            assert!((*a as f64 - b).abs() < 1e-5, "{d:?}: {a} vs {b}");
        }
        // each probs row is a distribution, 0 outside a local window
        for (ri, r) in p.chunks_exact(d.total).enumerate() {
            assert!((r.iter().map(|&x| x as f64).sum::<f64>() - 1.0).abs() < 1e-5);
            if let Some(w) = d.local {
                let i = ri % d.total;
                assert!(r.iter().enumerate().all(|(j, &x)| w.allows(i, j) || x == 0.0));
            }
        }
        let mut scratch = vec![0.0; p.len()];
        let mut dqkv = vec![f32::NAN; n]; // overwritten, every value
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
