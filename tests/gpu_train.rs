//! Training on the GPU equals training on the CPU: the optimizer kernels against their CPU twins
//! (hrm::optim), the optimizer ops of the `Backend` trait on both backends, then 20 steps of the one
//! `Trainer` (train segment + SignSGD + AdamATan2, all on the device) on both backends, compared step by
//! step (losses, halting) and at the end (every weight, every Adam moment as `save_state` reads them),
//! with a bound on what a GPU step reads back (no weights, no moments). And a GPU run saved and resumed
//! continues exactly as the uninterrupted run.
#![cfg(not(target_arch = "wasm32"))]

#[path = "gpu_common.rs"]
mod gpu_common;

use gpu_common::{assert_close, ctx, gpu, rand_ids, rand_vec};
use hrm::backend::gpu::optim::{dispatch_adam_atan2, dispatch_adamw, dispatch_sign_sgd};
use hrm::backend::gpu::GpuBackend;
use hrm::backend::{AdamStep, Backend, CpuBackend};
use hrm::model::{buffer_specs, param_specs, Batch, Hrm, PREFIX};
use hrm::optim::{adam_atan2_update, adamw_update, sign_sgd_rows, AdamAtan2Coeffs, AdamWCoeffs, OptimError};
use hrm::train::{TrainConfig, Trainer};
use hrm::{Config, HostTensor, ParamStore};
use hrm_tests::fixtures;

#[test]
fn adam_atan2_kernel_equals_the_cpu_update_over_steps() {
    let g = ctx();
    let n = 1000; // not a multiple of 256
    let mut p = rand_vec(n, 1, 1.0);
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    let (gp, gm, gv) = (g.upload(&[n], &p).unwrap(), g.zeros(&[n]).unwrap(), g.zeros(&[n]).unwrap());
    for step in 1..=5u64 {
        let mut grad = rand_vec(n, 10 + step, 0.1);
        grad[..7].fill(0.0); // never-used parameters (e.g. PAD embeddings): atan2(0, 0) must be 0
        let c = AdamAtan2Coeffs::new(step, 1e-2, 0.9, 0.95, 0.1);
        adam_atan2_update(&c, &mut p, &grad, &mut m, &mut v);
        let gg = g.upload(&[n], &grad).unwrap();
        dispatch_adam_atan2(g, &(&c).into(), &gp, &gg, &gm, &gv).unwrap();
    }
    assert_close("adam param", &g.read_f32_blocking(&gp).unwrap(), &p, 1e-6, 1e-5);
    assert_close("adam exp_avg", &g.read_f32_blocking(&gm).unwrap(), &m, 1e-7, 1e-5);
    assert_close("adam exp_avg_sq", &g.read_f32_blocking(&gv).unwrap(), &v, 1e-9, 1e-5);
}

#[test]
fn adamw_kernel_equals_the_cpu_update_over_steps() {
    let g = ctx();
    let n = 777;
    let mut p = rand_vec(n, 5, 1.0);
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    let (gp, gm, gv) = (g.upload(&[n], &p).unwrap(), g.zeros(&[n]).unwrap(), g.zeros(&[n]).unwrap());
    for step in 1..=5u64 {
        let grad = rand_vec(n, 20 + step, 0.1);
        let c = AdamWCoeffs::new(step, 1e-2, 0.9, 0.95, 0.1, 1e-8);
        adamw_update(&c, &mut p, &grad, &mut m, &mut v);
        let gg = g.upload(&[n], &grad).unwrap();
        dispatch_adamw(g, &c, &gp, &gg, &gm, &gv).unwrap();
    }
    assert_close("adamw param", &g.read_f32_blocking(&gp).unwrap(), &p, 1e-6, 1e-5);
    assert_close("adamw exp_avg", &g.read_f32_blocking(&gm).unwrap(), &m, 1e-7, 1e-5);
    assert_close("adamw exp_avg_sq", &g.read_f32_blocking(&gv).unwrap(), &v, 1e-9, 1e-5);
}

#[test]
fn sign_sgd_kernel_equals_the_cpu_update() {
    let g = ctx();
    let (num_ids, dim, batch) = (9, 37, 20);
    let mut w = rand_vec(num_ids * dim, 2, 1.0);
    let ids: Vec<i32> = rand_ids(batch, 3, 5).iter().map(|&x| x as i32 * 2).collect(); // ids 0,2,..,8; odd rows untouched
    let mut grads = rand_vec(batch * dim, 4, 1.0);
    grads[5] = 0.0; // a zero summed gradient only decays (when its id appears once)
    let gw = g.upload(&[num_ids, dim], &w).unwrap();
    let gg = g.upload(&[batch, dim], &grads).unwrap();
    let gids = g.upload(&[batch], &ids).unwrap();
    sign_sgd_rows(&mut w, dim, &ids, &grads, 0.01, 0.1).unwrap();
    dispatch_sign_sgd(g, &gw, &gg, &gids, 0.01, 0.1).unwrap();
    assert_close("sign_sgd weights", &g.read_f32_blocking(&gw).unwrap(), &w, 1e-7, 1e-6);
}

