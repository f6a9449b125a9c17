//! Parity with the official HRM ACT-v1 vectors (HRM_SPEC §12), on BOTH backends: every folder under
//! `tests/fixtures/parity/` and every folder in `HRM_PARITY_DIRS` (`:`-separated), each driven by its
//! `config.json`, is checked once on `CpuBackend` and once on `GpuBackend` (lavapipe in CI) by the same
//! generic checker with the same tolerances. Eval: every segment's logits, Q logits, z_H, z_L (1e-4
//! abs), halted/steps exact, loss and metrics; the segment-1 L/H call traces and the first block's
//! attention/MLP outputs (through the backend's own ops). Train: both segments' losses (1e-5 rel), every
//! gradient incl. the per-row puzzle-embedding gradient (1e-4 of the tensor's max |grad|), targets,
//! carries, current_data and metrics. Prints the worst error per tensor family, per folder, per backend.
//!
//! No GPU adapter: the GPU half prints a warning to the real stderr (not captured by the test harness)
//! and passes, unless `HRM_REQUIRE_GPU=1` (set in `.ci/test`, where lavapipe is installed), which makes
//! it fail.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use hrm::backend::cpu::rope::rope_tables;
use hrm::backend::gpu::GpuBackend;
use hrm::backend::{AttnDims, Backend, CpuBackend};
use hrm::model::{Batch, CallInfo, Hrm, Module, Observer, SplitMix64};
use hrm::{Config, HostTensor, ParamStore};
use safetensors::{Dtype, SafeTensors};

type Tensors = HashMap<String, (Vec<usize>, Vec<f64>)>;

fn load(path: &Path) -> Tensors {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = HashMap::new();
    for (name, v) in st.tensors() {
        let d = v.data();
        let vals: Vec<f64> = match v.dtype() {
            Dtype::F32 => d.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect(),
            Dtype::F64 => d.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect(),
            Dtype::I32 => d.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64).collect(),
            Dtype::I64 => d.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64).collect(),
            Dtype::U8 | Dtype::BOOL => d.iter().map(|&b| b as f64).collect(),
            Dtype::BF16 => d.chunks_exact(2).map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64).collect(),
            other => panic!("{}: tensor {name} has unsupported dtype {other:?}", path.display()),
        };
        out.insert(name, (v.shape().to_vec(), vals));
    }
    out
}

fn ints(t: &Tensors, name: &str) -> Vec<i32> {
    t.get(name).unwrap_or_else(|| panic!("missing tensor {name}")).1.iter().map(|&x| x as i32).collect()
}

#[derive(Clone, Copy)]
enum Tol {
    Abs(f64),
    /// relative to the largest |expected| value of the tensor
    RelMax(f64),
    /// relative to |expected| (scalars)
    Rel(f64),
    Exact,
}

/// Collects comparisons: the worst error per family and every failure.
#[derive(Default)]
struct Checker {
    worst: BTreeMap<String, (f64, String)>,
    failures: Vec<String>,
}

impl Checker {
    fn check(&mut self, family: &str, name: &str, got: &[f64], want: &[f64], tol: Tol) {
        if got.len() != want.len() {
            self.failures.push(format!("{name}: {} values, expected {}", got.len(), want.len()));
            return;
        }
        let max_abs = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let mut err = 0.0f64;
        for (g, w) in got.iter().zip(want) {
            let e = match tol {
                Tol::Abs(_) | Tol::Exact => (g - w).abs(),
                Tol::RelMax(_) => (g - w).abs() / max_abs.max(1e-30),
                Tol::Rel(_) => (g - w).abs() / w.abs().max(1e-30),
            };
            let e = if e.is_nan() { f64::INFINITY } else { e };
            err = err.max(e);
        }
        let limit = match tol {
            Tol::Abs(t) | Tol::RelMax(t) | Tol::Rel(t) => t,
            Tol::Exact => 0.0,
        };
        let entry = self.worst.entry(family.to_string()).or_insert((0.0, String::new()));
        if err >= entry.0 {
            *entry = (err, name.to_string());
        }
        if err > limit {
            self.failures.push(format!("{name}: error {err:.3e} > {limit:.0e}"));
        }
    }

