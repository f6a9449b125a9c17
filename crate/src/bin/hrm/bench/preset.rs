//! `hrm bench --preset`: the CPU speed of the whole model at the two presets, against the
//! official PyTorch figures measured on this 2-core machine (eager, 2 threads).
//!
//! A training step is `Trainer::train_step`: one ACT segment in train mode (forward of H_cycles x
//! L_cycles calls, the no-grad Q-target forward, the loss), the one-step backward, SignSGD and
//! AdamATan2. An eval segment is one `Hrm::eval_segment`. Inputs are random tokens of the preset's
//! vocabulary (speed does not depend on the values).

use std::time::Instant;

use anyhow::Context;
use hrm::backend::CpuBackend;
use hrm::model::{Batch, Hrm};
use hrm::synthetic::SplitMix64;
use hrm::train::{TrainConfig, Trainer};
use hrm::{Checkpoint, Config, LossType, PosEncoding};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    SudokuSmall,
    MazeSmall,
}

impl Preset {
    pub(crate) fn config(self) -> Config {
        let (batch_size, seq_len, vocab_size) = match self {
            Preset::SudokuSmall => (32, 81, 11),
            Preset::MazeSmall => (8, 400, 6),
        };
        Config {
            batch_size,
            seq_len,
            puzzle_emb_ndim: 128,
            num_puzzle_identifiers: 1,
            vocab_size,
            h_cycles: 2,
            l_cycles: 2,
            h_layers: 2,
            l_layers: 2,
            hidden_size: 128,
            expansion: 4.0,
            num_heads: 4,
            pos_encodings: PosEncoding::Rope,
            rms_norm_eps: 1e-5,
            rope_theta: 10000.0,
            halt_max_steps: 8,
            halt_exploration_prob: 0.1,
            forward_dtype: "float32".into(),
            loss_type: LossType::StablemaxCrossEntropy,
            attn_radius: 0,
        }
    }

    /// Official PyTorch (eager, 2 threads, this machine): (ms per train step, ms per eval segment).
    fn official_ms(self) -> (f64, f64) {
        match self {
            Preset::SudokuSmall => (430.0, 160.0), // eval: 150-170 ms
            Preset::MazeSmall => (750.0, 240.0),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Preset::SudokuSmall => "sudoku-small",
            Preset::MazeSmall => "maze-small",
        }
    }
}

