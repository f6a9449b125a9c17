//! `hrm bench --preset P --ops`: where a training step and an eval segment of the preset spend their
//! time, op by op. A wrapper backend times every call of the CPU backend (each runs synchronously, so
//! wall time per call is the op's time) and prints the ms per step and the share of each op.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use hrm::backend::{AdamStep, AttnDims, Backend, CpuBackend, EmbedDims, LmLossKind, LossDims};
use hrm::model::{Batch, Hrm};
use hrm::optim::OptimError;
use hrm::synthetic::SplitMix64;
use hrm::train::{TrainConfig, Trainer};
use hrm::Checkpoint;

use super::preset::{random_batch, Preset};

type Log = Arc<Mutex<BTreeMap<String, (f64, u64)>>>;

/// The CPU backend, with the time of every call added to `log` under the op's name.
#[derive(Clone, Default)]
struct Timed {
    log: Log,
}

impl Timed {
    fn time<R>(&self, name: impl Into<String>, f: impl FnOnce() -> R) -> R {
        let t = Instant::now();
        let r = f();
        let e = t.elapsed().as_secs_f64();
        let mut log = self.log.lock().unwrap();
        let slot = log.entry(name.into()).or_default();
        slot.0 += e;
        slot.1 += 1;
        r
    }
}

const CPU: CpuBackend = CpuBackend;

