//! The ACT loss head (HRM_SPEC §6) on the host: from the per-row LM statistics the backend computed and
//! the Q logits, the official metrics, the losses and `d loss / d q`.

use crate::backend::cpu::loss::{bce_with_logits, bce_with_logits_grad, STATS};

/// The official `ACTLossHead` metrics: raw sums over the batch (not yet divided by `count`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    pub count: f64,
    pub accuracy: f64,
    pub exact_accuracy: f64,
    pub q_halt_accuracy: f64,
    pub steps: f64,
    pub lm_loss: f64,
    pub q_halt_loss: f64,
    /// 0 in eval (no Q-continue target there).
    pub q_continue_loss: f64,
}

pub(super) struct LossHead {
    pub loss: f64,
    pub metrics: Metrics,
    pub seq_is_correct: Vec<bool>,
    /// `d (grad_scale * loss) / d q` as `[B,2]` (halt, continue).
    pub dq: Vec<f32>,
}

/// `stats [B,STATS]` from the backend's `lm_loss`; `target` is `target_q_continue` (train only).
pub(super) fn loss_head(stats: &[f32], q_halt: &[f32], q_cont: &[f32], target: Option<&[f32]>, halted: &[bool], steps: &[i32], grad_scale: f64) -> LossHead {
    let rows = q_halt.len();
    let mut m = Metrics::default();
    let mut seq_is_correct = vec![false; rows];
    let mut dq = vec![0.0f32; rows * 2];
    for b in 0..rows {
        let st = &stats[b * STATS..(b + 1) * STATS];
        let row_loss = st[0] as f64 + st[1] as f64;
        let (correct, count) = (st[2] as f64, st[3] as f64);
        // an all-ignored (padding) row counts as correct: 0 == 0
        let seq_ok = correct == count;
        seq_is_correct[b] = seq_ok;
        let valid = halted[b] && count > 0.0;
        if valid {
            m.count += 1.0;
            m.accuracy += correct / count.max(1.0);
            m.exact_accuracy += seq_ok as u8 as f64;
            m.q_halt_accuracy += ((q_halt[b] >= 0.0) == seq_ok) as u8 as f64;
            m.steps += steps[b] as f64;
        }
        m.lm_loss += row_loss;
        let y = seq_ok as u8 as f64;
        m.q_halt_loss += bce_with_logits(q_halt[b] as f64, y);
        dq[b * 2] = (grad_scale * 0.5 * bce_with_logits_grad(q_halt[b] as f64, y)) as f32;
        if let Some(t) = target {
            m.q_continue_loss += bce_with_logits(q_cont[b] as f64, t[b] as f64);
            dq[b * 2 + 1] = (grad_scale * 0.5 * bce_with_logits_grad(q_cont[b] as f64, t[b] as f64)) as f32;
        }
    }
    let loss = m.lm_loss + 0.5 * (m.q_halt_loss + m.q_continue_loss);
    LossHead { loss, metrics: m, seq_is_correct, dq }
}
