//! GPU failures are error values, never panics, and the CPU backend can take over: a buffer over the
//! device's binding limit is a named `GpuError::TooLarge` (directly, and as the backend's sticky error),
//! a lost device makes every later op a no-op with `GpuError::DeviceLost` that the trainer returns as an
//! error, and the same weights then run on `CpuBackend` with the numbers a CPU-only run gives.
#![cfg(not(target_arch = "wasm32"))]

#[path = "gpu_common.rs"]
mod gpu_common;

use hrm::backend::gpu::{GpuBackend, GpuError};
use hrm::backend::{Backend, CpuBackend};
use hrm::model::{buffer_specs, param_specs, Batch, Hrm, PREFIX};
use hrm::train::{TrainConfig, TrainError, Trainer};
use hrm::{Config, HostTensor, ParamStore};

/// Each test its own device: these tests break theirs on purpose.
fn fresh() -> GpuBackend {
    GpuBackend::new_blocking().unwrap_or_else(|e| panic!("{e}"))
}

fn tiny() -> (Config, ParamStore, Batch) {
    let cfg = Config::from_json_str(
        r#"{"H_cycles": 1, "L_cycles": 1, "H_layers": 1, "L_layers": 1, "hidden_size": 16, "num_heads": 2, "expansion": 2,
            "vocab_size": 5, "seq_len": 6, "batch_size": 2, "puzzle_emb_ndim": 16, "num_puzzle_identifiers": 2,
            "pos_encodings": "rope", "halt_max_steps": 2, "halt_exploration_prob": 0.0}"#,
    )
    .unwrap();
    let mut store = ParamStore::new();
    for (i, (name, shape)) in param_specs(&cfg).into_iter().chain(buffer_specs(&cfg)).enumerate() {
        let n = shape.iter().product();
        store.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, gpu_common::rand_vec(n, 40 + i as u64, 0.5)));
    }
    let batch = Batch::new(2, 6, vec![1, 2, 3, 4, 1, 2, 4, 3, 2, 1, 1, 1], vec![2, 3, 4, 1, 2, 3, 3, 2, 1, 1, 2, -100], vec![0, 1]).unwrap();
    (cfg, store, batch)
}

#[test]
fn a_buffer_over_the_binding_limit_is_a_named_error() {
    let be = fresh();
    let limit = be.context().info().max_storage_binding_bytes;
    let too_many = (limit / 4 + 1) as usize;
    match be.context().empty(&[too_many]) {
        Err(GpuError::TooLarge { bytes, limit: l }) => assert!(bytes > l && l == limit, "{bytes} vs {l}"),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Through the trait (which cannot return errors): a stand-in buffer, and the error is kept.
    let small = be.alloc(too_many);
    assert!(be.len(&small) < too_many);
    match be.error() {
        Some(GpuError::TooLarge { .. }) => {}
        other => panic!("expected the backend to keep TooLarge, got {other:?}"),
    }
    let msg = be.failure().expect("a failure");
    assert!(msg.contains("exceeds the device's binding limit"), "{msg}");
    // Later reads give zeros instead of garbage or a panic; the error stays.
    let zeros = pollster::block_on(be.read(&[&small]));
    assert!(zeros[0].iter().all(|&x| x == 0.0));
    assert!(matches!(be.error(), Some(GpuError::TooLarge { .. })));
}

#[test]
fn a_lost_device_is_an_error_and_the_cpu_takes_over() {
    let (cfg, store, batch) = tiny();
    let tc = TrainConfig { lr: 1e-3, lr_warmup_steps: 0, ..TrainConfig::official(10) };
    let be = fresh();
    let mut gpu = pollster::block_on(Trainer::new(Hrm::new(be.clone(), &cfg, &store).unwrap(), tc)).unwrap();
    let mut cpu = pollster::block_on(Trainer::new(Hrm::new(CpuBackend, &cfg, &store).unwrap(), tc)).unwrap();
    let g1 = pollster::block_on(gpu.train_step(&batch)).unwrap();
    let c1 = pollster::block_on(cpu.train_step(&batch)).unwrap();
    assert!((g1.loss - c1.loss).abs() <= 1e-4 * c1.loss.abs().max(1.0), "step 1: gpu {} cpu {}", g1.loss, c1.loss);
    // The state a careful caller keeps (the page saves one every few steps).
    let saved = pollster::block_on(gpu.save_state(serde_json::Value::Null));

    be.context().destroy();
    match pollster::block_on(gpu.train_step(&batch)) {
        Err(TrainError::State(msg)) => assert!(msg.contains("device lost") && msg.contains("fall back"), "{msg}"),
        other => panic!("expected an error after the device was lost, got {other:?}"),
    }
    assert!(matches!(be.error(), Some(GpuError::DeviceLost(_))), "{:?}", be.error());
    // Eval on the lost device does not panic either.
    let mut model = gpu.into_model();
    let mut carry = model.initial_carry(&batch);
    let _ = pollster::block_on(model.eval_segment(&mut carry, &batch, None));
    assert!(matches!(be.error(), Some(GpuError::DeviceLost(_))));

    // Fall back: resume the saved state on the CPU; it continues exactly as the CPU-only run.
    let (mut resumed, _) = pollster::block_on(Trainer::resume(Hrm::new(CpuBackend, &cfg, &saved.model).unwrap(), &saved)).unwrap();
    let c2 = pollster::block_on(cpu.train_step(&batch)).unwrap();
    let r2 = pollster::block_on(resumed.train_step(&batch)).unwrap();
    assert!((r2.loss - c2.loss).abs() <= 1e-4 * c2.loss.abs().max(1.0), "step 2 after the fallback: {} vs {}", r2.loss, c2.loss);
    assert_eq!((r2.count, r2.steps), (c2.count, c2.steps));
}
