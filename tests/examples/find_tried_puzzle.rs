//! Finds a generated Sudoku that a model misses alone at each of the segments the page runs it for
//! (its halt_max_steps, at least 16) but solves as one of 16 copies within as many, at least 32 (the
//! page's *Try copies*), for the e2e test that shows it (`TRIED` in
//! web/e2e/solve.test.mjs). `cargo run --release -p hrm-tests --example find_tried_puzzle -- MODEL
//! [band] [first seed]`; prints the first such puzzle, its seed, and the segment a copy passed at.

use hrm::backend::CpuBackend;
use hrm::model::{Batch, Hrm};
use hrm::puzzle_eval::{evaluate_puzzles, EvalOptions};
use hrm::puzzles::rng::PuzzleRng;
use hrm::puzzles::sudoku::{generate, Band};
use hrm::puzzles::metrics::PuzzleKind;
use hrm::Checkpoint;

fn main() {
    // iterator skip, not a skipped test: argv[0] is the program
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_path = args.first().expect("usage: find_tried_puzzle MODEL [band] [first seed]");
    let band: Band = args.get(1).map_or("medium", String::as_str).parse().expect("a band: easy, medium, hard, extreme");
    let first: u64 = args.get(2).map_or(0, |s| s.parse().expect("a seed"));
    let ck = Checkpoint::open(std::path::Path::new(model_path), None).expect("a checkpoint");
    let seq_len = ck.config.seq_len;
    // the page's defaults: runSegments and triesPlan in web/src/hrm-panel.ts
    let alone = ck.config.halt_max_steps.clamp(16, 64);
    let tried_segments = alone.max(32);
    // One model for every run: evaluate_puzzles sets the segments and starts each batch afresh.
    let mut model = Hrm::new(CpuBackend, &ck.config, &ck.params).expect("the model");
    for seed in first..first + 200 {
        let g = generate(band, &mut PuzzleRng::new(seed)).expect("a puzzle");
        let inputs: Vec<i32> = g.puzzle.to_tokens().iter().map(|&t| t as i32).collect();
        let labels: Vec<i32> = g.solution.to_tokens().iter().map(|&t| t as i32).collect();
        let batch = Batch::new(1, seq_len, inputs, labels, vec![0]).expect("a batch");
        let mut run = |segments, tries| {
            pollster::block_on(evaluate_puzzles(&mut model, std::slice::from_ref(&batch), PuzzleKind::Sudoku, EvalOptions { segments, act: false, tries })).expect("an evaluation")
        };
        // Missed at every segment, not only the last: a puzzle the model solves at segment 3 and
        // unsettles by the last would pass as copy 1 (itself) in the tries run, which the e2e refuses.
        if run(alone, 1).by_segment.iter().any(|a| a.exact_accuracy() > 0.0) {
            continue;
        }
        let tried = run(tried_segments, 16);
        if tried.final_score.exact_accuracy() > 0.0 {
            let at = tried.by_segment.iter().position(|a| a.exact_accuracy() > 0.0).map_or(0, |k| k + 1);
            println!("seed {seed}: {} (missed alone at each of {alone} segments; a copy solved it after {at})", g.puzzle);
            return;
        }
    }
    println!("no such puzzle in 200 seeds from {first}");
}
