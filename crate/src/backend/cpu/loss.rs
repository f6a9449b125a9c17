//! The LM loss of the ACT loss head (HRM_SPEC §6) and the BCE used by the Q losses.
//!
//! [`lm_loss`] reads `logits [B,T,V]` (all T = P + S positions; the first P, puzzle positions, are
//! skipped) and `labels [B,S]` (-100 = ignored). Per batch row b it writes
//! `stats[b*STATS..] = [loss_hi, loss_lo, #correct_b, #counted_b]` where `loss_hi + loss_lo` is the f64
//! `sum_t ce_bt / divisor_b` split into two f32 (a backend without f64 may write `loss_lo = 0`), with `divisor_b = max(#counted_b, 1)`
//! and "correct" = argmax over all V (first index on ties) equals the label. With `d_logits` it also
//! OVERWRITES the gradient of `grad_scale * sum_b (sum_t ce_bt / divisor_b)` (zero at puzzle positions and
//! ignored labels). Stablemax is computed in f64, as the official code does.

/// Values per batch row in the `stats` output.
pub const STATS: usize = 4;

/// Ignored label (`IGNORE_LABEL_ID`).
pub const IGNORE: i32 = -100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LmLossKind {
    /// `s(x) = 1/(1-x)` for x<0, `x+1` otherwise; `ce = -log(s(x_y)/sum_j s(x_j))` (official default).
    Stablemax,
    /// Ordinary softmax cross-entropy (the official alternative `softmax_cross_entropy`).
    Softmax,
}

#[derive(Debug, Clone, Copy)]
pub struct LossDims {
    pub batch: usize,
    pub puzzle_len: usize,
    pub seq: usize,
    pub vocab: usize,
}

/// Stablemax `s(x)` and its derivative.
fn stable_s(x: f64) -> (f64, f64) {
    if x < 0.0 {
        let s = 1.0 / (1.0 - x + 1e-30);
        (s, s * s)
    } else {
        (x + 1.0, 1.0)
    }
}

pub fn lm_loss(
    d: LossDims,
    kind: LmLossKind,
    logits: &[f32],
    labels: &[i32],
    grad_scale: f32,
    stats: &mut [f32],
    mut d_logits: Option<&mut [f32]>,
) {
    let (t_all, v) = (d.puzzle_len + d.seq, d.vocab);
    if let Some(g) = d_logits.as_deref_mut() {
        g[..d.batch * t_all * v].fill(0.0);
    }
    for b in 0..d.batch {
        let lab = &labels[b * d.seq..(b + 1) * d.seq];
        let count = lab.iter().filter(|&&l| l != IGNORE).count();
        let divisor = count.max(1) as f64;
        let (mut loss, mut correct) = (0.0f64, 0usize);
        for (s, &y) in lab.iter().enumerate() {
            if y == IGNORE {
                continue;
            }
            let y = y as usize;
            let off = (b * t_all + d.puzzle_len + s) * v;
            let x = &logits[off..off + v];
            // argmax, first index on ties
            let mut best = 0;
            for i in 1..v {
                if x[i] > x[best] {
                    best = i;
                }
            }
            correct += (best == y) as usize;
            let coef = grad_scale as f64 / divisor;
            match kind {
                LmLossKind::Stablemax => {
                    let z: f64 = x.iter().map(|&xi| stable_s(xi as f64).0).sum();
                    let (sy, dsy) = stable_s(x[y] as f64);
                    loss += -(sy / z).ln();
                    if let Some(g) = d_logits.as_deref_mut() {
                        for i in 0..v {
                            let mut gi = stable_s(x[i] as f64).1 / z;
                            if i == y {
                                gi -= dsy / sy;
                            }
                            g[off + i] = (coef * gi) as f32;
                        }
                    }
                }
                LmLossKind::Softmax => {
                    let mx = x.iter().fold(f64::NEG_INFINITY, |m, &a| m.max(a as f64));
                    let z: f64 = x.iter().map(|&xi| (xi as f64 - mx).exp()).sum();
                    loss += z.ln() + mx - x[y] as f64;
                    if let Some(g) = d_logits.as_deref_mut() {
                        for i in 0..v {
                            let p = (x[i] as f64 - mx).exp() / z;
                            g[off + i] = (coef * (p - (i == y) as u8 as f64)) as f32;
                        }
                    }
                }
            }
        }
        let row = loss / divisor;
        let hi = row as f32;
        stats[b * STATS] = hi;
        stats[b * STATS + 1] = (row - hi as f64) as f32;
        stats[b * STATS + 2] = correct as f32;
        stats[b * STATS + 3] = count as f32;
    }
}

