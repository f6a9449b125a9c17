//! Unit tests of the ACT wrapper's discrete logic, batch validation and parameter lookup on a tiny
//! random model. (Numerical parity with the official code is tests/parity.rs; gradients tests/gradcheck.rs.)

use super::*;
use crate::backend::CpuBackend;

fn cfg(extra: &str) -> Config {
    let base = r#""H_cycles": 1, "L_cycles": 2, "H_layers": 1, "L_layers": 1, "hidden_size": 8, "num_heads": 2, "expansion": 2,
        "vocab_size": 4, "seq_len": 3, "batch_size": 3, "puzzle_emb_ndim": 8, "num_puzzle_identifiers": 2, "pos_encodings": "rope""#;
    Config::from_json_str(&format!("{{{base}, {extra}}}")).unwrap()
}

fn store(cfg: &Config) -> ParamStore {
    let mut rng = SplitMix64(3);
    let mut s = ParamStore::new();
    for (name, shape) in param_specs(cfg).into_iter().chain(buffer_specs(cfg)) {
        let n = shape.iter().product();
        let data = (0..n).map(|_| (rng.uniform() * 2.0 - 1.0) as f32).collect();
        s.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, data));
    }
    s
}

fn batch(first_token: i32) -> Batch {
    Batch::new(3, 3, vec![first_token, 2, 3, 1, 1, 2, 0, 0, 0], vec![1, 2, 3, 3, -100, 2, -100, -100, -100], vec![1, 0, 0]).unwrap()
}