pub(crate) fn random_batch(cfg: &Config, rng: &mut SplitMix64) -> Batch {
    let n = cfg.batch_size * cfg.seq_len;
    let v = cfg.vocab_size as u64 - 1;
    let inputs = (0..n).map(|_| 1 + rng.below(v) as i32).collect();
    let labels = (0..n).map(|_| 1 + rng.below(v) as i32).collect();
    Batch { rows: cfg.batch_size, seq_len: cfg.seq_len, inputs, labels, puzzle_identifiers: vec![0; cfg.batch_size] }
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Peak resident memory of this process (`VmHWM`), in MiB, where /proc exists.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time (user + system, all threads) of this process so far, in seconds, where /proc exists.
/// Clock ticks are taken as 1/100 s (USER_HZ on Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

pub fn run(preset: Preset, threads: usize, train_steps: usize, eval_segments: usize) -> anyhow::Result<()> {
    let cfg = preset.config();
    let peak_before = super::host::fma_peak_gflops(200);
    let ck = Checkpoint::init(cfg.clone(), 0).context("initialising the preset model")?;
    let mut rng = SplitMix64::new(1);
    let rss_before = peak_rss_mib();

    // Training steps: a new batch each step (rows that halted take it), the carry persists.
    let model = Hrm::new(CpuBackend, &cfg, &ck.params)?;
    let mut trainer = pollster::block_on(Trainer::new(model, TrainConfig { lr_warmup_steps: 0, ..TrainConfig::official(1000) }))?;
    let batches: Vec<Batch> = (0..4).map(|_| random_batch(&cfg, &mut rng)).collect();
    let mut train_ms = Vec::new();
    let mut train_cpu = 0.0;
    for i in 0..train_steps.max(1) + 2 {
        let (t, c) = (Instant::now(), cpu_seconds());
        pollster::block_on(trainer.train_step(&batches[i % batches.len()]))?;
        if i >= 2 {
            train_ms.push(t.elapsed().as_secs_f64() * 1e3);
            train_cpu += cpu_seconds().zip(c).map_or(0.0, |(b, a)| b - a);
        }
    }
    let rss_train = peak_rss_mib();

    // The optimizer alone (host AdamATan2 over every parameter), to see its share of a step.
    let n_params = ck.parameter_count();
    let mut adam = hrm::optim::Adam::new(hrm::optim::AdamConfig::default())?;
    let (mut p, g) = (vec![0.5f32; n_params], vec![1e-3f32; n_params]);
    let mut adam_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        adam.step_tensor(1e-4, "all", &mut p, &g)?;
        adam_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }

    // Eval segments: fresh carry per batch, halt_max_steps segments each, as the official evaluate.
    let mut model = trainer.into_model();
    let mut eval_ms = Vec::new();
    let mut carry = model.initial_carry(&batches[0]);
    let mut done = 0;
    let mut eval_cpu = 0.0;
    while done < eval_segments.max(1) + 2 {
        let (t, c) = (Instant::now(), cpu_seconds());
        let out = pollster::block_on(model.eval_segment(&mut carry, &batches[0], None))?;
        if done >= 2 {
            eval_ms.push(t.elapsed().as_secs_f64() * 1e3);
            eval_cpu += cpu_seconds().zip(c).map_or(0.0, |(b, a)| b - a);
        }
        done += 1;
        if out.all_halted {
            carry = model.initial_carry(&batches[0]);
        }
    }
    let rss_eval = peak_rss_mib();
    let peak_after = super::host::fma_peak_gflops(200);

    let (tm, em) = (median(train_ms.clone()), median(eval_ms.clone()));
    let (ot, oe) = preset.official_ms();
    println!(
        "preset {} (hidden {}, heads {}, H/L layers {}/{}, cycles {}/{}, batch {}, seq {}, vocab {}, puzzle_emb {}, rope), {threads} thread(s)",
        preset.name(),
        cfg.hidden_size,
        cfg.num_heads,
        cfg.h_layers,
        cfg.l_layers,
        cfg.h_cycles,
        cfg.l_cycles,
        cfg.batch_size,
        cfg.seq_len,
        cfg.vocab_size,
        cfg.puzzle_emb_ndim
    );
    let range = |v: &[f64]| (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(0.0, f64::max));
    let (tlo, thi) = range(&train_ms);
    let (elo, ehi) = range(&eval_ms);
    println!(
        "train step   : median {tm:8.1} ms  (min {tlo:.1}, max {thi:.1}, n={})  = {:.2} steps/s;    official {ot:.0} ms -> {:.2}x",
        train_ms.len(),
        1e3 / tm,
        ot / tm
    );
    println!(
        "eval segment : median {em:8.1} ms  (min {elo:.1}, max {ehi:.1}, n={})  = {:.2} segments/s; official {oe:.0} ms -> {:.2}x",
        eval_ms.len(),
        1e3 / em,
        oe / em
    );
    println!("AdamATan2 alone over the {n_params} parameters (one thread): median {:.1} ms", median(adam_ms));
    if cpu_seconds().is_some() {
        let (tc, ec) = (train_cpu * 1e3 / train_ms.len() as f64, eval_cpu * 1e3 / eval_ms.len() as f64);
        let share = (train_cpu + eval_cpu) * 1e3 / (train_ms.iter().sum::<f64>() + eval_ms.iter().sum::<f64>());
        println!(
            "CPU time (all threads): {tc:.0} ms per train step, {ec:.0} ms per eval segment; this process got {share:.2} of {threads} core(s) \
             (below {threads}: its threads waited, on each other or for cores that other processes had)"
        );
    }
    if let (Some(a), Some(b)) = (peak_before, peak_after) {
        println!("host FMA peak, one thread: {a:.1} GFLOP/s before the run, {b:.1} after (this VM has given 60-90: wall times scale with it)");
    }
    match (rss_before, rss_train, rss_eval) {
        (Some(a), Some(b), Some(c)) => println!("peak RSS (VmHWM): {a:.0} MiB at start, {b:.0} MiB after training, {c:.0} MiB after eval"),
        _ => println!("peak RSS: not available (no /proc/self/status)"),
    }
    println!("(ratio > 1 = faster than the issue's PyTorch figure, measured at another moment; for the same moment run tests/torch/hrm_torch.py --preset beside this, see README \"CPU speed\")");
    Ok(())
}
