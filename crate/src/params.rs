//! The persistent tensors of an HRM ACT-v1 model (HRM_SPEC.md §2): their official state-dict names and
//! shapes for a [`Config`], and the official initialisation from a seed.
//!
//! The list is the contract between checkpoints and the model: a checkpoint holds exactly these tensors
//! (parameters plus the persistent buffers `H_init`, `L_init` and `puzzle_emb.weights`), no more, no less.

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{Config, PosEncoding};
use crate::tensor::{HostTensor, ParamStore};

/// Every official name starts with this (`ACTLossHead.model.inner`).
pub const PREFIX: &str = "model.inner.";

/// Checkpoints written by `pretrain.py` come from a `torch.compile`d module and carry this before [`PREFIX`].
pub const COMPILED_PREFIX: &str = "_orig_mod.";

/// The full official name of a tensor, e.g. `name("lm_head.weight")` = `model.inner.lm_head.weight`.
pub fn name(suffix: &str) -> String {
    format!("{PREFIX}{suffix}")
}

/// The two reasoning modules. Each is ONE stack of blocks reused for every cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    H,
    L,
}

impl Level {
    fn prefix(self) -> &'static str {
        match self {
            Level::H => "H_level",
            Level::L => "L_level",
        }
    }
}

/// The full name of a tensor of block `layer` of `level`, e.g.
/// `layer_name(Level::L, 0, "self_attn.qkv_proj.weight")` = `model.inner.L_level.layers.0.self_attn.qkv_proj.weight`.
pub fn layer_name(level: Level, layer: usize, leaf: &str) -> String {
    format!("{PREFIX}{}.layers.{layer}.{leaf}", level.prefix())
}

/// The leaf names of one block, in the order of HRM_SPEC.md §2.
pub const BLOCK_LEAVES: [&str; 4] =
    ["self_attn.qkv_proj.weight", "self_attn.o_proj.weight", "mlp.gate_up_proj.weight", "mlp.down_proj.weight"];

/// How the official code initialises a tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// JAX-style truncated normal whose standard deviation is exactly `std` (see [`trunc_normal`]).
    TruncNormal { std: f64 },
    /// Every value equal to this.
    Constant(f32),
}

/// Whether the optimizer owns the tensor. `puzzle_emb.weights` is a buffer that the sparse SignSGD
/// updates; `H_init`/`L_init` are buffers nothing updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Parameter,
    Buffer,
}

/// One expected persistent tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub kind: Kind,
    pub init: Init,
}

