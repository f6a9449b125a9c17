//! The second half of a post-norm block in one pass (HRM_SPEC §4.2):
//! `out = rms_norm(y + down(swiglu(gate_up(y))))`, keeping `gu`, `act`, `mlp_out` for the backward
//! when asked (`keep`) and `rstd` always. The same four ops as matmul.rs, swiglu.rs, matmul.rs and
//! rmsnorm.rs, in that order (equal up to the rounding of the GEMM's summation order, which depends
//! on its blocking), but each thread runs all four on a band of rows at a time: no fork/join between
//! the ops, and a band's `gu` and `act` are read back from cache right after they are written. The
//! op-by-op order streams `gu` (11 MB at sudoku-small) through memory three times, and this
//! machine's memory moves ≈ 5 GB/s against ≈ 50 GB/s for data in L2. (A GPU runs the four kernels;
//! see `Backend::mlp_forward`.)

use super::math::with_thread_buffer;
use super::matmul::matmul_nt_serial;
#[cfg(target_arch = "x86_64")]
use super::{matmul::PACKED, packed};
use super::rmsnorm::add_rmsnorm_rows;
use super::swiglu::swiglu_serial;

/// Rows per band with the packed kernel (packed.rs), whose weights are packed once per call: 48 rows
/// keep a band's `gu` (192 KB at I = 512) and `act` in L2.
#[cfg(target_arch = "x86_64")]
const PACKED_BAND: usize = 48;

/// Rows per band with `gemm`, which packs the weights at every call: two bands per thread. Measured
/// at sudoku-small (2624 rows, `hrm bench --ops`): bands of 64 rows gained nothing over the op-by-op
/// order, since every band repacks the weights and pays the GEMM's set-up; 176 rows gained 14 %, 336
/// rows more, so bands are as large as the thread count allows while still giving each thread two
/// bands to balance.
fn band_rows(rows: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    let threads = rayon::current_num_threads();
    #[cfg(target_arch = "wasm32")]
    let threads = 1;
    rows.div_ceil(2 * threads).next_multiple_of(16).clamp(16, 1024)
}

/// The block's MLP half. `y [M,h]`, `w_gu [2I,h]`, `w_down [h,I]`; writes `out [M,h]`, `rstd [M]`,
/// and, when `keep` (the call carries gradient), `gu [M,2I]`, `act [M,I]`, `mlp_out [M,h]` for the
/// backward; otherwise those three may be left as they were.
#[allow(clippy::too_many_arguments)]
pub fn mlp_forward(rows: usize, hidden: usize, inter: usize, eps: f32, y: &[f32], w_gu: &[f32], w_down: &[f32], keep: bool, gu: &mut [f32], act: &mut [f32], mlp_out: &mut [f32], out: &mut [f32], rstd: &mut [f32]) {
    let bufs = Bufs { gu: &mut gu[..rows * 2 * inter], act: &mut act[..rows * inter], mo: &mut mlp_out[..rows * hidden], out: &mut out[..rows * hidden], rstd: &mut rstd[..rows] };
    #[cfg(target_arch = "x86_64")]
    if packed::available() {
        // both weights packed once for every band and thread (packed.rs)
        let (len_gu, len_down) = (packed::packed_len(2 * inter, hidden), packed::packed_len(hidden, inter));
        return with_thread_buffer(&PACKED, len_gu + len_down, |buf| {
            let (p_gu, p_down) = buf.split_at_mut(len_gu);
            packed::pack_t(2 * inter, hidden, w_gu, p_gu);
            packed::pack_t(hidden, inter, w_down, p_down);
            let (p_gu, p_down): (&[f32], &[f32]) = (p_gu, p_down);
            let up = |n: usize, a: &[f32], c: &mut [f32]| packed::gemm(n, 2 * inter, hidden, a, hidden, p_gu, c, 2 * inter, false);
            let down = |n: usize, a: &[f32], c: &mut [f32]| packed::gemm(n, hidden, inter, a, inter, p_down, c, hidden, false);
            banded(PACKED_BAND, hidden, inter, eps, y, up, down, keep, bufs)
        });
    }
    let up = |n: usize, a: &[f32], c: &mut [f32]| matmul_nt_serial(n, 2 * inter, hidden, a, w_gu, c, false);
    let down = |n: usize, a: &[f32], c: &mut [f32]| matmul_nt_serial(n, hidden, inter, a, w_down, c, false);
    banded(band_rows(rows), hidden, inter, eps, y, up, down, keep, bufs)
}

