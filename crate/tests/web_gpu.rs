//! The GPU path inside a browser: WebGPU (SwiftShader in headless Chromium) runs matmul.wgsl through
//! wgpu's web backend, and the result is compared with the CPU matmul in the same wasm module.
//! Run: `cd crate && wasm-pack test --headless --chrome -- --test web_gpu` (webdriver.json passes
//! `--enable-unsafe-webgpu`).
#![cfg(target_arch = "wasm32")]

use hrm::backend::cpu::matmul::matmul_nt;
use hrm::backend::gpu::matmul::{dispatch_matmul, Operand};
use hrm::backend::gpu::GpuContext;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed)) % 1000) as f32 / 500.0 - 1.0).collect()
}

#[wasm_bindgen_test]
async fn gpu_matmul_in_the_browser_equals_the_cpu_one() {
    let ctx = GpuContext::new().await.expect("a WebGPU adapter (Chromium needs --enable-unsafe-webgpu)");
    web_sys_log(&format!("WebGPU adapter: {}", ctx.info()));
    // Not multiples of the 64x64x16 tile.
    let (m, n, k) = (70, 33, 21);
    let x = data(m * k, 1);
    let w = data(n * k, 2);
    let gx = ctx.upload(&[m, k], &x).unwrap();
    let gw = ctx.upload(&[n, k], &w).unwrap();
    let gy = ctx.empty(&[m, n]).unwrap();
    dispatch_matmul(&ctx, Operand::plain(&gx), Operand::transposed(&gw), &gy, m, n, k, 1.0, 0.0).unwrap();
    let got = ctx.read_f32(&gy).await.expect("readback");
    let mut want = vec![0.0; m * n];
    matmul_nt(m, n, k, &x, &w, &mut want, false);
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "GPU vs CPU: worst |difference| {worst}");
    ctx.check().unwrap();
}

fn web_sys_log(s: &str) {
    wasm_bindgen_test::console_log!("{}", s);
}
