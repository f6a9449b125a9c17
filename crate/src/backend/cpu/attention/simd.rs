//! The AVX2 + FMA forward. One batch row per task; per head, the products are computed transposed,
//! `S^T = K Q^T` and `O^T = V^T P^T`, with a block of LANES query rows across the vector lanes:
//! the softmax over keys then runs down the columns of `S^T` (vertical max, exp and sum, one value
//! per lane), and `P^T` is already the layout the second product reads, so no score is moved
//! between the two products. K and V are packed per head into the interleaved ROWS-row blocks of
//! the packed GEMM's broadcast operand (zero-padded), Q^T per query block; every inner step is
//! register multiply-adds.

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
    /// K as `[tk/ROWS][d][ROWS]`: block `jb`, dimension `c`, key `jb*ROWS + r`
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
            k: vec![0.0; tk * hd],
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

/// K of head offset `ko` into `k` (`[tk/ROWS][d][ROWS]`): each block of ROWS keys is the packed
/// GEMM's interleaved left-hand side (padding keys past T are zero).
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_k(d: AttnDims, x: &[f32], ko: usize, k: &mut [f32]) {
    let (t, hd, row) = (d.total, d.head_dim, d.row());
    let (tk, _) = padded(d);
    assert!(k.len() >= tk * hd && x.len() >= t * row);
    for jb in 0..tk / ROWS {
        // SAFETY: the block's keys jb*ROWS.. (fewer than ROWS in the last) are rows of x, each
        // with hd floats from ko
        packed::interleave_rows(ROWS.min(t - jb * ROWS), hd, x.as_ptr().add(jb * ROWS * row + ko), row, &mut k[jb * hd * ROWS..(jb + 1) * hd * ROWS]);
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
                for (i, col) in packed::transpose8(rows).into_iter().enumerate() {
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
                for (r, col) in packed::transpose8(rows).into_iter().enumerate().take(n - l8) {
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
