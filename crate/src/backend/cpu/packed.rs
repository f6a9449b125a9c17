//! An AVX2/FMA GEMM for products whose right-hand side is a weight matrix: the forward
//! `y[M,N] (+)= x[M,K] @ W[N,K]^T` and the input gradient `dx[M,K] (+)= dy[M,N] @ W[N,K]`.
//!
//! Why not the `gemm` crate here: in isolation it is as fast (`hrm bench --gemm` lists both), but it
//! packs the weights at every call, and the MLP (`mlp.rs`) runs in row bands small enough to stay in
//! L2, one call per band. Here the weights are packed once per call (or once per MLP pass, for all
//! its bands) into column panels; the
//! left-hand side is copied a band of rows at a time into blocks of ROWS interleaved rows. Per step
//! of the inner dimension the kernel makes two 8-float loads of a panel and one broadcast per row,
//! feeding 12 register accumulators (ROWS x LANES), which keeps both FMA units busy. The loop order
//! is BLIS's: a panel slice stays in L1 while the band's blocks stream past it from L2.
//!
//! x86-64 only (callers check [`available`]); wasm32 and other CPUs use `gemm` (matmul.rs).

use super::math::with_thread_buffer;
use std::arch::x86_64::*;

/// Rows of the left-hand side per register block, and the stride of its interleaved copy.
pub const ROWS: usize = 6;
/// Columns per panel (two 8-float vectors).
pub const LANES: usize = 16;

pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Length of a right-hand side of `cols` output columns and `inner` steps once packed.
pub fn packed_len(cols: usize, inner: usize) -> usize {
    cols.div_ceil(LANES) * LANES * inner
}

/// Packs `W[N,K]` as the right-hand side of `x @ W^T` (output columns N, inner K): panel `p` holds,
/// for each step `k`, `W[p*LANES + l, k]` for `l < LANES` (zero past N).
pub fn pack_t(n: usize, k: usize, w: &[f32], out: &mut [f32]) {
    assert!(w.len() >= n * k && out.len() >= packed_len(n, k));
    for (p, panel) in out[..packed_len(n, k)].chunks_exact_mut(LANES * k).enumerate() {
        for l in 0..LANES {
            let j = p * LANES + l;
            if j < n {
                for (s, &v) in w[j * k..(j + 1) * k].iter().enumerate() {
                    panel[s * LANES + l] = v;
                }
            } else {
                (0..k).for_each(|s| panel[s * LANES + l] = 0.0);
            }
        }
    }
}

/// Packs `W[N,K]` as the right-hand side of `dy @ W` (output columns K, inner N): panel `p` holds,
/// for each step `n`, `W[n, p*LANES .. p*LANES + LANES]` (zero past K).
pub fn pack_n(n: usize, k: usize, w: &[f32], out: &mut [f32]) {
    assert!(w.len() >= n * k && out.len() >= packed_len(k, n));
    for (p, panel) in out[..packed_len(k, n)].chunks_exact_mut(LANES * n).enumerate() {
        let (c0, width) = (p * LANES, LANES.min(k - p * LANES));
        for s in 0..n {
            let dst = &mut panel[s * LANES..(s + 1) * LANES];
            dst[..width].copy_from_slice(&w[s * k + c0..s * k + c0 + width]);
            dst[width..].fill(0.0);
        }
    }
}

/// `c[m, cols] (+)= a[m, inner] @ B`, where `B` was packed by [`pack_t`] or [`pack_n`] and `a` is
/// row-major with row stride `lda`; `c` has row stride `ldc`. On the calling thread.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, cols: usize, inner: usize, a: &[f32], lda: usize, packed: &[f32], c: &mut [f32], ldc: usize, accumulate: bool) {
    if m == 0 || cols == 0 {
        return;
    }
    assert!(available(), "packed::gemm needs AVX2 and FMA");
    assert!(lda >= inner && ldc >= cols, "packed::gemm: row strides below the row lengths");
    assert!(a.len() >= (m - 1) * lda + inner && c.len() >= (m - 1) * ldc + cols && packed.len() >= packed_len(cols, inner), "packed::gemm: buffer too small for {m}x{inner} @ {inner}x{cols}");
    // SAFETY: AVX2 and FMA were checked; the asserts bound every access `run` makes.
    unsafe { run(m, cols, inner, a.as_ptr(), lda, packed.as_ptr(), c.as_mut_ptr(), ldc, accumulate) }
}

/// Rows of `a` per band: its interleaved blocks (`BAND x KC` floats, 96 KB at most) stay in L2
/// while each panel slice (`KC x LANES`, 16 KB at most) stays in L1 and meets every block of the band.
const BAND: usize = 16 * ROWS;
/// Steps of the inner dimension per pass (longer inner dimensions accumulate over passes).
const KC: usize = 256;

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn run(m: usize, cols: usize, inner: usize, a: *const f32, lda: usize, b: *const f32, c: *mut f32, ldc: usize, accumulate: bool) {
    // the band's rows interleaved per block (`[block][step][ROWS]`), so each broadcast of the kernel
    // is the next float of one stream; a per-thread buffer, since the MLP calls this once per band
    with_thread_buffer(&BAND_ROWS, BAND * KC.min(inner), |band| run_with(m, cols, inner, a, lda, b, c, ldc, accumulate, band))
}