#[allow(clippy::too_many_arguments)]
impl Backend for Timed {
    type Buf = Vec<f32>;
    type IBuf = Vec<i32>;
    fn alloc(&self, len: usize) -> Vec<f32> {
        self.time("alloc/upload", || CPU.alloc(len))
    }
    fn upload(&self, data: &[f32]) -> Vec<f32> {
        self.time("alloc/upload", || CPU.upload(data))
    }
    fn write(&self, dst: &mut Vec<f32>, data: &[f32]) {
        self.time("alloc/upload", || CPU.write(dst, data))
    }
    fn upload_i32(&self, data: &[i32]) -> Vec<i32> {
        CPU.upload_i32(data)
    }
    fn write_i32(&self, dst: &mut Vec<i32>, data: &[i32]) {
        CPU.write_i32(dst, data)
    }
    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }
    fn read(&self, bufs: &[&Vec<f32>]) -> impl std::future::Future<Output = Vec<Vec<f32>>> {
        std::future::ready(self.time("read", || bufs.iter().map(|b| b.to_vec()).collect()))
    }
    fn fill(&self, dst: &mut Vec<f32>, value: f32) {
        self.time("fill/copy/add", || CPU.fill(dst, value))
    }
    fn copy(&self, src: &Vec<f32>, dst: &mut Vec<f32>) {
        self.time("fill/copy/add", || CPU.copy(src, dst))
    }
    fn add(&self, a: &Vec<f32>, b: &Vec<f32>, out: &mut Vec<f32>) {
        self.time("fill/copy/add", || CPU.add(a, b, out))
    }
    fn add_assign(&self, out: &mut Vec<f32>, a: &Vec<f32>) {
        self.time("fill/copy/add", || CPU.add_assign(out, a))
    }
    fn reset_rows(&self, z: &mut Vec<f32>, init: &Vec<f32>, flags: &Vec<i32>, positions: usize) {
        self.time("fill/copy/add", || CPU.reset_rows(z, init, flags, positions))
    }
    fn row_diff_norm(&self, rows: usize, cols: usize, a: &Vec<f32>, b: &Vec<f32>, out: &mut Vec<f32>) {
        self.time("row_diff_norm", || CPU.row_diff_norm(rows, cols, a, b, out))
    }
    fn matmul_nt(&self, m: usize, n: usize, k: usize, x: &Vec<f32>, w: &Vec<f32>, y: &mut Vec<f32>, acc: bool) {
        self.time(format!("matmul fwd  N {n:>4} K {k:>4}"), || CPU.matmul_nt(m, n, k, x, w, y, acc))
    }
    fn matmul_nn(&self, m: usize, n: usize, k: usize, dy: &Vec<f32>, w: &Vec<f32>, dx: &mut Vec<f32>, acc: bool) {
        self.time(format!("matmul dx   N {n:>4} K {k:>4}"), || CPU.matmul_nn(m, n, k, dy, w, dx, acc))
    }
    fn matmul_tn(&self, m: usize, n: usize, k: usize, dy: &Vec<f32>, x: &Vec<f32>, dw: &mut Vec<f32>, acc: bool) {
        self.time(format!("matmul dW   N {n:>4} K {k:>4}"), || CPU.matmul_tn(m, n, k, dy, x, dw, acc))
    }
    fn gather_rows(&self, table: &Vec<f32>, ids: &Vec<i32>, dim: usize, rows: &mut Vec<f32>) {
        self.time("embed", || CPU.gather_rows(table, ids, dim, rows))
    }
    fn embed_forward(&self, d: EmbedDims, tokens: &Vec<i32>, puzzle: &Vec<f32>, emb: &Vec<f32>, pos: Option<&Vec<f32>>, scale: f32, x: &mut Vec<f32>) {
        self.time("embed", || CPU.embed_forward(d, tokens, puzzle, emb, pos, scale, x))
    }
    fn embed_backward(&self, d: EmbedDims, tokens: &Vec<i32>, dx: &Vec<f32>, scale: f32, d_emb: &mut Vec<f32>, d_pos: Option<&mut Vec<f32>>, d_puzzle: &mut Vec<f32>) {
        self.time("embed backward", || CPU.embed_backward(d, tokens, dx, scale, d_emb, d_pos, d_puzzle))
    }
    fn rope_forward(&self, d: AttnDims, cos: &Vec<f32>, sin: &Vec<f32>, qkv: &mut Vec<f32>) {
        self.time("rope", || CPU.rope_forward(d, cos, sin, qkv))
    }
    fn rope_backward(&self, d: AttnDims, cos: &Vec<f32>, sin: &Vec<f32>, dqkv: &mut Vec<f32>) {
        self.time("rope backward", || CPU.rope_backward(d, cos, sin, dqkv))
    }
    fn attention_forward(&self, d: AttnDims, qkv: &Vec<f32>, probs: &mut Vec<f32>, out: &mut Vec<f32>) {
        self.time("attention", || CPU.attention_forward(d, qkv, probs, out))
    }
    fn attention_forward_nograd(&self, d: AttnDims, qkv: &Vec<f32>, probs: &mut Vec<f32>, out: &mut Vec<f32>) {
        self.time("attention", || CPU.attention_forward_nograd(d, qkv, probs, out))
    }
    fn attention_backward(&self, d: AttnDims, qkv: &Vec<f32>, probs: &Vec<f32>, d_out: &Vec<f32>, scratch: &mut Vec<f32>, d_qkv: &mut Vec<f32>) {
        self.time("attention backward", || CPU.attention_backward(d, qkv, probs, d_out, scratch, d_qkv))
    }
    fn swiglu_forward(&self, rows: usize, width: usize, gu: &Vec<f32>, a: &mut Vec<f32>) {
        self.time("swiglu", || CPU.swiglu_forward(rows, width, gu, a))
    }
    fn swiglu_backward(&self, rows: usize, width: usize, gu: &Vec<f32>, d_a: &Vec<f32>, d_gu: &mut Vec<f32>) {
        self.time("swiglu backward", || CPU.swiglu_backward(rows, width, gu, d_a, d_gu))
    }
    fn add_rmsnorm_forward(&self, rows: usize, hidden: usize, eps: f32, a: &Vec<f32>, b: &Vec<f32>, y: &mut Vec<f32>, rstd: &mut Vec<f32>) {
        self.time("add+rmsnorm", || CPU.add_rmsnorm_forward(rows, hidden, eps, a, b, y, rstd))
    }
    fn rmsnorm_backward(&self, rows: usize, hidden: usize, y: &Vec<f32>, rstd: &Vec<f32>, dy: &Vec<f32>, dx: &mut Vec<f32>) {
        self.time("rmsnorm backward", || CPU.rmsnorm_backward(rows, hidden, y, rstd, dy, dx))
    }
    fn mlp_forward(&self, rows: usize, hidden: usize, inter: usize, eps: f32, y: &Vec<f32>, w_gu: &Vec<f32>, w_down: &Vec<f32>, keep: bool, gu: &mut Vec<f32>, act: &mut Vec<f32>, mlp_out: &mut Vec<f32>, out: &mut Vec<f32>, rstd: &mut Vec<f32>) {
        self.time("mlp (gate_up, swiglu, down, add+rmsnorm)", || CPU.mlp_forward(rows, hidden, inter, eps, y, w_gu, w_down, keep, gu, act, mlp_out, out, rstd))
    }
    fn q_head_forward(&self, batch: usize, total: usize, hidden: usize, z: &Vec<f32>, w: &Vec<f32>, bias: &Vec<f32>, q: &mut Vec<f32>) {
        self.time("heads/loss", || CPU.q_head_forward(batch, total, hidden, z, w, bias, q))
    }
    fn q_head_backward(&self, batch: usize, total: usize, hidden: usize, z: &Vec<f32>, w: &Vec<f32>, dq: &Vec<f32>, dz: &mut Vec<f32>, dw: &mut Vec<f32>, dbias: &mut Vec<f32>) {
        self.time("heads/loss", || CPU.q_head_backward(batch, total, hidden, z, w, dq, dz, dw, dbias))
    }
    fn lm_loss(&self, d: LossDims, kind: LmLossKind, logits: &Vec<f32>, labels: &Vec<i32>, grad_scale: f32, stats: &mut Vec<f32>, d_logits: Option<&mut Vec<f32>>) {
        self.time("heads/loss", || CPU.lm_loss(d, kind, logits, labels, grad_scale, stats, d_logits))
    }
    fn adam_update(&self, c: &AdamStep, param: &mut Vec<f32>, grad: &Vec<f32>, m: &mut Vec<f32>, v: &mut Vec<f32>) -> Result<(), OptimError> {
        self.time("optimizer", || CPU.adam_update(c, param, grad, m, v))
    }
    fn sign_sgd_rows(&self, weights: &mut Vec<f32>, dim: usize, ids: &Vec<i32>, row_grads: &Vec<f32>, lr: f64, weight_decay: f64) -> Result<(), OptimError> {
        self.time("optimizer", || CPU.sign_sgd_rows(weights, dim, ids, row_grads, lr, weight_decay))
    }
}

