//! Rotary position embedding, half-split (`rotate_half`), over all T = P + S positions (HRM_SPEC §3).
//!
//! Tables `cos, sin [T,d]`; applied in place to the q and k heads of `qkv [B,T,3*nh*d]` (heads laid out
//! `[q_0..q_{nh-1} | k_0.. | v_0..]`, d contiguous values each). `x' = x*cos + rotate_half(x)*sin`,
//! `rotate_half(x) = concat(-x[d/2:], x[:d/2])`. The backward is the rotation by the opposite angle.

/// `cos, sin [T,d]` exactly as the official f32 tables: `inv_freq[j] = 1/theta^(2j/d)`,
/// `freqs = t * inv_freq` in f32, `emb = concat(freqs, freqs)`.
pub fn rope_tables(total: usize, head_dim: usize, theta: f64) -> (Vec<f32>, Vec<f32>) {
    let half = head_dim / 2;
    let inv_freq: Vec<f32> = (0..half)
        .map(|j| {
            // torch: base ** (arange(0, d, 2, f32) / d) in f32, then 1.0 / that.
            let e = (2 * j) as f32 / head_dim as f32;
            1.0f32 / (theta as f32).powf(e)
        })
        .collect();
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
}