thread_local! {
    /// The interleaved band of [`run`] on this thread.
    static BAND_ROWS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_with(m: usize, cols: usize, inner: usize, a: *const f32, lda: usize, b: *const f32, c: *mut f32, ldc: usize, accumulate: bool, band: &mut [f32]) {
    let panels = cols.div_ceil(LANES);
    for i0 in (0..m).step_by(BAND) {
        let rows_in_band = BAND.min(m - i0);
        for k0 in (0..inner.max(1)).step_by(KC) {
            let kc = KC.min(inner - k0);
            for (blk, r0) in (0..rows_in_band).step_by(ROWS).enumerate() {
                let dst = &mut band[blk * ROWS * kc..(blk + 1) * ROWS * kc];
                interleave_rows(ROWS.min(rows_in_band - r0), kc, a.add((i0 + r0) * lda + k0), lda, dst);
            }
            let acc = accumulate || k0 > 0;
            for p in 0..panels {
                let width = LANES.min(cols - p * LANES);
                let bp = b.add((p * inner + k0) * LANES);
                for (blk, r0) in (0..rows_in_band).step_by(ROWS).enumerate() {
                    let (ap, cp) = (band.as_ptr().add(blk * ROWS * kc), c.add((i0 + r0) * ldc + p * LANES));
                    match ROWS.min(rows_in_band - r0) {
                        6 => block::<6>(kc, ap, bp, cp, ldc, width, acc),
                        5 => block::<5>(kc, ap, bp, cp, ldc, width, acc),
                        4 => block::<4>(kc, ap, bp, cp, ldc, width, acc),
                        3 => block::<3>(kc, ap, bp, cp, ldc, width, acc),
                        2 => block::<2>(kc, ap, bp, cp, ldc, width, acc),
                        _ => block::<1>(kc, ap, bp, cp, ldc, width, acc),
                    }
                }
            }
        }
    }
}

/// Copies `rows <= ROWS` rows of `len` floats (row `r` at `src + r * lda`) into `dst` interleaved:
/// step `s` of row `r` at `dst[s * ROWS + r]`, rows past `rows` zero. Eight steps at a time go
/// through an 8x8 register transpose; each of its 8-wide stores spills 2 floats into the next step, which that step's store
/// overwrites, and the last one goes through a 6-float copy so nothing past `len * ROWS` is written.
/// The caller guarantees `rows` readable rows of `len` floats.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn interleave_rows(rows: usize, len: usize, src: *const f32, lda: usize, dst: &mut [f32]) {
    assert!(rows <= ROWS && dst.len() >= len * ROWS);
    let full = len / 8 * 8;
    for s8 in (0..full).step_by(8) {
        // SAFETY: row r < rows holds len floats from src + r*lda, and s8 + 8 <= len
        let v: [__m256; 8] = std::array::from_fn(|r| if r < rows { _mm256_loadu_ps(src.add(r * lda + s8)) } else { _mm256_setzero_ps() });
        let cols = transpose8(v);
        for (i, col) in cols.iter().enumerate() {
            let at = (s8 + i) * ROWS;
            if at + 8 <= dst.len() {
                // SAFETY: at + 8 <= dst.len()
                _mm256_storeu_ps(dst.as_mut_ptr().add(at), *col);
            } else {
                let mut t = [0.0f32; 8];
                _mm256_storeu_ps(t.as_mut_ptr(), *col);
                dst[at..at + ROWS].copy_from_slice(&t[..ROWS]);
            }
        }
    }
    for s in full..len {
        for r in 0..ROWS {
            dst[s * ROWS + r] = if r < rows { *src.add(r * lda + s) } else { 0.0 };
        }
    }
}

/// The 8x8 transpose of eight rows: the i-th vector returned holds element i of every row.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
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

/// One register block: `c[R, width] (+)= a[R, inner] @ panel[inner, LANES]` (the first `width`
/// columns are written); `a` is interleaved, row `r` of step `s` at `a[s * ROWS + r]`.
#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn block<const R: usize>(inner: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, width: usize, accumulate: bool) {
    let (lo, hi) = block_sums::<R>(inner, a, b, LANES);
    for r in 0..R {
        let cr = c.add(r * ldc);
        if width == LANES {
            let (mut x0, mut x1) = (lo[r], hi[r]);
            if accumulate {
                x0 = _mm256_add_ps(_mm256_loadu_ps(cr), x0);
                x1 = _mm256_add_ps(_mm256_loadu_ps(cr.add(8)), x1);
            }
            _mm256_storeu_ps(cr, x0);
            _mm256_storeu_ps(cr.add(8), x1);
        } else {
            let mut t = [0.0f32; LANES];
            _mm256_storeu_ps(t.as_mut_ptr(), lo[r]);
            _mm256_storeu_ps(t.as_mut_ptr().add(8), hi[r]);
            for (l, &v) in t[..width].iter().enumerate() {
                *cr.add(l) = if accumulate { *cr.add(l) + v } else { v };
            }
        }
    }
}

