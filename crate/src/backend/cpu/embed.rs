//! Input embeddings (HRM_SPEC §4.1) and their backward.
//!
//! Shapes: `tokens [B,S]` i32, `puzzle [B,D]` (the per-row puzzle embeddings, D = puzzle_emb_ndim,
//! zero-padded on the right to `P*h`), `emb [V,h]`, optional learned `pos [T,h]`, output `x [B,T,h]`
//! with `T = P + S`, puzzle positions first:
//! `e = concat(pad(puzzle).view(P,h), emb[tokens])`; learned: `e = 0.707106781 * (e + pos)`;
//! `x = scale * e` (scale = sqrt(h)).

/// The learned-position mixing constant of the official code (a Python float, applied in f32; it is
/// the official literal, not `FRAC_1_SQRT_2`).
#[allow(clippy::approx_constant, clippy::excessive_precision)]
pub const POS_MIX: f32 = 0.707106781;

/// Shapes of one embedding call.
#[derive(Debug, Clone, Copy)]
pub struct EmbedDims {
    pub batch: usize,
    pub seq: usize,
    pub puzzle_len: usize,
    pub puzzle_dim: usize,
    pub hidden: usize,
    pub vocab: usize,
}

impl EmbedDims {
    pub fn total(&self) -> usize {
        self.puzzle_len + self.seq
    }
}

/// `rows[b] = table[ids[b]]` for `table [N,D]`, `rows [B,D]`. Ids are checked by the caller (model).
pub fn gather_rows(table: &[f32], ids: &[i32], dim: usize, rows: &mut [f32]) {
    for (b, &id) in ids.iter().enumerate() {
        let id = id as usize;
        rows[b * dim..(b + 1) * dim].copy_from_slice(&table[id * dim..(id + 1) * dim]);
    }
}

/// Forward: writes `x [B,T,h]`. `pos` is `Some` for learned positions.
pub fn embed_forward(d: EmbedDims, tokens: &[i32], puzzle: &[f32], emb: &[f32], pos: Option<&[f32]>, scale: f32, x: &mut [f32]) {
    let (h, t_all) = (d.hidden, d.total());
    for b in 0..d.batch {
        for t in 0..t_all {
            let out = &mut x[(b * t_all + t) * h..(b * t_all + t + 1) * h];
            if t < d.puzzle_len {
                // Puzzle position t holds features [t*h, (t+1)*h) of the zero-padded puzzle vector.
                for (i, o) in out.iter_mut().enumerate() {
                    let f = t * h + i;
                    *o = if f < d.puzzle_dim { puzzle[b * d.puzzle_dim + f] } else { 0.0 };
                }
            } else {
                let tok = tokens[b * d.seq + (t - d.puzzle_len)] as usize;
                out.copy_from_slice(&emb[tok * h..(tok + 1) * h]);
            }
            match pos {
                Some(pos) => {
                    let p = &pos[t * h..(t + 1) * h];
                    for (o, &pv) in out.iter_mut().zip(p) {
                        *o = scale * (POS_MIX * (*o + pv));
                    }
                }
                None => out.iter_mut().for_each(|o| *o *= scale),
            }
        }
    }
}

/// Backward of [`embed_forward`] given `dx [B,T,h]`: ACCUMULATES into `d_emb [V,h]` (scatter-add over
/// tokens) and `d_pos [T,h]` (sum over the batch); OVERWRITES `d_puzzle [B,D]` (one row per batch row,
/// the official `local_weights.grad`).
pub fn embed_backward(
    d: EmbedDims,
    tokens: &[i32],
    dx: &[f32],
    scale: f32,
    d_emb: &mut [f32],
    mut d_pos: Option<&mut [f32]>,
    d_puzzle: &mut [f32],
) {
    let (h, t_all) = (d.hidden, d.total());
    // d e = dx * scale (* POS_MIX for learned positions); d pos = d e as well.
    let k = if d_pos.is_some() { scale * POS_MIX } else { scale };
    for b in 0..d.batch {
        for t in 0..t_all {
            let g = &dx[(b * t_all + t) * h..(b * t_all + t + 1) * h];
            if let Some(dp) = d_pos.as_deref_mut() {
                for (o, &gv) in dp[t * h..(t + 1) * h].iter_mut().zip(g) {
                    *o += k * gv;
                }
            }
            if t < d.puzzle_len {
                for (i, &gv) in g.iter().enumerate() {
                    let f = t * h + i;
                    if f < d.puzzle_dim {
                        d_puzzle[b * d.puzzle_dim + f] = k * gv;
                    }
                }
            } else {
                let tok = tokens[b * d.seq + (t - d.puzzle_len)] as usize;
                for (o, &gv) in d_emb[tok * h..(tok + 1) * h].iter_mut().zip(g) {
                    *o += k * gv;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puzzle_rows_are_padded_and_prepended_and_backward_is_the_transpose() {
        // h=4, puzzle dim 6 -> P=2 (second position half padding), S=2, V=3, learned positions.
        let d = EmbedDims { batch: 2, seq: 2, puzzle_len: 2, puzzle_dim: 6, hidden: 4, vocab: 3 };
        let tokens = [2, 0, 1, 1];
        let puzzle: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let emb: Vec<f32> = (0..12).map(|i| 0.1 * i as f32).collect();
        let pos: Vec<f32> = (0..16).map(|i| 0.01 * i as f32).collect();
        let mut x = vec![0.0; 2 * 4 * 4];
        embed_forward(d, &tokens, &puzzle, &emb, Some(&pos), 2.0, &mut x);
        // batch 1, position 1 (second puzzle position), feature 1 -> puzzle feature 5 of row 1 = 11
        assert!((x[(4 + 1) * 4 + 1] - 2.0 * POS_MIX * (11.0 + pos[5])).abs() < 1e-5);
        // feature 2 of that position is padding
        assert!((x[(4 + 1) * 4 + 2] - 2.0 * POS_MIX * pos[6]).abs() < 1e-6);
        // batch 0, position 2 = token 2
        assert!((x[2 * 4 + 3] - 2.0 * POS_MIX * (emb[2 * 4 + 3] + pos[2 * 4 + 3])).abs() < 1e-6);
        // backward is the transpose: <dx, J v> == <J^T dx, v> over all inputs.
        let dx: Vec<f32> = (0..32).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
        let mut d_emb = vec![0.0; 12];
        let mut d_pos = vec![0.0; 16];
        let mut d_puz = vec![0.0; 12];
        embed_backward(d, &tokens, &dx, 2.0, &mut d_emb, Some(&mut d_pos), &mut d_puz);
        let lhs: f32 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        let rhs: f32 = d_emb.iter().zip(&emb).map(|(a, b)| a * b).sum::<f32>()
            + d_pos.iter().zip(&pos).map(|(a, b)| a * b).sum::<f32>()
            + d_puz.iter().zip(&puzzle).map(|(a, b)| a * b).sum::<f32>();
        assert!((lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0), "{lhs} vs {rhs}");
    }
}
