//! The GPU path inside a browser: WebGPU (SwiftShader in headless Chromium) runs the WGSL kernels
//! through wgpu's web backend, and every result is compared with the CPU backend's, computed in the same
//! wasm module: matmul.wgsl directly, a few ops through the `Backend` trait, and one whole eval segment of
//! a tiny model (logits, Q logits, both carried states).
//! Run: `cd crate && wasm-pack test --headless --chrome --mode no-install -- --test web_gpu`
//! (webdriver.json passes `--enable-unsafe-webgpu`, without which Chromium offers no adapter).
#![cfg(target_arch = "wasm32")]

use hrm::backend::cpu::matmul::matmul_nt;
use hrm::backend::gpu::matmul::{dispatch_matmul, Operand};
use hrm::backend::gpu::{GpuBackend, GpuContext};
use hrm::backend::{AttnDims, Backend, CpuBackend, Local};
use hrm::model::{buffer_specs, param_specs, Batch, Hrm, PREFIX};
use hrm::{Config, HostTensor, ParamStore};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Deterministic values in [-scale, scale).
fn data(n: usize, seed: u32, scale: f32) -> Vec<f32> {
    (0..n).map(|i| ((((i as u32).wrapping_mul(2654435761).wrapping_add(seed.wrapping_mul(40503))) % 1000) as f32 / 500.0 - 1.0) * scale).collect()
}

fn worst_diff(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    got.iter().zip(want).map(|(a, b)| if (a - b).is_nan() { f32::INFINITY } else { (a - b).abs() }).fold(0.0, f32::max)
}

fn assert_close(what: &str, got: &[f32], want: &[f32], atol: f32) {
    let w = worst_diff(got, want);
    console_log!("{what}: worst |gpu - cpu| = {w:.2e}");
    assert!(w <= atol, "{what}: GPU vs CPU worst |difference| {w} > {atol}");
}

async fn gpu() -> GpuBackend {
    let be = GpuBackend::new().await.expect("a WebGPU adapter (Chromium needs --enable-unsafe-webgpu)");
    console_log!("WebGPU adapter: {}", be.context().info());
    be
}

#[wasm_bindgen_test]
async fn gpu_matmul_in_the_browser_equals_the_cpu_one() {
    let ctx = GpuContext::new().await.expect("a WebGPU adapter (Chromium needs --enable-unsafe-webgpu)");
    // Not multiples of the 64x64x16 tile.
    let (m, n, k) = (70, 33, 21);
    let x = data(m * k, 1, 1.0);
    let w = data(n * k, 2, 1.0);
    let gx = ctx.upload(&[m, k], &x).unwrap();
    let gw = ctx.upload(&[n, k], &w).unwrap();
    let gy = ctx.empty(&[m, n]).unwrap();
    dispatch_matmul(&ctx, Operand::plain(&gx), Operand::transposed(&gw), &gy, m, n, k, 1.0, 0.0).unwrap();
    let got = ctx.read_f32(&gy).await.expect("readback");
    let mut want = vec![0.0; m * n];
    matmul_nt(m, n, k, &x, &w, &mut want, false);
    assert_close("matmul x@W^T 70x33x21", &got, &want, 1e-4);
    ctx.check().unwrap();
}