/// The trait's optimizer ops: same results on both backends, and the same named errors.
#[test]
fn optimizer_ops_of_the_backend_trait_agree_and_reject_bad_lengths() {
    let (g, c) = (gpu(), CpuBackend);
    let n = 300;
    let (p0, grad) = (rand_vec(n, 7, 1.0), rand_vec(n, 8, 0.1));
    let step = AdamStep::Atan2(AdamAtan2Coeffs::new(1, 1e-2, 0.9, 0.95, 0.1));
    let (mut cp, mut cm, mut cv) = (p0.clone(), vec![0.0; n], vec![0.0; n]);
    c.adam_update(&step, &mut cp, &grad, &mut cm, &mut cv).unwrap();
    let (mut gp, gg, mut gm, mut gv) = (g.upload(&p0), g.upload(&grad), g.alloc(n), g.alloc(n));
    g.adam_update(&step, &mut gp, &gg, &mut gm, &mut gv).unwrap();
    let (dim, ids) = (10, vec![2, 0, 2]);
    let (w0, rg) = (rand_vec(4 * dim, 9, 1.0), rand_vec(3 * dim, 10, 1.0));
    let mut cw = w0.clone();
    c.sign_sgd_rows(&mut cw, dim, &ids, &rg, 0.01, 0.1).unwrap();
    let (mut gw, gids, grg) = (g.upload(&w0), g.upload_i32(&ids), g.upload(&rg));
    g.sign_sgd_rows(&mut gw, dim, &gids, &grg, 0.01, 0.1).unwrap();
    let got = pollster::block_on(g.read(&[&gp, &gm, &gv, &gw]));
    assert_close("trait adam param", &got[0], &cp, 1e-6, 1e-5);
    assert_close("trait adam exp_avg", &got[1], &cm, 1e-7, 1e-5);
    assert_close("trait adam exp_avg_sq", &got[2], &cv, 1e-9, 1e-5);
    assert_close("trait sign_sgd", &got[3], &cw, 1e-7, 1e-6);

    let short = rand_vec(n - 1, 11, 0.1);
    let e = c.adam_update(&step, &mut cp, &short, &mut cm, &mut cv).unwrap_err();
    assert!(matches!(e, OptimError::GradLength { param: 300, grad: 299, .. }), "{e}");
    let e = g.adam_update(&step, &mut gp, &g.upload(&short), &mut gm, &mut gv).unwrap_err();
    assert!(matches!(e, OptimError::GradLength { param: 300, grad: 299, .. }), "{e}");
    let e = c.sign_sgd_rows(&mut cw, dim, &vec![0, 4, 1], &rg, 0.01, 0.1).unwrap_err();
    assert!(matches!(e, OptimError::PuzzleId { id: 4, row: 1, rows: 4 }), "{e}");
    let e = g.sign_sgd_rows(&mut gw, dim, &gids, &g.upload(&short[..29]), 0.01, 0.1).unwrap_err();
    assert!(matches!(e, OptimError::Shape { .. }), "{e}");
    assert!(g.error().is_none(), "{:?}", g.error());
}

fn visible() -> (Config, ParamStore, Batch) {
    let dir = fixtures().join("parity/visible");
    let cfg = Config::from_json_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let read = |f: &str| hrm::checkpoint::safetensors::read_all(&std::fs::read(dir.join(f)).unwrap()).unwrap();
    let store: ParamStore = read("weights.safetensors")
        .into_iter()
        .map(|(k, t)| (k, HostTensor::new(t.shape.clone(), t.to_f64().iter().map(|&x| x as f32).collect())))
        .collect();
    let b = read("batch.safetensors");
    let ints = |k: &str| b[k].to_f64().iter().map(|&x| x as i32).collect::<Vec<i32>>();
    let ids = ints("puzzle_identifiers");
    let batch = Batch::new(ids.len(), cfg.seq_len, ints("inputs"), ints("labels"), ids).unwrap();
    (cfg, store, batch)
}

const STEPS: u64 = 20;

fn train_config(total: u64) -> TrainConfig {
    TrainConfig { lr: 1e-3, lr_warmup_steps: 0, puzzle_emb_lr: 1e-2, seed: 3, ..TrainConfig::official(total) }
}

