//! The second half of a post-norm block in one pass (HRM_SPEC §4.2):
//! `out = rms_norm(y + down(swiglu(gate_up(y))))`, keeping `gu`, `act`, `mlp_out` and `rstd` for the
//! backward. The same four ops as matmul.rs, swiglu.rs, matmul.rs and rmsnorm.rs, in that order (equal
//! up to the rounding of the GEMM's summation order, which depends on its blocking), but each thread
//! runs all four on its own bands of rows: no fork/join between the ops, and a band's `gu` and `act`
//! are read back from the shared cache soon after they are written, where the op-by-op order streams
//! `gu` (11 MB at sudoku-small) through memory three times. (A GPU runs the four kernels; see
//! `Backend::mlp_forward`.)

use super::matmul::matmul_nt_serial;
use super::rmsnorm::add_rmsnorm_rows;
use super::swiglu::swiglu_serial;

/// Rows per band: two bands per thread. Measured at sudoku-small (2624 rows, `hrm bench --ops`):
/// bands of 64 rows (gu + act in L2) gained nothing over the op-by-op order, since every band repacks
/// the weights and pays the GEMM's set-up; 176 rows gained 14 %, 336 rows more, so bands are as large
/// as the thread count allows while still giving each thread two bands to balance.
fn band_rows(rows: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    let threads = rayon::current_num_threads();
    #[cfg(target_arch = "wasm32")]
    let threads = 1;
    rows.div_ceil(2 * threads).next_multiple_of(16).clamp(16, 1024)
}

/// The block's MLP half. `y [M,h]`, `w_gu [2I,h]`, `w_down [h,I]`; writes `gu [M,2I]`, `act [M,I]`,
/// `mlp_out [M,h]`, `out [M,h]`, `rstd [M]`.
#[allow(clippy::too_many_arguments)]
pub fn mlp_forward(rows: usize, hidden: usize, inter: usize, eps: f32, y: &[f32], w_gu: &[f32], w_down: &[f32], gu: &mut [f32], act: &mut [f32], mlp_out: &mut [f32], out: &mut [f32], rstd: &mut [f32]) {
    let (h, i) = (hidden, inter);
    let band = |r0: usize, gu: &mut [f32], act: &mut [f32], mo: &mut [f32], out: &mut [f32], rstd: &mut [f32]| {
        let n = rstd.len();
        let yb = &y[r0 * h..(r0 + n) * h];
        matmul_nt_serial(n, 2 * i, h, yb, w_gu, gu, false);
        swiglu_serial(i, gu, act);
        matmul_nt_serial(n, h, i, act, w_down, mo, false);
        add_rmsnorm_rows(h, eps, yb, mo, out, rstd);
    };
    let band_len = band_rows(rows);
    let (gu, act, mo, out, rstd) = (&mut gu[..rows * 2 * i], &mut act[..rows * i], &mut mlp_out[..rows * h], &mut out[..rows * h], &mut rstd[..rows]);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        gu.par_chunks_mut(band_len * 2 * i)
            .zip(act.par_chunks_mut(band_len * i))
            .zip(mo.par_chunks_mut(band_len * h))
            .zip(out.par_chunks_mut(band_len * h))
            .zip(rstd.par_chunks_mut(band_len))
            .enumerate()
            .for_each(|(b, ((((g, a), m), o), r))| band(b * band_len, g, a, m, o, r));
    }
    #[cfg(target_arch = "wasm32")]
    for (b, ((((g, a), m), o), r)) in
        gu.chunks_mut(band_len * 2 * i).zip(act.chunks_mut(band_len * i)).zip(mo.chunks_mut(band_len * h)).zip(out.chunks_mut(band_len * h)).zip(rstd.chunks_mut(band_len)).enumerate()
    {
        band(b * band_len, g, a, m, o, r);
    }
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
        for rows in [3, 16, 2 * band_rows(133) + 5] {
            let (y, wg, wd) = (data(rows * h, 0.1), data(2 * i * h, 0.2), data(h * i, 0.3));
            let (mut gu, mut act, mut mo, mut out, mut rstd) = (vec![0.0; rows * 2 * i], vec![0.0; rows * i], vec![0.0; rows * h], vec![0.0; rows * h], vec![0.0; rows]);
            mlp_forward(rows, h, i, 1e-5, &y, &wg, &wd, &mut gu, &mut act, &mut mo, &mut out, &mut rstd);
            let (mut gu2, mut act2, mut mo2, mut out2, mut rstd2) = (vec![0.0; rows * 2 * i], vec![0.0; rows * i], vec![0.0; rows * h], vec![0.0; rows * h], vec![0.0; rows]);
            matmul_nt(rows, 2 * i, h, &y, &wg, &mut gu2, false);
            swiglu_forward(rows, i, &gu2, &mut act2);
            matmul_nt(rows, h, i, &act2, &wd, &mut mo2, false);
            add_rmsnorm_forward(rows, h, 1e-5, &y, &mo2, &mut out2, &mut rstd2);
            for (name, a, b) in [("gu", &gu, &gu2), ("act", &act, &act2), ("mlp_out", &mo, &mo2), ("out", &out, &out2), ("rstd", &rstd, &rstd2)] {
                let worst = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
                assert!(worst <= 5e-6, "{rows} rows: {name} differs by {worst}");
            }
        }
    }
}
