//! Evaluation on puzzles: what a user asks of a trained model ("how many Sudokus does it solve?"),
//! next to the official `evaluate` in [`crate::train`] (which reports the loss head's metrics).
//!
//! Per batch: a fresh carry, then `segments` eval segments on the same batch; after every segment
//! each row's prediction (argmax of the logits) is scored with [`crate::puzzles::metrics`] (cell,
//! exact and valid-solution accuracy), which gives the whole test-time-scaling curve in one pass.
//! With `act` on, a row's answer is frozen at the first segment whose Q-halt logit beats Q-continue
//! (ACT at evaluation, which the official eval does not do: it always runs `halt_max_steps`).
//! A row's state does not depend on when it stops, so a run without ACT also gives the ACT curve:
//! for each k, the scores had every row stopped where its Q head first said halt, or at segment k.
//!
//! With `tries` above 1 (test-time augmentation, this product's option) each puzzle runs as that many
//! copies side by side, the first as given and the others under symmetries of the puzzle
//! ([`crate::puzzles::symmetry`]). After each segment the puzzle's answer is the first copy's answer,
//! mapped back, that passes the rules check (a complete Sudoku keeping the givens, a shortest S–G
//! path: the label is never read), else the unaugmented copy's. A verified answer is kept from then
//! on (as the page stops at it), and under ACT it also stops the puzzle.
//!
//! Async and clock-free like the trainer, so the page can run it too.

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::dataset;
use crate::model::{Batch, Hrm, ModelError};
use crate::puzzles::metrics::{passes_rules, score, Accuracy, PuzzleKind};
use crate::puzzles::symmetry::{symmetries, TokenSymmetry};

impl From<dataset::Batch> for Batch {
    fn from(b: dataset::Batch) -> Batch {
        Batch { rows: b.batch_size, seq_len: b.seq_len, inputs: b.inputs, labels: b.labels, puzzle_identifiers: b.puzzle_identifiers }
    }
}

/// How to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalOptions {
    /// Segments per batch (more than the trained `halt_max_steps` is test-time scaling).
    pub segments: usize,
    /// Freeze each row's answer where Q-halt > Q-continue first.
    pub act: bool,
    /// Copies of each puzzle under symmetries (1 = the puzzle alone); see the module notes.
    #[serde(default = "one")]
    pub tries: usize,
}

fn one() -> usize {
    1
}

/// Seeds the symmetries of the tries (fixed, so a table can be reproduced).
pub const TRIES_SEED: u64 = 0x7472_6965_73;

/// The scores of a set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PuzzleReport {
    /// The answers (after ACT, or after the last segment without it).
    pub final_score: Accuracy,
    /// Without ACT: the scores had every row stopped after segment k+1 (index k). Empty with ACT.
    pub by_segment: Vec<Accuracy>,
    /// Without ACT: the scores of an ACT run of at most k+1 segments (index k). Empty with ACT.
    pub act_by_segment: Vec<Accuracy>,
    /// Sum over scored rows of the segments their answer took (= `segments` without ACT).
    pub steps_sum: f64,
}

impl PuzzleReport {
    pub fn mean_steps(&self) -> f64 {
        if self.final_score.count == 0 {
            0.0
        } else {
            self.steps_sum / self.final_score.count as f64
        }
    }
}

/// Argmax per position of `logits [rows, seq, vocab]` (the first maximum, as torch.argmax).
pub fn argmax_tokens(logits: &[f32], vocab: usize) -> Vec<i32> {
    logits
        .chunks_exact(vocab)
        .map(|l| l.iter().enumerate().fold((0usize, f32::NEG_INFINITY), |best, (i, &x)| if x > best.1 { (i, x) } else { best }).0 as i32)
        .collect()
}

