//! The training loop (HRM_SPEC.md §7, §8) on the built-in synthetic task: a tiny model learns it to a
//! real exact-accuracy threshold within a bounded number of steps, and a state saved mid-training
//! resumes to the same next step, bit for bit.
use hrm::backend::CpuBackend;
use hrm::model::{Batch, Hrm, PREFIX};
use hrm::optim::AdamVariant;
use hrm::synthetic::{eval_set, SyntheticConfig, SyntheticStream, Task};
use hrm::train::{evaluate, TrainConfig, TrainState, Trainer};
use hrm::{Config, LossType, ParamStore, PosEncoding};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn tiny_config(task: &SyntheticConfig, batch: usize, halt_max_steps: usize, puzzle_emb_ndim: usize) -> Config {
    Config {
        batch_size: batch,
        seq_len: task.seq_len,
        puzzle_emb_ndim,
        num_puzzle_identifiers: 1,
        vocab_size: task.vocab_size(),
        h_cycles: 2,
        l_cycles: 2,
        h_layers: 1,
        l_layers: 1,
        hidden_size: 32,
        expansion: 2.0,
        num_heads: 2,
        pos_encodings: PosEncoding::Learned,
        rms_norm_eps: 1e-5,
        rope_theta: 10000.0,
        halt_max_steps,
        halt_exploration_prob: 0.1,
        forward_dtype: "float32".into(),
        loss_type: LossType::StablemaxCrossEntropy,
        attn_radius: 0,
    }
}

/// The official initialisation (`hrm::params::init`).
fn init(cfg: &Config, seed: u64) -> ParamStore {
    hrm::params::init(cfg, seed)
}

#[test]
fn a_tiny_model_learns_the_synthetic_task() {
    // Reverse 6 symbols of 4: a random guess is exact with probability 4^-6.
    let task = SyntheticConfig::new(Task::Reverse, 6, 4, 6).unwrap();
    let batch = 64;
    let cfg = tiny_config(&task, batch, 2, 0);
    let model = Hrm::new(CpuBackend, &cfg, &init(&cfg, 1)).unwrap();
    let max_steps = 300;
    let tc = TrainConfig { lr: 3e-3, lr_warmup_steps: 20, lr_min_ratio: 0.1, weight_decay: 0.01, ..TrainConfig::official(max_steps) };
    let mut trainer = block_on(Trainer::new(model, tc)).unwrap();
    let mut stream = SyntheticStream::new(task, 7).unwrap();
    let held_out: Vec<Batch> = eval_set(&task, 99, 4, batch).into_iter().map(Batch::from).collect();

    let before = block_on(evaluate(trainer.model_mut(), &held_out)).unwrap();
    assert!(before.exact_accuracy < 0.05, "untrained model already exact: {before:?}");
    let mut losses = Vec::new();
    let mut after = None;
    for s in 1..=max_steps {
        let log = block_on(trainer.train_step(&stream.next_batch(batch).into())).unwrap();
        assert!(log.loss.is_finite(), "step {s}: loss {}", log.loss);
        assert_eq!(log.step, s);
        losses.push(log.lm_loss);
        if s % 25 == 0 {
            let ev = block_on(evaluate(trainer.model_mut(), &held_out)).unwrap();
            println!("step {s}: train lm_loss {:.4} exact {:.3} | held-out exact {:.3} token acc {:.3}", log.lm_loss, log.exact_accuracy, ev.exact_accuracy, ev.accuracy);
            if ev.exact_accuracy >= 0.95 {
                after = Some(ev);
                break;
            }
        }
    }
    let after = after.unwrap_or_else(|| panic!("held-out exact accuracy stayed below 0.95 for {max_steps} steps"));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (first, last) = (mean(&losses[..10]), mean(&losses[losses.len() - 10..]));
    assert!(last < 0.5 * first, "lm loss {first} -> {last}");
    assert_eq!(after.count, (4 * batch) as f64);
    assert_eq!(after.segments, 4 * cfg.halt_max_steps);
}

/// Train a few steps with a puzzle embedding and several ACT steps (so rows are mid-example), then save.
fn trained_state(steps: usize) -> (Config, Trainer<CpuBackend>, SyntheticStream) {
    let task = SyntheticConfig::new(Task::CumSum, 5, 3, 3).unwrap();
    let cfg = tiny_config(&task, 16, 4, 24);
    let model = Hrm::new(CpuBackend, &cfg, &init(&cfg, 5)).unwrap();
    let tc = TrainConfig { lr: 1e-3, lr_warmup_steps: 3, lr_min_ratio: 0.5, optimizer: AdamVariant::Atan2, seed: 11, ..TrainConfig::official(50) };
    let mut trainer = block_on(Trainer::new(model, tc)).unwrap();
    let mut stream = SyntheticStream::new(task, 3).unwrap();
    for _ in 0..steps {
        block_on(trainer.train_step(&stream.next_batch(16).into())).unwrap();
    }
    (cfg, trainer, stream)
}

