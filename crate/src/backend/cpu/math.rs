//! Scalar math written so that loops over slices auto-vectorise (no libm calls): `exp`, `sigmoid`, `atan2`.
//! Accuracy: within ~2 ulp of the exact value over the f32 range that matters here (tests below).

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a part exact in f32 and the rest (Cephes).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 * 2^23: adding and subtracting it rounds to the nearest integer.
const ROUND: f32 = 12_582_912.0;

/// `e^x`, for x in [-87.3, 88.7] (clamped outside; underflow gives ~1e-38 instead of 0).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    exp_with(x, |a, b, c| a * b + c)
}

/// [`exp`] with fused multiply-adds: half the instructions and a shorter dependency chain, for
/// kernels compiled with FMA (elsewhere `mul_add` is a libm call). Within an ulp of [`exp`].
#[inline(always)]
pub fn exp_fma(x: f32) -> f32 {
    exp_with(x, f32::mul_add)
}

/// The one polynomial of both: Cephes' reduction to `r = x - n ln 2`, a degree-7 polynomial,
/// then the exponent `n` added in.
#[inline(always)]
fn exp_with(x: f32, mad: impl Fn(f32, f32, f32) -> f32) -> f32 {
    let x = x.clamp(-87.3, 88.7);
    let t = mad(x, LOG2E, ROUND);
    let n = t - ROUND;
    let r = mad(-n, LN2_LO, mad(-n, LN2_HI, x));
    let p = mad(mad(mad(mad(mad(1.987_569_1e-4, r, 1.398_199_9e-3), r, 8.333_452e-3), r, 4.166_579_6e-2), r, 1.666_666_5e-1), r, 0.5);
    let e = mad(p * r, r, r) + 1.0;
    // the integer n read off t's mantissa (t = ROUND + n exactly): `n as i32` gives the same value
    // but its saturating conversion does not vectorise (measured: 8 scalar conversions per vector
    // made exp 5x slower)
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    e * f32::from_bits(((ni + 127) << 23) as u32)
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `atan2(y, x)` without branches (selects only, so a loop of it vectorises), Cephes' `atanf`: the
/// ratio is reduced to |t| <= tan(pi/8) and a degree-9 odd polynomial does the rest. Within 2e-7
/// absolute of `f32::atan2` (test below); atan2(±0, x >= 0) = ±0 as in libm.
#[inline(always)]
pub fn atan2(y: f32, x: f32) -> f32 {
    use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};
    let (ax, ay) = (x.abs(), y.abs());
    let t = ay / ax; // in [0, inf]; NaN for 0/0, handled below
    let big = t > 2.414_213_5; // tan(3pi/8)
    let mid = t > 0.414_213_57; // tan(pi/8)
    let r = if big { -1.0 / t } else if mid { (t - 1.0) / (t + 1.0) } else { t };
    let base = if big { FRAC_PI_2 } else if mid { FRAC_PI_4 } else { 0.0 };
    let z = r * r;
    let mut a = base + ((((8.053_744_5e-2 * z - 1.387_768_5e-1) * z + 1.997_771_1e-1) * z - 3.333_295e-1) * z * r + r);
    a = if ay == 0.0 { 0.0 } else { a };
    a = if x.is_sign_negative() { PI - a } else { a };
    a.copysign(y)
}

/// Sum with 8 independent accumulators (vectorises; the order differs from a sequential sum only by rounding).
#[inline]
pub fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    let tail: f32 = chunks.remainder().iter().sum();
    acc.iter().sum::<f32>() + tail
}

/// Maximum with 8 independent accumulators (vectorises, where a single running max is a chain of
/// dependent compares). NaN-free input assumed, as in a softmax of finite scores.
#[inline]
pub fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    acc.iter().fold(tail, |m, &x| if x > m { x } else { m })
}

