//! `hrm bench --backend gpu`: printed GPU figures (never timed tests), per preset (`sudoku-small`,
//! `maze-small`, or the one `--preset` names): WGSL matmul GFLOP/s at that preset's GEMM shapes, train
//! steps/s (`Trainer::train_step` on `GpuBackend`: segment, backward, SignSGD and AdamATan2 all on the
//! device), eval segments/s, and the buffer pool's peak bytes. On a software adapter (lavapipe,
//! SwiftShader) the figures only show that the path runs; real figures need a real GPU.

use std::time::Instant;

use anyhow::{bail, Context};
use hrm::backend::gpu::matmul::{dispatch_matmul, Operand};
use hrm::backend::gpu::{GpuBackend, GpuContext};
use hrm::model::{Batch, Hrm};
use hrm::synthetic::SplitMix64;
use hrm::train::{TrainConfig, Trainer};
use hrm::{Checkpoint, Config};

use crate::bench::preset::{median, random_batch, Preset};
use crate::bench::Args;

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
/// width `i`, vocabulary `v`.
fn model_shapes(tokens: usize, h: usize, i: usize, v: usize) -> Vec<Shape> {
    let mut out = Vec::new();
    for (layer, n_out, n_in) in [("qkv", 3 * h, h), ("o_proj", h, h), ("gate_up", 2 * i, h), ("down", h, i), ("lm_head", v, h)] {
        out.push(Shape { layer, product: "x@W^T", m: tokens, n: n_out, k: n_in, ta: false, tb: true });
        out.push(Shape { layer, product: "dy@W", m: tokens, n: n_in, k: n_out, ta: false, tb: false });
        out.push(Shape { layer, product: "dy^T@x", m: n_out, n: n_in, k: tokens, ta: true, tb: false });
    }
    out
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.reps == 0 {
        bail!("--reps must be at least 1");
    }
    let be = GpuBackend::new_blocking().context("opening the GPU (the CPU benchmarks need no GPU)")?;
    let info = be.context().info().clone();
    println!("GPU: {info}");
    if info.is_software {
        println!("(software adapter: ~100x slower than a real GPU; these figures only show that it runs)");
    }
    let presets = match args.preset {
        Some(p) => vec![p],
        None => vec![Preset::SudokuSmall, Preset::MazeSmall],
    };
    for p in presets {
        let cfg = p.config();
        let tokens = cfg.batch_size * cfg.total_seq();
        println!();
        println!("== {} (batch {}, {} positions, hidden {}, SwiGLU width {}, vocab {})", p.name(), cfg.batch_size, cfg.total_seq(), cfg.hidden_size, cfg.swiglu_width(), cfg.vocab_size);
        matmuls(be.context(), args.reps, tokens, cfg.hidden_size, cfg.swiglu_width(), cfg.vocab_size)?;
        model(&be, p, &cfg, args.train_steps, args.eval_segments)?;
    }
    Ok(())
}