/// Attention (tiled online softmax on the GPU, plain softmax on the CPU), SwiGLU and add+RMSNorm,
/// each run through the `Backend` trait on both backends with the same inputs.
#[wasm_bindgen_test]
async fn backend_ops_in_the_browser_equal_the_cpu_ones() {
    let g = gpu().await;
    let c = CpuBackend;
    let d = AttnDims { batch: 2, total: 19, heads: 2, head_dim: 16, local: None };
    let qkv = data(d.batch * d.total * 3 * d.heads * d.head_dim, 3, 1.0);
    let (rows, out_len, p_len) = (d.batch * d.total, d.batch * d.total * d.heads * d.head_dim, d.batch * d.heads * d.total * d.total);

    let (gq, mut gp, mut go) = (g.upload(&qkv), g.alloc(p_len), g.alloc(out_len));
    g.attention_forward(d, &gq, &mut gp, &mut go);
    let (mut cp, mut co) = (c.alloc(p_len), c.alloc(out_len));
    c.attention_forward(d, &qkv, &mut cp, &mut co);
    // a local window (attn_radius 1) over a 4x4 grid after 3 puzzle positions
    let dl = AttnDims { local: Some(Local { prefix: 3, side: 4, radius: 1 }), ..d };
    let (mut glp, mut glo) = (g.alloc(p_len), g.alloc(out_len));
    g.attention_forward(dl, &gq, &mut glp, &mut glo);
    let (mut clp, mut clo) = (c.alloc(p_len), c.alloc(out_len));
    c.attention_forward(dl, &qkv, &mut clp, &mut clo);

    let width = 24;
    let gu = data(rows * 2 * width, 4, 2.0);
    let (ggu, mut ga) = (g.upload(&gu), g.alloc(rows * width));
    g.swiglu_forward(rows, width, &ggu, &mut ga);
    let mut ca = c.alloc(rows * width);
    c.swiglu_forward(rows, width, &gu, &mut ca);

    let hidden = 40;
    let (a, b) = (data(rows * hidden, 5, 1.0), data(rows * hidden, 6, 1.0));
    let (ga_, gb_, mut gy, mut gr) = (g.upload(&a), g.upload(&b), g.alloc(rows * hidden), g.alloc(rows));
    g.add_rmsnorm_forward(rows, hidden, 1e-5, &ga_, &gb_, &mut gy, &mut gr);
    let (mut cy, mut cr) = (c.alloc(rows * hidden), c.alloc(rows));
    c.add_rmsnorm_forward(rows, hidden, 1e-5, &a, &b, &mut cy, &mut cr);

    let got = g.read(&[&go, &ga, &gy, &gr, &glo]).await;
    assert!(g.error().is_none(), "{:?}", g.error());
    assert_close("attention forward (T = 19, head_dim 16)", &got[0], &co, 1e-5);
    assert_close("swiglu forward", &got[1], &ca, 1e-5);
    assert_close("add + rmsnorm forward", &got[2], &cy, 1e-5);
    assert_close("rmsnorm rstd", &got[3], &cr, 1e-5);
    assert_close("local attention forward (radius 1)", &got[4], &clo, 1e-5);
    assert!(worst_diff(&clo, &co) > 1e-3, "the window changed nothing");
}

/// A tiny HRM with random weights: everything the model has (puzzle embedding, RoPE, two H and two L
/// cycles, Q head), small enough for a software adapter.
fn tiny() -> (Config, ParamStore, Batch) {
    let cfg = Config::from_json_str(
        r#"{"H_cycles": 2, "L_cycles": 2, "H_layers": 1, "L_layers": 1, "hidden_size": 32, "num_heads": 2, "expansion": 2,
            "vocab_size": 6, "seq_len": 9, "batch_size": 2, "puzzle_emb_ndim": 32, "num_puzzle_identifiers": 3,
            "pos_encodings": "rope", "halt_max_steps": 2, "halt_exploration_prob": 0.0}"#,
    )
    .unwrap();
    let mut store = ParamStore::new();
    for (i, (name, shape)) in param_specs(&cfg).into_iter().chain(buffer_specs(&cfg)).enumerate() {
        let n = shape.iter().product();
        store.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, data(n, 100 + i as u32, 0.5)));
    }
    let inputs = vec![1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 4, 3, 2, 1, 1, 2, 3, 4];
    let labels = vec![2, 3, 4, 5, 1, 2, 3, 4, 5, -100, 3, 2, 1, 1, 2, 3, 4, 5];
    let batch = Batch::new(2, 9, inputs, labels, vec![1, 2]).unwrap();
    (cfg, store, batch)
}

#[wasm_bindgen_test]
async fn one_eval_segment_in_the_browser_equals_the_cpu_one() {
    let (cfg, store, batch) = tiny();
    let mut cpu = Hrm::new(CpuBackend, &cfg, &store).unwrap();
    let mut gpu = Hrm::new(gpu().await, &cfg, &store).unwrap();
    let mut cc = cpu.initial_carry(&batch);
    let mut gc = gpu.initial_carry(&batch);
    let co = cpu.eval_segment(&mut cc, &batch, None).await.unwrap();
    let go = gpu.eval_segment(&mut gc, &batch, None).await.unwrap();
    let states = gpu.backend().read(&[&gc.z_h, &gc.z_l]).await;
    let logits = gpu.read_logits().await;
    if let Some(e) = gpu.backend().error() {
        panic!("{e}");
    }
    assert_close("eval segment 1: logits", &logits, &cpu.read_logits().await, 1e-4);
    assert_close("eval segment 1: q_halt", &go.q_halt, &co.q_halt, 1e-4);
    assert_close("eval segment 1: q_continue", &go.q_continue, &co.q_continue, 1e-4);
    assert_close("eval segment 1: z_H", &states[0], &cc.z_h, 1e-4);
    assert_close("eval segment 1: z_L", &states[1], &cc.z_l, 1e-4);
    assert_eq!((go.steps, go.halted), (co.steps, co.halted), "steps/halted");
    assert!((go.loss - co.loss).abs() <= 1e-5 * co.loss.abs().max(1.0), "loss gpu {} vs cpu {}", go.loss, co.loss);
    console_log!("eval segment 1: loss cpu {} gpu {}", co.loss, go.loss);
}
