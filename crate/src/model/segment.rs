//! One ACT segment of the inner model (HRM_SPEC §4.4): H_cycles x L_cycles calls of which only the last
//! L call and the last H call carry gradient ("1-step gradient"), the LM head and the Q head; and the
//! backward of that graph.

use super::block::{BlockActs, BlockGradScratch};
use super::embed::{input_embeddings, input_embeddings_backward};
use super::reasoning::{module_backward, module_forward, Acts};
use super::{Dims, Hrm};
use crate::backend::Backend;

/// Which reasoning module a call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    L,
    H,
}

/// Identifies one module call inside a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallInfo {
    pub module: Module,
    /// H cycle `i` in `0..H_cycles`.
    pub h_cycle: usize,
    /// L step `j` in `0..L_cycles` for an L call; `None` for the H call that ends cycle `i`.
    pub l_step: Option<usize>,
    /// Order of this call among the segment's calls of the same module (the fixtures' `c<k>`).
    pub index: usize,
}

/// Receives the new state after every L and H call of an eval segment (for traces: residual norms,
/// decoded predictions), without a second copy of the model. `z` is `z_L` after an L call and `z_H`
/// after an H call, `[rows, T, h]`; the observer may run backend ops on it (e.g. `row_diff_norm`
/// against its own copy) and read later.
pub trait Observer<B: Backend> {
    fn on_call(&mut self, backend: &B, call: CallInfo, z: &B::Buf);
}

/// Device buffers for one batch size, reused across segments.
pub struct Work<B: Backend> {
    pub dims: Dims,
    pub x: B::Buf,
    pub inj: B::Buf,
    pub l_acts: Vec<BlockActs<B>>,
    pub h_acts: Vec<BlockActs<B>>,
    pub scratch: BlockActs<B>,
    pub grad_scratch: Option<BlockGradScratch<B>>,
    pub logits: B::Buf,
    pub d_logits: B::Buf,
    pub q: B::Buf,
    pub q_next: B::Buf,
    pub dq: B::Buf,
    pub stats: B::Buf,
    pub grad_a: B::Buf,
    pub grad_b: B::Buf,
    pub tokens: B::IBuf,
    pub labels: B::IBuf,
    pub ids: B::IBuf,
    pub flags: B::IBuf,
    pub puzzle_rows: B::Buf,
    /// The puzzle identifiers of the data in `ids` (host copy, for the sparse optimizer).
    pub data_ids: Vec<i32>,
}

impl<B: Backend> Work<B> {
    pub fn new(be: &B, d: Dims, n_l: usize, n_h: usize) -> Work<B> {
        let (m, h) = (d.rows(), d.hidden);
        Work {
            dims: d,
            x: be.alloc(m * h),
            inj: be.alloc(m * h),
            l_acts: (0..n_l).map(|_| BlockActs::new(be, &d)).collect(),
            h_acts: (0..n_h).map(|_| BlockActs::new(be, &d)).collect(),
            scratch: BlockActs::new(be, &d),
            grad_scratch: None,
            logits: be.alloc(m * d.vocab),
            d_logits: be.alloc(m * d.vocab),
            q: be.alloc(d.batch * 2),
            q_next: be.alloc(d.batch * 2),
            dq: be.alloc(d.batch * 2),
            stats: be.alloc(d.batch * crate::backend::cpu::loss::STATS),
            grad_a: be.alloc(m * h),
            grad_b: be.alloc(m * h),
            tokens: be.upload_i32(&vec![0; d.batch * d.seq]),
            labels: be.upload_i32(&vec![0; d.batch * d.seq]),
            ids: be.upload_i32(&vec![0; d.batch]),
            flags: be.upload_i32(&vec![0; d.batch]),
            puzzle_rows: be.alloc(d.batch * d.puzzle_dim),
            data_ids: vec![0; d.batch],
        }
    }
}

impl<B: Backend> Hrm<B> {
    /// The work buffers for `rows` batch rows (allocated on first use or when the batch size changes).
    pub(super) fn work_for(&mut self, rows: usize) -> &mut Work<B> {
        if self.work.as_ref().map(|w| w.dims.batch) != Some(rows) {
            let d = Dims::new(&self.cfg, rows);
            self.work = Some(Work::new(&self.be, d, self.cfg.l_layers, self.cfg.h_layers));
            self.puzzle_grad = self.be.alloc(rows * self.cfg.puzzle_emb_ndim);
        }
        self.work.as_mut().expect("just set")
    }

