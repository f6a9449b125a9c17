//! Attention through a [`Local`] window (`attn_radius`), forward and backward, visiting only the keys
//! each query reads: a grid cell's (2r+1)² square, every position for a puzzle position. The cost is
//! O(T r²) instead of O(T²) (a 15x15 maze with r = 1: 9 keys per cell instead of 226). `probs` keeps
//! the dense `[B,nh,T,T]` layout of the global path, 0 outside the window.

use super::super::math;
use super::{per_batch_opt, per_batch_out, AttnDims, Local};

impl Local {
    /// The key positions query `i` reads, in increasing order.
    pub fn keys(&self, i: usize, total: usize) -> Vec<usize> {
        if i < self.prefix {
            return (0..total).collect();
        }
        let (r, c) = ((i - self.prefix) / self.side, (i - self.prefix) % self.side);
        let span = |x: usize| x.saturating_sub(self.radius)..=(x + self.radius).min(self.side - 1);
        span(r).flat_map(|rr| span(c).map(move |cc| self.prefix + rr * self.side + cc)).collect()
    }
}

/// The forward for `d.local = Some(w)`: writes `out`, and `probs` (dense, zeros outside) when given.
pub fn forward(d: AttnDims, w: Local, qkv: &[f32], probs: Option<&mut [f32]>, out: &mut [f32]) {
    let (t, nh, hd) = (d.total, d.heads, d.head_dim);
    let (row, inner) = (d.row(), nh * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    per_batch_opt(d, probs, out, |b, mut p, o| {
        if let Some(p) = p.as_deref_mut() {
            p.fill(0.0);
        }
        let at = |pos: usize, part: usize, h: usize| (b * t + pos) * row + (part * nh + h) * hd;
        let mut s = Vec::new();
        for i in 0..t {
            let keys = w.keys(i, t);
            for h in 0..nh {
                let q = &qkv[at(i, 0, h)..][..hd];
                s.clear();
                s.extend(keys.iter().map(|&j| scale * math::dot(q, &qkv[at(j, 1, h)..][..hd])));
                let mx = math::max(&s);
                s.iter_mut().for_each(|x| *x = math::exp(*x - mx));
                let inv = 1.0 / math::sum(&s);
                let oi = &mut o[i * inner + h * hd..][..hd];
                oi.fill(0.0);
                for (&j, x) in keys.iter().zip(s.iter_mut()) {
                    *x *= inv;
                    for (a, &v) in oi.iter_mut().zip(&qkv[at(j, 2, h)..][..hd]) {
                        *a += *x * v;
                    }
                }
                if let Some(p) = p.as_deref_mut() {
                    for (&j, &x) in keys.iter().zip(&s) {
                        p[(h * t + i) * t + j] = x;
                    }
                }
            }
        }
    });
}

/// The backward for `d.local = Some(w)`: OVERWRITES `d_qkv` from `d_out` and the forward's `probs`,
/// over the same keys (dS = P (dP - rowsum(P dP)) scale; dQ = dS K, dK = dS^T Q, dV = P^T dO).
pub fn backward(d: AttnDims, w: Local, qkv: &[f32], probs: &[f32], d_out: &[f32], d_qkv: &mut [f32]) {
    let (t, nh, hd) = (d.total, d.heads, d.head_dim);
    let (row, inner) = (d.row(), nh * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    per_batch_out(&mut d_qkv[..d.batch * t * row], t * row, |b, dq| {
        dq.fill(0.0);
        let at = |pos: usize, part: usize, h: usize| pos * row + (part * nh + h) * hd;
        let src = &qkv[b * t * row..][..t * row];
        let mut ds = Vec::new();
        for i in 0..t {
            let keys = w.keys(i, t);
            for h in 0..nh {
                let p = &probs[((b * nh + h) * t + i) * t..][..t];
                let g = &d_out[(b * t + i) * inner + h * hd..][..hd];
                ds.clear();
                ds.extend(keys.iter().map(|&j| math::dot(g, &src[at(j, 2, h)..][..hd])));
                let dot: f32 = keys.iter().zip(&ds).map(|(&j, &x)| p[j] * x).sum();
                for (&j, x) in keys.iter().zip(ds.iter_mut()) {
                    *x = p[j] * (*x - dot) * scale;
                }
                for (&j, &x) in keys.iter().zip(&ds) {
                    for c in 0..hd {
                        dq[at(i, 0, h) + c] += x * src[at(j, 1, h) + c];
                        dq[at(j, 1, h) + c] += x * src[at(i, 0, h) + c];
                        dq[at(j, 2, h) + c] += p[j] * g[c];
                    }
                }
            }
        }
    });
}
