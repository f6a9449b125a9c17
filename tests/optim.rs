//! The optimizers and the schedule (HRM_SPEC.md §7): hand-derived first steps, an independent f64
//! re-derivation of many steps, SignSGD's per-id aggregation, state save/load, and bad input.
use hrm::optim::*;
use hrm::ParamStore;

/// A small deterministic generator so the tests need no dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next() * scale).collect()
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

#[test]
fn adam_atan2_first_step_from_zero_state_by_hand() {
    // Step 1: m = 0.1 g, v = 0.05 g^2, bc1 = 0.1, sqrt(bc2) = sqrt(0.05), so sqrt(v)/sqrt(bc2) = |g| and
    // the update is (lr / 0.1) * atan2(0.1 g, |g|) = 10 lr atan(0.1) sign(g) -- independent of |g|.
    let (lr, wd) = (1e-2, 0.1);
    let p0 = [0.5f32, -0.25, 2.0, 1.0];
    let g = [3.0f32, -0.001, 1e-6, 0.0];
    let mut adam = Adam::new(AdamConfig { variant: AdamVariant::Atan2, beta1: 0.9, beta2: 0.95, weight_decay: wd }).unwrap();
    let mut p = p0;
    adam.step(lr, [("w", &mut p[..], &g[..])]).unwrap();
    let step = 10.0 * lr * 0.1f64.atan();
    for i in 0..4 {
        let sign = if g[i] > 0.0 { 1.0 } else if g[i] < 0.0 { -1.0 } else { 0.0 };
        let want = p0[i] as f64 * (1.0 - lr * wd) - step * sign;
        assert!(close(p[i] as f64, want, 1e-6), "element {i}: {} vs {want}", p[i]);
    }
    let st = adam.moments("w").unwrap();
    assert_eq!(st.step, 1);
    assert!(close(st.exp_avg[0] as f64, 0.3, 1e-6));
    assert!(close(st.exp_avg_sq[0] as f64, 0.45, 1e-6));
    assert_eq!((st.exp_avg[3], st.exp_avg_sq[3]), (0.0, 0.0));
}

#[test]
fn adamw_first_step_is_about_lr_times_sign() {
    let (lr, eps) = (1e-3, 1e-8);
    let mut adam = Adam::new(AdamConfig { variant: AdamVariant::AdamW { eps }, beta1: 0.9, beta2: 0.95, weight_decay: 0.0 }).unwrap();
    let mut p = [1.0f32, 1.0];
    adam.step(lr, [("w", &mut p[..], &[0.5f32, -2.0][..])]).unwrap();
    // m_hat = g, v_hat = g^2: update = lr * g / (|g| + eps).
    assert!(close(1.0 - p[0] as f64, lr * 0.5 / (0.5 + eps), 1e-4));
    assert!(close(p[1] as f64 - 1.0, lr * 2.0 / (2.0 + eps), 1e-4));
}

/// The official AdamATan2 rule written out again in f64, straight from the formula.
fn reference_atan2(p: &mut [f64], m: &mut [f64], v: &mut [f64], g: &[f32], t: u64, lr: f64, b1: f64, b2: f64, wd: f64) {
    for i in 0..p.len() {
        let g = g[i] as f64;
        p[i] *= 1.0 - lr * wd;
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        let bc1 = 1.0 - b1.powi(t as i32);
        let bc2 = 1.0 - b2.powi(t as i32);
        p[i] -= lr / bc1 * m[i].atan2(v[i].sqrt() / bc2.sqrt());
    }
}

fn reference_adamw(p: &mut [f64], m: &mut [f64], v: &mut [f64], g: &[f32], t: u64, lr: f64, b1: f64, b2: f64, wd: f64, eps: f64) {
    for i in 0..p.len() {
        let g = g[i] as f64;
        p[i] *= 1.0 - lr * wd;
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        let bc1 = 1.0 - b1.powi(t as i32);
        let bc2 = 1.0 - b2.powi(t as i32);
        p[i] -= lr / bc1 * m[i] / (v[i].sqrt() / bc2.sqrt() + eps);
    }
}

