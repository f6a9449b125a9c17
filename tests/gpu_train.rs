//! Training on the GPU equals training on the CPU: the optimizer kernels against their CPU twins
//! (hrm::optim), then 20 training steps (train segment + AdamATan2 + sparse SignSGD) of the same model
//! on both backends, compared step by step (losses) and at the end (every weight).
#![cfg(not(target_arch = "wasm32"))]

#[path = "gpu_common.rs"]
mod gpu_common;

use gpu_common::{assert_close, ctx, rand_ids, rand_vec};
use hrm::backend::gpu::optim::{dispatch_adam_atan2, dispatch_sign_sgd, GpuAdam};
use hrm::backend::gpu::GpuBackend;
use hrm::backend::CpuBackend;
use hrm::model::{Batch, Hrm, SplitMix64};
use hrm::optim::{adam_atan2_update, sign_sgd_rows, Adam, AdamAtan2Coeffs, AdamConfig};
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

const STEPS: usize = 20;
const LR: f64 = 1e-3;
const PUZZLE_LR: f64 = 1e-2;

#[test]
fn twenty_training_steps_on_gpu_equal_twenty_on_cpu() {
    let (cfg, store, batch) = visible();
    let adam_cfg = AdamConfig::default();
    // CPU
    let mut cpu = Hrm::new(CpuBackend, &cfg, &store).unwrap();
    let mut c_carry = cpu.initial_carry(&batch);
    let mut c_rng = SplitMix64(3);
    let mut c_adam = Adam::new(adam_cfg).unwrap();
    // GPU
    let mut gpu = Hrm::new(GpuBackend::new_blocking().unwrap(), &cfg, &store).unwrap();
    let mut g_carry = gpu.initial_carry(&batch);
    let mut g_rng = SplitMix64(3);
    let mut g_adam = GpuAdam::new(adam_cfg).unwrap();
    let dim = cfg.puzzle_emb_ndim;
    for step in 1..=STEPS {
        let co = pollster::block_on(cpu.train_segment(&mut c_carry, &batch, &mut c_rng)).unwrap();
        for (name, p, gr) in cpu.params_and_grads_mut() {
            c_adam.step_tensor(LR, &name, p, gr).unwrap();
        }
        if dim > 0 {
            let ids = cpu.puzzle_grad_ids().to_vec();
            let pg = cpu.puzzle_grad().clone();
            sign_sgd_rows(&mut cpu.buffers_mut().puzzle_emb, dim, &ids, &pg, PUZZLE_LR, 0.1).unwrap();
        }

        let go = pollster::block_on(gpu.train_segment(&mut g_carry, &batch, &mut g_rng)).unwrap();
        // Handles share their buffers, so updating the clones updates the model's parameters.
        let pairs: Vec<(String, _, _)> = gpu.params_and_grads_mut().into_iter().map(|(n, p, g)| (n, p.clone(), g.clone())).collect();
        let g_ctx = gpu.backend().context();
        for (name, p, gr) in &pairs {
            g_adam.step_tensor(g_ctx, LR, name, p, gr).unwrap();
        }
        if dim > 0 {
            let ids: Vec<u32> = gpu.puzzle_grad_ids().iter().map(|&i| i as u32).collect();
            let gids = g_ctx.upload(&[ids.len()], &ids).unwrap();
            let pg = gpu.puzzle_grad().clone();
            let w = gpu.buffers().puzzle_emb.reshape(vec![cfg.num_puzzle_identifiers, dim]).unwrap();
            dispatch_sign_sgd(g_ctx, &w, &pg, &gids, PUZZLE_LR, 0.1).unwrap();
        }
        if let Some(e) = gpu.backend().error() {
            panic!("step {step}: {e}");
        }
        eprintln!("step {step:2}: loss cpu {:.7} gpu {:.7}", co.loss, go.loss);
        assert!((go.loss - co.loss).abs() <= 1e-4 * co.loss.abs().max(1.0), "step {step}: loss gpu {} vs cpu {}", go.loss, co.loss);
        assert_eq!(go.halted, co.halted, "step {step}: halting decisions differ");
    }
    let cw = pollster::block_on(cpu.to_param_store());
    let gw = pollster::block_on(gpu.to_param_store());
    for (name, c) in &cw {
        assert_close(&format!("weight {name} after {STEPS} steps"), &gw[name].data, &c.data, 2e-4, 1e-3);
    }
}
