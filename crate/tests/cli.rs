//! The `hrm` CLI end to end: training on generated puzzles and on a dataset folder resumes exactly
//! where it stopped, fine-tuning starts from the given weights, the GPU backend logs the CPU's losses,
//! and bad flags are named. (The shipped models' table rows: shipped_models.rs.)
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;

fn hrm(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hrm")).args(args).env("RUST_BACKTRACE", "0").output().expect("running hrm");
    assert!(out.status.success(), "hrm {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn hrm_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hrm")).args(args).env("RUST_BACKTRACE", "0").output().expect("running hrm");
    assert!(!out.status.success(), "hrm {args:?} should have failed");
    String::from_utf8(out.stderr).expect("utf-8")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hrm-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The lines of one kind ("train" or "eval") in a run's train.jsonl.
fn log_lines(run: &Path, kind: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("train.jsonl"))
        .expect("train.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|v| v["kind"] == kind)
        .collect()
}

/// The training losses in a run's log, by step.
fn losses(run: &Path) -> Vec<(u64, f64)> {
    log_lines(run, "train").iter().map(|v| (v["step"].as_u64().unwrap(), v["loss"].as_f64().unwrap())).collect()
}

const TINY: &[&str] = &[
    "--hidden", "16", "--heads", "2", "--expansion", "2", "--h-layers", "1", "--l-layers", "1", "--h-cycles", "1", "--l-cycles", "2",
    "--halt-max-steps", "3", "--batch", "4", "--steps", "6", "--eval-every", "0", "--eval-batches", "1", "--checkpoint-every", "0",
    "--threads", "1", "--quiet",
];

/// Trains 6 steps straight, and 3 + resume to 6; the losses of steps 4..6 must be the same bits.
fn check_resume(name: &str, data: &[&str]) {
    let (straight, split) = (scratch(&format!("{name}-straight")), scratch(&format!("{name}-split")));
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["train", "--out", out.to_str().unwrap()];
        args.extend_from_slice(data);
        args.extend_from_slice(TINY);
        args.extend_from_slice(extra);
        hrm(&args);
    };
    run(&straight, &[]);
    run(&split, &["--stop-at", "3"]);
    assert_eq!(losses(&split).len(), 3, "the interrupted run stops at step 3");
    // A line written after the checkpoint (as by a run killed between checkpoints) is dropped on resume.
    let log = split.join("train.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"kind\":\"train\",\"step\":4,\"loss\":123.0}\n");
    std::fs::write(&log, text).unwrap();
    hrm(&["train", "--out", split.to_str().unwrap(), "--resume", "--quiet", "--threads", "1"]);
    let (a, b) = (losses(&straight), losses(&split));
    assert_eq!(a.len(), 6);
    assert_eq!(a, b, "the resumed run must log the same losses as the uninterrupted one");
    // The losses move: the test would not pass on a run that did nothing.
    assert!(a.windows(2).any(|w| w[0].1 != w[1].1));
    let _ = std::fs::remove_dir_all(&straight);
    let _ = std::fs::remove_dir_all(&split);
}

/// `hrm eval --maze-sides` evaluates one set per side, each walled into the model's grid, and names a
/// side that does not fit.
#[test]
fn eval_reports_each_maze_side() {
    let run = scratch("maze-sides");
    let mut args = vec!["train", "--out", run.to_str().unwrap(), "--data", "maze", "--maze-size", "8", "--maze-min-size", "5"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(&["--stop-at", "2"]);
    hrm(&args);
    let r = run.to_str().unwrap();
    let out = hrm(&["eval", r, "--override-data", "--data", "maze", "--maze-size", "8", "--maze-sides", "5,8", "--count", "8", "--threads", "1"]);
    assert!(out.contains("maze 5x5 in 8x8") && out.contains("maze 8x8 (path"), "{out}");
    let rows: Vec<serde_json::Value> = out.lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["count"] == 8));
    let err = hrm_fails(&["eval", r, "--override-data", "--data", "maze", "--maze-size", "8", "--maze-sides", "9", "--count", "8"]);
    assert!(err.contains("9..=9") && err.contains("8"), "{err}");
    let _ = std::fs::remove_dir_all(&run);
}

/// A TINY run of 6 steps (warm-up 1, cosine to lr * 0.1) trained to its end in a fresh scratch dir.
fn finished_run(name: &str) -> PathBuf {
    let run = scratch(name);
    let mut args = vec!["train", "--out", run.to_str().unwrap(), "--warmup", "1", "--lr-min-ratio", "0.1"];
    args.extend_from_slice(TINY);
    hrm(&args);
    run
}