#[test]
fn eval_halts_all_rows_exactly_at_halt_max_steps() {
    let c = cfg(r#""halt_max_steps": 3, "halt_exploration_prob": 0.0"#);
    let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
    let b = batch(1);
    let mut carry = m.initial_carry(&b);
    assert!(carry.halted.iter().all(|&h| h), "initial carry: every row halted");
    for s in 1..=3 {
        let out = pollster::block_on(m.eval_segment(&mut carry, &b, None)).unwrap();
        assert_eq!(out.steps, vec![s; 3]);
        assert_eq!(out.all_halted, s == 3);
        assert!(out.target_q_continue.is_none());
        assert_eq!(out.metrics.q_continue_loss, 0.0);
        // the padding row (all labels ignored) is never counted
        assert_eq!(out.metrics.count, if s == 3 { 2.0 } else { 0.0 });
        assert!(out.seq_is_correct[2]);
    }
}

#[test]
fn exploration_delays_halting_and_only_halted_rows_take_new_data() {
    // exploration always on: min_halt_steps in 2..=4, so nothing halts at step 1 whatever Q says
    let c = cfg(r#""halt_max_steps": 4, "halt_exploration_prob": 1.0"#);
    let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
    let (b1, b2) = (batch(1), batch(3));
    let mut carry = m.initial_carry(&b1);
    let out = pollster::block_on(m.train_segment(&mut carry, &b1, &mut SplitMix64(9))).unwrap();
    assert_eq!(out.halted, vec![false; 3]);
    assert_eq!(out.steps, vec![1; 3]);
    assert!(out.target_q_continue.is_some());
    // nobody halted: the new batch is ignored, every row keeps its example and its state
    let z_before = carry.z_h.clone();
    let out2 = pollster::block_on(m.train_segment(&mut carry, &b2, &mut SplitMix64(10))).unwrap();
    assert_eq!(carry.current_data, b1);
    assert_eq!(out2.steps, vec![2; 3]);
    assert_ne!(carry.z_h, z_before, "the state moved on from the carried one");
    // force-halt row 0 and run again: only row 0 takes the new example and restarts at step 1
    carry.halted = vec![true, false, false];
    let out3 = pollster::block_on(m.train_segment(&mut carry, &b2, &mut SplitMix64(11))).unwrap();
    assert_eq!(out3.steps[0], 1);
    assert_eq!(&out3.steps[1..], &[3, 3]);
    assert_eq!(carry.current_data.inputs[..3], b2.inputs[..3]);
    assert_eq!(carry.current_data.inputs[3..], b1.inputs[3..]);
}

#[test]
fn train_without_exploration_is_deterministic_and_halts_at_max() {
    let c = cfg(r#""halt_max_steps": 2, "halt_exploration_prob": 0.0"#);
    let run = || {
        let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
        let b = batch(1);
        let mut carry = m.initial_carry(&b);
        let a = pollster::block_on(m.train_segment(&mut carry, &b, &mut SplitMix64(1))).unwrap();
        let o = pollster::block_on(m.train_segment(&mut carry, &b, &mut SplitMix64(1))).unwrap();
        (a, o, pollster::block_on(m.grads_to_store()))
    };
    let (a1, b1, g1) = run();
    let (a2, b2, g2) = run();
    assert_eq!((a1.clone(), b1.clone()), (a2, b2));
    assert_eq!(g1, g2);
    // rows still running at step 2 = halt_max_steps must halt
    for (s, h) in b1.steps.iter().zip(&b1.halted) {
        if *s == 2 {
            assert!(*h);
        }
    }
    // q_halt > q_continue halts at step 1 (no exploration)
    for b in 0..3 {
        assert_eq!(a1.halted[b], a1.q_halt[b] > a1.q_continue[b]);
    }
    assert!(g1.contains_key("model.inner.puzzle_emb.local_weights"));
}

#[test]
fn bad_inputs_are_refused_with_a_message_naming_them() {
    let c = cfg(r#""halt_max_steps": 2, "halt_exploration_prob": 0.0"#);
    let mut s = store(&c);
    s.remove("model.inner.lm_head.weight");
    let e = Hrm::new(CpuBackend, &c, &s).err().unwrap();
    assert!(e.to_string().contains("model.inner.lm_head.weight"), "{e}");
    let mut s = store(&c);
    s.insert("model.inner.H_init".into(), HostTensor::zeros(vec![7]));
    let e = Hrm::new(CpuBackend, &c, &s).err().unwrap();
    assert!(e.to_string().contains("H_init") && e.to_string().contains("[8]"), "{e}");
    let mut s = store(&c);
    s.get_mut("model.inner.q_head.bias").unwrap().data[1] = f32::NAN;
    assert!(Hrm::new(CpuBackend, &c, &s).err().unwrap().to_string().contains("q_head.bias"));

    let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
    let good = batch(1);
    let mut carry = m.initial_carry(&good);
    let mut bad = good.clone();
    bad.inputs[4] = 9;
    let e = pollster::block_on(m.eval_segment(&mut carry, &bad, None)).err().unwrap();
    assert!(e.to_string().contains("inputs[4] = 9"), "{e}");
    let mut bad = good.clone();
    bad.puzzle_identifiers[0] = 2;
    assert!(pollster::block_on(m.eval_segment(&mut carry, &bad, None)).err().unwrap().to_string().contains("puzzle_identifiers[0]"));
    assert!(Batch::new(2, 3, vec![0; 5], vec![0; 6], vec![0; 2]).err().unwrap().to_string().contains("inputs has 5 values"));
    let small = Batch::new(1, 3, vec![1; 3], vec![1; 3], vec![0]).unwrap();
    assert!(matches!(pollster::block_on(m.eval_segment(&mut carry, &small, None)), Err(ModelError::CarryRows { .. })));
}

#[test]
fn observer_sees_every_call_and_lm_head_decodes_the_final_state() {
    struct Keep(Vec<(CallInfo, Vec<f32>)>);
    impl Observer<CpuBackend> for Keep {
        fn on_call(&mut self, _: &CpuBackend, call: CallInfo, z: &Vec<f32>) {
            self.0.push((call, z.clone()));
        }
    }
    let c = cfg(r#""halt_max_steps": 2, "halt_exploration_prob": 0.0, "H_cycles": 2"#);
    let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
    let b = batch(1);
    let mut carry = m.initial_carry(&b);
    let mut keep = Keep(Vec::new());
    pollster::block_on(m.eval_segment(&mut carry, &b, Some(&mut keep))).unwrap();
    let order: Vec<(Module, usize, Option<usize>, usize)> = keep.0.iter().map(|(c, _)| (c.module, c.h_cycle, c.l_step, c.index)).collect();
    use Module::{H, L};
    assert_eq!(order, vec![(L, 0, Some(0), 0), (L, 0, Some(1), 1), (H, 0, None, 0), (L, 1, Some(0), 2), (L, 1, Some(1), 3), (H, 1, None, 1)]);
    assert_eq!(keep.0[5].1, carry.z_h);
    assert_eq!(keep.0[4].1, carry.z_l);
    let mut logits = vec![0.0; 3 * c.total_seq() * c.vocab_size];
    m.lm_head(&keep.0[5].1, 3, &mut logits);
    assert_eq!(Some(&logits), m.logits());
}

#[test]
fn weights_round_trip_through_a_param_store() {
    let c = cfg(r#""halt_max_steps": 2, "halt_exploration_prob": 0.0, "pos_encodings": "learned""#);
    let s = store(&c);
    let m = Hrm::new(CpuBackend, &c, &s).unwrap();
    assert_eq!(pollster::block_on(m.to_param_store()), s);
}

/// `h_update` is the H call of the segment: from the z_H entering a cycle and the z_L of its last L
/// step it gives the segment's own z_H after that cycle (what the page's planner preview relies on).
#[test]
fn h_update_reproduces_the_segment_planner_update() {
    struct Keep(Vec<(CallInfo, Vec<f32>)>);
    impl Observer<CpuBackend> for Keep {
        fn on_call(&mut self, _: &CpuBackend, call: CallInfo, z: &Vec<f32>) {
            self.0.push((call, z.clone()));
        }
    }
    let mut c = cfg(r#""halt_max_steps": 2, "halt_exploration_prob": 0.0"#);
    c.h_cycles = 2;
    let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
    let b = batch(1);
    let mut carry = m.initial_carry(&b);
    let mut keep = Keep(Vec::new());
    pollster::block_on(m.eval_segment(&mut carry, &b, Some(&mut keep))).unwrap();
    // calls: L L H L L H; cycle 2's planner update starts from the first H output
    let calls = &keep.0;
    assert_eq!(calls.iter().map(|(c, _)| c.module).collect::<Vec<_>>(), [Module::L, Module::L, Module::H, Module::L, Module::L, Module::H]);
    let mut z_h = calls[2].1.clone();
    m.h_update(&mut z_h, &calls[4].1).unwrap();
    assert_eq!(z_h, calls[5].1);
    assert_eq!(z_h, carry.z_h);
    // a state of the wrong size is an error, not a panic
    assert!(m.h_update(&mut vec![0.0; 3], &calls[4].1).is_err());
}

/// `attn_radius`: a cell's logits depend only on the cells its windows reach. With one L and one H
/// layer per segment a cell reads 2 cells out per segment; changing the top-left token must leave
/// every cell farther away bit for bit the same after one segment, change some nearer ones, and
/// reach one step farther per segment through the carried state. Global attention changes them all.
#[test]
fn local_attention_limits_what_a_cell_reads() {
    let side = 7;
    let logits = |radius: usize, first: i32, segments: usize| {
        let base = r#""H_cycles": 1, "L_cycles": 1, "H_layers": 1, "L_layers": 1, "hidden_size": 8, "num_heads": 2, "expansion": 2,
            "vocab_size": 4, "seq_len": 49, "batch_size": 1, "puzzle_emb_ndim": 8, "num_puzzle_identifiers": 1, "pos_encodings": "rope2d",
            "halt_max_steps": 8, "halt_exploration_prob": 0.0"#;
        let c = Config::from_json_str(&format!(r#"{{{base}, "attn_radius": {radius}}}"#)).unwrap();
        let mut m = Hrm::new(CpuBackend, &c, &store(&c)).unwrap();
        let mut inputs: Vec<i32> = (0..49).map(|i| 1 + (i * 7 % 3) as i32).collect();
        inputs[0] = first;
        let b = Batch::new(1, 49, inputs, vec![1; 49], vec![0]).unwrap();
        let mut carry = m.initial_carry(&b);
        for _ in 0..segments {
            pollster::block_on(m.eval_segment(&mut carry, &b, None)).unwrap();
        }
        pollster::block_on(m.read_logits())
    };
    // Chebyshev distances from the top-left cell of those whose logits changed
    let changed = |radius: usize, segments: usize| -> Vec<usize> {
        let (a, b) = (logits(radius, 1, segments), logits(radius, 3, segments));
        (0..side * side).filter(|&i| a[i * 4..(i + 1) * 4] != b[i * 4..(i + 1) * 4]).map(|i| (i / side).max(i % side)).collect()
    };
    let one = changed(1, 1);
    assert_eq!(one.iter().max(), Some(&2), "one segment reads 2 cells out: {one:?}");
    let two = changed(1, 2);
    assert_eq!(two.iter().max(), Some(&4), "two segments read 4 cells out: {two:?}");
    assert_eq!(changed(0, 1).len(), side * side, "global attention: every cell reads the changed token");
}
