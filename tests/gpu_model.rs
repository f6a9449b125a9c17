//! One model, two backends: the HRM (crate::model, written once against `Backend`) run on the GPU must
//! give what it gives on the CPU — whose numbers the parity test pins to the official vectors — for
//! every eval segment and for training segments (losses, Q values, carries, every gradient). Also the
//! one-step gradient's O(1)-memory claim: peak GPU buffer bytes of a training step do not grow with
//! the number of cycles.
#![cfg(not(target_arch = "wasm32"))]

#[path = "gpu_common.rs"]
mod gpu_common;

use std::collections::HashMap;

use gpu_common::assert_close;
use hrm::backend::gpu::GpuBackend;
use hrm::backend::{Backend, CpuBackend};
use hrm::model::{Batch, Hrm, SplitMix64};
use hrm::{Config, HostTensor, ParamStore};
use hrm_tests::fixtures;
use safetensors::{Dtype, SafeTensors};

fn load(name: &str) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let path = fixtures().join("parity/visible").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(k, v)| {
            let d = v.data();
            let vals: Vec<f32> = match v.dtype() {
                Dtype::F32 => d.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
                Dtype::I32 => d.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
                Dtype::I64 => d.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
                other => panic!("{k}: dtype {other:?}"),
            };
            (k, (v.shape().to_vec(), vals))
        })
        .collect()
}

fn setup() -> (Config, ParamStore, Vec<Batch>) {
    let cfg = Config::from_json_str(&std::fs::read_to_string(fixtures().join("parity/visible/config.json")).unwrap()).unwrap();
    let store: ParamStore = load("weights.safetensors").into_iter().map(|(k, (s, v))| (k, HostTensor::new(s, v))).collect();
    let b = load("batch.safetensors");
    let ints = |k: &str| b[k].1.iter().map(|&x| x as i32).collect::<Vec<i32>>();
    let batches = ["", "_seg2"]
        .iter()
        .map(|s| {
            let ids = ints(&format!("puzzle_identifiers{s}"));
            Batch::new(ids.len(), cfg.seq_len, ints(&format!("inputs{s}")), ints(&format!("labels{s}")), ids).unwrap()
        })
        .collect();
    (cfg, store, batches)
}

fn read1<B: Backend>(be: &B, t: &B::Buf) -> Vec<f32> {
    pollster::block_on(be.read(&[t])).remove(0)
}