    fn tensor(&mut self, family: &str, t: &Tensors, name: &str, got: &[f64], tol: Tol) {
        match t.get(name) {
            Some((_, want)) => self.check(family, name, got, want, tol),
            None => self.failures.push(format!("fixture lacks tensor {name}")),
        }
    }
}

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Records row 0 of the state after every call of the first eval segment.
struct Trace {
    row: usize,
    calls: Vec<(CallInfo, Vec<f32>)>,
}

impl<B: Backend> Observer<B> for Trace {
    fn on_call(&mut self, be: &B, call: CallInfo, z: &B::Buf) {
        let z = read(be, z);
        self.calls.push((call, z[..self.row].to_vec()));
    }
}

/// One buffer to the host (natively the backend's future can be blocked on).
fn read<B: Backend>(be: &B, buf: &B::Buf) -> Vec<f32> {
    pollster::block_on(be.read(&[buf])).remove(0)
}

fn batch(cfg: &Config, t: &Tensors, suffix: &str) -> Batch {
    let ids = ints(t, &format!("puzzle_identifiers{suffix}"));
    Batch::new(ids.len(), cfg.seq_len, ints(t, &format!("inputs{suffix}")), ints(t, &format!("labels{suffix}")), ids).unwrap()
}

fn metrics_check(c: &mut Checker, t: &Tensors, s: usize, m: &hrm::model::Metrics, train: bool) {
    let mut pairs = vec![
        ("count", m.count, Tol::Exact),
        ("accuracy", m.accuracy, Tol::Rel(1e-5)),
        ("exact_accuracy", m.exact_accuracy, Tol::Exact),
        ("q_halt_accuracy", m.q_halt_accuracy, Tol::Exact),
        ("steps", m.steps, Tol::Exact),
        ("lm_loss", m.lm_loss, Tol::Rel(1e-5)),
        ("q_halt_loss", m.q_halt_loss, Tol::Rel(1e-5)),
    ];
    if train {
        pairs.push(("q_continue_loss", m.q_continue_loss, Tol::Rel(1e-5)));
    }
    for (name, v, tol) in pairs {
        let key = format!("metrics.{name}_{s}");
        if let Some((_, want)) = t.get(&key) {
            // an accuracy of exactly 0 cannot be compared relatively
            let tol = match tol {
                Tol::Rel(r) if want[0] == 0.0 => Tol::Abs(r),
                x => x,
            };
            let fam = if matches!(tol, Tol::Exact) { "metrics (exact)" } else { "metrics (rel)" };
            c.check(fam, &key, &[v], want, tol);
        } else {
            c.failures.push(format!("fixture lacks {key}"));
        }
    }
}

