//! Rotary position embedding, half-split (`rotate_half`), over all T = P + S positions (HRM_SPEC §3).
//!
//! Tables `cos, sin [T,d]`; applied in place to the q and k heads of `qkv [B,T,3*nh*d]` (heads laid out
//! `[q_0..q_{nh-1} | k_0.. | v_0..]`, d contiguous values each). `x' = x*cos + rotate_half(x)*sin`,
//! `rotate_half(x) = concat(-x[d/2:], x[:d/2])`. The backward is the rotation by the opposite angle.

/// The `width/2` rotary frequencies of a `width`-wide RoPE: `inv_freq[j] = 1/theta^(2j/width)`.
fn inv_freq(width: usize, theta: f64) -> Vec<f32> {
    // torch: base ** (arange(0, d, 2, f32) / d) in f32, then 1.0 / that.
    (0..width / 2).map(|j| 1.0f32 / (theta as f32).powf((2 * j) as f32 / width as f32)).collect()
}

/// `cos, sin [T,d]` exactly as the official f32 tables: `inv_freq[j] = 1/theta^(2j/d)`,
/// `freqs = t * inv_freq` in f32, `emb = concat(freqs, freqs)`.
pub fn rope_tables(total: usize, head_dim: usize, theta: f64) -> (Vec<f32>, Vec<f32>) {
    let half = head_dim / 2;
    let inv_freq = inv_freq(head_dim, theta);
    let mut cos = vec![0.0; total * head_dim];
    let mut sin = vec![0.0; total * head_dim];
    for t in 0..total {
        for j in 0..head_dim {
            let f = t as f32 * inv_freq[j % half];
            cos[t * head_dim + j] = f.cos();
            sin[t * head_dim + j] = f.sin();
        }
    }
    (cos, sin)
}

/// `cos, sin [T,d]` for `rope2d` (this project's extension): the first half of the rotary pairs turn
/// with a cell's row, the second half with its column, each half with the frequencies of a
/// `d/2`-wide RoPE. `T = prefix + side*side`, cells laid out row by row; the `prefix` puzzle-embedding
/// positions sit at row 0, column 0. Then `q·k` depends only on the 2-D offset between two cells,
/// whatever the grid's width — the up-neighbour is always one row back, not `side` tokens back. The
/// same `rope_forward` applies these tables; only the angles differ from [`rope_tables`].
pub fn rope_tables_2d(prefix: usize, side: usize, head_dim: usize, theta: f64) -> (Vec<f32>, Vec<f32>) {
    let (half, quarter) = (head_dim / 2, head_dim / 4);
    let inv_freq = inv_freq(half, theta);
    let total = prefix + side * side;
    let mut cos = vec![0.0; total * head_dim];
    let mut sin = vec![0.0; total * head_dim];
    for t in 0..total {
        let (row, col) = if t < prefix { (0, 0) } else { ((t - prefix) / side, (t - prefix) % side) };
        for j in 0..head_dim {
            let pair = j % half;
            let f = if pair < quarter { row as f32 * inv_freq[pair] } else { col as f32 * inv_freq[pair - quarter] };
            cos[t * head_dim + j] = f.cos();
            sin[t * head_dim + j] = f.sin();
        }
    }
    (cos, sin)
}

/// The tables a config asks for (`None` for learned positions).
pub fn tables_for(cfg: &crate::Config) -> Option<(Vec<f32>, Vec<f32>)> {
    use crate::PosEncoding::*;
    match cfg.pos_encodings {
        Learned => None,
        Rope => Some(rope_tables(cfg.total_seq(), cfg.head_dim(), cfg.rope_theta)),
        // validate() has checked the grid is square.
        Rope2d => Some(rope_tables_2d(cfg.puzzle_emb_len(), cfg.grid_side()?, cfg.head_dim(), cfg.rope_theta)),
    }
}

#[allow(clippy::too_many_arguments)]
fn rotate(qkv: &mut [f32], cos: &[f32], sin: &[f32], batch: usize, total: usize, heads: usize, head_dim: usize, sign: f32) {
    let half = head_dim / 2;
    let row = 3 * heads * head_dim;
    super::math::par_rows(&mut qkv[..batch * total * row], row, |r0, rows| {
        for (k, rw) in rows.chunks_exact_mut(row).enumerate() {
            let t = (r0 + k) % total;
            let c = &cos[t * head_dim..(t + 1) * head_dim];
            let s = &sin[t * head_dim..(t + 1) * head_dim];
            // q heads and k heads: the first 2*nh heads of the row.
            for x in rw[..2 * heads * head_dim].chunks_exact_mut(head_dim) {
                let (x1, x2) = x.split_at_mut(half);
                for i in 0..half {
                    let (a, b) = (x1[i], x2[i]);
                    x1[i] = a * c[i] - sign * b * s[i];
                    x2[i] = b * c[i + half] + sign * a * s[i + half];
                }
            }
        }
    });
}