/// Dot product with 8 independent accumulators.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Runs `f` compiled for AVX2 and FMA when the CPU has them (x86_64): the closure is inlined into a function with
/// the wider target features, so its loops vectorise 8-wide instead of SSE2's 4-wide. Same results.
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        // FMA as well: an explicit `mul_add` becomes one instruction instead of a libm call (Rust
        // never fuses `a * b + c` on its own, so nothing else changes).
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the feature was detected at run time.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Runs `f` on the buffer of `key` on this thread, grown to `len` floats and reused across calls
/// (a fresh one if that buffer is in use further up this thread's stack, as when a rayon worker
/// waiting inside a parallel loop picks up another task). Each user declares its own `key`.
pub fn with_thread_buffer<R>(key: &'static std::thread::LocalKey<std::cell::RefCell<Vec<f32>>>, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// Runs `f(row_index, rows_chunk)` over consecutive groups of rows of `out` (each `row_len` long),
/// on rayon threads natively; `f` sees whole rows starting at row `row_index`.
pub fn par_rows<F>(out: &mut [f32], row_len: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    let rows = out.len().checked_div(row_len).unwrap_or(0);
    #[cfg(not(target_arch = "wasm32"))]
    {
        // a few chunks per thread keeps the load balanced without per-row task overhead
        let per = rows.div_ceil(4 * rayon::current_num_threads()).max(16);
        use rayon::prelude::*;
        out.par_chunks_mut(per * row_len).enumerate().for_each(|(c, chunk)| wide(|| f(c * per, chunk)));
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = rows;
        f(0, out);
    }
}

/// Like [`par_rows`] for two outputs split by the same rows (`la`, `lb` values per row).
pub fn par_rows2<F>(a: &mut [f32], la: usize, b: &mut [f32], lb: usize, f: F)
where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync + Send,
{
    let rows = a.len().checked_div(la).unwrap_or(0);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let per = rows.div_ceil(4 * rayon::current_num_threads()).max(16);
        use rayon::prelude::*;
        a.par_chunks_mut(per * la).zip(b.par_chunks_mut(per * lb)).enumerate().for_each(|(c, (x, y))| wide(|| f(c * per, x, y)));
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (rows, lb);
        f(0, a, b);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exp_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -80.0f32;
        while x < 80.0 {
            let r = (x as f64).exp();
            worst = worst.max(((super::exp(x) as f64) - r).abs() / r);
            x += 0.0137;
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert!((super::sigmoid(0.0) - 0.5).abs() < 1e-7);
        // reading the exponent off the rounding constant's mantissa gives what `n as i32` gives,
        // bit for bit, over the clamp and past it
        let with_cast = |x: f32| {
            let x = x.clamp(-87.3, 88.7);
            let n = (x * super::LOG2E + super::ROUND) - super::ROUND;
            let r = x - n * super::LN2_HI - n * super::LN2_LO;
            let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 0.5;
            (p * r * r + r + 1.0) * f32::from_bits(((n as i32 + 127) << 23) as u32)
        };
        let mut x = -95.0f32;
        while x < 95.0 {
            assert_eq!(super::exp(x).to_bits(), with_cast(x).to_bits(), "exp({x})");
            let (a, b) = (super::exp(x), super::exp_fma(x));
            assert!(a == b || (a - b).abs() <= 2.0 * f32::EPSILON * a.abs().max(f32::MIN_POSITIVE), "exp_fma({x}) = {b}, exp = {a}");
            x += 0.0731;
        }
        for n in [0, 1, 7, 8, 9, 83] {
            let xs: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3).collect();
            assert_eq!(super::max(&xs), xs.iter().cloned().fold(f32::NEG_INFINITY, f32::max), "{n} values");
        }
    }

    #[test]
    fn atan2_matches_libm() {
        let mut worst = 0.0f32;
        let vals: Vec<f32> = (-400..=400).map(|i| (i as f32 * 0.05).sinh() * 1e-3).chain([0.0, -0.0, 1e-30, -1e-30, 1e30]).collect();
        for &y in &vals {
            for &x in &vals {
                let (a, b) = (super::atan2(y, x), y.atan2(x));
                worst = worst.max((a - b).abs());
                assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "sign of atan2({y}, {x})");
            }
        }
        assert!(worst < 2.5e-7, "worst absolute error {worst}");
        assert_eq!(super::atan2(0.0, 0.0), 0.0);
        assert!((super::atan2(1.0, 0.0) - std::f32::consts::FRAC_PI_2).abs() < 1e-7);
        assert!(super::atan2(f32::NAN, 1.0).is_nan());
    }
}
