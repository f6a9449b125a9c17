//! Every WGSL kernel against its CPU twin, forward and backward, through the model's `Backend` trait:
//! each test runs the same calls on `CpuBackend` (the reference, tested against the official vectors)
//! and on `GpuBackend`, on shapes that are not multiples of the kernels' tiles, and compares.
#![cfg(not(target_arch = "wasm32"))]

#[path = "gpu_common.rs"]
mod gpu_common;

use gpu_common::{assert_close, gpu, rand_ids, rand_vec};
use hrm::backend::cpu::rope::rope_tables;
use hrm::backend::{AttnDims, Backend, CpuBackend, EmbedDims, LmLossKind, Local, LossDims};

fn read<B: Backend>(be: &B, bufs: &[&B::Buf]) -> Vec<Vec<f32>> {
    pollster::block_on(be.read(bufs))
}

/// Run the same generic function on both backends and compare every output it returns.
macro_rules! both {
    ($name:literal, $atol:expr, $rtol:expr, $f:ident ( $($arg:expr),* )) => {{
        let cpu = $f(&CpuBackend, $($arg),*);
        let gpu_out = $f(gpu(), $($arg),*);
        if let Some(e) = gpu().error() {
            panic!("{}: gpu error {e}", $name);
        }
        assert_eq!(cpu.len(), gpu_out.len());
        for (i, (c, g)) in cpu.iter().zip(&gpu_out).enumerate() {
            assert_close(&format!("{} output {i}", $name), g, c, $atol, $rtol);
        }
    }};
}

fn elementwise<B: Backend>(be: &B, n_rows: usize, positions: usize, h: usize) -> Vec<Vec<f32>> {
    let n = n_rows * positions * h;
    let a = be.upload(&rand_vec(n, 1, 1.0));
    let b = be.upload(&rand_vec(n, 2, 1.0));
    let mut sum = be.alloc(n);
    be.add(&a, &b, &mut sum);
    let mut acc = be.upload(&rand_vec(n, 3, 1.0));
    be.add_assign(&mut acc, &a);
    let mut filled = be.alloc(n);
    be.fill(&mut filled, 0.25);
    let mut copied = be.alloc(n);
    be.copy(&b, &mut copied);
    let mut z = be.upload(&rand_vec(n, 4, 1.0));
    let init = be.upload(&rand_vec(h, 5, 1.0));
    let flags = be.upload_i32(&(0..n_rows as i32).map(|r| r % 2).collect::<Vec<_>>());
    be.reset_rows(&mut z, &init, &flags, positions);
    let mut norms = be.alloc(n_rows);
    be.row_diff_norm(n_rows, positions * h, &a, &b, &mut norms);
    read(be, &[&sum, &acc, &filled, &copied, &z, &norms])
}

#[test]
fn adds_reset_and_residual_norms() {
    both!("elementwise", 1e-6, 1e-5, elementwise(3, 7, 45));
}

fn matmuls<B: Backend>(be: &B, m: usize, n: usize, k: usize) -> Vec<Vec<f32>> {
    let x = be.upload(&rand_vec(m * k, 11, 1.0));
    let w = be.upload(&rand_vec(n * k, 12, 0.5));
    let dy = be.upload(&rand_vec(m * n, 13, 1.0));
    let mut y = be.upload(&rand_vec(m * n, 14, 1.0));
    be.matmul_nt(m, n, k, &x, &w, &mut y, true);
    let mut y2 = be.alloc(m * n);
    be.matmul_nt(m, n, k, &x, &w, &mut y2, false);
    let mut dx = be.upload(&rand_vec(m * k, 15, 1.0));
    be.matmul_nn(m, n, k, &dy, &w, &mut dx, true);
    let mut dw = be.upload(&rand_vec(n * k, 16, 1.0));
    be.matmul_tn(m, n, k, &dy, &x, &mut dw, true);
    let mut dw2 = be.alloc(n * k);
    be.matmul_tn(m, n, k, &dy, &x, &mut dw2, false);
    read(be, &[&y, &y2, &dx, &dw, &dw2])
}

#[test]
fn matmul_three_products_with_and_without_accumulate() {
    for (m, n, k) in [(1, 1, 1), (65, 17, 130), (131, 96, 47), (7, 200, 3)] {
        both!("matmul", 1e-4, 1e-4, matmuls(m, n, k));
    }
}