/// In-place RoPE on the q and k parts of `qkv [B,T,3*nh*d]`.
pub fn rope_forward(qkv: &mut [f32], cos: &[f32], sin: &[f32], batch: usize, total: usize, heads: usize, head_dim: usize) {
    rotate(qkv, cos, sin, batch, total, heads, head_dim, 1.0)
}

/// In-place backward of [`rope_forward`] on `dqkv` (the v part is untouched).
pub fn rope_backward(dqkv: &mut [f32], cos: &[f32], sin: &[f32], batch: usize, total: usize, heads: usize, head_dim: usize) {
    rotate(dqkv, cos, sin, batch, total, heads, head_dim, -1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_preserves_norm_and_backward_inverts_it() {
        let (t, nh, d) = (5, 2, 4);
        let (cos, sin) = rope_tables(t, d, 10000.0);
        // position 0 is the identity
        assert!(cos[..d].iter().all(|&c| c == 1.0) && sin[..d].iter().all(|&s| s == 0.0));
        let orig: Vec<f32> = (0..t * 3 * nh * d).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut x = orig.clone();
        rope_forward(&mut x, &cos, &sin, 1, t, nh, d);
        // half-split: at t=1, head 0, pair (0, 2) rotates by angle 1 (inv_freq[0] = 1)
        let row = 3 * nh * d;
        let (x1, x2) = (orig[row], orig[row + 2]);
        assert!((x[row] - (x1 * 1f32.cos() - x2 * 1f32.sin())).abs() < 1e-6);
        // v untouched
        assert_eq!(x[row + 2 * nh * d..2 * row], orig[row + 2 * nh * d..2 * row]);
        rope_backward(&mut x, &cos, &sin, 1, t, nh, d);
        for (a, b) in x.iter().zip(&orig) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    /// `q·k` after rotation, for a query at token `a` and a key at token `b` (one head).
    fn score(cos: &[f32], sin: &[f32], total: usize, d: usize, q: &[f32], k: &[f32], a: usize, b: usize) -> f32 {
        // One row of qkv per token, one head: [q | k | v].
        let mut x = vec![0.0; total * 3 * d];
        x[a * 3 * d..a * 3 * d + d].copy_from_slice(q);
        x[b * 3 * d + d..b * 3 * d + 2 * d].copy_from_slice(k);
        rope_forward(&mut x, cos, sin, 1, total, 1, d);
        (0..d).map(|i| x[a * 3 * d + i] * x[b * 3 * d + d + i]).sum()
    }

    #[test]
    fn rope2d_scores_depend_on_the_2d_offset_not_the_token_distance() {
        let (side, d) = (5, 8);
        let (cos, sin) = rope_tables_2d(0, side, d, 100.0);
        let q: Vec<f32> = (0..d).map(|i| (i as f32 * 0.9 + 0.3).sin()).collect();
        let k: Vec<f32> = (0..d).map(|i| (i as f32 * 1.7 - 0.2).cos()).collect();
        let s = |(r0, c0): (usize, usize), (r1, c1): (usize, usize)| score(&cos, &sin, side * side, d, &q, &k, r0 * side + c0, r1 * side + c1);
        // Same offset (+1 row, -4 columns) at two places in the grid: the same score.
        assert!((s((0, 4), (1, 0)) - s((2, 4), (3, 0))).abs() < 1e-5);
        // The up-neighbour, wherever it is.
        assert!((s((3, 2), (2, 2)) - s((1, 0), (0, 0))).abs() < 1e-5);
        // Same token distance (1), different 2-D offsets ((0,+1) and (+1,-4)): different scores,
        // which the 1-D tables would make equal.
        assert!((s((0, 0), (0, 1)) - s((0, 4), (1, 0))).abs() > 1e-2);
        let (c1, s1) = rope_tables(side * side, d, 100.0);
        let s1d = |a: usize, b: usize| score(&c1, &s1, side * side, d, &q, &k, a, b);
        assert!((s1d(0, 1) - s1d(4, 5)).abs() < 1e-5);
        // Row and column pairs are separate: cell (0, c) turns only the column half.
        let (half, quarter) = (d / 2, d / 4);
        for c in 0..side {
            for j in 0..d {
                let moved = j % half >= quarter && c > 0;
                assert_eq!(sin[c * d + j] != 0.0, moved, "cell (0,{c}) pair {j}");
            }
        }
    }
}