/// The first L block of the first L call of eval segment 1, for batch row 0, from the backend's ops
/// directly: checks attention and MLP outputs against the official traces (a finer-grained signal than
/// the module outputs when something is off).
fn first_block_traces<B: Backend>(c: &mut Checker, be: &B, cfg: &Config, store: &ParamStore, fw: &Tensors) {
    let (t, h, nh, d, i) = (cfg.total_seq(), cfg.hidden_size, cfg.num_heads, cfg.head_dim(), cfg.swiglu_width());
    let w = |n: &str| be.upload(&store[&format!("model.inner.L_level.layers.0.{n}")].data);
    let (h_init, l_init) = (&store["model.inner.H_init"].data, &store["model.inner.L_init"].data);
    let Some((_, x)) = fw.get("input_embeddings") else { return };
    // first L call after the reset: input = L_init + (H_init + x)
    let input: Vec<f32> = (0..t * h).map(|k| l_init[k % h] + (h_init[k % h] + x[k] as f32)).collect();
    let input = be.upload(&input);
    let mut qkv = be.alloc(t * 3 * nh * d);
    be.matmul_nt(t, 3 * nh * d, h, &input, &w("self_attn.qkv_proj.weight"), &mut qkv, false);
    let dims = AttnDims { batch: 1, total: t, heads: nh, head_dim: d, local: None };
    if cfg.pos_encodings == hrm::PosEncoding::Rope {
        let (cos, sin) = rope_tables(t, d, cfg.rope_theta);
        be.rope_forward(dims, &be.upload(&cos), &be.upload(&sin), &mut qkv);
    }
    let (mut probs, mut attn) = (be.alloc(nh * t * t), be.alloc(t * nh * d));
    be.attention_forward(dims, &qkv, &mut probs, &mut attn);
    let mut attn_out = be.alloc(t * h);
    be.matmul_nt(t, h, nh * d, &attn, &w("self_attn.o_proj.weight"), &mut attn_out, false);
    c.tensor("first L block traces", fw, "trace.L_level.layers.0.self_attn.out.c0_1", &f64s(&read(be, &attn_out)), Tol::Abs(1e-4));
    let eps = cfg.rms_norm_eps as f32;
    let (mut y, mut rs) = (be.alloc(t * h), be.alloc(t));
    be.add_rmsnorm_forward(t, h, eps, &input, &attn_out, &mut y, &mut rs);
    let mut gu = be.alloc(t * 2 * i);
    be.matmul_nt(t, 2 * i, h, &y, &w("mlp.gate_up_proj.weight"), &mut gu, false);
    let mut act = be.alloc(t * i);
    be.swiglu_forward(t, i, &gu, &mut act);
    let mut mlp = be.alloc(t * h);
    be.matmul_nt(t, h, i, &act, &w("mlp.down_proj.weight"), &mut mlp, false);
    c.tensor("first L block traces", fw, "trace.L_level.layers.0.mlp.out.c0_1", &f64s(&read(be, &mlp)), Tol::Abs(1e-4));
    let (mut out, mut rs2) = (be.alloc(t * h), be.alloc(t));
    be.add_rmsnorm_forward(t, h, eps, &y, &mlp, &mut out, &mut rs2);
    c.tensor("first L block traces", fw, "trace.L_level.layers.0.out.c0_1", &f64s(&read(be, &out)), Tol::Abs(1e-4));
}