/// The outputs, each cut to `rows`.
struct Bufs<'a> {
    gu: &'a mut [f32],
    act: &'a mut [f32],
    mo: &'a mut [f32],
    out: &'a mut [f32],
    rstd: &'a mut [f32],
}

/// The four ops per band of `band_len` rows, bands on rayon threads natively; `up(n, a, c)` and
/// `down` are the two products on the calling thread. Without `keep`, a band's `gu`, `act` and
/// `mlp_out` go to a per-thread scratch buffer that stays in cache instead of the full-size outputs.
#[allow(clippy::too_many_arguments)]
fn banded<U, D>(band_len: usize, h: usize, i: usize, eps: f32, y: &[f32], up: U, down: D, keep: bool, b: Bufs)
where
    U: Fn(usize, &[f32], &mut [f32]) + Sync,
    D: Fn(usize, &[f32], &mut [f32]) + Sync,
{
    let run = |r0: usize, gu: &mut [f32], act: &mut [f32], mo: &mut [f32], out: &mut [f32], rstd: &mut [f32]| {
        let n = rstd.len();
        let yb = &y[r0 * h..(r0 + n) * h];
        up(n, yb, gu);
        swiglu_serial(i, gu, act);
        down(n, act, mo);
        add_rmsnorm_rows(h, eps, yb, mo, out, rstd);
    };
    let band = |k: usize, gu: Option<&mut [f32]>, act: Option<&mut [f32]>, mo: Option<&mut [f32]>, out: &mut [f32], rstd: &mut [f32]| {
        let n = rstd.len();
        match (gu, act, mo) {
            (Some(g), Some(a), Some(m)) => run(k * band_len, g, a, m, out, rstd),
            _ => with_thread_buffer(&SCRATCH, n * (3 * i + h), |s| {
                let (g, rest) = s.split_at_mut(n * 2 * i);
                let (a, m) = rest.split_at_mut(n * i);
                run(k * band_len, g, a, m, out, rstd)
            }),
        }
    };
    let Bufs { gu, act, mo, out, rstd } = b;
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        let bands = out.par_chunks_mut(band_len * h).zip(rstd.par_chunks_mut(band_len)).enumerate();
        if keep {
            bands
                .zip(gu.par_chunks_mut(band_len * 2 * i).zip(act.par_chunks_mut(band_len * i)).zip(mo.par_chunks_mut(band_len * h)))
                .for_each(|((k, (o, r)), ((g, a), m))| band(k, Some(g), Some(a), Some(m), o, r));
        } else {
            bands.for_each(|(k, (o, r))| band(k, None, None, None, o, r));
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut g = gu.chunks_mut(band_len * 2 * i);
        let mut a = act.chunks_mut(band_len * i);
        let mut m = mo.chunks_mut(band_len * h);
        for (k, (o, r)) in out.chunks_mut(band_len * h).zip(rstd.chunks_mut(band_len)).enumerate() {
            let (g, a, m) = (g.next(), a.next(), m.next());
            if keep {
                band(k, g, a, m, o, r)
            } else {
                band(k, None, None, None, o, r)
            }
        }
    }
}

