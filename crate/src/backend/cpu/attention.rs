//! Non-causal, unmasked multi-head attention core (HRM_SPEC §3): per batch row and head,
//! `o = softmax(q k^T / sqrt(d)) v` over all T keys.
//!
//! Shapes: `qkv [B,T,3*nh*d]` (q heads, then k heads, then v heads, d contiguous values each; RoPE is
//! already applied), `out [B,T,nh*d]` (head-major), `probs [B,nh,T,T]` (the softmax, kept for backward).
//! The forward is a dedicated AVX2/FMA kernel where the CPU has those (`simd` below) and per-head
//! strided GEMMs (matmul.rs) elsewhere; the backward's per-head products are strided GEMMs.
//! Natively, batch rows run on rayon threads.

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

/// The forward as per-head strided GEMMs (matmul.rs), a tile of query rows at a time: the scores
/// tile (`TILE x T`) stays in cache between `Q K^T`, the softmax and `P V`.
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

/// The AVX2 + FMA forward. One batch row per task; per head, the products are computed transposed,
/// `S^T = K Q^T` and `O^T = V^T P^T`, with a block of LANES query rows across the vector lanes:
/// the softmax over keys then runs down the columns of `S^T` (vertical max, exp and sum, one value
/// per lane), and `P^T` is already the layout the second product reads, so no score is moved
/// between the two products. K and V are packed per head into the interleaved ROWS-row blocks of
/// the packed GEMM's broadcast operand (zero-padded), Q^T per query block; every inner step is
/// register multiply-adds.
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{math, per_batch_opt, AttnDims};
    use crate::backend::cpu::packed::{self, LANES, ROWS};
    use std::arch::x86_64::*;

    // The register block is the packed GEMM's: ROWS keys (or head dimensions) x LANES query rows,
    // as two 8-float vectors per row: 12 accumulators, 2 loads and a broadcast fill the 16 registers.

    pub fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    /// Padded sizes: keys to whole ROWS blocks (`tk`), head dimensions likewise (`dk`).
    fn padded(d: AttnDims) -> (usize, usize) {
        (d.total.div_ceil(ROWS) * ROWS, d.head_dim.div_ceil(ROWS) * ROWS)
    }

    /// Per-task buffers (allocated once per batch row, reused over its heads).
    struct Scratch {
        /// K as `[tk/ROWS][d][ROWS]`: block `jb`, dimension `c`, key `jb*ROWS + r` (+ the 2 floats
        /// that the last 8-wide store of [`pack_k`] spills)
        k: Vec<f32>,
        /// V as `[dk/ROWS][tk][ROWS]`: block `cb`, key `j`, dimension `cb*ROWS + r`
        v: Vec<f32>,
        /// the query block's `scale * Q^T` as `[d][LANES]`
        qt: Vec<f32>,
        /// the query block's scores, then unnormalised probabilities, as `[tk][LANES]`
        st: Vec<f32>,
        /// the query block's `O^T` as `[d][LANES]`
        ot: Vec<f32>,
    }

    /// Callers check [`available`] first.
    pub fn attention_forward(d: AttnDims, qkv: &[f32], probs: Option<&mut [f32]>, out: &mut [f32]) {
        let (t, nh, hd, row) = (d.total, d.heads, d.head_dim, d.row());
        let tt = t * t;
        let (tk, dk) = padded(d);
        per_batch_opt(d, probs, out, |b, mut p, o| {
            let x = &qkv[b * t * row..(b + 1) * t * row];
            let mut sc = Scratch {
                k: vec![0.0; tk * hd + 2],
                v: vec![0.0; dk * tk],
                qt: vec![0.0; hd * LANES],
                st: vec![0.0; tk * LANES],
                ot: vec![0.0; hd * LANES],
            };
            for h in 0..nh {
                // SAFETY: the caller checked that AVX2 and FMA are available.
                unsafe { head_forward(d, h, x, &mut sc, p.as_deref_mut().map(|p| &mut p[h * tt..(h + 1) * tt]), o) }
            }
        });
    }

    /// One head of one batch row: `x` is that row's `qkv [T, 3*nh*d]`, `p` the head's `probs [T, T]`
    /// (None: not kept), `o` the row's `out [T, nh*d]`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn head_forward(d: AttnDims, h: usize, x: &[f32], sc: &mut Scratch, mut p: Option<&mut [f32]>, o: &mut [f32]) {
        let (t, nh, hd) = (d.total, d.heads, d.head_dim);
        let (tk, dk) = padded(d);
        let scale = 1.0 / (hd as f32).sqrt();
        let (qo, ko, vo) = (h * hd, (nh + h) * hd, (2 * nh + h) * hd);
        pack_k(d, x, ko, &mut sc.k);
        pack_v(d, x, vo, &mut sc.v);
        let Scratch { k, v, qt, st, ot } = sc;
        for q0 in (0..t).step_by(LANES) {
            let n = LANES.min(t - q0);
            pack_q(d, x, qo, q0, scale, qt);
            // S^T = K (scale Q)^T, ROWS keys at a time, and each query's max over the T real keys
            let (mut mx_lo, mut mx_hi) = (_mm256_set1_ps(f32::NEG_INFINITY), _mm256_set1_ps(f32::NEG_INFINITY));
            for j0 in (0..tk).step_by(ROWS) {
                let (lo, hi) = block_product(hd, qt, LANES, &k[j0 * hd..]);
                for r in 0..ROWS.min(t - j0) {
                    // SAFETY: `st` holds tk rows of LANES floats and j0 + r < t <= tk
                    let at = st.as_mut_ptr().add((j0 + r) * LANES);
                    _mm256_storeu_ps(at, lo[r]);
                    _mm256_storeu_ps(at.add(8), hi[r]);
                    mx_lo = _mm256_max_ps(mx_lo, lo[r]);
                    mx_hi = _mm256_max_ps(mx_hi, hi[r]);
                }
            }
            // the softmax down each column, left unnormalised: `O` is scaled by 1/sum instead
            let (mut mx, mut sum) = ([0.0f32; LANES], [0.0f32; LANES]);
            _mm256_storeu_ps(mx.as_mut_ptr(), mx_lo);
            _mm256_storeu_ps(mx.as_mut_ptr().add(8), mx_hi);
            for s in st[..t * LANES].chunks_exact_mut(LANES) {
                for l in 0..LANES {
                    s[l] = math::exp_fma(s[l] - mx[l]);
                    sum[l] += s[l];
                }
            }
            let inv = sum.map(|s| 1.0 / s);
            if let Some(p) = p.as_deref_mut() {
                for l in 0..n {
                    for (j, pv) in p[(q0 + l) * t..(q0 + l + 1) * t].iter_mut().enumerate() {
                        *pv = st[j * LANES + l] * inv[l];
                    }
                }
            }
            // O^T = V^T P^T, ROWS head dimensions at a time, over the T real keys
            let (inv_lo, inv_hi) = (_mm256_loadu_ps(inv.as_ptr()), _mm256_loadu_ps(inv.as_ptr().add(8)));
            for c0 in (0..dk).step_by(ROWS) {
                let (lo, hi) = block_product(t, st, LANES, &v[c0 * tk..]);
                for r in 0..ROWS.min(hd - c0) {
                    let at = &mut ot[(c0 + r) * LANES..(c0 + r + 1) * LANES];
                    _mm256_storeu_ps(at.as_mut_ptr(), _mm256_mul_ps(lo[r], inv_lo));
                    _mm256_storeu_ps(at.as_mut_ptr().add(8), _mm256_mul_ps(hi[r], inv_hi));
                }
            }
            write_out(d, h, q0, ot, o);
        }
    }

    // The packings. Each moves a block between row-major `qkv`/`out` rows and the kernel's
    // layouts; with a head_dim that is a multiple of 8 (the presets' 32) through 8x8 register
    // transposes, else one float at a time. Padding (keys past T, dimensions past d, query rows
    // past T) is zero.

    /// K of head offset `ko` into `k` (`[tk/ROWS][d][ROWS]`).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pack_k(d: AttnDims, x: &[f32], ko: usize, k: &mut [f32]) {
        let (t, hd, row) = (d.total, d.head_dim, d.row());
        let (tk, _) = padded(d);
        assert!(k.len() >= tk * hd + 2 && x.len() >= t * row);
        for jb in 0..tk / ROWS {
            if hd % 8 == 0 {
                for c8 in (0..hd).step_by(8) {
                    // rows 6 and 7 of the transpose are zero; each column's 8-wide store spills
                    // those 2 zeros into the next column's start, which the next store overwrites
                    let rows = std::array::from_fn(|r| {
                        let j = jb * ROWS + r;
                        // SAFETY: j < t, so the 8 floats at c8 < hd lie in x's row j
                        if r < ROWS && j < t { _mm256_loadu_ps(x.as_ptr().add(j * row + ko + c8)) } else { _mm256_setzero_ps() }
                    });
                    for (i, col) in transpose8(rows).into_iter().enumerate() {
                        // SAFETY: the last block's last store ends at tk*hd + 2 <= k.len()
                        _mm256_storeu_ps(k.as_mut_ptr().add((jb * hd + c8 + i) * ROWS), col);
                    }
                }
            } else {
                for r in 0..ROWS.min(t.saturating_sub(jb * ROWS)) {
                    for c in 0..hd {
                        k[(jb * hd + c) * ROWS + r] = x[(jb * ROWS + r) * row + ko + c];
                    }
                }
            }
        }
    }

    /// V of head offset `vo` into `v` (`[dk/ROWS][tk][ROWS]`): each key's ROWS dimensions of a
    /// block are contiguous in `qkv` already.
    fn pack_v(d: AttnDims, x: &[f32], vo: usize, v: &mut [f32]) {
        let (t, hd, row) = (d.total, d.head_dim, d.row());
        let (tk, dk) = padded(d);
        for j in 0..t {
            for c0 in (0..dk).step_by(ROWS) {
                let w = ROWS.min(hd - c0);
                let at = ((c0 / ROWS) * tk + j) * ROWS;
                v[at..at + w].copy_from_slice(&x[j * row + vo + c0..j * row + vo + c0 + w]);
            }
        }
    }

    /// `scale * Q^T` of the query rows q0..q0+LANES (head offset `qo`) into `qt` (`[d][LANES]`).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pack_q(d: AttnDims, x: &[f32], qo: usize, q0: usize, scale: f32, qt: &mut [f32]) {
        let (t, hd, row) = (d.total, d.head_dim, d.row());
        let n = LANES.min(t - q0);
        assert!(qt.len() >= hd * LANES && x.len() >= t * row);
        if hd % 8 == 0 {
            let k = _mm256_set1_ps(scale);
            for l8 in (0..LANES).step_by(8) {
                for c8 in (0..hd).step_by(8) {
                    let rows = std::array::from_fn(|r| {
                        // SAFETY: query row q0 + l8 + r < t, 8 floats from dimension c8 < hd
                        if l8 + r < n { _mm256_mul_ps(k, _mm256_loadu_ps(x.as_ptr().add((q0 + l8 + r) * row + qo + c8))) } else { _mm256_setzero_ps() }
                    });
                    for (i, col) in transpose8(rows).into_iter().enumerate() {
                        // SAFETY: (c8 + i) * LANES + l8 + 8 <= hd * LANES
                        _mm256_storeu_ps(qt.as_mut_ptr().add((c8 + i) * LANES + l8), col);
                    }
                }
            }
        } else {
            for l in 0..LANES {
                for c in 0..hd {
                    qt[c * LANES + l] = if l < n { x[(q0 + l) * row + qo + c] * scale } else { 0.0 };
                }
            }
        }
    }

    /// The query block's `O^T` (`ot`, `[d][LANES]`) into rows q0.. of `o` (`[T, nh*d]`, head h).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn write_out(d: AttnDims, h: usize, q0: usize, ot: &[f32], o: &mut [f32]) {
        let (t, hd, inner) = (d.total, d.head_dim, d.heads * d.head_dim);
        let n = LANES.min(t - q0);
        assert!(ot.len() >= hd * LANES && o.len() >= t * inner);
        if hd % 8 == 0 {
            for l8 in (0..n).step_by(8) {
                for c8 in (0..hd).step_by(8) {
                    // SAFETY: (c8 + i) * LANES + l8 + 8 <= hd * LANES
                    let rows = std::array::from_fn(|i| _mm256_loadu_ps(ot.as_ptr().add((c8 + i) * LANES + l8)));
                    for (r, col) in transpose8(rows).into_iter().enumerate().take(n - l8) {
                        // SAFETY: query row q0 + l8 + r < t, 8 floats from dimension c8 < hd
                        _mm256_storeu_ps(o.as_mut_ptr().add((q0 + l8 + r) * inner + h * hd + c8), col);
                    }
                }
            }
        } else {
            for l in 0..n {
                for c in 0..hd {
                    o[(q0 + l) * inner + h * hd + c] = ot[c * LANES + l];
                }
            }
        }
    }

    /// The 8x8 transpose of eight rows: the i-th vector returned holds element i of every row.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        // pairs of rows interleaved, then pairs of pairs, then the 128-bit halves exchanged
        let t: [__m256; 8] = std::array::from_fn(|i| {
            let (a, b) = (r[2 * (i / 2)], r[2 * (i / 2) + 1]);
            if i % 2 == 0 { _mm256_unpacklo_ps(a, b) } else { _mm256_unpackhi_ps(a, b) }
        });
        let s: [__m256; 8] = std::array::from_fn(|i| {
            // i = 4 * half + 2 * hi_pair + upper: from t[4*half + hi_pair] and t[4*half + hi_pair + 2]
            let (a, b) = (t[4 * (i / 4) + (i / 2) % 2], t[4 * (i / 4) + (i / 2) % 2 + 2]);
            if i % 2 == 0 { _mm256_shuffle_ps::<0x44>(a, b) } else { _mm256_shuffle_ps::<0xEE>(a, b) }
        });
        // s[0..4] hold columns 0,1,2,3 (low half) and 4,5,6,7 (high half) of rows 0-3, s[4..8] of rows 4-7
        std::array::from_fn(|c| {
            let (a, b) = (s[c % 4], s[4 + c % 4]);
            if c < 4 { _mm256_permute2f128_ps::<0x20>(a, b) } else { _mm256_permute2f128_ps::<0x31>(a, b) }
        })
    }

    /// The inner block of both products: `(lo[r], hi[r]) = sum over k < len of a[k*ROWS + r] *
    /// b[k*b_ks .. k*b_ks + LANES]` for the ROWS rows, in registers (the packed GEMM's register
    /// block, `packed::block_sums`), after checking the bounds it relies on.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_product(len: usize, b: &[f32], b_ks: usize, a: &[f32]) -> ([__m256; ROWS], [__m256; ROWS]) {
        assert!(len == 0 || ((len - 1) * b_ks + LANES <= b.len() && len * ROWS <= a.len()));
        // SAFETY: the assert bounds every load (b: LANES values from k*b_ks; a: ROWS values from k*ROWS).
        packed::block_sums::<ROWS>(len, a.as_ptr(), b.as_ptr(), b_ks)
    }
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
        // more than one query tile, rows and keys not multiples of the kernel's 6 x 16 block, and a
        // head_dim of one whole 16-lane block as well as one with a partial block
        check(AttnDims { batch: 1, total: TILE + 7, heads: 2, head_dim: 4 });
        check(AttnDims { batch: 2, total: 13, heads: 3, head_dim: 16 });
        check(AttnDims { batch: 1, total: 9, heads: 1, head_dim: 12 });
        // the presets' head_dim (32: not a multiple of the 6-row block) over two query blocks
        check(AttnDims { batch: 1, total: 23, heads: 2, head_dim: 32 });
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
        let (mut p3, mut o3) = (vec![0.0; p.len()], vec![f32::NAN; o.len()]);
        attention_forward_gemm(d, &qkv, Some(&mut p3), &mut o3);
        let mut o4 = vec![f32::NAN; o.len()];
        attention_forward_gemm(d, &qkv, None, &mut o4);
        assert_eq!(o3, o4);
        for (a, b) in o.iter().zip(&o3).chain(p.iter().zip(&p3)) {
            assert!((a - b).abs() < 1e-5, "{d:?}: {a} vs {b} (kernel vs gemm path)");
        }
        let reference = naive(d, &qkv);
        assert_eq!(o.len(), reference.len());
        for (a, b) in o.iter().zip(reference) {
            assert!((*a as f64 - b).abs() < 1e-5, "{d:?}: {a} vs {b}");
        }
        // each probs row is a distribution
        for r in p.chunks_exact(d.total) {
            assert!((r.iter().map(|&x| x as f64).sum::<f64>() - 1.0).abs() < 1e-5);
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