fn check_folder<B: Backend + Clone>(be: &B, dir: &Path) -> Checker {
    let mut c = Checker::default();
    let cfg = Config::from_json_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let weights = load(&dir.join("weights.safetensors"));
    let store: ParamStore = weights
        .iter()
        .map(|(k, (shape, v))| (k.clone(), HostTensor::new(shape.clone(), v.iter().map(|&x| x as f32).collect())))
        .collect();
    let b = load(&dir.join("batch.safetensors"));
    let (t_all, h) = (cfg.total_seq(), cfg.hidden_size);

    // RoPE tables against the official non-persistent buffers.
    if dir.join("nonpersistent_buffers.safetensors").exists() {
        let np = load(&dir.join("nonpersistent_buffers.safetensors"));
        let (cos, sin) = rope_tables(t_all, cfg.head_dim(), cfg.rope_theta);
        c.tensor("rope tables", &np, "model.inner.rotary_emb.cos_cached", &f64s(&cos), Tol::Abs(1e-5));
        c.tensor("rope tables", &np, "model.inner.rotary_emb.sin_cached", &f64s(&sin), Tol::Abs(1e-5));
    }

    // ---- eval: initial_carry, then segments until all halt ----
    let fw = load(&dir.join("forward.safetensors"));
    first_block_traces(&mut c, be, &cfg, &store, &fw);
    let mut model = Hrm::new(be.clone(), &cfg, &store).unwrap();
    let eval_batch = batch(&cfg, &b, "");
    let mut carry = model.initial_carry(&eval_batch);
    let mut s = 1;
    while fw.contains_key(&format!("logits_{s}")) {
        let mut trace = Trace { row: t_all * h, calls: Vec::new() };
        let out = pollster::block_on(model.eval_segment(&mut carry, &eval_batch, if s == 1 { Some(&mut trace) } else { None })).unwrap();
        let logits = pollster::block_on(model.read_logits());
        c.tensor("logits", &fw, &format!("logits_{s}"), &f64s(&logits), Tol::Abs(1e-4));
        c.tensor("q logits", &fw, &format!("q_halt_logits_{s}"), &f64s(&out.q_halt), Tol::Abs(1e-4));
        c.tensor("q logits", &fw, &format!("q_continue_logits_{s}"), &f64s(&out.q_continue), Tol::Abs(1e-4));
        c.tensor("z_H, z_L", &fw, &format!("z_H_{s}"), &f64s(&read(be, &carry.z_h)), Tol::Abs(1e-4));
        c.tensor("z_H, z_L", &fw, &format!("z_L_{s}"), &f64s(&read(be, &carry.z_l)), Tol::Abs(1e-4));
        let steps: Vec<f64> = out.steps.iter().map(|&x| x as f64).collect();
        let halted: Vec<f64> = out.halted.iter().map(|&x| x as u8 as f64).collect();
        c.tensor("steps, halted", &fw, &format!("steps_{s}"), &steps, Tol::Exact);
        c.tensor("steps, halted", &fw, &format!("halted_{s}"), &halted, Tol::Exact);
        c.tensor("loss (rel)", &fw, &format!("loss_{s}"), &[out.loss], Tol::Rel(1e-5));
        metrics_check(&mut c, &fw, s, &out.metrics, false);
        if s == 1 {
            let x = read(be, model.input_embeddings().unwrap());
            c.tensor("input embeddings", &fw, "input_embeddings", &f64s(&x), Tol::Abs(1e-4));
            for (call, z) in &trace.calls {
                let module = if call.module == Module::L { "L_level" } else { "H_level" };
                let name = format!("trace.{module}.out.c{}_1", call.index);
                c.tensor("traces (L/H calls)", &fw, &name, &f64s(z), Tol::Abs(1e-4));
            }
            let want_calls = cfg.h_cycles * (cfg.l_cycles + 1);
            if trace.calls.len() != want_calls {
                c.failures.push(format!("observer saw {} calls, expected {want_calls}", trace.calls.len()));
            }
        }
        s += 1;
    }
    if s == 1 {
        c.failures.push("forward.safetensors has no logits_1".into());
    }

    // ---- train: zero-filled initial carry, two segments, grads of loss / B ----
    let tr = load(&dir.join("train_step.safetensors"));
    let mut model = Hrm::new(be.clone(), &cfg, &store).unwrap();
    let batches = [batch(&cfg, &b, ""), batch(&cfg, &b, "_seg2")];
    let mut carry = model.initial_carry(&batches[0]);
    let mut rng = SplitMix64(0);
    for (i, bt) in batches.iter().enumerate() {
        let s = i + 1;
        let out = pollster::block_on(model.train_segment(&mut carry, bt, &mut rng)).unwrap();
        c.tensor("loss (rel)", &tr, &format!("loss_{s}"), &[out.loss], Tol::Rel(1e-5));
        c.tensor("loss (rel)", &tr, &format!("backprop_loss_{s}"), &[out.loss / bt.rows as f64], Tol::Rel(1e-5));
        metrics_check(&mut c, &tr, s, &out.metrics, true);
        let logits = pollster::block_on(model.read_logits());
        c.tensor("logits", &tr, &format!("logits_{s}"), &f64s(&logits), Tol::Abs(1e-4));
        c.tensor("q logits", &tr, &format!("q_halt_logits_{s}"), &f64s(&out.q_halt), Tol::Abs(1e-4));
        c.tensor("q logits", &tr, &format!("q_continue_logits_{s}"), &f64s(&out.q_continue), Tol::Abs(1e-4));
        match &out.target_q_continue {
            Some(tq) => c.tensor("target_q_continue", &tr, &format!("target_q_continue_{s}"), &f64s(tq), Tol::Abs(1e-4)),
            None => {
                if tr.contains_key(&format!("target_q_continue_{s}")) {
                    c.failures.push(format!("no target_q_continue but the fixture has target_q_continue_{s}"));
                }
            }
        }
        c.tensor("z_H, z_L", &tr, &format!("z_H_{s}"), &f64s(&read(be, &carry.z_h)), Tol::Abs(1e-4));
        c.tensor("z_H, z_L", &tr, &format!("z_L_{s}"), &f64s(&read(be, &carry.z_l)), Tol::Abs(1e-4));
        let steps: Vec<f64> = out.steps.iter().map(|&x| x as f64).collect();
        let halted: Vec<f64> = out.halted.iter().map(|&x| x as u8 as f64).collect();
        c.tensor("steps, halted", &tr, &format!("steps_{s}"), &steps, Tol::Exact);
        c.tensor("steps, halted", &tr, &format!("halted_{s}"), &halted, Tol::Exact);
        c.tensor("steps, halted", &tr, &format!("all_halted_{s}"), &[out.all_halted as u8 as f64], Tol::Exact);
        let cd = &carry.current_data;
        let as_f = |v: &[i32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        c.tensor("current_data", &tr, &format!("current_data.inputs_{s}"), &as_f(&cd.inputs), Tol::Exact);
        c.tensor("current_data", &tr, &format!("current_data.labels_{s}"), &as_f(&cd.labels), Tol::Exact);
        c.tensor("current_data", &tr, &format!("current_data.puzzle_identifiers_{s}"), &as_f(&cd.puzzle_identifiers), Tol::Exact);
        c.tensor("input embeddings", &tr, &format!("input_embeddings_{s}"), &f64s(&read(be, model.input_embeddings().unwrap())), Tol::Abs(1e-4));
        let grads = pollster::block_on(model.grads_to_store());
        for (name, g) in &grads {
            c.tensor("grads (rel to max)", &tr, &format!("grad.{name}_{s}"), &f64s(&g.data), Tol::RelMax(1e-4));
        }
        // every gradient in the fixture must have been produced
        for key in tr.keys().filter(|k| k.starts_with("grad.") && k.ends_with(&format!("_{s}"))) {
            let name = &key["grad.".len()..key.len() - format!("_{s}").len()];
            if !grads.contains_key(name) {
                c.failures.push(format!("no gradient for {name}"));
            }
        }
        if cfg.puzzle_emb_ndim > 0 {
            c.tensor("current_data", &tr, &format!("model.inner.puzzle_emb.local_ids_{s}"), &as_f(model.puzzle_grad_ids()), Tol::Exact);
        }
    }
    c
}

fn folders() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(hrm_tests::fixtures().join("parity"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("config.json").exists())
        .collect();
    dirs.sort();
    if let Ok(extra) = std::env::var("HRM_PARITY_DIRS") {
        dirs.extend(extra.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
    }
    dirs
}

/// Every folder on `be`; each printed line names the backend.
fn run_all<B: Backend + Clone>(label: &str, be: &B) {
    let dirs = folders();
    assert!(!dirs.is_empty(), "no parity folders found");
    let mut failed = Vec::new();
    for dir in &dirs {
        assert!(dir.join("config.json").exists(), "{}: no config.json", dir.display());
        let c = check_folder(be, dir);
        println!("[{label}] == parity folder {}", dir.display());
        for (family, (err, name)) in &c.worst {
            println!("[{label}]    {family:<22} worst {err:.3e}  ({name})");
        }
        for f in &c.failures {
            println!("[{label}]    FAIL {f}");
            failed.push(format!("[{label}] {}: {f}", dir.display()));
        }
    }
    assert!(failed.is_empty(), "{} parity failures on the {label} backend:\n{}", failed.len(), failed.join("\n"));
}

#[test]
fn parity_with_official_vectors_on_cpu() {
    run_all("cpu", &CpuBackend);
}

#[test]
fn parity_with_official_vectors_on_gpu() {
    match GpuBackend::new_blocking() {
        Ok(be) => {
            println!("[gpu] adapter: {}", be.context().info());
            run_all("gpu", &be);
            if let Some(e) = be.error() {
                panic!("[gpu] backend error during parity: {e}");
            }
        }
        Err(e) => {
            let required = std::env::var("HRM_REQUIRE_GPU").is_ok_and(|v| v == "1");
            // Straight to the process's stderr: the harness captures print!/eprint! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!! [gpu] PARITY NOT RUN ON THE GPU BACKEND: {e}\n!!!! (install a Vulkan driver, e.g. mesa-vulkan-drivers; HRM_REQUIRE_GPU=1 makes this a failure)\n"
            );
            assert!(!required, "[gpu] HRM_REQUIRE_GPU=1 but no GPU backend: {e}");
        }
    }
}
