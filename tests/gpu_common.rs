//! Shared by the `gpu_*` tests (included with `#[path]`): one GPU context per test binary, seeded
//! random data, and a closeness check that names the worst element.
#![allow(dead_code)]

use std::sync::OnceLock;

use hrm::backend::gpu::GpuContext;

/// The process-wide context. No adapter is a test failure with the reason (CI installs lavapipe).
pub fn ctx() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| match GpuContext::new_blocking() {
        Ok(c) => {
            eprintln!("gpu tests on {}", c.info());
            c
        }
        Err(e) => panic!("{e}"),
    })
}

/// Deterministic values in [-scale, scale) from a 64-bit LCG (no dependency, same on every run).
pub fn rand_vec(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Deterministic integers in 0..bound.
pub fn rand_ids(n: usize, seed: u64, bound: u32) -> Vec<u32> {
    let mut s = seed ^ 0x9E3779B97F4A7C15;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) % bound as u64) as u32
        })
        .collect()
}

/// |got - want| <= atol + rtol * |want| everywhere; the failure names the worst index.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], atol: f32, rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let mut worst = (0usize, 0.0f32);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let excess = (g - w).abs() - (atol + rtol * w.abs());
        if !(excess <= 0.0) && (excess > worst.1 || excess.is_nan()) {
            worst = (i, if excess.is_nan() { f32::INFINITY } else { excess });
        }
    }
    assert!(worst.1 == 0.0, "{what}: element {} is {} but should be {} (atol {atol}, rtol {rtol})", worst.0, got[worst.0], want[worst.0]);
}

/// The process-wide GPU backend for tests through the `Backend` trait.
pub fn gpu() -> &'static hrm::backend::gpu::GpuBackend {
    static BE: OnceLock<hrm::backend::gpu::GpuBackend> = OnceLock::new();
    BE.get_or_init(|| match hrm::backend::gpu::GpuBackend::new_blocking() {
        Ok(b) => {
            eprintln!("gpu tests on {}", b.context().info());
            b
        }
        Err(e) => panic!("{e}"),
    })
}