impl ParamSpec {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The exact list of persistent tensors a model of `cfg` has, sorted by name (the order of a
/// [`ParamStore`] and of a safetensors file).
pub fn expected(cfg: &Config) -> Vec<ParamSpec> {
    let h = cfg.hidden_size;
    let hd = cfg.num_heads * cfg.head_dim();
    let inter = cfg.swiglu_width();
    let emb_std = 1.0 / (h as f64).sqrt();
    let normal = |std: f64| Init::TruncNormal { std };
    let spec = |name: String, shape: Vec<usize>, kind: Kind, init: Init| ParamSpec { name, shape, kind, init };
    let p = Kind::Parameter;

    let mut out = vec![
        spec(name("embed_tokens.embedding_weight"), vec![cfg.vocab_size, h], p, normal(emb_std)),
        spec(name("lm_head.weight"), vec![cfg.vocab_size, h], p, normal(emb_std)),
        spec(name("q_head.weight"), vec![2, h], p, Init::Constant(0.0)),
        spec(name("q_head.bias"), vec![2], p, Init::Constant(-5.0)),
        spec(name("H_init"), vec![h], Kind::Buffer, normal(1.0)),
        spec(name("L_init"), vec![h], Kind::Buffer, normal(1.0)),
    ];
    if cfg.pos_encodings == PosEncoding::Learned {
        out.push(spec(name("embed_pos.embedding_weight"), vec![cfg.total_seq(), h], p, normal(emb_std)));
    }
    if cfg.puzzle_emb_len() > 0 {
        out.push(spec(
            name("puzzle_emb.weights"),
            vec![cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim],
            Kind::Buffer,
            Init::Constant(0.0),
        ));
    }
    for (level, layers) in [(Level::H, cfg.h_layers), (Level::L, cfg.l_layers)] {
        for i in 0..layers {
            let shapes = [
                (vec![3 * hd, h], emb_std),
                (vec![h, hd], 1.0 / (hd as f64).sqrt()),
                (vec![2 * inter, h], emb_std),
                (vec![h, inter], 1.0 / (inter as f64).sqrt()),
            ];
            for (leaf, (shape, std)) in BLOCK_LEAVES.iter().zip(shapes) {
                out.push(spec(layer_name(level, i, leaf), shape, p, normal(std)));
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Number of values in trainable parameters (what the paper calls the parameter count; buffers excluded).
pub fn parameter_count(cfg: &Config) -> usize {
    expected(cfg).iter().filter(|s| s.kind == Kind::Parameter).map(ParamSpec::numel).sum()
}

/// Number of values in the persistent buffers (`H_init`, `L_init`, `puzzle_emb.weights`).
pub fn buffer_count(cfg: &Config) -> usize {
    expected(cfg).iter().filter(|s| s.kind == Kind::Buffer).map(ParamSpec::numel).sum()
}

/// A fresh model of `cfg` with the official initialisation. Reproducible: the same seed gives the same
/// bits on every platform. Each tensor draws from its own ChaCha8 stream keyed by its name, so adding
/// a tensor (e.g. learned positions) leaves every other tensor's values unchanged.
pub fn init(cfg: &Config, seed: u64) -> ParamStore {
    expected(cfg)
        .into_iter()
        .map(|spec| {
            let n = spec.numel();
            let data = match spec.init {
                Init::Constant(v) => vec![v; n],
                Init::TruncNormal { std } => {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    rng.set_stream(fnv1a64(spec.name.as_bytes()));
                    trunc_normal(&mut rng, n, std)
                }
            };
            (spec.name, HostTensor::new(spec.shape, data))
        })
        .collect()
}

/// `n` draws of the official truncated normal (`models/common.py: trunc_normal_init_`): a standard normal
/// truncated to [-2, 2], scaled by the compensated `c = std / sqrt(1 - 4 phi(2) / erf(sqrt 2))` so that
/// the result's standard deviation is exactly `std`; the values lie in [-2c, 2c]. Drawn as the official
/// code does: `U ~ uniform(erf(-sqrt2), erf(sqrt2))`, value `clip(sqrt2 * c * erfinv(U), -2c, 2c)`.
/// `std == 0` gives zeros.
pub fn trunc_normal<R: Rng + ?Sized>(rng: &mut R, n: usize, std: f64) -> Vec<f32> {
    if std == 0.0 {
        return vec![0.0; n];
    }
    let c = compensated_std(std);
    let (lo, hi) = (libm::erf(-std::f64::consts::SQRT_2), libm::erf(std::f64::consts::SQRT_2));
    (0..n)
        .map(|_| {
            let u = lo + (hi - lo) * unit_f64(rng);
            let v = std::f64::consts::SQRT_2 * c * erfinv(u);
            v.clamp(-2.0 * c, 2.0 * c) as f32
        })
        .collect()
}

/// The std that the [-2, 2]-truncated normal must be scaled by to end with standard deviation `std`
/// (the general formula of the official code, here with l = -2, u = 2).
pub fn compensated_std(std: f64) -> f64 {
    let (l, u) = (-2.0f64, 2.0f64);
    let phi = |x: f64| libm::exp(-0.5 * x * x) / (2.0 * std::f64::consts::PI).sqrt();
    let z = (libm::erf(u / std::f64::consts::SQRT_2) - libm::erf(l / std::f64::consts::SQRT_2)) / 2.0;
    let d = (phi(l) - phi(u)) / z;
    let var = 1.0 - (u * phi(l) - l * phi(u)) / z - d * d;
    std / var.sqrt()
}

/// Uniform in [0, 1) with 53 random bits.
fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The inverse error function on (-1, 1), to f64 precision: an initial guess from the closed-form
/// approximation `erfinv(y) ≈ sign(y) sqrt(sqrt(t² - ln(1-y²)/a) - t)`, `t = 2/(πa) + ln(1-y²)/2`
/// (a = 0.147, relative error < 2e-3), refined by Newton steps on `libm::erf`, which converge
/// quadratically. ±1 give ±∞, outside [-1, 1] NaN. Only `libm` (pure Rust) transcendentals are used, so
/// the bits are the same on every platform (std's `exp`/`ln` call the system libm natively).
pub fn erfinv(y: f64) -> f64 {
    if !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y == 1.0 || y == -1.0 {
        return y * f64::INFINITY;
    }
    if y == 0.0 {
        return y;
    }
    const A: f64 = 0.147;
    let ln = libm::log(1.0 - y * y);
    let t = 2.0 / (std::f64::consts::PI * A) + ln / 2.0;
    let mut x = y.signum() * ((t * t - ln / A).sqrt() - t).sqrt();
    let two_over_sqrt_pi = 2.0 / std::f64::consts::PI.sqrt();
    for _ in 0..4 {
        let step = (libm::erf(x) - y) / (two_over_sqrt_pi * libm::exp(-x * x));
        x -= step;
        if step.abs() <= 1e-16 * x.abs() {
            break;
        }
    }
    x
}

/// FNV-1a, 64 bit: a stable, dependency-free hash (the stream id of a tensor's init draws).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> Config {
        Config::from_json_str(json).unwrap()
    }

    fn tiny(extra: &str) -> Config {
        cfg(&format!(
            r#"{{"batch_size":2,"seq_len":9,"num_puzzle_identifiers":3,"vocab_size":5,"H_cycles":1,"L_cycles":1,
                "H_layers":1,"L_layers":2,"hidden_size":32,"expansion":4,"num_heads":2,"halt_max_steps":2,
                "halt_exploration_prob":0.1{extra}}}"#
        ))
    }

    #[test]
    fn shapes_of_the_visible_parity_config() {
        let c = tiny(r#","pos_encodings":"rope","puzzle_emb_ndim":32"#);
        let specs = expected(&c);
        let get = |n: &str| specs.iter().find(|s| s.name == name(n)).map(|s| s.shape.clone());
        // h = 32, I = 256 * ceil(round(85.33)/256) = 256, nh*d = 32.
        assert_eq!(get("embed_tokens.embedding_weight"), Some(vec![5, 32]));
        assert_eq!(get("lm_head.weight"), Some(vec![5, 32]));
        assert_eq!(get("q_head.weight"), Some(vec![2, 32]));
        assert_eq!(get("q_head.bias"), Some(vec![2]));
        assert_eq!(get("H_init"), Some(vec![32]));
        assert_eq!(get("puzzle_emb.weights"), Some(vec![3, 32]));
        assert_eq!(get("embed_pos.embedding_weight"), None);
        assert_eq!(get("L_level.layers.1.self_attn.qkv_proj.weight"), Some(vec![96, 32]));
        assert_eq!(get("L_level.layers.1.mlp.gate_up_proj.weight"), Some(vec![512, 32]));
        assert_eq!(get("H_level.layers.0.mlp.down_proj.weight"), Some(vec![32, 256]));
        assert_eq!(get("H_level.layers.1.mlp.down_proj.weight"), None);
        // 6 fixed + puzzle table + 4 per block for 3 blocks.
        assert_eq!(specs.len(), 7 + 4 * 3);
        assert!(specs.windows(2).all(|w| w[0].name < w[1].name), "sorted by name");
    }

    #[test]
    fn learned_positions_and_no_puzzle_embedding() {
        let c = tiny(r#","pos_encodings":"learned","puzzle_emb_ndim":0"#);
        let specs = expected(&c);
        let pos = specs.iter().find(|s| s.name == name("embed_pos.embedding_weight")).unwrap();
        assert_eq!(pos.shape, vec![9, 32], "T = P + S with P = 0");
        assert!(specs.iter().all(|s| s.name != name("puzzle_emb.weights")));
        // Several puzzle positions: ndim 40 over h 32 -> P = 2, the table keeps ndim columns.
        let c = tiny(r#","pos_encodings":"learned","puzzle_emb_ndim":40"#);
        let specs = expected(&c);
        let get = |n: &str| specs.iter().find(|s| s.name == name(n)).unwrap().shape.clone();
        assert_eq!(get("embed_pos.embedding_weight"), vec![11, 32]);
        assert_eq!(get("puzzle_emb.weights"), vec![3, 40]);
    }

    #[test]
    fn counts_match_a_hand_count() {
        let c = tiny(r#","pos_encodings":"rope","puzzle_emb_ndim":32"#);
        let block = 96 * 32 + 32 * 32 + 512 * 32 + 32 * 256;
        assert_eq!(parameter_count(&c), 2 * 5 * 32 + 2 * 32 + 2 + 3 * block);
        assert_eq!(buffer_count(&c), 2 * 32 + 3 * 32);
    }

    #[test]
    fn erfinv_inverts_erf() {
        // Reference values (mpmath): erfinv(0.5), erfinv(0.9), erfinv(-0.999).
        assert!((erfinv(0.5) - 0.476_936_276_204_469_9).abs() < 1e-15);
        assert!((erfinv(0.9) - 1.163_087_153_676_674_3).abs() < 1e-14);
        assert!((erfinv(-0.999) + 2.326_753_765_513_524_6).abs() < 1e-13);
        for i in -999..=999 {
            let y = i as f64 / 1000.0;
            let x = erfinv(y);
            assert!((libm::erf(x) - y).abs() < 4e-16, "erf(erfinv({y})) = {}", libm::erf(x));
        }
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert!(erfinv(1.5).is_nan());
    }

    #[test]
    fn compensated_std_is_the_official_constant() {
        // HRM_SPEC.md §2: c = 1.1368 * std.
        assert!((compensated_std(1.0) - 1.1368).abs() < 1e-4, "{}", compensated_std(1.0));
        assert_eq!(compensated_std(0.5), 0.5 * compensated_std(1.0));
    }

    #[test]
    fn trunc_normal_statistics() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let std = 0.125;
        let n = 200_000;
        let v = trunc_normal(&mut rng, n, std);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard error of the std estimate ≈ std * 0.0016 here; allow 5 of them.
        assert!(mean.abs() < 5.0 * std / (n as f64).sqrt(), "mean {mean}");
        assert!((var.sqrt() / std - 1.0).abs() < 0.008, "std {} vs {std}", var.sqrt());
        let bound = 2.0 * compensated_std(std) as f32;
        let max = v.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
        assert!(max <= bound, "max |x| {max} > 2c {bound}");
        assert!(max > 0.99 * bound, "the tails reach the bound: {max} vs {bound}");
        // Truncated, not clipped: almost no mass sits exactly at the bound.
        assert!(v.iter().filter(|&&x| x.abs() == bound).count() < 3);
        assert_eq!(trunc_normal(&mut rng, 5, 0.0), vec![0.0; 5]);
    }

    #[test]
    fn init_follows_the_official_rules_and_is_reproducible() {
        let c = tiny(r#","pos_encodings":"learned","puzzle_emb_ndim":32"#);
        let a = init(&c, 1);
        assert_eq!(a, init(&c, 1));
        assert_ne!(a[&name("lm_head.weight")], init(&c, 2)[&name("lm_head.weight")]);
        for spec in expected(&c) {
            let t = &a[&spec.name];
            assert_eq!(t.shape, spec.shape, "{}", spec.name);
            match spec.init {
                Init::Constant(v) => assert!(t.data.iter().all(|&x| x == v), "{}", spec.name),
                Init::TruncNormal { std } => {
                    let bound = 2.0 * compensated_std(std) as f32;
                    assert!(t.data.iter().all(|x| x.abs() <= bound), "{}", spec.name);
                    let n = t.numel() as f64;
                    let sd = (t.data.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / n).sqrt();
                    // Loose for the small tensors (H_init has 32 values), tight for the big ones.
                    let tol = 4.0 / n.sqrt() + 0.01;
                    assert!((sd / std - 1.0).abs() < tol, "{}: std {sd} vs {std}", spec.name);
                }
            }
        }
        assert!(a[&name("q_head.bias")].data.iter().all(|&x| x == -5.0));
        assert!(a[&name("puzzle_emb.weights")].data.iter().all(|&x| x == 0.0));
        // Streams are keyed by name: H_init and L_init differ although they have the same spec.
        assert_ne!(a[&name("H_init")], a[&name("L_init")]);
    }
}
