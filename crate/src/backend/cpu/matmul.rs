//! Every GEMM of the crate goes through this file, so the GEMM crate can be swapped in one place.
//!
//! All matrices are dense row-major f32. Names follow `x @ W^T` = `F.linear(x, W)` with `W: [out, in]`:
//! - [`matmul_nt`]: `y[M,N] (+)= x[M,K] @ W[N,K]^T`  (forward of a linear layer)
//! - [`matmul_nn`]: `dx[M,K] (+)= dy[M,N] @ W[N,K]`   (input gradient)
//! - [`matmul_tn`]: `dW[N,K] (+)= dy[M,N]^T @ x[M,K]` (weight gradient, accumulated over rows)
//!
//! - [`matmul_strided`]: a single-threaded product on strided views (attention's per-head products).
//!
//! `accumulate = true` adds into the destination, `false` overwrites it.
//! Backed by the `gemm` crate (pure Rust, SIMD, compiles for wasm32; rayon threads natively), except
//! `matmul_nt` and `matmul_nn` on x86-64 with AVX2/FMA, which run the packed-weight kernel of
//! packed.rs (as fast in isolation; its packed weights can be shared by the MLP's row bands).

#[cfg(target_arch = "x86_64")]
use super::packed;

/// How many threads the GEMM may use (natively); wasm32 is single-threaded.
fn parallelism(work: usize) -> gemm::Parallelism {
    #[cfg(not(target_arch = "wasm32"))]
    {
        // Small products are faster on one thread than paying rayon's fork/join.
        if work >= 1 << 18 {
            return gemm::Parallelism::Rayon(0);
        }
    }
    let _ = work;
    gemm::Parallelism::None
}

/// `c[m,n] (+)= op(a) @ op(b)`, with `a` stored as `[m,k]` (or `[k,m]` when `a_t`) and `b` stored as
/// `[k,n]` (or `[n,k]` when `b_t`).
#[allow(clippy::too_many_arguments)]
fn gemm_rm(m: usize, n: usize, k: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, c: &mut [f32], accumulate: bool) {
    gemm_rm_on(m, n, k, a, a_t, b, b_t, c, accumulate, parallelism(m * n * k))
}