/// `(lo[r], hi[r]) = sum over s < len of a[s*ROWS + r] * b[s*b_ks .. s*b_ks + LANES]` for r < R,
/// left in registers for the caller to store: the register block of this GEMM and of the attention
/// kernel (attention/simd.rs). `a` is interleaved so that each step's broadcasts are the next floats of
/// one stream; both streams advance by bumped pointers, so every load is one addressing mode and the
/// loop is the two panel loads, R broadcasts and 2R FMAs and little else. The caller guarantees
/// that `a` holds `len * ROWS` floats and `b` the `len` rows of LANES floats `b_ks` apart.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn block_sums<const R: usize>(len: usize, a: *const f32, b: *const f32, b_ks: usize) -> ([__m256; R], [__m256; R]) {
    let mut lo = [_mm256_setzero_ps(); R];
    let mut hi = [_mm256_setzero_ps(); R];
    let (mut ap, mut bp) = (a, b);
    for _ in 0..len {
        let b0 = _mm256_loadu_ps(bp);
        let b1 = _mm256_loadu_ps(bp.add(8));
        for r in 0..R {
            let av = _mm256_broadcast_ss(&*ap.add(r));
            lo[r] = _mm256_fmadd_ps(av, b0, lo[r]);
            hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
        }
        // wrapping: after the last step the pointers may point past their buffers, never read there
        ap = ap.wrapping_add(ROWS);
        bp = bp.wrapping_add(b_ks);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed)) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    /// The interleaved copy against a plain loop, for every row count and lengths with and without
    /// a tail of fewer than 8 steps; nothing outside `len * ROWS` floats is written.
    #[test]
    fn interleave_rows_matches_a_plain_loop() {
        if !available() {
            return;
        }
        for rows in 1..=ROWS {
            for len in [1, 7, 8, 9, 16, 23, 32] {
                let lda = len + 5;
                let src = data(rows * lda, 5);
                let mut dst = vec![f32::NAN; len * ROWS + 3];
                // SAFETY: AVX2/FMA checked; `rows` rows of len floats at stride lda
                unsafe { interleave_rows(rows, len, src.as_ptr(), lda, &mut dst[..len * ROWS]) };
                for s in 0..len {
                    for r in 0..ROWS {
                        let want = if r < rows { src[r * lda + s] } else { 0.0 };
                        assert_eq!(dst[s * ROWS + r], want, "rows {rows} len {len}: step {s} row {r}");
                    }
                }
                assert!(dst[len * ROWS..].iter().all(|v| v.is_nan()), "rows {rows} len {len}: wrote past the end");
            }
        }
    }

    /// Both packings against plain loops, with row counts and widths that leave partial register
    /// blocks and panels, strided rows, and accumulation.
    #[test]
    fn packed_products_match_naive_loops() {
        if !available() {
            eprintln!("no AVX2/FMA on this CPU: the packed kernel is not used here");
            return;
        }
        // the last shape has more rows than a band and a longer inner dimension than one pass (KC)
        for (m, n, k) in [(1, 1, 1), (7, 19, 23), (13, 32, 5), (37, 48, 130), (6, 16, 16), (BAND + 7, 20, 2 * KC + 3)] {
            let lda = k + 3;
            let x = data(m * lda, 1);
            let w = data(n * k, 2);
            let mut pt = vec![f32::NAN; packed_len(n, k)];
            pack_t(n, k, &w, &mut pt);
            let ldc = n + 2;
            let mut y = data(m * ldc, 3);
            let y0 = y.clone();
            gemm(m, n, k, &x, lda, &pt, &mut y, ldc, true);
            for i in 0..m {
                for j in 0..n {
                    // f64 reference: a sum of 500 f32 products is only good to ~1e-6 relative
                    let r = y0[i * ldc + j] as f64 + (0..k).map(|p| x[i * lda + p] as f64 * w[j * k + p] as f64).sum::<f64>();
                    assert!((y[i * ldc + j] as f64 - r).abs() < 1e-5 * (1.0 + r.abs()), "nt {m}x{n}x{k} at ({i},{j}): {} vs {r}", y[i * ldc + j]);
                }
                assert_eq!(y[i * ldc + n..(i + 1) * ldc], y0[i * ldc + n..(i + 1) * ldc], "nt wrote past the columns");
            }
            // dx = dy @ W with dy [m, n]
            let dy = data(m * n, 4);
            let mut pn = vec![f32::NAN; packed_len(k, n)];
            pack_n(n, k, &w, &mut pn);
            let mut dx = vec![f32::NAN; m * k];
            gemm(m, k, n, &dy, n, &pn, &mut dx, k, false);
            for i in 0..m {
                for p in 0..k {
                    let r: f64 = (0..n).map(|j| dy[i * n + j] as f64 * w[j * k + p] as f64).sum();
                    assert!((dx[i * k + p] as f64 - r).abs() < 1e-5 * (1.0 + r.abs()), "nn {m}x{n}x{k} at ({i},{p})");
                }
            }
        }
    }
}