/// (step, lr) of every training line of a run's train.jsonl.
fn train_lrs(run: &Path) -> Vec<(u64, f64)> {
    log_lines(run, "train").iter().map(|v| (v["step"].as_u64().unwrap(), v["lr"].as_f64().unwrap())).collect()
}

/// `--resume --extend --steps N` continues a finished run to N steps on a lengthened schedule: the
/// lr rises again after the old schedule's end (it had reached its minimum), the state records the
/// new length, and a shorter --steps is refused.
#[test]
fn a_finished_run_is_extended() {
    let run = finished_run("extend");
    let r = run.to_str().unwrap();
    let lrs = || train_lrs(&run);
    assert_eq!(lrs().len(), 6);
    // without --extend a finished run has nothing left to do
    hrm(&["train", "--out", r, "--resume", "--quiet", "--threads", "1", "--steps", "9"]);
    assert_eq!(lrs().len(), 6);
    hrm(&["train", "--out", r, "--resume", "--extend", "--quiet", "--threads", "1", "--steps", "9"]);
    let lr = lrs();
    assert_eq!(lr.iter().map(|x| x.0).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    assert!(lr[6].1 > lr[5].1 * 1.5, "the lr rises on the longer schedule: {lr:?}");
    assert!(lr[8].1 < lr[6].1, "and falls to its end again: {lr:?}");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("train_state.json")).unwrap()).unwrap();
    assert_eq!((state["step"].as_u64(), state["config"]["total_steps"].as_u64()), (Some(9), Some(9)));
    let err = hrm_fails(&["train", "--out", r, "--resume", "--extend", "--quiet", "--steps", "7"]);
    assert!(err.contains("lengthened, not shortened to 7"), "{err}");
    let _ = std::fs::remove_dir_all(&run);
}

/// `--extend --restart-lr R` restarts the schedule at the run's step instead: a fresh cosine from R
/// with no warm-up, down to R * lr_min_ratio at --steps, the moments kept (the state records where
/// the schedule now starts); a restart that does not end after the current step is refused.
#[test]
fn a_finished_run_is_restarted_at_a_chosen_lr() {
    let run = finished_run("restart");
    let r = run.to_str().unwrap();
    hrm(&["train", "--out", r, "--resume", "--extend", "--restart-lr", "2e-4", "--quiet", "--threads", "1", "--steps", "9"]);
    let lr = train_lrs(&run);
    assert_eq!(lr.iter().map(|x| x.0).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    // steps 7, 8, 9 are the restarted 3-step cosine's steps 1, 2, 3: 2e-4 * (0.1 + 0.9 * (1 + cos(pi k/3)) / 2)
    for (k, &(step, got)) in lr[6..].iter().enumerate() {
        let want = 2e-4 * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * (k + 1) as f64 / 3.0).cos()));
        assert!((got - want).abs() < 1e-12, "step {step}: lr {got}, want {want} ({lr:?})");
    }
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("train_state.json")).unwrap()).unwrap();
    assert_eq!(state["config"]["schedule_start"].as_u64(), Some(6));
    assert_eq!(state["config"]["lr"].as_f64(), Some(2e-4));
    let err = hrm_fails(&["train", "--out", r, "--resume", "--extend", "--restart-lr", "1e-4", "--quiet", "--steps", "9"]);
    assert!(err.contains("must end after it, not at 9"), "{err}");
    let err = hrm_fails(&["train", "--out", r, "--resume", "--extend", "--restart-lr", "0", "--quiet", "--steps", "12"]);
    assert!(err.contains("restart lr 0 must be a finite number > 0"), "{err}");
    let _ = std::fs::remove_dir_all(&run);
}