/// `BCEWithLogits(x, y) = max(x,0) - x*y + log(1 + exp(-|x|))`, in f64.
pub fn bce_with_logits(x: f64, y: f64) -> f64 {
    x.max(0.0) - x * y + (-x.abs()).exp().ln_1p()
}

/// `d BCEWithLogits / dx = sigmoid(x) - y`.
pub fn bce_with_logits_grad(x: f64, y: f64) -> f64 {
    sigmoid(x) - y
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stablemax_values_gradient_and_normalisation() {
        // B=2, P=1, S=2, V=3. Row 1 has one ignored label.
        let d = LossDims { batch: 2, puzzle_len: 1, seq: 2, vocab: 3 };
        let logits: Vec<f32> = vec![9., 9., 9., -1.0, 0.5, 2.0, 0.3, -0.2, 0.1, 9., 9., 9., 1.0, 1.0, -3.0, 0.0, 0.0, 0.0];
        let labels = [2, 0, IGNORE, 1];
        let mut stats = vec![0.0; 8];
        let mut g = vec![0.0; 18];
        lm_loss(d, LmLossKind::Stablemax, &logits, &labels, 0.5, &mut stats, Some(&mut g));
        // row 0, position 1: s = [1/2, 1.5, 3] -> -log(3/5)
        let ce1 = -(3.0f64 / 5.0).ln();
        let s2: Vec<f64> = [0.3f32, -0.2, 0.1].iter().map(|&x| stable_s(x as f64).0).collect();
        let ce2 = -(s2[0] / s2.iter().sum::<f64>()).ln();
        assert!((stats[0] as f64 + stats[1] as f64 - (ce1 + ce2) / 2.0).abs() < 1e-12);
        assert_eq!(&stats[2..4], &[2.0, 2.0]);
        // row 1: only position 2 counts; all-equal logits -> argmax 0 != 1; tie case
        assert!((stats[4] as f64 + stats[5] as f64 - 3f64.ln()).abs() < 1e-12);
        assert_eq!(&stats[6..8], &[0.0, 1.0]);
        // puzzle positions and ignored labels get no gradient
        assert!(g[..3].iter().chain(&g[9..15]).all(|&x| x == 0.0));
        // finite differences of the scaled total
        let total = |l: &[f32]| {
            let mut s = vec![0.0; 8];
            lm_loss(d, LmLossKind::Stablemax, l, &labels, 0.5, &mut s, None);
            0.5 * (s[0] as f64 + s[1] as f64 + s[4] as f64 + s[5] as f64)
        };
        for i in [3usize, 4, 5, 7, 16] {
            let (mut p, mut m) = (logits.clone(), logits.clone());
            p[i] += 1e-3;
            m[i] -= 1e-3;
            let fd = (total(&p) - total(&m)) / 2e-3;
            assert!((fd - g[i] as f64).abs() < 1e-3, "{i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn bce_matches_definition() {
        for &(x, y) in &[(0.3f64, 1.0f64), (-2.0, 0.0), (5.0, 0.25)] {
            let r = -(y * sigmoid(x).ln() + (1.0 - y) * (1.0 - sigmoid(x)).ln());
            assert!((bce_with_logits(x, y) - r).abs() < 1e-12);
            let h = 1e-6;
            let fd = (bce_with_logits(x + h, y) - bce_with_logits(x - h, y)) / (2.0 * h);
            assert!((fd - bce_with_logits_grad(x, y)).abs() < 1e-6);
        }
    }
}