/// Scores `model` on `batches` of `kind` puzzles. The model's own `halt_max_steps` is raised to
/// `segments` for the run (eval rows only halt there) and put back afterwards.
pub async fn evaluate_puzzles<B: Backend>(model: &mut Hrm<B>, batches: &[Batch], kind: PuzzleKind, opts: EvalOptions) -> Result<PuzzleReport, ModelError> {
    if opts.segments == 0 {
        return Err(ModelError::Batch("evaluation needs at least one segment".into()));
    }
    if opts.tries == 0 {
        return Err(ModelError::Batch("evaluation needs at least one try".into()));
    }
    let seq = batches.first().map_or(0, |b| b.seq_len);
    let syms = symmetries(kind, seq, opts.tries, TRIES_SEED).map_err(|e| ModelError::Batch(format!("--tries {}: {e}", opts.tries)))?;
    let trained = model.config().halt_max_steps;
    model.set_halt_max_steps(opts.segments);
    let curve = if opts.act { 0 } else { opts.segments };
    let mut report = PuzzleReport { by_segment: vec![Accuracy::default(); curve], act_by_segment: vec![Accuracy::default(); curve], ..Default::default() };
    let mut result = Ok(());
    for batch in batches {
        if let Err(e) = evaluate_batch(model, batch, kind, opts, &syms, &mut report).await {
            result = Err(e);
            break;
        }
    }
    model.set_halt_max_steps(trained);
    result.map(|_| report)
}