#[allow(clippy::too_many_arguments)]
fn gemm_rm_on(m: usize, n: usize, k: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, c: &mut [f32], accumulate: bool, par: gemm::Parallelism) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n, "matmul: buffer too small for {m}x{k} @ {k}x{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // (row stride, column stride) of each operand as seen in the product.
    let (a_rs, a_cs) = if a_t { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if b_t { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the asserts above bound every index the strides can reach; `c` does not alias `a`/`b`
    // (it is a distinct &mut).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// `y[M,N] (+)= x[M,K] @ W[N,K]^T`.
pub fn matmul_nt(m: usize, n: usize, k: usize, x: &[f32], w: &[f32], y: &mut [f32], accumulate: bool) {
    #[cfg(target_arch = "x86_64")]
    if packed::available() {
        return packed_product(m, n, k, x, y, accumulate, |out| packed::pack_t(n, k, w, out));
    }
    gemm_rm(m, n, k, x, false, w, true, y, accumulate)
}

/// [`matmul_nt`] through `gemm` on the calling thread only (for callers that run row bands on
/// threads themselves and use packed.rs directly where it is available).
pub fn matmul_nt_serial(m: usize, n: usize, k: usize, x: &[f32], w: &[f32], y: &mut [f32], accumulate: bool) {
    gemm_rm_on(m, n, k, x, false, w, true, y, accumulate, gemm::Parallelism::None)
}

/// `dx[M,K] (+)= dy[M,N] @ W[N,K]`.
pub fn matmul_nn(m: usize, n: usize, k: usize, dy: &[f32], w: &[f32], dx: &mut [f32], accumulate: bool) {
    #[cfg(target_arch = "x86_64")]
    if packed::available() {
        return packed_product(m, k, n, dy, dx, accumulate, |out| packed::pack_n(n, k, w, out));
    }
    gemm_rm(m, k, n, dy, false, w, false, dx, accumulate)
}

/// `c[m, cols] (+)= a[m, inner] @ B` through the packed kernel, `pack` writing `B` into a reused
/// per-thread buffer; over row bands on rayon threads when large enough.
#[cfg(target_arch = "x86_64")]
fn packed_product(m: usize, cols: usize, inner: usize, a: &[f32], c: &mut [f32], accumulate: bool, pack: impl FnOnce(&mut [f32])) {
    assert!(a.len() >= m * inner && c.len() >= m * cols, "matmul: buffer too small for {m}x{inner} @ {inner}x{cols}");
    if m == 0 || cols == 0 {
        return;
    }
    super::math::with_thread_buffer(&PACKED, packed::packed_len(cols, inner), |b| {
        pack(b);
        let b: &[f32] = b;
        let c = &mut c[..m * cols];
        if matches!(parallelism(m * cols * inner), gemm::Parallelism::None) {
            return packed::gemm(m, cols, inner, a, inner, b, c, cols, accumulate);
        }
        // two bands per thread (a multiple of the kernel's rows) balance a busy machine
        use rayon::prelude::*;
        let band = m.div_ceil(2 * rayon::current_num_threads()).next_multiple_of(6);
        c.par_chunks_mut(band * cols).enumerate().for_each(|(i, cb)| {
            let rows = cb.len() / cols;
            packed::gemm(rows, cols, inner, &a[i * band * inner..], inner, b, cb, cols, accumulate)
        });
    })
}

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// The packed right-hand side of the products on this thread.
    pub static PACKED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `dW[N,K] (+)= dy[M,N]^T @ x[M,K]`.
pub fn matmul_tn(m: usize, n: usize, k: usize, dy: &[f32], x: &[f32], dw: &mut [f32], accumulate: bool) {
    gemm_rm(n, k, m, dy, true, x, false, dw, accumulate)
}

/// A strided matrix view: element `(i, j)` at `offset + i*rs + j*cs`.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl View {
    pub fn rows(offset: usize, rs: usize) -> View {
        View { offset, rs, cs: 1 }
    }
    /// The transpose of a row-major view.
    pub fn t(offset: usize, rs: usize) -> View {
        View { offset, rs: 1, cs: rs }
    }
    fn last(&self, r: usize, c: usize) -> usize {
        self.offset + (r - 1) * self.rs + (c - 1) * self.cs
    }
}

/// `c[m,n] (+)= alpha * a[m,k] @ b[k,n]` on strided views, on the calling thread (callers parallelise
/// over independent products themselves).
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided(m: usize, n: usize, k: usize, alpha: f32, a: &[f32], av: View, b: &[f32], bv: View, c: &mut [f32], cv: View, accumulate: bool) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(av.last(m, k) < a.len() && bv.last(k, n) < b.len() && cv.last(m, n) < c.len(), "matmul_strided: view out of bounds");
    // SAFETY: the assert bounds the farthest element of each view; `c` is a distinct &mut.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr().add(cv.offset),
            cv.cs as isize,
            cv.rs as isize,
            accumulate,
            a.as_ptr().add(av.offset),
            av.cs as isize,
            av.rs as isize,
            b.as_ptr().add(bv.offset),
            bv.cs as isize,
            bv.rs as isize,
            1.0,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed)) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    #[test]
    fn three_products_match_naive_loops() {
        let (m, n, k) = (37, 19, 23);
        let x = data(m * k, 1);
        let w = data(n * k, 2);
        let dy = data(m * n, 3);
        let mut y = vec![0.5; m * n];
        matmul_nt(m, n, k, &x, &w, &mut y, true);
        let mut dx = vec![0.0; m * k];
        matmul_nn(m, n, k, &dy, &w, &mut dx, false);
        // the `gemm` path of the same two products (what wasm32 and CPUs without AVX2 run)
        let mut y_gemm = vec![0.5; m * n];
        gemm_rm(m, n, k, &x, false, &w, true, &mut y_gemm, true);
        let mut dx_gemm = vec![0.0; m * k];
        gemm_rm(m, k, n, &dy, false, &w, false, &mut dx_gemm, false);
        for (a, b) in y.iter().zip(&y_gemm).chain(dx.iter().zip(&dx_gemm)) {
            assert!((a - b).abs() < 1e-4, "dispatch {a} vs gemm {b}");
        }
        let mut dw = vec![0.0; n * k];
        matmul_tn(m, n, k, &dy, &x, &mut dw, false);
        for i in 0..m {
            for j in 0..n {
                let r: f32 = 0.5 + (0..k).map(|p| x[i * k + p] * w[j * k + p]).sum::<f32>();
                assert!((y[i * n + j] - r).abs() < 1e-4);
            }
            for p in 0..k {
                let r: f32 = (0..n).map(|j| dy[i * n + j] * w[j * k + p]).sum();
                assert!((dx[i * k + p] - r).abs() < 1e-4);
            }
        }
        for j in 0..n {
            for p in 0..k {
                let r: f32 = (0..m).map(|i| dy[i * n + j] * x[i * k + p]).sum();
                assert!((dw[j * k + p] - r).abs() < 1e-4);
            }
        }
        // strided: y2 = 2 * x @ w^T written into the odd columns of a [m, 2n] buffer
        let mut y2 = vec![0.0; m * 2 * n];
        matmul_strided(m, n, k, 2.0, &x, View::rows(0, k), &w, View::t(0, k), &mut y2, View { offset: 1, rs: 2 * n, cs: 2 }, false);
        for i in 0..m {
            for j in 0..n {
                assert!((y2[i * 2 * n + 2 * j + 1] - 2.0 * (y[i * n + j] - 0.5)).abs() < 1e-4);
                assert_eq!(y2[i * 2 * n + 2 * j], 0.0);
            }
        }
    }
}