    /// The inner model on the data already uploaded to the work buffers:
    /// `x = input_embeddings(...)` (when `embed`), the H/L cycles updating `z_h`, `z_l` in place, then
    /// the heads: `logits` (when `logits_out`) and `q` into `q_out`. With `grad`, the last L and H calls
    /// keep their activations for [`Hrm::segment_backward`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn inner_forward(
        &mut self,
        z_h: &mut B::Buf,
        z_l: &mut B::Buf,
        embed: bool,
        grad: bool,
        logits_out: bool,
        next_q: bool,
        mut observer: Option<&mut dyn Observer<B>>,
    ) {
        let be = &self.be;
        let p = &self.params;
        let rope = self.rope.as_ref();
        let w = self.work.as_mut().expect("work allocated");
        let d = w.dims;
        if embed {
            input_embeddings(be, p, &self.buffers, self.cfg.embed_scale(), w);
        }
        let (hc, lc) = (self.cfg.h_cycles, self.cfg.l_cycles);
        let (mut l_index, mut h_index) = (0, 0);
        for i in 0..hc {
            for j in 0..lc {
                let last = i == hc - 1 && j == lc - 1;
                // L(zL, zH, x) = f_L(zL, zH + x)
                be.add(z_h, &w.x, &mut w.inj);
                let acts = if grad && last { Acts::Saved(&mut w.l_acts) } else { Acts::Scratch(&mut w.scratch) };
                module_forward(be, &d, &p.l_layers, rope, z_l, &w.inj, acts);
                if let Some(o) = observer.as_deref_mut() {
                    o.on_call(be, CallInfo { module: super::Module::L, h_cycle: i, l_step: Some(j), index: l_index }, z_l);
                }
                l_index += 1;
            }
            // H(zH, zL) = f_H(zH, zL)
            let acts = if grad && i == hc - 1 { Acts::Saved(&mut w.h_acts) } else { Acts::Scratch(&mut w.scratch) };
            module_forward(be, &d, &p.h_layers, rope, z_h, z_l, acts);
            if let Some(o) = observer.as_deref_mut() {
                o.on_call(be, CallInfo { module: super::Module::H, h_cycle: i, l_step: None, index: h_index }, z_h);
            }
            h_index += 1;
        }
        if logits_out {
            // logits over all T positions; the loss and readers skip the first P (puzzle) positions.
            be.matmul_nt(d.rows(), d.vocab, d.hidden, z_h, &p.lm_head, &mut w.logits, false);
        }
        let q = if next_q { &mut w.q_next } else { &mut w.q };
        be.q_head_forward(d.batch, d.total, d.hidden, z_h, &p.q_w, &p.q_b, q);
    }

    /// Backward of the one-step graph after a `grad` forward. Needs `work.d_logits` (from the loss) and
    /// `work.dq` (d loss / d q) and the segment's final `z_h`. OVERWRITES every gradient.
    pub(super) fn segment_backward(&mut self, z_h: &B::Buf) {
        let be = &self.be;
        let p = &self.params;
        let rope = self.rope.as_ref();
        let w = self.work.as_mut().expect("work allocated");
        let d = w.dims;
        for g in self.grads.iter_mut() {
            be.fill(g, 0.0);
        }
        let g = &mut self.grads;
        let s = w.grad_scratch.get_or_insert_with(|| BlockGradScratch::new(be, &d));
        // heads: d zH' from the LM head (all positions; puzzle positions have zero d_logits) and the Q head
        be.matmul_tn(d.rows(), d.vocab, d.hidden, &w.d_logits, z_h, &mut g.lm_head, true);
        be.matmul_nn(d.rows(), d.vocab, d.hidden, &w.d_logits, &p.lm_head, &mut w.grad_a, false);
        be.q_head_backward(d.batch, d.total, d.hidden, z_h, &p.q_w, &w.dq, &mut w.grad_a, &mut g.q_w, &mut g.q_b);
        // zH' = f_H(zH* + zL'): d(H input) is d zL' (zH* is a constant)
        module_backward(be, &d, &p.h_layers, rope, &w.h_acts, &mut g.h_layers, s, &mut w.grad_a, &mut w.grad_b);
        // zL' = f_L(zL* + zH* + x): d(L input) is dx
        module_backward(be, &d, &p.l_layers, rope, &w.l_acts, &mut g.l_layers, s, &mut w.grad_a, &mut w.grad_b);
        input_embeddings_backward(be, self.cfg.embed_scale(), w, &w.grad_a, g, &mut self.puzzle_grad);
    }
}

impl<B: Backend> Hrm<B> {
    /// `z_h <- H(z_h, z_l) = f_H(z_h, z_l)` outside a segment, on the scratch buffers of the last
    /// segment (no activations kept, no gradient). For traces: the planner update that would happen if
    /// the planner ran now, after any L step (the page decodes `lm_head` of it).
    pub fn h_update(&mut self, z_h: &mut B::Buf, z_l: &B::Buf) -> Result<(), super::ModelError> {
        let w = self.work.as_mut().ok_or_else(|| super::ModelError::Batch("h_update needs a segment to have run first".into()))?;
        let d = w.dims;
        let n = d.rows() * d.hidden;
        if self.be.len(z_h) != n || self.be.len(z_l) != n {
            return Err(super::ModelError::Batch(format!("h_update: states of {} and {} values, expected {n}", self.be.len(z_h), self.be.len(z_l))));
        }
        module_forward(&self.be, &d, &self.params.h_layers, self.rope.as_ref(), z_h, z_l, Acts::Scratch(&mut w.scratch));
        Ok(())
    }
}