/// A resumed run keeps the run's evaluation interval (it used to fall back to the default, 100), and a
/// flag given on resume replaces it: evaluations at 2 (first part), 4 (resumed, kept 2), then 5 and 6
/// (resumed with --eval-every 1).
#[test]
fn resume_keeps_the_eval_interval() {
    let run = scratch("every");
    let r = run.to_str().unwrap();
    let mut args: Vec<&str> = vec!["train", "--out", r];
    args.extend(TINY.iter().map(|&a| if a == "0" { "2" } else { a }));
    assert!(args.windows(2).any(|w| w == ["--eval-every", "2"]), "TINY's intervals are the 0s: {args:?}");
    args.extend(["--stop-at", "2"]);
    hrm(&args);
    hrm(&["train", "--out", r, "--resume", "--quiet", "--threads", "1", "--stop-at", "4"]);
    hrm(&["train", "--out", r, "--resume", "--quiet", "--threads", "1", "--eval-every", "1"]);
    let evals: Vec<u64> = log_lines(&run, "eval").iter().map(|v| v["step"].as_u64().unwrap()).collect();
    assert_eq!(evals, [2, 4, 5, 6]);
    let _ = std::fs::remove_dir_all(&run);
}

/// `--resume` on a folder with no saved run says so, instead of naming a missing file.
#[test]
fn resume_without_a_run_is_named() {
    let dir = scratch("no-run");
    std::fs::create_dir_all(&dir).unwrap();
    let err = hrm_fails(&["train", "--out", dir.to_str().unwrap(), "--resume", "--quiet"]);
    assert!(err.contains("holds no saved run (no model.safetensors); leave out --resume"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--maze-max-side` caps the drawn sides below the grid: every example of the carried batch is a
/// maze of side 5 or 6 walled into the 8x8 grid (its last two rows and columns are walls, token 1),
/// and a cap outside --maze-min-size..=--maze-size is refused.
#[test]
fn maze_max_side_keeps_small_mazes_in_the_grid() {
    let run = scratch("maze-max-side");
    let mut args = vec!["train", "--out", run.to_str().unwrap(), "--data", "maze", "--maze-size", "8", "--maze-min-size", "5", "--maze-max-side", "6"];
    // a batch of 16: uncapped sides (5..=8) would all be 5 or 6 by chance once in 65,536 runs
    args.extend(TINY.iter().enumerate().map(|(i, &a)| if i > 0 && TINY[i - 1] == "--batch" { "16" } else { a }));
    args.extend_from_slice(&["--stop-at", "2"]);
    hrm(&args);
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("train_state.json")).unwrap()).unwrap();
    assert_eq!(state["data"]["source"]["sides"], serde_json::json!([5, 6]));
    let inputs: Vec<u64> = state["carry"]["inputs"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(inputs.len(), 16 * 64);
    for maze in inputs.chunks(64) {
        // the side of this example: the last row and column that hold anything but walls
        let side = (0..8).rev().find(|&i| (0..8).any(|j| maze[i * 8 + j] != 1 || maze[j * 8 + i] != 1)).unwrap() + 1;
        assert!((5..=6).contains(&side), "an example of side {side}: {maze:?}");
    }
    let mut bad = args.clone();
    bad[10] = "9";
    let err = hrm_fails(&bad);
    assert!(err.contains("--maze-max-side 9 must be in 5..=8"), "{err}");
    let _ = std::fs::remove_dir_all(&run);
}

#[test]
fn training_on_generated_sudokus_resumes_exactly() {
    check_resume("sudoku", &["--data", "sudoku", "--band", "easy"]);
}

#[test]
fn training_on_generated_mazes_resumes_exactly() {
    check_resume("maze", &["--data", "maze", "--maze-size", "6", "--maze-min-size", "4", "--augment"]);
}

#[test]
fn training_on_a_dataset_folder_resumes_exactly() {
    let folder = scratch("folder-data");
    hrm(&["data", "sudoku", "--out", folder.to_str().unwrap(), "--band", "easy", "--train", "5", "--test", "4", "--aug", "1", "--quiet"]);
    // 10 training examples, batch 4: iterations of 2 batches, so the run crosses iteration boundaries.
    check_resume("folder", &["--data", folder.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&folder);
}

/// `--stop-after MINUTES` ends a run at the first step past its wall-clock budget, checkpointed, so
/// that `--resume` goes on from there (0 minutes: after one step); a negative budget is named.
#[test]
fn stop_after_ends_the_run_checkpointed_at_the_time_limit() {
    let run = scratch("stop-after");
    let r = run.to_str().unwrap();
    let mut args = vec!["train", "--out", r, "--data", "maze", "--maze-size", "5"];
    args.extend_from_slice(TINY);
    hrm(&[args.as_slice(), &["--stop-after", "0"]].concat());
    assert_eq!(losses(&run).len(), 1, "0 minutes: one step");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("train_state.json")).unwrap()).unwrap();
    assert_eq!(state["step"], 1, "the stop is checkpointed");
    hrm(&["train", "--out", r, "--resume", "--quiet", "--threads", "1"]);
    assert_eq!(losses(&run).iter().map(|l| l.0).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    let err = hrm_fails(&["train", "--out", r, "--stop-after=-1", "--quiet"]);
    assert!(err.contains("--stop-after") && err.contains("-1"), "{err}");
    let _ = std::fs::remove_dir_all(&run);
}

#[test]
fn bad_data_flags_are_named() {
    let out = scratch("bad");
    let err = hrm_fails(&["train", "--out", out.to_str().unwrap(), "--data", "sudoku", "--band", "impossible", "--quiet"]);
    assert!(err.contains("`impossible` is not a Sudoku band"), "{err}");
    let err = hrm_fails(&["train", "--out", out.to_str().unwrap(), "--data", "/no/such/folder", "--quiet"]);
    assert!(err.contains("/no/such/folder"), "{err}");
    let err = hrm_fails(&["train", "--out", out.to_str().unwrap(), "--data", "maze", "--maze-size", "5", "--min-path", "400", "--quiet"]);
    assert!(err.contains("generator"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

/// `hrm eval` runs a rotary model on a grid of another size (the same weights, new position tables)
/// and says so; a model with learned positions is refused with both lengths named.
#[test]
fn eval_runs_a_rotary_model_on_another_grid() {
    let run = scratch("eval-other-grid");
    for (pos, ok) in [("rope2d", true), ("learned", false)] {
        let mut args = vec!["train", "--out", run.to_str().unwrap(), "--data", "maze", "--maze-size", "5", "--min-path", "2", "--pos", pos];
        args.extend_from_slice(TINY);
        hrm(&args);
        let model = run.join("model.safetensors");
        let eval = ["eval", model.to_str().unwrap(), "--data", "maze", "--maze-size", "7", "--count", "4", "--threads", "1"];
        if ok {
            let out = hrm(&eval);
            assert!(out.contains("trained on 25 tokens; this set has 49") && out.contains("maze 7x7"), "{out}");
        } else {
            let err = hrm_fails(&eval);
            assert!(err.contains("seq_len 25") && err.contains("seq_len 49"), "{err}");
        }
        let _ = std::fs::remove_dir_all(&run);
    }
}

#[test]
fn init_from_fine_tunes_a_checkpoint_and_refuses_other_shapes() {
    let (base, tuned) = (scratch("init-base"), scratch("init-tuned"));
    let mut args = vec!["train", "--out", base.to_str().unwrap(), "--data", "sudoku", "--band", "easy"];
    args.extend_from_slice(TINY);
    hrm(&args);
    let model = base.join("model.safetensors");
    let mut args = vec!["train", "--out", tuned.to_str().unwrap(), "--data", "sudoku", "--band", "medium", "--init-from", model.to_str().unwrap()];
    args.extend_from_slice(TINY);
    hrm(&args);
    // The fine-tuned run starts where the base run ended: its first loss is nearer the base run's last
    // loss than its first (a fresh init's).
    let (b, t) = (losses(&base), losses(&tuned));
    let (first, last) = (b[0].1, b[b.len() - 1].1);
    assert!((t[0].1 - last).abs() < (t[0].1 - first).abs(), "fine-tuning starts from the trained weights: {} (base run {first} -> {last})", t[0].1);
    let err = hrm_fails(&["train", "--out", tuned.to_str().unwrap(), "--data", "maze", "--maze-size", "6", "--init-from", model.to_str().unwrap(), "--quiet"]);
    assert!(err.contains("seq_len 81"), "{err}");
    // a RoPE model (1-D or 2-D) moves to another grid size (5x5 mazes -> 6x6); learned positions cannot
    let (m5, m6) = (scratch("init-maze5"), scratch("init-maze6"));
    for (pos, ok) in [("rope", true), ("rope2d", true), ("learned", false)] {
        // the 2-D run also sets rope_theta and a local attention window, which the fine-tune must keep
        let theta: &[&str] = if pos == "rope2d" { &["--rope-theta", "100", "--attn-radius", "1"] } else { &[] };
        let mut args = vec!["train", "--out", m5.to_str().unwrap(), "--data", "maze", "--maze-size", "5", "--min-path", "2", "--pos", pos];
        args.extend_from_slice(theta);
        args.extend_from_slice(TINY);
        hrm(&args);
        let small = m5.join("model.safetensors");
        let mut args = vec!["train", "--out", m6.to_str().unwrap(), "--data", "maze", "--maze-size", "6", "--min-path", "2", "--init-from", small.to_str().unwrap()];
        args.extend_from_slice(TINY);
        if ok {
            hrm(&args);
            assert_eq!(losses(&m6).len(), 6, "the 6x6 fine-tune ran its steps");
            let info = hrm(&["info", m6.join("model.safetensors").to_str().unwrap()]);
            let want = if pos == "rope2d" { "\"rope_theta\": 100.0" } else { "\"rope_theta\": 10000.0" };
            assert!(info.contains(want), "{pos}: {info}");
            assert_eq!(info.contains("\"attn_radius\": 1"), pos == "rope2d", "{pos}: {info}");
        } else {
            assert!(hrm_fails(&args).contains("seq_len 25"), "learned positions are refused");
        }
        // `hrm convert --seq-len` writes a rotary model for another grid (the page runs a shipped
        // maze model on the manifest's size); learned positions are refused by name
        let wide = m5.join("wide.safetensors");
        let conv = ["convert", small.to_str().unwrap(), "--seq-len", "49", "-o", wide.to_str().unwrap()];
        if ok {
            hrm(&conv);
            let info = hrm(&["info", wide.to_str().unwrap()]);
            assert!(info.contains("\"seq_len\": 49"), "{pos}: {info}");
            assert_eq!(info.contains("\"attn_radius\": 1"), pos == "rope2d", "{pos}: {info}");
        } else {
            assert!(hrm_fails(&conv).contains("Learned positions are weights for its seq_len 25"), "learned positions are refused");
        }
        let _ = std::fs::remove_dir_all(&m5);
        let _ = std::fs::remove_dir_all(&m6);
    }
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&tuned);
}

#[test]
fn training_on_the_gpu_backend_logs_the_cpu_losses() {
    // CI has lavapipe (a software Vulkan driver); a machine without any adapter fails here with the reason.
    let (cpu, gpu) = (scratch("backend-cpu"), scratch("backend-gpu"));
    for (out, backend) in [(&cpu, "cpu"), (&gpu, "gpu")] {
        let mut args = vec!["train", "--out", out.to_str().unwrap(), "--data", "sudoku", "--band", "easy", "--backend", backend];
        args.extend_from_slice(TINY);
        hrm(&args);
    }
    let (a, b) = (losses(&cpu), losses(&gpu));
    assert_eq!(a.len(), 6);
    for ((s, x), (_, y)) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-4 * x.abs(), "step {s}: cpu loss {x}, gpu loss {y}");
    }
    let _ = std::fs::remove_dir_all(&cpu);
    let _ = std::fs::remove_dir_all(&gpu);
}

#[test]
fn average_writes_the_mean_of_two_runs_and_names_a_mismatch() {
    let (a, b, wide) = (scratch("avg-a"), scratch("avg-b"), scratch("avg-wide"));
    let train = |out: &Path, extra: &[&str]| {
        let mut args = vec!["train", "--out", out.to_str().unwrap(), "--data", "sudoku", "--band", "easy"];
        args.extend_from_slice(extra);
        // TINY's flag pairs, less those `extra` sets
        args.extend(TINY.chunks(2).filter(|p| !extra.contains(&p[0])).flatten());
        hrm(&args);
        out.join("model.safetensors")
    };
    let (ma, mb) = (train(&a, &["--seed", "1"]), train(&b, &["--seed", "2", "--halt-max-steps", "5"]));
    let out = a.join("mean.safetensors");
    let said = hrm(&["average", ma.to_str().unwrap(), mb.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(said.contains("the configs differ in halt_max_steps (3, 5): the output keeps the last one's, 5"), "{said}");
    let open = |p: &Path| hrm::Checkpoint::open(p, None).unwrap();
    let (ca, cb, mean) = (open(&ma), open(&mb), open(&out));
    // the file holds exactly the library's mean (tests/checkpoint.rs pins that against the f64 mean)
    assert_eq!(mean, hrm::checkpoint::average(&[&ca, &cb]).unwrap());
    assert_eq!(mean.config, cb.config);
    let mw = train(&wide, &["--hidden", "32"]);
    let err = hrm_fails(&["average", ma.to_str().unwrap(), mw.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(err.contains("averaging 1: ") && err.contains("input 2 has shape ["), "{err}");
    for d in [a, b, wide] {
        let _ = std::fs::remove_dir_all(d);
    }
}