/// `batch` with every row repeated under each symmetry (row `r * syms.len() + k`: row r under k).
pub fn tried_batch(batch: &Batch, syms: &[TokenSymmetry]) -> Batch {
    let (mut inputs, mut labels, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..batch.rows {
        for t in syms {
            inputs.extend(t.apply(batch.input_row(r)));
            labels.extend(t.apply(batch.label_row(r)));
            ids.push(batch.puzzle_identifiers[r]);
        }
    }
    Batch { rows: batch.rows * syms.len(), seq_len: batch.seq_len, inputs, labels, puzzle_identifiers: ids }
}

/// A puzzle's answer from its copies' predictions (`preds`: copy c's at `c * seq..`, copy c under
/// `syms[c]`, whose inverses are `inverses`): the first one, mapped back, that passes the rules check
/// (and that copy's index), else the first copy's (the puzzle as given) and None. One copy: its
/// answer, unchecked.
pub fn choose_answer(kind: PuzzleKind, input: &[i32], preds: &[i32], inverses: &[TokenSymmetry]) -> (Vec<i32>, Option<usize>) {
    let seq = input.len();
    let back = |c: usize| inverses[c].apply(&preds[c * seq..(c + 1) * seq]);
    if inverses.len() > 1 {
        if let Some((c, a)) = (0..inverses.len()).map(|c| (c, back(c))).find(|(_, a)| passes_rules(kind, input, a)) {
            return (a, Some(c));
        }
    }
    (back(0), None)
}

/// A puzzle's answer after a segment: the answer verified at an earlier segment if there is one,
/// else [`choose_answer`]'s, which is kept in `verified` from now on if it passed the rules check.
pub fn answer_after_segment(kind: PuzzleKind, input: &[i32], preds: &[i32], inverses: &[TokenSymmetry], verified: &mut Option<Vec<i32>>) -> Vec<i32> {
    if let Some(v) = verified {
        return v.clone();
    }
    let (p, copy) = choose_answer(kind, input, preds, inverses);
    if copy.is_some() {
        *verified = Some(p.clone());
    }
    p
}

async fn evaluate_batch<B: Backend>(model: &mut Hrm<B>, batch: &Batch, kind: PuzzleKind, opts: EvalOptions, syms: &[TokenSymmetry], report: &mut PuzzleReport) -> Result<(), ModelError> {
    let (rows, seq, vocab, k_n) = (batch.rows, batch.seq_len, model.config().vocab_size, syms.len());
    let inverses: Vec<TokenSymmetry> = syms.iter().map(TokenSymmetry::inverse).collect();
    let tried = if k_n > 1 { Some(tried_batch(batch, syms)) } else { None };
    let run = tried.as_ref().unwrap_or(batch);
    let mut carry = model.initial_carry(run);
    // Per row: the answer so far and the segment it was taken at (None = still thinking, under ACT).
    let mut answer: Vec<Option<(Vec<i32>, usize)>> = vec![None; rows];
    // Per row: the first answer that passed the rules check. It is kept for every later segment, as
    // the page keeps it: a later segment can only lose a valid answer, never find a better one.
    let mut verified: Vec<Option<Vec<i32>>> = vec![None; rows];
    // Per row: its answer at the first segment where ACT would stop it (for the ACT curve).
    let mut at_halt: Vec<Option<Vec<i32>>> = vec![None; rows];
    for k in 0..opts.segments {
        if verified.iter().all(Option::is_some) {
            // Every puzzle holds a verified answer: the remaining segments would change nothing.
            for (r, v) in verified.iter().enumerate() {
                let p = v.as_ref().expect("checked above");
                let s = score(kind, batch.input_row(r), batch.label_row(r), p);
                // a verified answer halted ACT where it was found, or earlier by the Q head
                let s_act = score(kind, batch.input_row(r), batch.label_row(r), at_halt[r].as_ref().unwrap_or(p));
                // the segments not run (iterator skips, not skipped tests)
                for (acc, act) in report.by_segment.iter_mut().zip(report.act_by_segment.iter_mut()).skip(k) {
                    acc.add(&s);
                    act.add(&s_act);
                }
                answer[r].get_or_insert_with(|| (p.clone(), opts.segments));
            }
            break;
        }
        let out = model.eval_segment(&mut carry, run, None).await?;
        let pred = argmax_tokens(&model.read_logits().await, vocab);
        for r in 0..rows {
            let input = batch.input_row(r);
            let p = answer_after_segment(kind, input, &pred[r * k_n * seq..(r + 1) * k_n * seq], &inverses, &mut verified[r]);
            let first = r * k_n;
            let q_halts = verified[r].is_some() || out.q_halt[first] > out.q_continue[first];
            if q_halts && at_halt[r].is_none() {
                at_halt[r] = Some(p.clone());
            }
            if let (Some(acc), Some(act)) = (report.by_segment.get_mut(k), report.act_by_segment.get_mut(k)) {
                acc.add(&score(kind, input, batch.label_row(r), &p));
                act.add(&score(kind, input, batch.label_row(r), at_halt[r].as_ref().unwrap_or(&p)));
            }
            let halts_here = k + 1 == opts.segments || (opts.act && q_halts);
            if answer[r].is_none() && halts_here {
                answer[r] = Some((p, k + 1));
            }
        }
        if answer.iter().all(Option::is_some) {
            break;
        }
    }
    for (r, a) in answer.iter().enumerate() {
        let (p, used) = a.as_ref().expect("every row answers by the last segment");
        let s = score(kind, batch.input_row(r), batch.label_row(r), p);
        if s.labelled > 0 {
            report.steps_sum += *used as f64;
        }
        report.final_score.add(&s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;
    use crate::dataset::{ExampleStream, StreamSource};
    use crate::puzzles::sudoku::Band;
    use crate::{Checkpoint, Config};

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax_tokens(&[0.0, 2.0, 2.0, 1.0, -1.0, -3.0], 3), vec![1, 0]);
    }

    fn tiny_sudoku_model() -> (Hrm<CpuBackend>, Vec<Batch>) {
        tiny_sudoku_model_with(|_| {})
    }

    fn tiny_sudoku_model_with(edit: impl FnOnce(&mut crate::ParamStore)) -> (Hrm<CpuBackend>, Vec<Batch>) {
        let cfg = Config::from_json_str(
            r#"{"batch_size": 3, "seq_len": 81, "puzzle_emb_ndim": 0, "num_puzzle_identifiers": 1, "vocab_size": 11,
                "H_cycles": 1, "L_cycles": 1, "H_layers": 1, "L_layers": 1, "hidden_size": 16, "expansion": 2, "num_heads": 2,
                "pos_encodings": "learned", "halt_max_steps": 2, "halt_exploration_prob": 0.1}"#,
        )
        .unwrap();
        let mut ck = Checkpoint::init(cfg.clone(), 3).unwrap();
        edit(&mut ck.params);
        let model = Hrm::new(CpuBackend, &cfg, &ck.params).unwrap();
        let mut stream = ExampleStream::new(StreamSource::Sudoku { band: Band::Easy, augment: false }, 5);
        let batches = (0..2).map(|_| Batch::from(stream.next_batch(3).unwrap())).collect();
        (model, batches)
    }

    #[test]
    fn without_act_the_answer_is_the_last_segment_and_the_model_keeps_its_limit() {
        let (mut model, batches) = tiny_sudoku_model();
        let r = pollster::block_on(evaluate_puzzles(&mut model, &batches, PuzzleKind::Sudoku, EvalOptions { segments: 3, act: false, tries: 1 })).unwrap();
        assert_eq!(r.final_score.count, 6);
        assert_eq!(r.by_segment.len(), 3);
        assert_eq!(r.by_segment[2], r.final_score);
        assert_eq!(r.mean_steps(), 3.0);
        assert_eq!(model.config().halt_max_steps, 2, "test-time scaling must not change the model");
        // An untrained model gets some cells right by chance (the givens' digits are common), never all.
        assert!(r.final_score.cell_accuracy() < 0.5 && r.final_score.exact == 0);
    }

    /// The answer is the first copy whose mapped-back answer passes the rules (here copy 2, which
    /// the symmetry's own image of the solution is), not the first copy's wrong one; with no copy
    /// passing, the first copy's answer is kept and marked unverified.
    #[test]
    fn tries_answer_with_the_first_copy_that_passes_the_rules() {
        let mut rng = crate::puzzles::PuzzleRng::new(8);
        let g = crate::puzzles::sudoku::generate(crate::puzzles::sudoku::Band::Easy, &mut rng).unwrap();
        let tok = |x: &[u8]| x.iter().map(|&v| v as i32).collect::<Vec<i32>>();
        let (input, solution) = (tok(&g.puzzle.to_tokens()), tok(&g.solution.to_tokens()));
        let syms = symmetries(PuzzleKind::Sudoku, 81, 3, TRIES_SEED).unwrap();
        let inverses: Vec<TokenSymmetry> = syms.iter().map(TokenSymmetry::inverse).collect();
        let mut wrong = solution.clone();
        wrong.swap(0, 1);
        let mut preds = wrong.clone();
        preds.extend(syms[1].apply(&wrong));
        preds.extend(syms[2].apply(&solution));
        assert_eq!(choose_answer(PuzzleKind::Sudoku, &input, &preds, &inverses), (solution.clone(), Some(2)));
        preds.truncate(2 * 81);
        assert_eq!(choose_answer(PuzzleKind::Sudoku, &input, &preds, &inverses[..2]), (wrong.clone(), None));
        // one copy: its answer as it is, not checked
        assert_eq!(choose_answer(PuzzleKind::Sudoku, &input, &wrong, &inverses[..1]), (wrong, None));
    }

    /// Once a copy's answer passed the rules check it stays the puzzle's answer, though every copy
    /// is wrong at a later segment; before that the unverified answer follows the segments.
    #[test]
    fn a_verified_answer_is_kept_at_later_segments() {
        let mut rng = crate::puzzles::PuzzleRng::new(9);
        let g = crate::puzzles::sudoku::generate(crate::puzzles::sudoku::Band::Medium, &mut rng).unwrap();
        let tok = |x: &[u8]| x.iter().map(|&v| v as i32).collect::<Vec<i32>>();
        let (input, solution) = (tok(&g.puzzle.to_tokens()), tok(&g.solution.to_tokens()));
        let syms = symmetries(PuzzleKind::Sudoku, 81, 2, TRIES_SEED).unwrap();
        let inverses: Vec<TokenSymmetry> = syms.iter().map(TokenSymmetry::inverse).collect();
        let copies = |a: &[i32], b: &[i32]| [syms[0].apply(a), syms[1].apply(b)].concat();
        let (mut wrong1, mut wrong2) = (solution.clone(), solution.clone());
        wrong1.swap(3, 4);
        wrong2.swap(5, 6);
        let mut kept = None;
        let seg1 = answer_after_segment(PuzzleKind::Sudoku, &input, &copies(&wrong1, &wrong1), &inverses, &mut kept);
        assert_eq!((seg1, kept.is_some()), (wrong1.clone(), false));
        let seg2 = answer_after_segment(PuzzleKind::Sudoku, &input, &copies(&wrong2, &solution), &inverses, &mut kept);
        assert_eq!(seg2, solution);
        let seg3 = answer_after_segment(PuzzleKind::Sudoku, &input, &copies(&wrong1, &wrong2), &inverses, &mut kept);
        assert_eq!(seg3, solution, "the verified answer of segment 2 is kept");
    }

    /// With copies and nothing verified (an untrained model), every answer is the first copy's,
    /// which runs exactly as the puzzle alone does (rows do not interact): the same scores.
    #[test]
    fn untrained_tries_score_as_the_puzzle_alone() {
        let (mut model, batches) = tiny_sudoku_model();
        let one = pollster::block_on(evaluate_puzzles(&mut model, &batches, PuzzleKind::Sudoku, EvalOptions { segments: 2, act: false, tries: 1 })).unwrap();
        let four = pollster::block_on(evaluate_puzzles(&mut model, &batches, PuzzleKind::Sudoku, EvalOptions { segments: 2, act: false, tries: 4 })).unwrap();
        assert_eq!(one, four);
        let err = pollster::block_on(evaluate_puzzles(&mut model, &batches, PuzzleKind::Sudoku, EvalOptions { segments: 2, act: false, tries: 0 })).unwrap_err();
        assert!(err.to_string().contains("at least one try"), "{err}");
    }

    #[test]
    fn with_act_each_row_answers_where_it_halts() {
        let (mut model, batches) = tiny_sudoku_model();
        let r = pollster::block_on(evaluate_puzzles(&mut model, &batches, PuzzleKind::Sudoku, EvalOptions { segments: 4, act: true, tries: 1 })).unwrap();
        assert_eq!(r.final_score.count, 6);
        assert!(r.by_segment.is_empty());
        assert!((1.0..=4.0).contains(&r.mean_steps()));
        // The same rows without ACT, stopped where ACT stopped them, score the same: recompute by hand.
        let mut expect = Accuracy::default();
        let mut steps = 0.0;
        for batch in &batches {
            let mut carry = model.initial_carry(batch);
            model.set_halt_max_steps(4);
            let mut done = vec![false; batch.rows];
            for k in 0..4 {
                let out = pollster::block_on(model.eval_segment(&mut carry, batch, None)).unwrap();
                let pred = argmax_tokens(&pollster::block_on(model.read_logits()), 11);
                for r in 0..batch.rows {
                    if !done[r] && (k == 3 || out.q_halt[r] > out.q_continue[r]) {
                        done[r] = true;
                        steps += (k + 1) as f64;
                        expect.add(&score(PuzzleKind::Sudoku, batch.input_row(r), batch.label_row(r), &pred[r * 81..(r + 1) * 81]));
                    }
                }
            }
        }
        assert_eq!(r.final_score, expect);
        assert_eq!(r.steps_sum, steps);
    }

    /// A run without ACT holds the runs of every shorter length: its curves at k equal separate runs
    /// of k segments, without and with ACT, alone and as copies. The Q head gets random weights so
    /// that rows halt at different segments (a fresh one, zero weights and equal biases, never halts).
    #[test]
    fn one_pass_curves_equal_separate_runs() {
        use rand_chacha::rand_core::SeedableRng;
        let (mut model, batches) = tiny_sudoku_model_with(|p| {
            let q = p.get_mut(&crate::params::name("q_head.weight")).expect("q_head.weight");
            q.data = crate::params::trunc_normal(&mut rand_chacha::ChaCha8Rng::seed_from_u64(4), q.data.len(), 1.0);
        });
        for tries in [1, 2] {
            let mut run = |segments, act| pollster::block_on(evaluate_puzzles(&mut model, &batches, PuzzleKind::Sudoku, EvalOptions { segments, act, tries })).unwrap();
            let all = run(4, false);
            assert_eq!((all.by_segment.len(), all.act_by_segment.len()), (4, 4));
            let mut halted_early = false;
            for k in 1..=4 {
                assert_eq!(run(k, false).final_score, all.by_segment[k - 1], "tries {tries}: {k} segments");
                let act = run(k, true);
                assert_eq!(act.final_score, all.act_by_segment[k - 1], "tries {tries}: ACT <= {k}");
                halted_early |= act.mean_steps() < k as f64;
            }
            assert!(halted_early && all.act_by_segment != all.by_segment, "tries {tries}: the Q head must stop some rows early for this test to tell the curves apart");
        }
    }
}
