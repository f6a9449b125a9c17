//! Times the CPU model at the `sudoku-small` preset (or `maze-small` with `maze` as the argument):
//! median train segment (forward with grad, Q-target forward, loss, backward; no optimizer) and median
//! eval segment, random weights. `cargo run --release -p hrm-tests --example core_timing [maze] [reps]`.
//! The official `hrm bench` lives in the CLI; this is the model helper's quick check.

use std::time::Instant;

use hrm::backend::CpuBackend;
use hrm::model::{buffer_specs, param_specs, Batch, HaltRng, Hrm, SplitMix64, PREFIX};
use hrm::{Config, HostTensor, ParamStore};

/// CPU time of this process so far (user + system), in ms, from /proc (Linux); 0 elsewhere.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

fn gemm_rate() {
    use hrm::backend::cpu::matmul::{matmul_nn, matmul_nt, matmul_tn};
    let m = 2624;
    for (n, k) in [(384, 128), (128, 128), (1024, 128), (128, 512)] {
        let x = vec![0.5f32; m * k];
        let w = vec![0.25f32; n * k];
        let dy = vec![0.1f32; m * n];
        let mut y = vec![0.0f32; m * n];
        let mut dx = vec![0.0f32; m * k];
        let mut dw = vec![0.0f32; n * k];
        let reps = 10;
        let flop = 2.0 * (m * n * k * reps) as f64;
        let mut line = format!("M={m} N={n} K={k}:");
        for which in ["nt", "nn", "tn"] {
            let (t, c) = (Instant::now(), cpu_ms());
            for _ in 0..reps {
                match which {
                    "nt" => matmul_nt(m, n, k, &x, &w, &mut y, false),
                    "nn" => matmul_nn(m, n, k, &dy, &w, &mut dx, false),
                    _ => matmul_tn(m, n, k, &dy, &x, &mut dw, true),
                }
            }
            line += &format!("  {which} {:.0} GF/s wall {:.0} GF/s/cpu", flop / t.elapsed().as_secs_f64() / 1e9, flop / ((cpu_ms() - c).max(1.0) / 1e3) / 1e9);
        }
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(|a| a == "gemm").unwrap_or(false) {
        return gemm_rate();
    }
    let maze = args.get(1).map(|a| a == "maze").unwrap_or(false);
    let reps: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(7);
    let (batch, seq, vocab) = if maze { (8, 400, 6) } else { (32, 81, 11) };
    let cfg = Config::from_json_str(&format!(
        r#"{{"hidden_size": 128, "num_heads": 4, "expansion": 4, "H_layers": 2, "L_layers": 2, "H_cycles": 2, "L_cycles": 2,
        "halt_max_steps": 8, "halt_exploration_prob": 0.1, "puzzle_emb_ndim": 128, "num_puzzle_identifiers": 1,
        "pos_encodings": "rope", "batch_size": {batch}, "seq_len": {seq}, "vocab_size": {vocab}}}"#
    ))
    .unwrap();
    let mut rng = SplitMix64(1);
    let mut store = ParamStore::new();
    for (name, shape) in param_specs(&cfg).into_iter().chain(buffer_specs(&cfg)) {
        let n: usize = shape.iter().product();
        let s = 1.0 / (shape[shape.len() - 1] as f64).sqrt();
        let data = (0..n).map(|_| ((rng.uniform() * 2.0 - 1.0) * 1.7 * s) as f32).collect();
        store.insert(format!("{PREFIX}{name}"), HostTensor::new(shape, data));
    }
    let inputs: Vec<i32> = (0..batch * seq).map(|_| 1 + (rng.uniform() * (vocab - 1) as f64) as i32).collect();
    let labels: Vec<i32> = (0..batch * seq).map(|_| 1 + (rng.uniform() * (vocab - 1) as f64) as i32).collect();
    let b = Batch::new(batch, seq, inputs, labels, vec![0; batch]).unwrap();
    let mut model = Hrm::new(CpuBackend, &cfg, &store).unwrap();
    let mut carry = model.initial_carry(&b);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut train = Vec::new();
    let mut cpu = cpu_ms();
    for i in 0..reps + 1 {
        if i == 1 {
            cpu = cpu_ms();
        }
        let t = Instant::now();
        pollster::block_on(model.train_segment(&mut carry, &b, &mut rng)).unwrap();
        if i > 0 {
            train.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let train_cpu = (cpu_ms() - cpu) / reps as f64;
    let mut eval = Vec::new();
    let mut carry = model.initial_carry(&b);
    for i in 0..reps + 1 {
        if i == 1 {
            cpu = cpu_ms();
        }
        let t = Instant::now();
        pollster::block_on(model.eval_segment(&mut carry, &b, None)).unwrap();
        if i > 0 {
            eval.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let eval_cpu = (cpu_ms() - cpu) / reps as f64;
    println!("CPU time per segment (all threads): train {train_cpu:.0} ms, eval {eval_cpu:.0} ms");
    println!(
        "{}: train segment median {:.1} ms (min {:.1}), eval segment median {:.1} ms (min {:.1}), {reps} reps, {} threads",
        if maze { "maze-small" } else { "sudoku-small" },
        median(train.clone()),
        train.iter().cloned().fold(f64::INFINITY, f64::min),
        median(eval.clone()),
        eval.iter().cloned().fold(f64::INFINITY, f64::min),
        rayon::current_num_threads()
    );
}