fn embedding<B: Backend>(be: &B, d: EmbedDims, learned: bool) -> Vec<Vec<f32>> {
    let (h, t) = (d.hidden, d.total());
    let tokens = be.upload_i32(&rand_ids(d.batch * d.seq, 21, d.vocab as u32).iter().map(|&x| x as i32).collect::<Vec<_>>());
    let puzzle = be.upload(&rand_vec(d.batch * d.puzzle_dim, 22, 1.0));
    let emb = be.upload(&rand_vec(d.vocab * h, 23, 1.0));
    let pos = be.upload(&rand_vec(t * h, 24, 1.0));
    let mut x = be.alloc(d.batch * t * h);
    be.embed_forward(d, &tokens, &puzzle, &emb, learned.then_some(&pos), (h as f32).sqrt(), &mut x);
    let dx = be.upload(&rand_vec(d.batch * t * h, 25, 1.0));
    let mut d_emb = be.upload(&rand_vec(d.vocab * h, 26, 1.0));
    let mut d_pos = be.upload(&rand_vec(t * h, 27, 1.0));
    let mut d_puzzle = be.alloc(d.batch * d.puzzle_dim);
    be.embed_backward(d, &tokens, &dx, (h as f32).sqrt(), &mut d_emb, learned.then_some(&mut d_pos), &mut d_puzzle);
    let ids = be.upload_i32(&[2, 0, 2]);
    let mut rows = be.alloc(3 * h);
    be.gather_rows(&emb, &ids, h, &mut rows);
    read(be, &[&x, &d_emb, &d_pos, &d_puzzle, &rows])
}

#[test]
fn embedding_forward_backward_puzzle_rows_and_learned_positions() {
    // P = 2 with the second puzzle position half padding; S not a multiple of anything.
    let d = EmbedDims { batch: 3, seq: 11, puzzle_len: 2, puzzle_dim: 40, hidden: 24, vocab: 7 };
    both!("embedding learned", 1e-5, 1e-5, embedding(d, true));
    both!("embedding rope", 1e-5, 1e-5, embedding(d, false));
    let d0 = EmbedDims { batch: 2, seq: 9, puzzle_len: 0, puzzle_dim: 0, hidden: 16, vocab: 5 };
    both!("embedding no puzzle", 1e-5, 1e-5, embedding(d0, false));
}

fn attention<B: Backend>(be: &B, d: AttnDims, rope: bool) -> Vec<Vec<f32>> {
    let row = 3 * d.heads * d.head_dim;
    let n = d.batch * d.total * row;
    let (cos, sin) = rope_tables(d.total, d.head_dim, 10000.0);
    let (cos, sin) = (be.upload(&cos), be.upload(&sin));
    let mut qkv = be.upload(&rand_vec(n, 31, 1.5));
    if rope {
        be.rope_forward(d, &cos, &sin, &mut qkv);
    }
    let tt = d.batch * d.heads * d.total * d.total;
    let mut probs = be.alloc(tt);
    let mut out = be.alloc(d.batch * d.total * d.heads * d.head_dim);
    be.attention_forward(d, &qkv, &mut probs, &mut out);
    let d_out = be.upload(&rand_vec(d.batch * d.total * d.heads * d.head_dim, 32, 1.0));
    let mut scratch = be.alloc(tt);
    let mut dqkv = be.alloc(n);
    be.attention_backward(d, &qkv, &probs, &d_out, &mut scratch, &mut dqkv);
    if rope {
        be.rope_backward(d, &cos, &sin, &mut dqkv);
    }
    read(be, &[&qkv, &out, &dqkv])
}

#[test]
fn rope_and_attention_forward_backward_on_odd_lengths() {
    // T = 37 spans two 32-key tiles and three 16-query tiles; d = 16 and 64 (the largest supported).
    both!("attention d16", 2e-5, 1e-4, attention(AttnDims { batch: 2, total: 37, heads: 3, head_dim: 16, local: None }, true));
    both!("attention d64", 2e-5, 1e-4, attention(AttnDims { batch: 1, total: 70, heads: 2, head_dim: 64, local: None }, true));
    both!("attention d6 no rope", 2e-5, 1e-4, attention(AttnDims { batch: 2, total: 5, heads: 1, head_dim: 6, local: None }, false));
}

#[test]
fn attention_at_maze_length_901() {
    // A 30x30 maze plus one puzzle position: the GPU keeps O(T) state per head instead of T^2.
    both!("attention T=901", 2e-5, 1e-4, attention(AttnDims { batch: 1, total: 901, heads: 1, head_dim: 16, local: None }, true));
}

#[test]
fn local_attention_windows() {
    // attn_radius: a 6x6 grid after one prefix position (T = 37, over key and query tiles), radius 1
    // and 2; a 30x30 grid with radius 2, where most key tiles hold no key a cell may read.
    let local = |prefix, side, radius| Some(Local { prefix, side, radius });
    both!("local r1", 2e-5, 1e-4, attention(AttnDims { batch: 2, total: 37, heads: 2, head_dim: 16, local: local(1, 6, 1) }, true));
    both!("local r2", 2e-5, 1e-4, attention(AttnDims { batch: 1, total: 37, heads: 3, head_dim: 8, local: local(1, 6, 2) }, false));
    both!("local T=901", 2e-5, 1e-4, attention(AttnDims { batch: 1, total: 901, heads: 1, head_dim: 16, local: local(1, 30, 2) }, true));
}

