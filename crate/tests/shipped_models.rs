//! The models the page ships (web/public/models/manifest.json) still score what the README's table
//! says: `hrm eval` on the first examples of the same held-out set, within what sampling error allows.
//! Rows that differ only in segments and ACT are read off one run of the most segments.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/public/models")
}

/// Examples re-evaluated per table row: enough that 4 standard errors stay under ~0.1.
const SAMPLE: usize = 96;
/// Per tries row of 8 copies and 16 segments (8 times the work of a puzzle alone): still enough
/// that tries which had stopped working (the 1-copy figure, 47 % instead of 89 % on medium Sudokus)
/// fall outside 4 errors. Heavier rows get proportionally fewer, at least [`TRIES_MIN_SAMPLE`].
const TRIES_SAMPLE: usize = 32;
/// A row of 16 copies and 32 segments (97 % on medium Sudokus): 16 puzzles still tell it from 47 %.
const TRIES_MIN_SAMPLE: usize = 16;

fn sample(row: &Value) -> usize {
    match row["tries"].as_u64() {
        None => SAMPLE,
        Some(tries) => {
            let work = tries as usize * row["segments"].as_u64().expect("segments") as usize;
            (TRIES_SAMPLE * 8 * 16 / work).clamp(TRIES_MIN_SAMPLE, TRIES_SAMPLE)
        }
    }
}

/// The `hrm eval` run of `row`'s set for `segments` without ACT: its `by_segment` and
/// `act_by_segment` curves hold every row of that set with at most as many segments, with and
/// without ACT (the unit test `one_pass_curves_equal_separate_runs` pins that they are the same
/// numbers as separate runs), so one pass checks them all.
fn eval_args(file: &str, row: &Value, segments: u64) -> Vec<String> {
    let s = |k: &str| row[k].as_str().map(str::to_string).unwrap_or_else(|| row[k].to_string());
    let mut args = vec!["eval".into(), file.into(), "--count".into(), sample(row).to_string(), "--seed".into(), s("seed"), "--segments".into(), segments.to_string(), "--threads".into(), "2".into()];
    match row["data"].as_str().expect("row.data") {
        "sudoku" => args.extend(["--data".into(), "sudoku".into(), "--band".into(), s("band")]),
        "maze" => {
            args.extend(["--data".into(), "maze".into(), "--maze-size".into(), s("maze_size")]);
            // a row of one maze side walled into the grid (`hrm eval --maze-sides`), and an explicit
            // shortest path where the row has one (else the trainer's default for the area)
            for (key, flag) in [("maze_side", "--maze-sides"), ("min_path", "--min-path")] {
                if !row[key].is_null() {
                    args.extend([flag.into(), s(key)]);
                }
            }
        }
        other => panic!("unknown data `{other}` in the manifest"),
    }
    // a row of test-time tries (copies under symmetries, checked by the rules)
    if !row["tries"].is_null() {
        args.extend(["--tries".into(), s("tries")]);
    }
    args
}

#[test]
fn shipped_models_reproduce_their_table_rows() {
    let text = std::fs::read_to_string(models_dir().join("manifest.json")).expect("web/public/models/manifest.json");
    let manifest: Value = serde_json::from_str(&text).expect("manifest is JSON");
    let models = manifest["models"].as_array().expect("models list");
    assert!(models.iter().any(|m| m["task"] == "sudoku") && models.iter().any(|m| m["task"] == "maze"), "a Sudoku and a maze model are shipped");
    for m in models {
        let file = models_dir().join(m["file"].as_str().expect("file"));
        let bytes = std::fs::metadata(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())).len();
        assert_eq!(Some(bytes), m["bytes"].as_u64(), "{}: size differs from the manifest", file.display());
        assert!(bytes <= 10 << 20, "{}: shipped models stay under 10 MB", file.display());
        let rows = m["eval"].as_array().expect("eval rows");
        assert!(!rows.is_empty());
        // Rows of one pass: the same set, copies and sample; they differ in segments and ACT only.
        let mut passes: Vec<(Vec<String>, Vec<&Value>)> = Vec::new();
        for row in rows {
            let key = eval_args("", row, 0);
            match passes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, group)) => group.push(row),
                None => passes.push((key, vec![row])),
            }
        }
        for (_, group) in passes {
            let segments = group.iter().map(|r| r["segments"].as_u64().expect("segments")).max().unwrap();
            let args = eval_args(file.to_str().unwrap(), group[0], segments);
            let out = Command::new(env!("CARGO_BIN_EXE_hrm")).args(&args).env("RUST_BACKTRACE", "0").output().expect("running hrm eval");
            assert!(out.status.success(), "hrm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            let stdout = String::from_utf8(out.stdout).unwrap();
            let got: Value = stdout.lines().rev().find(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).expect("a JSON result line");
            let n = sample(group[0]);
            assert_eq!(got["count"].as_u64(), Some(n as u64));
            for row in group {
                let (k, act) = (row["segments"].as_u64().unwrap() as usize, row["act"].as_bool() == Some(true));
                let scores = &got[if act { "act_by_segment" } else { "by_segment" }][k - 1];
                for key in ["exact", "cell"] {
                    let (p, q) = (row[key].as_f64().expect("table value"), scores[key].as_f64().expect("a score of the pass"));
                    // Binomial standard error of an n-example subsample of the table's set; 4 sigma, at
                    // least 0.02 (cell accuracy varies less than exact, so this is generous for it).
                    let tol = (4.0 * (p * (1.0 - p) / n as f64).sqrt()).max(0.02);
                    let what = if act { format!("ACT <= {k}") } else { format!("{k} segments") };
                    assert!((p - q).abs() <= tol, "{} {args:?}, {what}, {key}: table {p:.4}, now {q:.4} on {n} examples (tolerance {tol:.3})", m["id"]);
                }
            }
        }
    }
}
