//! `hrm bench --backend gpu`: printed GPU figures (never timed tests). On a software adapter (lavapipe,
//! SwiftShader) they only show that the path runs; real figures need a real GPU.

use std::time::Instant;

use anyhow::{bail, Context};
use hrm::backend::gpu::matmul::{dispatch_matmul, Operand};
use hrm::backend::gpu::GpuContext;

/// One GEMM of the model: C[M, N] = op(A)[M, K] @ op(B)[K, N].
struct Shape {
    layer: &'static str,
    product: &'static str,
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
}

/// The forward and backward GEMMs of one block and the LM head at `tokens` rows, hidden `h`, SwiGLU
/// width `i`, vocabulary `v` (`sudoku-small`: tokens = 32 * 82, h = 128, i = 512, v = 11).
fn model_shapes(tokens: usize, h: usize, i: usize, v: usize) -> Vec<Shape> {
    let mut out = Vec::new();
    for (layer, n_out, n_in) in [("qkv", 3 * h, h), ("o_proj", h, h), ("gate_up", 2 * i, h), ("down", h, i), ("lm_head", v, h)] {
        out.push(Shape { layer, product: "x@W^T", m: tokens, n: n_out, k: n_in, ta: false, tb: true });
        out.push(Shape { layer, product: "dy@W", m: tokens, n: n_in, k: n_out, ta: false, tb: false });
        out.push(Shape { layer, product: "dy^T@x", m: n_out, n: n_in, k: tokens, ta: true, tb: false });
    }
    out
}

/// Print matmul GFLOP/s at the model's shapes and the pool's peak bytes.
pub fn run(reps: usize, tokens: usize, hidden: usize, width: usize, vocab: usize) -> anyhow::Result<()> {
    if reps == 0 {
        bail!("--reps must be at least 1");
    }
    let ctx = GpuContext::new_blocking().context("opening the GPU (the CPU benchmarks need no GPU)")?;
    let info = ctx.info();
    println!("GPU: {info}");
    if info.is_software {
        println!("(software adapter: ~100x slower than a real GPU; these figures only show that it runs)");
    }
    println!("matmul.wgsl, f32, tokens {tokens}, hidden {hidden}, SwiGLU width {width}, vocab {vocab}; median of {reps} timed calls after 1 warm-up; GFLOP/s = 2MNK / time");
    println!("{:<8} {:<7} {:>6} {:>6} {:>6} {:>10} {:>9}", "layer", "product", "M", "N", "K", "ms", "GFLOP/s");
    let mut total_ms = 0.0;
    let mut total_flop = 0.0;
    for s in model_shapes(tokens, hidden, width, vocab) {
        let a = ctx.upload(&[s.m * s.k], &vec![0.5f32; s.m * s.k])?;
        let b = ctx.upload(&[s.k * s.n], &vec![0.25f32; s.k * s.n])?;
        let c = ctx.empty(&[s.m, s.n])?;
        let once = || -> anyhow::Result<f64> {
            let t0 = Instant::now();
            dispatch_matmul(&ctx, Operand { t: &a, transposed: s.ta, offset: 0 }, Operand { t: &b, transposed: s.tb, offset: 0 }, &c, s.m, s.n, s.k, 1.0, 0.0)?;
            ctx.finish_blocking()?;
            Ok(t0.elapsed().as_secs_f64() * 1e3)
        };
        once()?; // pipeline build and first-touch
        let mut times: Vec<f64> = (0..reps).map(|_| once()).collect::<anyhow::Result<_>>()?;
        times.sort_by(|x, y| x.total_cmp(y));
        let ms = times[times.len() / 2];
        let flop = 2.0 * (s.m * s.n * s.k) as f64;
        total_ms += ms;
        total_flop += flop;
        println!("{:<8} {:<7} {:>6} {:>6} {:>6} {:>10.3} {:>9.2}", s.layer, s.product, s.m, s.n, s.k, ms, flop / ms / 1e6);
    }
    println!("all {} GEMMs of one block + LM head: {:.2} ms, {:.2} GFLOP/s overall", 15, total_ms, total_flop / total_ms / 1e6);
    let st = ctx.pool_stats();
    println!("peak pooled buffer bytes: {} allocated, {} in use at once ({} buffers created)", st.peak_allocated_bytes, st.peak_live_bytes, st.buffers_created);
    Ok(())
}