#[test]
fn twenty_training_steps_on_gpu_equal_twenty_on_cpu() {
    let (cfg, store, batch) = visible();
    let tc = train_config(STEPS);
    let mut cpu = pollster::block_on(Trainer::new(Hrm::new(CpuBackend, &cfg, &store).unwrap(), tc)).unwrap();
    let gpu_be = GpuBackend::new_blocking().unwrap();
    let g_ctx = gpu_be.clone();
    let mut gpu = pollster::block_on(Trainer::new(Hrm::new(gpu_be, &cfg, &store).unwrap(), tc)).unwrap();
    let param_bytes: u64 = param_specs(&cfg).iter().map(|(_, s)| 4 * s.iter().product::<usize>() as u64).sum();
    for step in 1..=STEPS {
        let co = pollster::block_on(cpu.train_step(&batch)).unwrap();
        let read_before = g_ctx.context().bytes_read();
        let go = pollster::block_on(gpu.train_step(&batch)).unwrap();
        let read = g_ctx.context().bytes_read() - read_before;
        eprintln!("step {step:2}: loss cpu {:.7} gpu {:.7}; the GPU step read back {read} bytes", co.loss, go.loss);
        assert!((go.loss - co.loss).abs() <= 1e-4 * co.loss.abs().max(1.0), "step {step}: loss gpu {} vs cpu {}", go.loss, co.loss);
        assert_eq!((go.count, go.steps), (co.count, co.steps), "step {step}: halting differs");
        // Only the segment's per-row results come back: far less than one copy of the weights.
        assert!(read < param_bytes / 10, "step {step}: the GPU step read {read} bytes back (weights are {param_bytes})");
    }
    let cs = pollster::block_on(cpu.save_state(serde_json::Value::Null));
    let gs = pollster::block_on(gpu.save_state(serde_json::Value::Null));
    for (name, c) in &cs.model {
        assert_close(&format!("weight {name} after {STEPS} steps"), &gs.model[name].data, &c.data, 2e-4, 1e-3);
    }
    assert_eq!(cs.tensors.keys().collect::<Vec<_>>(), gs.tensors.keys().collect::<Vec<_>>(), "state tensor names");
    for (name, c) in &cs.tensors {
        let max = c.data.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert_close(&format!("state {name} after {STEPS} steps"), &gs.tensors[name].data, &c.data, 1e-3 * max.max(1e-12), 1e-3);
    }
}

/// A tiny model (random weights, puzzle embedding, RoPE) for the save/resume check.
fn tiny() -> (Config, ParamStore, Batch) {
    let cfg = Config::from_json_str(
        r#"{"H_cycles": 1, "L_cycles": 2, "H_layers": 1, "L_layers": 1, "hidden_size": 32, "num_heads": 2, "expansion": 2,
            "vocab_size": 6, "seq_len": 9, "batch_size": 2, "puzzle_emb_ndim": 32, "num_puzzle_identifiers": 3,
            "pos_encodings": "rope", "halt_max_steps": 2, "halt_exploration_prob": 0.5}"#,
    )
    .unwrap();
    let mut store = ParamStore::new();
    for (i, (name, shape)) in param_specs(&cfg).into_iter().chain(buffer_specs(&cfg)).enumerate() {
        let n = shape.iter().product();
        store.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, rand_vec(n, 100 + i as u64, 0.5)));
    }
    let inputs = vec![1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 4, 3, 2, 1, 1, 2, 3, 4];
    let labels = vec![2, 3, 4, 5, 1, 2, 3, 4, 5, -100, 3, 2, 1, 1, 2, 3, 4, 5];
    (cfg, store, Batch::new(2, 9, inputs, labels, vec![1, 2]).unwrap())
}

#[test]
fn a_saved_gpu_run_resumes_exactly() {
    let (cfg, store, batch) = tiny();
    let tc = train_config(10);
    let mut a = pollster::block_on(Trainer::new(Hrm::new(gpu().clone(), &cfg, &store).unwrap(), tc)).unwrap();
    for _ in 0..3 {
        pollster::block_on(a.train_step(&batch)).unwrap();
    }
    // Through the files, as the CLI and the page store it.
    let files = pollster::block_on(a.save_state(serde_json::json!({"stream": 7}))).to_files(&cfg).unwrap();
    let mut a_logs = Vec::new();
    for _ in 0..3 {
        a_logs.push(pollster::block_on(a.train_step(&batch)).unwrap());
    }
    let (cfg2, state) = hrm::train::TrainState::from_files(&files).unwrap();
    let model = Hrm::new(gpu().clone(), &cfg2, &state.model).unwrap();
    let (mut b, data) = pollster::block_on(Trainer::resume(model, &state)).unwrap();
    assert_eq!(data, serde_json::json!({"stream": 7}));
    for (i, want) in a_logs.iter().enumerate() {
        let got = pollster::block_on(b.train_step(&batch)).unwrap();
        assert_eq!(&got, want, "resumed step {} differs", 4 + i);
    }
    let (wa, wb) = (pollster::block_on(a.save_state(serde_json::Value::Null)), pollster::block_on(b.save_state(serde_json::Value::Null)));
    assert_eq!(wa.model, wb.model, "weights after the resumed run");
    assert_eq!(wa.tensors, wb.tensors, "optimizer state and carry after the resumed run");
    assert!(gpu().error().is_none(), "{:?}", gpu().error());
}
