//! The ACT wrapper (HRM_SPEC §5): carry reset for halted rows, data replacement, one inner segment,
//! halting (eval: only at halt_max_steps; train: Q-learned halting with exploration and the extra
//! no-grad forward for the Q-continue target), then the loss head and, in train, the backward.

use super::loss::{loss_head, Metrics};
use super::{Batch, Hrm, ModelError, Observer};
use crate::backend::cpu::loss::STATS;
use crate::backend::Backend;

/// The ACT carry: the inner states `z_h`, `z_l` `[rows, T, h]` on the device, and on the host the
/// per-row step counts, halted flags and the example each row is working on.
pub struct Carry<B: Backend> {
    pub z_h: B::Buf,
    pub z_l: B::Buf,
    pub steps: Vec<i32>,
    pub halted: Vec<bool>,
    pub current_data: Batch,
}

/// Uniform random numbers in `[0, 1)` for exploration; injected so runs and tests are deterministic.
pub trait HaltRng {
    fn uniform(&mut self) -> f64;
}

/// A small deterministic generator (SplitMix64) for [`HaltRng`].
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl HaltRng for SplitMix64 {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one ACT segment returns to the host (logits and states stay on the device: [`Hrm::logits`],
/// [`Carry::z_h`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOutput {
    pub q_halt: Vec<f32>,
    pub q_continue: Vec<f32>,
    /// Train only (and only when halt_max_steps > 1).
    pub target_q_continue: Option<Vec<f32>>,
    /// Per row: all counted labels predicted right (true for an all-ignored row).
    pub seq_is_correct: Vec<bool>,
    /// The carry's steps and halted flags after this segment.
    pub steps: Vec<i32>,
    pub halted: Vec<bool>,
    pub all_halted: bool,
    /// `lm_loss + 0.5 * (q_halt_loss + q_continue_loss)`, unscaled, as ACTLossHead returns it.
    pub loss: f64,
    pub metrics: Metrics,
}

fn sigmoid32(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl<B: Backend> Hrm<B> {
    /// `initial_carry`: every row halted (so the first segment resets it and takes the batch), steps 0.
    pub fn initial_carry(&self, batch: &Batch) -> Carry<B> {
        let n = batch.rows * self.cfg.total_seq() * self.cfg.hidden_size;
        Carry {
            z_h: self.be.alloc(n),
            z_l: self.be.alloc(n),
            steps: vec![0; batch.rows],
            halted: vec![true; batch.rows],
            current_data: batch.clone(),
        }
    }

    /// One ACT segment in eval mode (`model.eval()`): rows halt only at `halt_max_steps`. The observer, if
    /// any, sees the state after every L and H call.
    pub async fn eval_segment(&mut self, carry: &mut Carry<B>, batch: &Batch, observer: Option<&mut dyn Observer<B>>) -> Result<SegmentOutput, ModelError> {
        self.act_segment(carry, batch, None, observer).await
    }

    /// One ACT segment in train mode, then the backward of `loss / rows` (the official
    /// `(1/global_batch_size) * loss`): gradients in [`Hrm::grads`] and [`Hrm::puzzle_grad`] (overwritten).
    pub async fn train_segment(&mut self, carry: &mut Carry<B>, batch: &Batch, rng: &mut dyn HaltRng) -> Result<SegmentOutput, ModelError> {
        self.act_segment(carry, batch, Some(rng), None).await
    }

    /// `logits [rows, T, V]` of the last segment (puzzle positions first; see [`Hrm::read_logits`]).
    pub fn logits(&self) -> Option<&B::Buf> {
        self.work.as_ref().map(|w| &w.logits)
    }

    /// `out [rows, T, V] = z @ lm_head^T` for any state `z [rows, T, h]` — e.g. a copy of `z_H` an
    /// [`Observer`] kept, to decode the prediction after every H call. `out` must hold `rows*T*V` values.
    pub fn lm_head(&self, z: &B::Buf, rows: usize, out: &mut B::Buf) {
        let (t, h, v) = (self.cfg.total_seq(), self.cfg.hidden_size, self.cfg.vocab_size);
        self.be.matmul_nt(rows * t, v, h, z, &self.params.lm_head, out, false);
    }

    /// `x [rows, T, h]`: the input embeddings of the last segment (`_input_embeddings`, scaled).
    pub fn input_embeddings(&self) -> Option<&B::Buf> {
        self.work.as_ref().map(|w| &w.x)
    }

    /// `logits [rows, S, V]` of the last segment (puzzle positions dropped), read to the host.
    pub async fn read_logits(&self) -> Vec<f32> {
        let Some(w) = self.work.as_ref() else { return Vec::new() };
        let d = w.dims;
        let all = self.be.read(&[&w.logits]).await.remove(0);
        let mut out = Vec::with_capacity(d.batch * d.seq * d.vocab);
        for b in 0..d.batch {
            out.extend_from_slice(&all[(b * d.total + d.puzzle_len) * d.vocab..(b + 1) * d.total * d.vocab]);
        }
        out
    }

    async fn act_segment(&mut self, carry: &mut Carry<B>, batch: &Batch, mut train: Option<&mut dyn HaltRng>, observer: Option<&mut dyn Observer<B>>) -> Result<SegmentOutput, ModelError> {
        batch.validate(&self.cfg)?;
        let rows = batch.rows;
        if carry.halted.len() != rows || carry.current_data.rows != rows {
            return Err(ModelError::CarryRows { carry: carry.halted.len(), batch: rows });
        }
        let is_train = train.is_some();
        let max_steps = self.cfg.halt_max_steps as i32;
        let total = self.cfg.total_seq();
        let kind = self.loss_kind();
        self.work_for(rows);

        // Reset halted rows to (H_init, L_init); they take the new example, the others keep theirs.
        let flags: Vec<i32> = carry.halted.iter().map(|&h| h as i32).collect();
        let data = carry.current_data.merge_rows(batch, &carry.halted);
        {
            let w = self.work.as_mut().expect("work");
            self.be.write_i32(&mut w.flags, &flags);
            self.be.reset_rows(&mut carry.z_h, &self.buffers.h_init, &w.flags, total);
            self.be.reset_rows(&mut carry.z_l, &self.buffers.l_init, &w.flags, total);
            self.be.write_i32(&mut w.tokens, &data.inputs);
            self.be.write_i32(&mut w.labels, &data.labels);
            self.be.write_i32(&mut w.ids, &data.puzzle_identifiers);
            w.data_ids.copy_from_slice(&data.puzzle_identifiers);
        }
        let mut steps: Vec<i32> = carry.steps.iter().zip(&carry.halted).map(|(&s, &h)| if h { 0 } else { s }).collect();

        self.inner_forward(&mut carry.z_h, &mut carry.z_l, true, is_train, true, false, observer);

        let grad_scale = 1.0 / rows as f64;
        {
            let w = self.work.as_mut().expect("work");
            let d_logits = if is_train { Some(&mut w.d_logits) } else { None };
            self.be.lm_loss(w.dims.loss(), kind, &w.logits, &w.labels, grad_scale as f32, &mut w.stats, d_logits);
        }
        // The Q-continue target: a full no-grad inner forward from the NEW carry on the same data.
        let with_target = is_train && max_steps > 1;
        if with_target {
            let n = self.be.len(&carry.z_h);
            let (mut zh, mut zl) = self.next_carry.take().filter(|(a, _)| self.be.len(a) == n).unwrap_or_else(|| (self.be.alloc(n), self.be.alloc(n)));
            self.be.copy(&carry.z_h, &mut zh);
            self.be.copy(&carry.z_l, &mut zl);
            self.inner_forward(&mut zh, &mut zl, false, false, false, true, None);
            self.next_carry = Some((zh, zl));
        }
        let read = {
            let w = self.work.as_ref().expect("work");
            let mut bufs = vec![&w.q, &w.stats];
            if with_target {
                bufs.push(&w.q_next);
            }
            self.be.read(&bufs).await
        };
        let (q, stats) = (&read[0], &read[1]);
        debug_assert_eq!(stats.len(), rows * STATS);
        let q_halt: Vec<f32> = (0..rows).map(|b| q[2 * b]).collect();
        let q_cont: Vec<f32> = (0..rows).map(|b| q[2 * b + 1]).collect();

        // Halting.
        for s in steps.iter_mut() {
            *s += 1;
        }
        let is_last: Vec<bool> = steps.iter().map(|&s| s >= max_steps).collect();
        let mut halted = is_last.clone();
        let mut target = None;
        if let (Some(rng), true) = (train.as_mut(), with_target) {
            let p = self.cfg.halt_exploration_prob;
            let explore: Vec<bool> = (0..rows).map(|_| rng.uniform() < p).collect();
            // randint(2, halt_max_steps + 1): uniform over 2..=halt_max_steps
            let span = (max_steps - 1) as f64;
            let min_halt: Vec<i32> = explore.iter().map(|&e| { let r = 2 + (rng.uniform() * span) as i32; if e { r.min(max_steps) } else { 0 } }).collect();
            for b in 0..rows {
                halted[b] = (halted[b] || q_halt[b] > q_cont[b]) && steps[b] >= min_halt[b];
            }
            let qn = &read[2];
            target = Some((0..rows).map(|b| sigmoid32(if is_last[b] { qn[2 * b] } else { qn[2 * b].max(qn[2 * b + 1]) })).collect::<Vec<f32>>());
        }

        let head = loss_head(stats, &q_halt, &q_cont, target.as_deref(), &halted, &steps, grad_scale);
        if is_train {
            {
                let w = self.work.as_mut().expect("work");
                self.be.write(&mut w.dq, &head.dq);
            }
            self.segment_backward(&carry.z_h);
        }
        self.be.submit();

        carry.steps = steps.clone();
        carry.halted = halted.clone();
        carry.current_data = data;
        let all_halted = halted.iter().all(|&h| h);
        Ok(SegmentOutput {
            q_halt,
            q_continue: q_cont,
            target_q_continue: target,
            seq_is_correct: head.seq_is_correct,
            steps,
            halted,
            all_halted,
            loss: head.loss,
            metrics: head.metrics,
        })
    }
}
