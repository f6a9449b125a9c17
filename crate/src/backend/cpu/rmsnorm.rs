//! Parameter-free RMSNorm fused with the residual add of the post-norm block (HRM_SPEC §3, §4.2):
//! `y = rms_norm(a + b)`, `rms_norm(x) = x * rsqrt(mean(x^2) + eps)` per row of `[M,h]`.
//! The forward keeps `rstd [M]` (the rsqrt) for the backward.

use super::math::{dot, par_rows, par_rows2};

/// Writes `y [M,h]` and `rstd [M]`.
pub fn add_rmsnorm_forward(rows: usize, hidden: usize, eps: f32, a: &[f32], b: &[f32], y: &mut [f32], rstd: &mut [f32]) {
    par_rows2(&mut y[..rows * hidden], hidden, &mut rstd[..rows], 1, |r0, out, rs_out| {
        let band = r0 * hidden..(r0 + rs_out.len()) * hidden;
        add_rmsnorm_rows(hidden, eps, &a[band.clone()], &b[band], out, rs_out)
    });
}

/// [`add_rmsnorm_forward`] on the rows given (all slices hold the same rows), on the calling thread.
pub fn add_rmsnorm_rows(hidden: usize, eps: f32, a: &[f32], b: &[f32], y: &mut [f32], rstd: &mut [f32]) {
    for (r, (yr, rs)) in y.chunks_exact_mut(hidden).zip(rstd.iter_mut()).enumerate() {
        let (ar, br) = (&a[r * hidden..(r + 1) * hidden], &b[r * hidden..(r + 1) * hidden]);
        for ((o, &x), &z) in yr.iter_mut().zip(ar).zip(br) {
            *o = x + z;
        }
        *rs = 1.0 / (dot(yr, yr) / hidden as f32 + eps).sqrt();
        let s = *rs;
        yr.iter_mut().for_each(|v| *v *= s);
    }
}

/// Backward through `y = x * rstd` given the forward's OUTPUT `y` and `rstd`: OVERWRITES
/// `dx = rstd * (dy - y * mean(dy * y))`.
pub fn rmsnorm_backward(rows: usize, hidden: usize, y: &[f32], rstd: &[f32], dy: &[f32], dx: &mut [f32]) {
    par_rows(&mut dx[..rows * hidden], hidden, |r0, out| {
        for (k, o) in out.chunks_exact_mut(hidden).enumerate() {
            let r = r0 + k;
            let (yr, gr) = (&y[r * hidden..(r + 1) * hidden], &dy[r * hidden..(r + 1) * hidden]);
            let m = dot(yr, gr) / hidden as f32;
            let rs = rstd[r];
            for ((o, &yv), &gv) in o.iter_mut().zip(yr).zip(gr) {
                *o = rs * (gv - yv * m);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_rms_and_backward_matches_finite_differences() {
        let (m, h) = (3, 5);
        let a: Vec<f32> = (0..15).map(|i| (i as f32 * 0.9).sin()).collect();
        let b: Vec<f32> = (0..15).map(|i| (i as f32 * 0.4).cos()).collect();
        let w: Vec<f32> = (0..15).map(|i| (i as f32 * 1.3).sin()).collect();
        let (mut y, mut rs) = (vec![0.0; 15], vec![0.0; 3]);
        add_rmsnorm_forward(m, h, 1e-5, &a, &b, &mut y, &mut rs);
        for r in y.chunks(h) {
            let ms = r.iter().map(|v| v * v).sum::<f32>() / h as f32;
            assert!((ms - 1.0).abs() < 1e-3);
        }
        let mut dx = vec![0.0; 15];
        rmsnorm_backward(m, h, &y, &rs, &w, &mut dx);
        let f = |a: &[f32]| {
            let (mut y, mut rs) = (vec![0.0; 15], vec![0.0; 3]);
            add_rmsnorm_forward(m, h, 1e-5, a, &b, &mut y, &mut rs);
            y.iter().zip(&w).map(|(p, q)| (p * q) as f64).sum::<f64>()
        };
        for i in 0..15 {
            let (mut p, mut q) = (a.clone(), a.clone());
            p[i] += 1e-2;
            q[i] -= 1e-2;
            let fd = (f(&p) - f(&q)) / 2e-2;
            assert!((fd - dx[i] as f64).abs() < 2e-3, "{i}: {fd} vs {}", dx[i]);
        }
    }
}