#[test]
fn a_state_saved_mid_training_resumes_to_the_same_next_step() {
    let (cfg, mut trainer, mut stream) = trained_state(7);
    let data = serde_json::json!({ "rng": stream.rng_state() });
    let saved: TrainState = block_on(trainer.save_state(data));
    // Through the byte form the CLI writes to files (and the page to IndexedDB): exact.
    let files = saved.to_files(&cfg).unwrap();
    let (cfg_back, state) = TrainState::from_files(&files).unwrap();
    assert_eq!((&cfg_back, &state), (&cfg, &saved));
    let carry = state.meta.carry.as_ref().unwrap();
    assert!(carry.halted.iter().any(|&h| !h), "every row halted: the test would not exercise the carry");
    assert!(carry.steps.iter().any(|&s| s > 1));

    let next = stream.next_batch(16);
    let a = block_on(trainer.train_step(&next.clone().into())).unwrap();
    let a_params = block_on(trainer.model().to_param_store());

    let model = Hrm::new(CpuBackend, &cfg, &state.model).unwrap();
    let (mut resumed, data) = block_on(Trainer::resume(model, &state)).unwrap();
    assert_eq!(resumed.step(), 7);
    let mut stream2 = SyntheticStream::new(stream.config, 0).unwrap();
    stream2.set_rng_state(data["rng"].as_u64().unwrap());
    let next2 = stream2.next_batch(16);
    assert_eq!(next2, next);
    let b = block_on(resumed.train_step(&next2.into())).unwrap();
    assert_eq!(a, b, "the resumed step differs");
    assert_eq!(a_params, block_on(resumed.model().to_param_store()), "parameters after the resumed step differ");

    // The puzzle embedding really trained (SignSGD moved it from zero).
    let emb = &a_params[&format!("{PREFIX}puzzle_emb.weights")];
    assert!(emb.data.iter().any(|&x| x != 0.0));

    // Without the optimizer state, the next step is NOT the same (the test above is not vacuous).
    let model = Hrm::new(CpuBackend, &cfg, &state.model).unwrap();
    let mut bare = TrainState { tensors: state.tensors.clone(), ..state.clone() };
    bare.tensors.retain(|k, _| !k.starts_with("optim."));
    let (mut fresh, _) = block_on(Trainer::resume(model, &bare)).unwrap();
    block_on(fresh.train_step(&next.into())).unwrap();
    assert_ne!(a_params, block_on(fresh.model().to_param_store()));
}

#[test]
fn a_broken_state_is_refused_with_the_tensor_name() {
    let (cfg, mut trainer, mut stream) = trained_state(2);
    let state = block_on(trainer.save_state(serde_json::Value::Null));
    // A save torn between files (state tensors of one step, metadata of the next) is refused.
    let old = state.to_files(&cfg).unwrap();
    block_on(trainer.train_step(&stream.next_batch(16).into())).unwrap();
    let new = block_on(trainer.save_state(serde_json::Value::Null)).to_files(&cfg).unwrap();
    let torn = hrm::train::StateFiles { state: old.state.clone(), ..new };
    let e = TrainState::from_files(&torn).err().unwrap();
    assert!(e.to_string().contains("step"), "{e}");
    assert!(TrainState::from_files(&hrm::train::StateFiles { model: old.model[..100].to_vec(), ..old.clone() }).is_err());
    let mut broken = state.clone();
    broken.tensors.remove("carry.z_L");
    let model = Hrm::new(CpuBackend, &cfg, &state.model).unwrap();
    let e = block_on(Trainer::resume(model, &broken)).err().unwrap();
    assert!(e.to_string().contains("carry.z_L"), "{e}");
    let mut broken = state.clone();
    broken.tensors.get_mut("carry.z_H").unwrap().data.pop();
    let model = Hrm::new(CpuBackend, &cfg, &state.model).unwrap();
    let e = block_on(Trainer::resume(model, &broken)).err().unwrap();
    assert!(e.to_string().contains("carry.z_H"), "{e}");
}