#[test]
fn adam_variants_match_an_f64_rederivation_over_many_steps() {
    let (b1, b2, wd, eps) = (0.9, 0.95, 0.1, 1e-8);
    let schedule = LrSchedule { base_lr: 3e-3, warmup_steps: 5, total_steps: 40, min_ratio: 0.1 };
    for variant in [AdamVariant::Atan2, AdamVariant::AdamW { eps }] {
        let mut rng = Lcg(7);
        let n = 257;
        let mut p32 = rng.vec(n, 1.0);
        let mut p64: Vec<f64> = p32.iter().map(|&x| x as f64).collect();
        let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
        let mut adam = Adam::new(AdamConfig { variant, beta1: b1, beta2: b2, weight_decay: wd }).unwrap();
        for t in 1..=40u64 {
            // Gradients of very different sizes, and sign changes, so atan2's saturation is exercised.
            let scale = if t % 3 == 0 { 1e-3 } else { 5.0 };
            let g = rng.vec(n, scale);
            let lr = schedule.lr(t);
            adam.step(lr, [("x", &mut p32[..], &g[..])]).unwrap();
            match variant {
                AdamVariant::Atan2 => reference_atan2(&mut p64, &mut m, &mut v, &g, t, lr, b1, b2, wd),
                AdamVariant::AdamW { eps } => reference_adamw(&mut p64, &mut m, &mut v, &g, t, lr, b1, b2, wd, eps),
            }
        }
        let worst = p32.iter().zip(&p64).map(|(&a, &b)| (a as f64 - b).abs()).fold(0.0, f64::max);
        assert!(worst < 2e-6, "{variant:?}: worst |f32 - f64| = {worst}");
        // And the parameters really moved (the test would pass trivially otherwise).
        let moved = p32.iter().zip(Lcg(7).vec(n, 1.0)).map(|(&a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(moved > 1e-2, "{variant:?}: parameters moved only {moved}");
    }
}

#[test]
fn coefficients_are_the_official_kernel_scalars() {
    let c = AdamAtan2Coeffs::new(3, 1e-4, 0.9, 0.95, 1.0);
    assert_eq!(c.step_size, (1e-4 / (1.0 - 0.9f64.powi(3))) as f32);
    assert_eq!(c.wd_alpha, (1.0 - 1e-4) as f32);
    assert_eq!(c.bias_correction2_sqrt, ((1.0 - 0.95f64.powi(3)) as f64).sqrt() as f32);
    assert_eq!((c.one_minus_beta1, c.one_minus_beta2), (0.1f64 as f32, 0.050000000000000044f64 as f32));
}

#[test]
fn schedule_warms_up_linearly_then_cosine_to_the_floor() {
    let s = LrSchedule { base_lr: 1e-4, warmup_steps: 100, total_steps: 1100, min_ratio: 0.1 };
    assert_eq!(s.lr(0), 0.0);
    assert!(close(s.lr(1), 1e-6, 1e-12));
    assert!(close(s.lr(50), 5e-5, 1e-12));
    assert!(close(s.lr(100), 1e-4, 1e-12));
    // Half-way through the cosine: min + (1 - min)/2.
    assert!(close(s.lr(600), 1e-4 * (0.1 + 0.45), 1e-12));
    assert!(close(s.lr(1100), 1e-5, 1e-9));
    // Past the end the cosine would rise again; the official lambda does, and so do we.
    assert!(s.lr(1200) > s.lr(1100));
    // Monotone non-increasing after warm-up.
    assert!((100..1100).all(|t| s.lr(t + 1) <= s.lr(t)));
    // min_ratio 1 (the official default) is constant after warm-up; no warm-up starts at the top.
    let flat = LrSchedule { base_lr: 7e-5, warmup_steps: 10, total_steps: 50, min_ratio: 1.0 };
    assert!((10..60).all(|t| close(flat.lr(t), 7e-5, 1e-12)));
    let cold = LrSchedule { base_lr: 2.0, warmup_steps: 0, total_steps: 4, min_ratio: 0.0 };
    assert_eq!(cold.lr(0), 2.0);
    assert!(close(cold.lr(2), 1.0, 1e-12));
}

#[test]
fn sign_sgd_sums_rows_per_id_then_steps_by_the_sign() {
    // 4 identifiers, dim 2. Batch rows: ids [2, 0, 2, 2]: id 2 gets three rows summed.
    let mut w = vec![1.0f32, -1.0, 2.0, 2.0, 0.5, 0.5, 4.0, -4.0];
    let ids = [2, 0, 2, 2];
    let g = [
        1.0f32, -1.0, // id 2
        -0.5, 0.0, // id 0: second component exactly 0 -> decay only
        -3.0, 0.25, // id 2
        1.0, 0.25, // id 2: sums (-1.0, -0.5)
    ];
    let (lr, wd) = (0.01, 0.1);
    let touched = SignSgd { weight_decay: wd }.step(lr, &mut w, 2, &ids, &g).unwrap();
    assert_eq!(touched, vec![0, 2]);
    let d = (1.0 - lr * wd) as f32;
    let want = [1.0 * d + 0.01, -1.0 * d, 2.0, 2.0, 0.5 * d + 0.01, 0.5 * d + 0.01, 4.0, -4.0];
    for (i, (&a, &b)) in w.iter().zip(&want).enumerate() {
        assert!((a - b as f32).abs() < 1e-7, "value {i}: {a} vs {b}");
    }
}

#[test]
fn sign_sgd_refuses_bad_ids_and_shapes() {
    let mut w = vec![0.0f32; 6];
    let e = sign_sgd_rows(&mut w, 2, &[0, 3], &[0.0; 4], 0.1, 0.0).unwrap_err();
    assert_eq!(e, OptimError::PuzzleId { id: 3, row: 1, rows: 3 });
    assert!(e.to_string().contains("id 3"));
    assert!(sign_sgd_rows(&mut w, 2, &[-1], &[0.0; 2], 0.1, 0.0).is_err());
    assert!(matches!(sign_sgd_rows(&mut w, 2, &[0], &[0.0; 3], 0.1, 0.0), Err(OptimError::Shape { .. })));
    assert!(matches!(sign_sgd_rows(&mut w, 4, &[0], &[0.0; 4], 0.1, 0.0), Err(OptimError::Shape { .. })));
    assert_eq!(w, vec![0.0; 6], "a refused call changes nothing");
}

#[test]
fn state_round_trips_and_resumes_exactly() {
    let cfg = AdamConfig::default();
    let mut rng = Lcg(3);
    let (mut a, mut b) = (rng.vec(10, 1.0), rng.vec(3, 1.0));
    let mut opt = Adam::new(cfg).unwrap();
    for t in 1..=3 {
        let (ga, gb) = (rng.vec(10, 1.0), rng.vec(3, 1.0));
        opt.step(1e-2 * t as f64, [("a", &mut a[..], &ga[..]), ("b.weight", &mut b[..], &gb[..])]).unwrap();
    }
    let saved: ParamStore = opt.state_tensors("optim.adam.");
    assert_eq!(saved.len(), 6);
    assert_eq!(saved["optim.adam.a.step"].data, vec![3.0]);
    let mut other = ParamStore::new();
    other.insert("model.inner.x".into(), hrm::HostTensor::new(vec![1], vec![1.0]));
    other.extend(saved.clone());
    let mut resumed = Adam::new(cfg).unwrap();
    resumed.load_state("optim.adam.", &other).unwrap();
    assert_eq!(resumed, opt);
    // Continuing from either gives bit-identical parameters.
    let (ga, gb) = (rng.vec(10, 1.0), rng.vec(3, 1.0));
    let (mut a2, mut b2) = (a.clone(), b.clone());
    opt.step(5e-3, [("a", &mut a[..], &ga[..]), ("b.weight", &mut b[..], &gb[..])]).unwrap();
    resumed.step(5e-3, [("a", &mut a2[..], &ga[..]), ("b.weight", &mut b2[..], &gb[..])]).unwrap();
    assert_eq!((a, b), (a2, b2));

    // Broken state is refused with the tensor's name.
    let mut broken = saved.clone();
    broken.remove("optim.adam.b.weight.exp_avg_sq");
    let e = Adam::new(cfg).unwrap().load_state("optim.adam.", &broken).unwrap_err();
    assert!(e.to_string().contains("optim.adam.b.weight.exp_avg_sq"), "{e}");
    let mut broken = saved.clone();
    broken.remove("optim.adam.a.step");
    let e = Adam::new(cfg).unwrap().load_state("optim.adam.", &broken).unwrap_err();
    assert!(e.to_string().contains("optim.adam.a.step"), "{e}");
    let mut broken = saved;
    broken.get_mut("optim.adam.a.exp_avg").unwrap().data[0] = f32::NAN;
    assert!(Adam::new(cfg).unwrap().load_state("optim.adam.", &broken).is_err());
}

#[test]
fn bad_input_is_an_error_naming_the_tensor() {
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    let mut p = vec![0.0f32; 4];
    let e = opt.step(1e-3, [("blocks.0.w", &mut p[..], &[0.0f32; 3][..])]).unwrap_err();
    assert!(e.to_string().contains("blocks.0.w"), "{e}");
    opt.step(1e-3, [("w", &mut p[..], &[1.0f32; 4][..])]).unwrap();
    let mut q = vec![0.0f32; 5];
    let e = opt.step(1e-3, [("w", &mut q[..], &[1.0f32; 5][..])]).unwrap_err();
    assert!(matches!(e, OptimError::StateLength { .. }), "{e}");
    let mut r = vec![0.0f32; 1];
    let mut s = vec![0.0f32; 1];
    let e = opt.step(1e-3, [("d", &mut r[..], &[1.0f32][..]), ("d", &mut s[..], &[1.0f32][..])]).unwrap_err();
    assert_eq!(e, OptimError::Duplicate("d".into()));
    for bad in [AdamConfig { beta1: 1.0, ..AdamConfig::default() }, AdamConfig { weight_decay: -1.0, ..AdamConfig::default() }] {
        assert!(Adam::new(bad).is_err());
    }
}