thread_local! {
    /// A band's `gu`, `act` and `mlp_out` when the call keeps none of them.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::{matmul::matmul_nt, rmsnorm::add_rmsnorm_forward, swiglu::swiglu_forward};

    fn data(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|k| ((k as f32) * 0.7311 + seed).sin() * 0.5).collect()
    }

    /// The banded pass gives what the four ops give one after the other (to rounding: a threaded GEMM
    /// blocks the sums differently), for row counts that leave a partial band and for fewer rows than
    /// one band.
    #[test]
    fn banded_pass_equals_the_four_ops() {
        let (h, i) = (24, 40);
        for rows in [3, 16, 2 * band_rows(133) + 5, 1000] {
            let (y, wg, wd) = (data(rows * h, 0.1), data(2 * i * h, 0.2), data(h * i, 0.3));
            let (mut gu, mut act, mut mo, mut out, mut rstd) = (vec![0.0; rows * 2 * i], vec![0.0; rows * i], vec![0.0; rows * h], vec![0.0; rows * h], vec![0.0; rows]);
            mlp_forward(rows, h, i, 1e-5, &y, &wg, &wd, true, &mut gu, &mut act, &mut mo, &mut out, &mut rstd);
            // without keep: the same out and rstd, and the three kept buffers untouched
            let (mut g0, mut a0, mut m0, mut out0, mut rstd0) = (vec![7.0; rows * 2 * i], vec![7.0; rows * i], vec![7.0; rows * h], vec![0.0; rows * h], vec![0.0; rows]);
            mlp_forward(rows, h, i, 1e-5, &y, &wg, &wd, false, &mut g0, &mut a0, &mut m0, &mut out0, &mut rstd0);
            assert_eq!((out0, rstd0), (out.clone(), rstd.clone()), "{rows} rows: keep changed the result");
            assert!(g0.iter().chain(&a0).chain(&m0).all(|&v| v == 7.0), "{rows} rows: a no-keep call wrote a kept buffer");
            let (mut gu2, mut act2, mut mo2, mut out2, mut rstd2) = (vec![0.0; rows * 2 * i], vec![0.0; rows * i], vec![0.0; rows * h], vec![0.0; rows * h], vec![0.0; rows]);
            matmul_nt(rows, 2 * i, h, &y, &wg, &mut gu2, false);
            swiglu_forward(rows, i, &gu2, &mut act2);
            matmul_nt(rows, h, i, &act2, &wd, &mut mo2, false);
            add_rmsnorm_forward(rows, h, 1e-5, &y, &mo2, &mut out2, &mut rstd2);
            for (name, a, b) in [("gu", &gu, &gu2), ("act", &act, &act2), ("mlp_out", &mo, &mo2), ("out", &out, &out2), ("rstd", &rstd, &rstd2)] {
                let worst = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
                assert!(worst <= 5e-6, "{rows} rows: {name} differs by {worst}");
            }
            // the bands with `gemm` products (wasm32, CPUs without AVX2), kept and not kept
            for keep in [true, false] {
                let (mut g3, mut a3, mut m3, mut out3, mut rstd3) = (vec![0.0; rows * 2 * i], vec![0.0; rows * i], vec![0.0; rows * h], vec![0.0; rows * h], vec![0.0; rows]);
                let up = |n: usize, a: &[f32], c: &mut [f32]| matmul_nt_serial(n, 2 * i, h, a, &wg, c, false);
                let down = |n: usize, a: &[f32], c: &mut [f32]| matmul_nt_serial(n, h, i, a, &wd, c, false);
                let bufs = Bufs { gu: &mut g3, act: &mut a3, mo: &mut m3, out: &mut out3, rstd: &mut rstd3 };
                banded(band_rows(rows), h, i, 1e-5, &y, up, down, keep, bufs);
                let worst = out3.iter().zip(&out2).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
                assert!(worst <= 5e-6, "{rows} rows, gemm bands (keep {keep}): out differs by {worst}");
                if keep {
                    assert!(g3.iter().zip(&gu2).all(|(x, y)| (x - y).abs() <= 5e-6), "{rows} rows, gemm bands: gu differs");
                }
            }
        }
    }
}
