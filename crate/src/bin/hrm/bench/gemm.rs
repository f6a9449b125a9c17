//! `hrm bench --gemm`: GFLOP/s of the candidate GEMM crates on the model's shapes.
//!
//! Each product is timed in the three layouts the model uses (`cpu/matmul.rs`): forward
//! `y[M,N] = x[M,K] @ W[N,K]^T` (nt), input gradient `dx[M,K] = dy[M,N] @ W[N,K]` (nn) and weight
//! gradient `dW[N,K] = dy[M,N]^T @ x[M,K]` (tn), all row-major f32. M is the number of tokens of a
//! batch (sudoku-small 32 x 82, maze-small 8 x 401).

use std::time::Instant;

/// (N, K) of the four linear layers at hidden 128, expansion 4: qkv, o_proj, gate_up, down.
pub const LAYER_SHAPES: [(usize, usize, &str); 4] = [(384, 128, "qkv"), (128, 128, "o_proj"), (1024, 128, "gate_up"), (128, 512, "down")];
pub const TOKEN_COUNTS: [(usize, &str); 2] = [(32 * 82, "sudoku-small"), (8 * 401, "maze-small")];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    Nt,
    Nn,
    Tn,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::Nt, Layout::Nn, Layout::Tn];
    pub fn name(self) -> &'static str {
        match self {
            Layout::Nt => "nt (fwd)",
            Layout::Nn => "nn (dx)",
            Layout::Tn => "tn (dW)",
        }
    }
    /// (rows, cols, inner) of the product `c = a @ b` this layout computes, and whether `a`, `b` are
    /// read transposed from their row-major storage.
    fn product(self, m: usize, n: usize, k: usize) -> (usize, usize, usize, bool, bool) {
        match self {
            Layout::Nt => (m, n, k, false, true),
            Layout::Nn => (m, k, n, false, false),
            Layout::Tn => (n, k, m, true, false),
        }
    }
}

/// A GEMM implementation: `c[r,c] = op(a) @ op(b)` with row-major storage; `a` is `[r,i]` (or `[i,r]` if
/// `a_t`), `b` is `[i,c]` (or `[c,i]` if `b_t`).
pub type GemmFn = fn(threads: usize, r: usize, c: usize, i: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, out: &mut [f32]);

fn strides(rows: usize, cols: usize, t: bool) -> (isize, isize) {
    // (row stride, col stride) of op(x) where x is stored row-major as [rows, cols] or, if t, [cols, rows].
    if t {
        (1, rows as isize)
    } else {
        (cols as isize, 1)
    }
}

fn with_gemm(threads: usize, r: usize, c: usize, i: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, out: &mut [f32]) {
    let (a_rs, a_cs) = strides(r, i, a_t);
    let (b_rs, b_cs) = strides(i, c, b_t);
    let par = if threads <= 1 { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(threads) };
    assert!(a.len() >= r * i && b.len() >= i * c && out.len() >= r * c);
    // SAFETY: the strides describe matrices inside the slices (asserted above); `out` does not alias.
    unsafe {
        gemm::gemm(r, c, i, out.as_mut_ptr(), 1, c as isize, false, a.as_ptr(), a_cs, a_rs, b.as_ptr(), b_cs, b_rs, 0.0, 1.0, false, false, false, par)
    }
}

#[cfg(feature = "gemm-bench")]
fn with_matrixmultiply(_threads: usize, r: usize, c: usize, i: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, out: &mut [f32]) {
    // Threads come from MATMUL_NUM_THREADS, which the bench sets before the first call.
    let (a_rs, a_cs) = strides(r, i, a_t);
    let (b_rs, b_cs) = strides(i, c, b_t);
    assert!(a.len() >= r * i && b.len() >= i * c && out.len() >= r * c);
    // SAFETY: as above.
    unsafe { matrixmultiply::sgemm(r, i, c, 1.0, a.as_ptr(), a_rs, a_cs, b.as_ptr(), b_rs, b_cs, 0.0, out.as_mut_ptr(), c as isize, 1) }
}

