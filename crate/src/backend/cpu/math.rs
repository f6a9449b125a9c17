//! Scalar math written so that loops over slices auto-vectorise (no libm calls): `exp` and `sigmoid`.
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
    let x = x.clamp(-87.3, 88.7);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 5.000_000_1e-1;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
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
    }
}
