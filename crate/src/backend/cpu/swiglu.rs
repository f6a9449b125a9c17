//! SwiGLU activation (HRM_SPEC §3): `gu [M,2I]` is `[gate | up]` per row (gate = FIRST half);
//! `a [M,I] = silu(gate) * up`, `silu(g) = g * sigmoid(g)`. The two projections are GEMMs (matmul.rs).

use super::math::{par_rows, sigmoid};

#[inline(always)]
fn forward_rows(r0: usize, width: usize, gu: &[f32], out: &mut [f32]) {
    for (k, o) in out.chunks_exact_mut(width).enumerate() {
        let r = r0 + k;
        let (g, u) = gu[r * 2 * width..(r + 1) * 2 * width].split_at(width);
        for ((o, &gv), &uv) in o.iter_mut().zip(g).zip(u) {
            *o = gv * sigmoid(gv) * uv;
        }
    }
}

#[inline(always)]
fn backward_rows(r0: usize, width: usize, gu: &[f32], d_a: &[f32], out: &mut [f32]) {
    for (k, o) in out.chunks_exact_mut(2 * width).enumerate() {
        let r = r0 + k;
        let (g, u) = gu[r * 2 * width..(r + 1) * 2 * width].split_at(width);
        let (dg, du) = o.split_at_mut(width);
        let da = &d_a[r * width..(r + 1) * width];
        for i in 0..width {
            let s = sigmoid(g[i]);
            dg[i] = da[i] * u[i] * s * (1.0 + g[i] * (1.0 - s));
            du[i] = da[i] * g[i] * s;
        }
    }
}

// The same loops compiled for AVX2 (8 lanes), chosen at run time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn forward_rows_avx2(r0: usize, width: usize, gu: &[f32], out: &mut [f32]) {
    forward_rows(r0, width, gu, out)
}
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn backward_rows_avx2(r0: usize, width: usize, gu: &[f32], d_a: &[f32], out: &mut [f32]) {
    backward_rows(r0, width, gu, d_a, out)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// [`swiglu_forward`] of the rows of `a` (`gu` holds the same rows), on the calling thread.
pub fn swiglu_serial(width: usize, gu: &[f32], a: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: AVX2 was detected at run time.
        return unsafe { forward_rows_avx2(0, width, gu, a) };
    }
    forward_rows(0, width, gu, a)
}

pub fn swiglu_forward(rows: usize, width: usize, gu: &[f32], a: &mut [f32]) {
    par_rows(&mut a[..rows * width], width, |r0, out| swiglu_serial(width, &gu[r0 * 2 * width..], out));
}

/// OVERWRITES `d_gu [M,2I]` from `d_a [M,I]`:
/// `d gate = d_a * up * sig(g) * (1 + g*(1 - sig(g)))`, `d up = d_a * silu(g)`.
pub fn swiglu_backward(rows: usize, width: usize, gu: &[f32], d_a: &[f32], d_gu: &mut [f32]) {
    let avx2 = has_avx2();
    par_rows(&mut d_gu[..rows * 2 * width], 2 * width, |r0, out| {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: AVX2 was detected at run time.
            return unsafe { backward_rows_avx2(r0, width, gu, d_a, out) };
        }
        let _ = avx2;
        backward_rows(r0, width, gu, d_a, out)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_matches_finite_differences() {
        let gu: Vec<f32> = (0..12).map(|i| (i as f32 - 6.0) * 0.6).collect();
        let da: Vec<f32> = (0..6).map(|i| 1.0 + i as f32 * 0.1).collect();
        let mut dgu = vec![0.0; 12];
        swiglu_backward(2, 3, &gu, &da, &mut dgu);
        let f = |x: &[f32]| {
            let mut a = vec![0.0; 6];
            swiglu_forward(2, 3, x, &mut a);
            a.iter().zip(&da).map(|(a, b)| (*a * *b) as f64).sum::<f64>()
        };
        for i in 0..12 {
            let (mut p, mut m) = (gu.clone(), gu.clone());
            p[i] += 1e-2;
            m[i] -= 1e-2;
            let fd = (f(&p) - f(&m)) / 2e-2;
            assert!((fd - dgu[i] as f64).abs() < 1e-3, "{i}: {fd} vs {}", dgu[i]);
        }
    }
}