/// Matmul GFLOP/s at the model's shapes (median of `reps` after one warm-up call each).
fn matmuls(ctx: &GpuContext, reps: usize, tokens: usize, hidden: usize, width: usize, vocab: usize) -> anyhow::Result<()> {
    println!("matmul.wgsl, f32, {tokens} token rows; median of {reps} timed calls after 1 warm-up; GFLOP/s = 2MNK / time");
    println!("{:<8} {:<7} {:>6} {:>6} {:>6} {:>10} {:>9}", "layer", "product", "M", "N", "K", "ms", "GFLOP/s");
    let mut total_ms = 0.0;
    let mut total_flop = 0.0;
    let shapes = model_shapes(tokens, hidden, width, vocab);
    for s in &shapes {
        let a = ctx.upload(&[s.m * s.k], &vec![0.5f32; s.m * s.k])?;
        let b = ctx.upload(&[s.k * s.n], &vec![0.25f32; s.k * s.n])?;
        let c = ctx.empty(&[s.m, s.n])?;
        let once = || -> anyhow::Result<f64> {
            let t0 = Instant::now();
            dispatch_matmul(ctx, Operand { t: &a, transposed: s.ta, offset: 0 }, Operand { t: &b, transposed: s.tb, offset: 0 }, &c, s.m, s.n, s.k, 1.0, 0.0)?;
            ctx.finish_blocking()?;
            Ok(t0.elapsed().as_secs_f64() * 1e3)
        };
        once()?; // pipeline build and first-touch
        let times: Vec<f64> = (0..reps).map(|_| once()).collect::<anyhow::Result<_>>()?;
        let ms = median(times);
        let flop = 2.0 * (s.m * s.n * s.k) as f64;
        total_ms += ms;
        total_flop += flop;
        println!("{:<8} {:<7} {:>6} {:>6} {:>6} {:>10.3} {:>9.2}", s.layer, s.product, s.m, s.n, s.k, ms, flop / ms / 1e6);
    }
    println!("all {} GEMMs of one block + LM head: {:.2} ms, {:.2} GFLOP/s overall", shapes.len(), total_ms, total_flop / total_ms / 1e6);
    Ok(())
}

/// Train steps/s and eval segments/s of the preset model on the GPU, after one warm-up of each (which
/// builds the pipelines and sizes the pools), and the pool's peak bytes during each.
fn model(be: &GpuBackend, p: Preset, cfg: &Config, train_steps: usize, eval_segments: usize) -> anyhow::Result<()> {
    let ctx = be.context();
    let ck = Checkpoint::init(cfg.clone(), 0).context("initialising the preset model")?;
    let mut rng = SplitMix64::new(1);
    let batches: Vec<Batch> = (0..4).map(|_| random_batch(cfg, &mut rng)).collect();
    ctx.trim_pool();
    ctx.reset_pool_peaks();
    let model = Hrm::new(be.clone(), cfg, &ck.params)?;
    let mut trainer = pollster::block_on(Trainer::new(model, TrainConfig { lr_warmup_steps: 0, ..TrainConfig::official(1000) }))?;
    let mut train_ms = Vec::new();
    let (s0, r0) = (ctx.submissions(), ctx.bytes_read());
    for i in 0..train_steps.max(1) + 1 {
        let t = Instant::now();
        pollster::block_on(trainer.train_step(&batches[i % batches.len()]))?;
        ctx.finish_blocking()?;
        if i >= 1 {
            train_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let steps = (train_steps.max(1) + 1) as u64;
    let (subs, read) = ((ctx.submissions() - s0) / steps, (ctx.bytes_read() - r0) / steps);
    let train_peak = ctx.pool_stats().peak_allocated_bytes;

    let mut model = trainer.into_model(); // the Adam moments go back to the pool, which is emptied
    ctx.trim_pool();
    ctx.reset_pool_peaks();
    let mut eval_ms = Vec::new();
    let mut carry = model.initial_carry(&batches[0]);
    for i in 0..eval_segments.max(1) + 1 {
        let t = Instant::now();
        let out = pollster::block_on(model.eval_segment(&mut carry, &batches[0], None))?;
        ctx.finish_blocking()?;
        if i >= 1 {
            eval_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if out.all_halted {
            carry = model.initial_carry(&batches[0]);
        }
    }
    let eval_peak = ctx.pool_stats().peak_allocated_bytes;
    if let Some(e) = be.error() {
        bail!("{}: the GPU failed: {e}", p.name());
    }
    let (n_t, n_e) = (train_ms.len(), eval_ms.len());
    let (tm, em) = (median(train_ms), median(eval_ms));
    println!("train step   : median {tm:10.1} ms (n={n_t}) = {:.3} steps/s; {subs} submissions and {read} bytes read back per step", 1e3 / tm);
    println!("eval segment : median {em:10.1} ms (n={n_e}) = {:.3} segments/s", 1e3 / em);
    println!("peak pooled buffer bytes: {train_peak} during training (model, grads, moments, activations), {eval_peak} during eval (model and its gradient buffers, activations)");
    Ok(())
}