fn gpu_backend() -> GpuBackend {
    GpuBackend::new_blocking().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn eval_segments_equal_on_both_backends() {
    let (cfg, store, batches) = setup();
    eval_segments_agree(&cfg, &store, &batches);
}

/// The parity weights with rope2d positions (the same weights; 81 = 9x9 cells): the GPU reads the 2-D
/// tables as the CPU does, and they change the result (so the test would see them dropped).
#[test]
fn rope2d_eval_segments_equal_on_both_backends() {
    let (cfg, store, batches) = setup();
    let cfg2 = Config { pos_encodings: hrm::PosEncoding::Rope2d, ..cfg.clone() };
    let last = eval_segments_agree(&cfg2, &store, &batches);
    assert_ne!(last, eval_segments_agree(&cfg, &store, &batches), "rope2d gave the 1-D logits");
}

/// The same with a local attention window (attn_radius 1 over the 9x9 grid, the puzzle position
/// reading everything): the GPU masks the keys the CPU masks, and the window changes the result.
#[test]
fn local_attention_eval_segments_equal_on_both_backends() {
    let (cfg, store, batches) = setup();
    let local = Config { pos_encodings: hrm::PosEncoding::Rope2d, attn_radius: 1, ..cfg.clone() };
    let global = Config { attn_radius: 0, ..local.clone() };
    let last = eval_segments_agree(&local, &store, &batches);
    assert_ne!(last, eval_segments_agree(&global, &store, &batches), "the window changed nothing");
}

/// Runs every eval segment on both backends, checks they agree, returns the CPU's last logits.
fn eval_segments_agree(cfg: &Config, store: &ParamStore, batches: &[Batch]) -> Vec<f32> {
    let mut cpu = Hrm::new(CpuBackend, &cfg, &store).unwrap();
    let mut gpu = Hrm::new(gpu_backend(), &cfg, &store).unwrap();
    let mut cc = cpu.initial_carry(&batches[0]);
    let mut gc = gpu.initial_carry(&batches[0]);
    for s in 1..=cfg.halt_max_steps {
        let co = pollster::block_on(cpu.eval_segment(&mut cc, &batches[0], None)).unwrap();
        let go = pollster::block_on(gpu.eval_segment(&mut gc, &batches[0], None)).unwrap();
        if let Some(e) = gpu.backend().error() {
            panic!("segment {s}: {e}");
        }
        let what = |x: &str| format!("gpu eval segment {s}: {x}");
        assert_close(&what("logits"), &pollster::block_on(gpu.read_logits()), &pollster::block_on(cpu.read_logits()), 1e-4, 0.0);
        assert_close(&what("q_halt"), &go.q_halt, &co.q_halt, 1e-4, 0.0);
        assert_close(&what("q_continue"), &go.q_continue, &co.q_continue, 1e-4, 0.0);
        assert_close(&what("z_H"), &read1(gpu.backend(), &gc.z_h), &read1(cpu.backend(), &cc.z_h), 1e-4, 0.0);
        assert_close(&what("z_L"), &read1(gpu.backend(), &gc.z_l), &read1(cpu.backend(), &cc.z_l), 1e-4, 0.0);
        assert_eq!((go.steps.clone(), go.halted.clone()), (co.steps.clone(), co.halted.clone()), "{}", what("steps/halted"));
        assert!((go.loss - co.loss).abs() <= 1e-5 * co.loss.abs().max(1.0), "{}: {} vs {}", what("loss"), go.loss, co.loss);
        eprintln!("segment {s}: loss cpu {:.7} gpu {:.7}", co.loss, go.loss);
        if co.all_halted {
            break;
        }
    }
    pollster::block_on(cpu.read_logits())
}

#[test]
fn train_segments_equal_on_both_backends() {
    let (cfg, store, batches) = setup();
    let mut cpu = Hrm::new(CpuBackend, &cfg, &store).unwrap();
    let mut gpu = Hrm::new(gpu_backend(), &cfg, &store).unwrap();
    let mut cc = cpu.initial_carry(&batches[0]);
    let mut gc = gpu.initial_carry(&batches[0]);
    let (mut cr, mut gr) = (SplitMix64(0), SplitMix64(0));
    for (i, b) in batches.iter().enumerate() {
        let co = pollster::block_on(cpu.train_segment(&mut cc, b, &mut cr)).unwrap();
        let go = pollster::block_on(gpu.train_segment(&mut gc, b, &mut gr)).unwrap();
        if let Some(e) = gpu.backend().error() {
            panic!("train segment {}: {e}", i + 1);
        }
        let s = i + 1;
        assert!((go.loss - co.loss).abs() <= 1e-5 * co.loss.abs().max(1.0), "train segment {s} loss {} vs {}", go.loss, co.loss);
        assert_close(&format!("train {s} q_halt"), &go.q_halt, &co.q_halt, 1e-4, 0.0);
        assert_close(&format!("train {s} q_continue"), &go.q_continue, &co.q_continue, 1e-4, 0.0);
        assert_eq!(go.halted, co.halted, "train segment {s} halted");
        let cg = pollster::block_on(cpu.grads_to_store());
        let gg = pollster::block_on(gpu.grads_to_store());
        assert_eq!(cg.keys().collect::<Vec<_>>(), gg.keys().collect::<Vec<_>>());
        for (name, c) in &cg {
            let max = c.data.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert_close(&format!("train {s} grad {name}"), &gg[name].data, &c.data, 1e-4 * max.max(1e-12), 0.0);
        }
        eprintln!("train segment {s}: loss cpu {:.7} gpu {:.7}, {} gradients equal", co.loss, go.loss, cg.len());
    }
}

/// Peak pooled bytes of one training segment (weights, activations, gradients, scratch) after a
/// warm-up segment has sized the work buffers.
fn peak_train_bytes(cfg: &Config, store: &ParamStore, batch: &Batch) -> u64 {
    let mut gpu = Hrm::new(gpu_backend(), cfg, store).unwrap();
    let mut carry = gpu.initial_carry(batch);
    let mut rng = SplitMix64(7);
    pollster::block_on(gpu.train_segment(&mut carry, batch, &mut rng)).unwrap();
    gpu.backend().context().reset_pool_peaks();
    pollster::block_on(gpu.train_segment(&mut carry, batch, &mut rng)).unwrap();
    if let Some(e) = gpu.backend().error() {
        panic!("{e}");
    }
    gpu.backend().context().pool_stats().peak_allocated_bytes
}

#[test]
fn memory_is_flat_in_cycles() {
    let (mut cfg, store, batches) = setup();
    cfg.h_cycles = 1;
    cfg.l_cycles = 1;
    let small = peak_train_bytes(&cfg, &store, &batches[0]);
    cfg.h_cycles = 4;
    cfg.l_cycles = 8;
    let large = peak_train_bytes(&cfg, &store, &batches[0]);
    let ratio = large as f64 / small as f64;
    eprintln!("peak GPU buffer bytes of a training step: (H,L) = (1,1): {small}, (4,8): {large}, ratio {ratio:.4}");
    assert!(ratio <= 1.05, "(4,8) cycles need {large} bytes, (1,1) {small}: ratio {ratio:.3} > 1.05");
}