#[cfg(feature = "gemm-bench")]
fn with_faer(threads: usize, r: usize, c: usize, i: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, out: &mut [f32]) {
    use faer::{Accum, MatMut, MatRef, Par};
    let a = if a_t { MatRef::from_row_major_slice(&a[..r * i], i, r).transpose() } else { MatRef::from_row_major_slice(&a[..r * i], r, i) };
    let b = if b_t { MatRef::from_row_major_slice(&b[..i * c], c, i).transpose() } else { MatRef::from_row_major_slice(&b[..i * c], i, c) };
    let out = MatMut::from_row_major_slice_mut(&mut out[..r * c], r, c);
    let par = if threads <= 1 { Par::Seq } else { Par::rayon(threads) };
    faer::linalg::matmul::matmul(out, Accum::Replace, a, b, 1.0f32, par);
}

/// What the model runs: `hrm`'s own dispatch (cpu/matmul.rs: the packed AVX2 kernel for nt and nn
/// where the CPU has it, `gemm` otherwise), threaded by the global rayon pool (`--threads`).
fn with_hrm(_threads: usize, r: usize, c: usize, i: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, out: &mut [f32]) {
    use hrm::backend::cpu::matmul;
    match (a_t, b_t) {
        (false, true) => matmul::matmul_nt(r, c, i, a, b, out, false),
        (false, false) => matmul::matmul_nn(r, i, c, a, b, out, false),
        (true, false) => matmul::matmul_tn(i, r, c, a, b, out, false),
        (true, true) => unreachable!("the model has no product with both operands transposed"),
    }
}

/// The crates compiled into this binary, then the model's own dispatch.
pub fn candidates() -> Vec<(&'static str, GemmFn)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, GemmFn)> = vec![("gemm 0.19", with_gemm), ("hrm matmul", with_hrm)];
    #[cfg(feature = "gemm-bench")]
    {
        v.push(("matrixmultiply 0.3", with_matrixmultiply));
        v.push(("faer 0.24", with_faer));
    }
    v
}

fn fill(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|j| ((j as u32).wrapping_mul(2654435761).wrapping_add(seed) % 2001) as f32 / 1000.0 - 1.0).collect()
}

/// Reference value of one output element, to check each crate computed the same product.
fn reference(r_idx: usize, c_idx: usize, c: usize, i: usize, a: &[f32], a_t: bool, b: &[f32], b_t: bool, r: usize) -> f64 {
    (0..i)
        .map(|p| {
            let av = if a_t { a[p * r + r_idx] } else { a[r_idx * i + p] };
            let bv = if b_t { b[c_idx * i + p] } else { b[p * c + c_idx] };
            av as f64 * bv as f64
        })
        .sum()
}

pub struct Row {
    pub lib: &'static str,
    pub tokens: &'static str,
    pub layer: &'static str,
    pub layout: Layout,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub median_ms: f64,
    pub gflops: f64,
}

/// Time every candidate on every shape with `threads` threads; `reps` timed calls after 2 warm-ups.
pub fn run(threads: usize, reps: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for (m, tokens) in TOKEN_COUNTS {
        for (n, k, layer) in LAYER_SHAPES {
            for layout in Layout::ALL {
                let (r, c, i, a_t, b_t) = layout.product(m, n, k);
                let a = fill(r * i, 1);
                let b = fill(i * c, 2);
                for (lib, f) in candidates() {
                    let mut out = vec![0.0f32; r * c];
                    f(threads, r, c, i, &a, a_t, &b, b_t, &mut out);
                    for (ri, ci) in [(0, 0), (r - 1, c - 1), (r / 2, c / 3)] {
                        let want = reference(ri, ci, c, i, &a, a_t, &b, b_t, r);
                        let got = out[ri * c + ci] as f64;
                        assert!((got - want).abs() <= 1e-3 * (1.0 + want.abs()), "{lib} {layout:?} {m}x{n}x{k}: {got} vs {want}");
                    }
                    f(threads, r, c, i, &a, a_t, &b, b_t, &mut out);
                    let mut times: Vec<f64> = (0..reps)
                        .map(|_| {
                            let t = Instant::now();
                            f(threads, r, c, i, &a, a_t, &b, b_t, &mut out);
                            t.elapsed().as_secs_f64()
                        })
                        .collect();
                    times.sort_by(f64::total_cmp);
                    let med = times[times.len() / 2];
                    rows.push(Row { lib, tokens, layer, layout, m, n, k, median_ms: med * 1e3, gflops: 2.0 * (m * n * k) as f64 / med / 1e9 });
                }
            }
        }
    }
    rows
}
