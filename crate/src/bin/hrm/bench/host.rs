//! The host's speed at the moment of a benchmark: this VM's cores ran between ≈ 60 and ≈ 90 GFLOP/s
//! of FMA within minutes (other tenants, clocks), which moves every wall time with it. Printing the
//! peak before and after a run says which kind of moment a figure came from.

/// Single-thread f32 FMA throughput in GFLOP/s over about `ms` milliseconds: 12 independent chains
/// of 8-lane fused multiply-adds, the most this core can issue. None without AVX2/FMA.
pub fn fma_peak_gflops(ms: u64) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        let start = std::time::Instant::now();
        let mut rounds = 0u64;
        while start.elapsed().as_millis() < ms as u128 {
            // SAFETY: AVX2 and FMA were detected.
            std::hint::black_box(unsafe { chains(std::hint::black_box(1 << 16), std::hint::black_box(0.999_999)) });
            rounds += 1;
        }
        let flop = rounds as f64 * (1u64 << 16) as f64 * 12.0 * 16.0;
        return Some(flop / start.elapsed().as_secs_f64() / 1e9);
    }
    let _ = ms;
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains(iters: u64, scale: f32) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(scale), _mm256_set1_ps(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = _mm256_fmadd_ps(*x, a, b);
        }
    }
    let mut out = [0.0f32; 8];
    let sum = acc.iter().fold(_mm256_setzero_ps(), |s, x| _mm256_add_ps(s, *x));
    _mm256_storeu_ps(out.as_mut_ptr(), sum);
    out.iter().sum()
}