fn mlp_norm<B: Backend>(be: &B, rows: usize, hidden: usize, width: usize) -> Vec<Vec<f32>> {
    let gu = be.upload(&rand_vec(rows * 2 * width, 41, 3.0));
    let mut a = be.alloc(rows * width);
    be.swiglu_forward(rows, width, &gu, &mut a);
    let da = be.upload(&rand_vec(rows * width, 42, 1.0));
    let mut dgu = be.alloc(rows * 2 * width);
    be.swiglu_backward(rows, width, &gu, &da, &mut dgu);
    let x = be.upload(&rand_vec(rows * hidden, 43, 2.0));
    let r = be.upload(&rand_vec(rows * hidden, 44, 2.0));
    let mut y = be.alloc(rows * hidden);
    let mut rstd = be.alloc(rows);
    be.add_rmsnorm_forward(rows, hidden, 1e-5, &x, &r, &mut y, &mut rstd);
    let dy = be.upload(&rand_vec(rows * hidden, 45, 1.0));
    let mut dx = be.alloc(rows * hidden);
    be.rmsnorm_backward(rows, hidden, &y, &rstd, &dy, &mut dx);
    read(be, &[&a, &dgu, &y, &rstd, &dx])
}

#[test]
fn swiglu_and_rmsnorm_forward_backward() {
    both!("swiglu/rmsnorm", 1e-5, 1e-4, mlp_norm(83, 72, 256));
    both!("swiglu/rmsnorm small", 1e-5, 1e-4, mlp_norm(3, 5, 7));
}

fn heads_and_loss<B: Backend>(be: &B, d: LossDims, kind: LmLossKind, hidden: usize) -> Vec<Vec<f32>> {
    let t = d.puzzle_len + d.seq;
    let z = be.upload(&rand_vec(d.batch * t * hidden, 51, 1.0));
    let w = be.upload(&rand_vec(2 * hidden, 52, 0.3));
    let bias = be.upload(&[-5.0, 0.5]);
    let mut q = be.alloc(d.batch * 2);
    be.q_head_forward(d.batch, t, hidden, &z, &w, &bias, &mut q);
    let dq = be.upload(&rand_vec(d.batch * 2, 53, 1.0));
    let mut dz = be.upload(&rand_vec(d.batch * t * hidden, 54, 1.0));
    let mut dw = be.upload(&rand_vec(2 * hidden, 55, 1.0));
    let mut dbias = be.upload(&[0.1, 0.2]);
    be.q_head_backward(d.batch, t, hidden, &z, &w, &dq, &mut dz, &mut dw, &mut dbias);
    let logits = be.upload(&rand_vec(d.batch * t * d.vocab, 56, 3.0));
    // Every third label ignored, and one row entirely ignored (a padding row).
    let mut labels: Vec<i32> = rand_ids(d.batch * d.seq, 57, d.vocab as u32).iter().enumerate().map(|(i, &l)| if i % 3 == 1 { -100 } else { l as i32 }).collect();
    labels[..d.seq].iter_mut().for_each(|l| *l = -100);
    let labels = be.upload_i32(&labels);
    let mut stats = be.alloc(d.batch * 4);
    let mut dlogits = be.alloc(d.batch * t * d.vocab);
    be.lm_loss(d, kind, &logits, &labels, 0.125, &mut stats, Some(&mut dlogits));
    let mut out = read(be, &[&q, &dz, &dw, &dbias, &stats, &dlogits]);
    // The GPU has no f64: compare the row loss as hi + lo.
    let stats = &mut out[4];
    for r in stats.chunks_exact_mut(4) {
        r[0] += r[1];
        r[1] = 0.0;
    }
    out
}

#[test]
fn q_head_and_lm_losses() {
    let d = LossDims { batch: 5, puzzle_len: 1, seq: 40, vocab: 11 };
    both!("stablemax", 1e-5, 1e-5, heads_and_loss(d, LmLossKind::Stablemax, 37));
    both!("softmax", 1e-5, 1e-5, heads_and_loss(d, LmLossKind::Softmax, 37));
    let d0 = LossDims { batch: 3, puzzle_len: 0, seq: 9, vocab: 6 };
    both!("stablemax P=0", 1e-5, 1e-5, heads_and_loss(d0, LmLossKind::Stablemax, 8));
}

#[test]
fn a_bad_shape_is_an_error_value_not_a_panic() {
    let be = hrm::backend::gpu::GpuBackend::new_blocking().expect("adapter");
    let a = be.upload(&[1.0, 2.0, 3.0]);
    let mut y = be.alloc(2);
    be.matmul_nt(2, 1, 3, &a, &a, &mut y, false); // x needs 6 values
    let err = be.error().expect("the shape error is kept");
    assert!(err.to_string().contains("matmul"), "{err}");
    // reads still return (zeros) instead of hanging or panicking
    assert_eq!(read(&be, &[&y]), vec![vec![0.0, 0.0]]);
}