fn print_table(what: &str, log: &Log, per: usize, wall_ms: f64) {
    let mut rows: Vec<(String, f64, u64)> = log.lock().unwrap().iter().map(|(k, v)| (k.clone(), v.0 * 1e3 / per as f64, v.1 / per as u64)).collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    println!("{what}: {wall_ms:.1} ms wall per {}, {total:.1} ms inside ops", if what.starts_with("train") { "step" } else { "segment" });
    for (name, ms, calls) in rows {
        println!("  {name:<44} {ms:>8.2} ms  {:>5.1} %  ({calls} calls)", 100.0 * ms / total);
    }
}

pub fn run(preset: Preset, steps: usize, segments: usize) -> anyhow::Result<()> {
    let cfg = preset.config();
    let ck = Checkpoint::init(cfg.clone(), 0).context("initialising the preset model")?;
    let mut rng = SplitMix64::new(1);
    let batches: Vec<Batch> = (0..4).map(|_| random_batch(&cfg, &mut rng)).collect();

    let be = Timed::default();
    let model = Hrm::new(be.clone(), &cfg, &ck.params)?;
    let mut trainer = pollster::block_on(Trainer::new(model, TrainConfig { lr_warmup_steps: 0, ..TrainConfig::official(1000) }))?;
    for b in batches.iter().take(2) {
        pollster::block_on(trainer.train_step(b))?; // warm-up
    }
    be.log.lock().unwrap().clear();
    let t = Instant::now();
    for i in 0..steps {
        pollster::block_on(trainer.train_step(&batches[i % batches.len()]))?;
    }
    print_table(&format!("train ({} steps)", steps), &be.log, steps, t.elapsed().as_secs_f64() * 1e3 / steps as f64);

    let be = Timed::default();
    let mut model = Hrm::new(be.clone(), &cfg, &ck.params)?;
    let mut carry = model.initial_carry(&batches[0]);
    for i in 0..segments + 2 {
        if i == 2 {
            be.log.lock().unwrap().clear(); // after two warm-up segments
        }
        let out = pollster::block_on(model.eval_segment(&mut carry, &batches[0], None))?;
        if out.all_halted {
            carry = model.initial_carry(&batches[0]);
        }
    }
    print_table(&format!("eval ({} segments)", segments), &be.log, segments, 0.0);
    Ok(())
}
