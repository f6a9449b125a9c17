//! Finite-difference check of the hand-written backward of the whole one-step graph (embeddings, L and H
//! blocks, LM head, Q head, stablemax/softmax CE, Q BCEs) on tiny configs that also exercise what the
//! official visible vectors do not: learned positions, a puzzle embedding spanning two positions
//! (puzzle_emb_ndim not a multiple of hidden), several puzzle identifiers and a padding row.
//!
//! With H_cycles = L_cycles = 1 the one-step gradient IS the full gradient of the segment (the only L
//! and H calls start from the reset carry, a constant), so central differences of the loss must match
//! the analytic gradient. The Q-continue target is a constant in the official graph (no_grad); the
//! perturbed losses are therefore evaluated with the unperturbed target.

use hrm::backend::CpuBackend;
use hrm::model::{buffer_specs, param_specs, Batch, Hrm, SplitMix64, HaltRng, PREFIX};
use hrm::{Config, HostTensor, ParamStore};

fn config(extra: &str) -> Config {
    let base = r#""H_cycles": 1, "L_cycles": 1, "hidden_size": 16, "num_heads": 2, "expansion": 2,
        "vocab_size": 5, "seq_len": 6, "batch_size": 3, "halt_max_steps": 3, "halt_exploration_prob": 0.0"#;
    Config::from_json_str(&format!("{{{base}, {extra}}}")).unwrap()
}

fn random_store(cfg: &Config, seed: u64) -> ParamStore {
    let mut rng = SplitMix64(seed);
    let mut store = ParamStore::new();
    for (name, shape) in param_specs(cfg).into_iter().chain(buffer_specs(cfg)) {
        let n: usize = shape.iter().product();
        let scale = if name.ends_with("_init") { 1.0 } else { 1.0 / (shape[shape.len() - 1] as f64).sqrt() };
        // Irwin-Hall(4) ~ normal, times a scale that keeps activations O(1)
        let data = (0..n).map(|_| ((0..4).map(|_| rng.uniform()).sum::<f64>() - 2.0) * 1.7 * scale).map(|x| x as f32).collect();
        store.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, data));
    }
    store
}

fn batch(cfg: &Config) -> Batch {
    let s = cfg.seq_len;
    let inputs = vec![1, 2, 3, 4, 1, 2, /**/ 4, 3, 1, 1, 2, 0, /**/ 0, 0, 0, 0, 0, 0];
    let labels = vec![2, 3, 4, 1, 2, 3, /**/ 1, -100, 2, 4, -100, 3, /**/ -100, -100, -100, -100, -100, -100];
    let ids = if cfg.puzzle_emb_ndim > 0 { vec![2, 1, 0] } else { vec![0, 0, 0] };
    Batch::new(3, s, inputs, labels, ids).unwrap()
}

/// The segment's loss with a given (fixed) Q-continue target, from a fresh carry.
fn loss_with_target(cfg: &Config, store: &ParamStore, b: &Batch, target: &[f32]) -> f64 {
    let mut m = Hrm::new(CpuBackend, cfg, store).unwrap();
    let mut carry = m.initial_carry(b);
    let out = pollster::block_on(m.eval_segment(&mut carry, b, None)).unwrap();
    let bce = |x: f64, y: f64| x.max(0.0) - x * y + (-x.abs()).exp().ln_1p();
    let q_cont: f64 = out.q_continue.iter().zip(target).map(|(&x, &y)| bce(x as f64, y as f64)).sum();
    // eval reports lm_loss + q_halt_loss; the train loss adds the Q-continue term
    (out.metrics.lm_loss + 0.5 * (out.metrics.q_halt_loss + q_cont)) / b.rows as f64
}

fn gradcheck(cfg: &Config) {
    let store = random_store(cfg, 7);
    let b = batch(cfg);
    let mut model = Hrm::new(CpuBackend, cfg, &store).unwrap();
    let mut carry = model.initial_carry(&b);
    let out = pollster::block_on(model.train_segment(&mut carry, &b, &mut SplitMix64(1))).unwrap();
    let target = out.target_q_continue.clone().expect("train with halt_max_steps > 1 has a target");
    let base = loss_with_target(cfg, &store, &b, &target);
    assert!((base - out.loss / b.rows as f64).abs() < 1e-5 * base.abs(), "eval/train losses differ: {base} vs {}", out.loss / 3.0);
    let grads = pollster::block_on(model.grads_to_store());

    // (store name to perturb, analytic gradient, how an index maps into the stored tensor)
    let mut checks: Vec<(String, Vec<f32>, Box<dyn Fn(usize) -> usize>)> = Vec::new();
    for (name, g) in &grads {
        if name.ends_with("puzzle_emb.local_weights") {
            // per-row gradient: row r used identifier ids[r] (distinct here), so it perturbs that table row
            let d = cfg.puzzle_emb_ndim;
            let ids = b.puzzle_identifiers.clone();
            checks.push((format!("{PREFIX}puzzle_emb.weights"), g.data.clone(), Box::new(move |i| ids[i / d] as usize * d + i % d)));
        } else {
            checks.push((name.clone(), g.data.clone(), Box::new(|i| i)));
        }
    }
    assert_eq!(checks.len(), param_specs(cfg).len() + (cfg.puzzle_emb_ndim > 0) as usize);

    let eps = 1e-2f32;
    let mut worst = 0.0f64;
    let mut failures = Vec::new();
    for (name, an, map) in &checks {
        let max = an.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64;
        assert!(max > 0.0, "{name}: the analytic gradient is identically zero");
        // the 3 largest entries and 3 spread-out ones
        let mut idx: Vec<usize> = (0..an.len()).collect();
        idx.sort_by(|&a, &b| an[b].abs().total_cmp(&an[a].abs()));
        let mut pick: Vec<usize> = idx[..3.min(idx.len())].to_vec();
        pick.extend((1..4).map(|k| (k * 7919) % an.len()));
        for &i in &pick {
            let j = map(i);
            let eval = |delta: f32| {
                let mut s = store.clone();
                s.get_mut(name).unwrap().data[j] += delta;
                loss_with_target(cfg, &s, &b, &target)
            };
            let fd = (eval(eps) - eval(-eps)) / (2.0 * eps as f64);
            let err = (fd - an[i] as f64).abs() / max;
            worst = worst.max(err);
            if err > 2e-2 {
                failures.push(format!("{name}[{i}]: finite difference {fd:.6e}, analytic {:.6e} (max |g| {max:.3e})", an[i]));
            }
        }
    }
    println!("gradcheck: worst |fd - analytic| / max|g| = {worst:.3e} over {} tensors", checks.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn learned_positions_two_puzzle_positions_padding_row() {
    gradcheck(&config(r#""H_layers": 1, "L_layers": 1, "pos_encodings": "learned", "puzzle_emb_ndim": 20, "num_puzzle_identifiers": 3"#));
}

#[test]
fn rope_no_puzzle_embedding_two_layers_softmax_loss() {
    gradcheck(&config(r#""H_layers": 2, "L_layers": 2, "pos_encodings": "rope", "puzzle_emb_ndim": 0, "num_puzzle_identifiers": 1, "loss_type": "softmax_cross_entropy""#));
}
