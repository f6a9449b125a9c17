//! shaders/matmul.wgsl against the CPU matmul, on shapes that are not multiples of the 64x64x16 tiles.
#![cfg(not(target_arch = "wasm32"))]

#[path = "gpu_common.rs"]
mod gpu_common;

use gpu_common::{assert_close, ctx, rand_vec};
use hrm::backend::gpu::matmul::{dispatch_matmul, linear, linear_backward_input, linear_backward_weight, Operand};

/// Naive reference C = op(A) @ op(B) (stands in until the CPU backend's matmul exists).
fn reference(a: &[f32], ta: bool, b: &[f32], tb: bool, m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                let av = if ta { a[p * m + i] } else { a[i * k + p] };
                let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                s += av as f64 * bv as f64;
            }
            c[i * n + j] = s as f32;
        }
    }
    c
}

const SHAPES: &[(usize, usize, usize)] = &[(1, 1, 1), (3, 5, 7), (65, 63, 17), (130, 97, 129), (64, 64, 16), (200, 33, 250)];

#[test]
fn all_transpose_variants_on_odd_shapes() {
    let g = ctx();
    for (si, &(m, n, k)) in SHAPES.iter().enumerate() {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = rand_vec(m * k, 10 + si as u64, 1.0);
            let b = rand_vec(k * n, 20 + si as u64, 1.0);
            let ga = g.upload(&[m * k], &a).unwrap();
            let gb = g.upload(&[k * n], &b).unwrap();
            let gc = g.empty(&[m, n]).unwrap();
            let oa = Operand { t: &ga, transposed: ta, offset: 0 };
            let ob = Operand { t: &gb, transposed: tb, offset: 0 };
            dispatch_matmul(g, oa, ob, &gc, m, n, k, 1.0, 0.0).unwrap();
            let got = g.read_f32_blocking(&gc).unwrap();
            let want = reference(&a, ta, &b, tb, m, n, k);
            assert_close(&format!("{m}x{n}x{k} ta={ta} tb={tb}"), &got, &want, 1e-4, 1e-4);
        }
    }
}

#[test]
fn linear_and_its_two_backward_products() {
    let g = ctx();
    let (m, n, k) = (77, 45, 70); // tokens, out, in
    let x = rand_vec(m * k, 1, 1.0);
    let w = rand_vec(n * k, 2, 0.5);
    let dy = rand_vec(m * n, 3, 1.0);
    let gx = g.upload(&[m, k], &x).unwrap();
    let gw = g.upload(&[n, k], &w).unwrap();
    let gdy = g.upload(&[m, n], &dy).unwrap();

    let y = g.read_f32_blocking(&linear(g, &gx, &gw).unwrap()).unwrap();
    assert_close("y = x W^T", &y, &reference(&x, false, &w, true, m, n, k), 1e-4, 1e-4);

    let dx = g.read_f32_blocking(&linear_backward_input(g, &gdy, &gw).unwrap()).unwrap();
    assert_close("dx = dy W", &dx, &reference(&dy, false, &w, false, m, k, n), 1e-4, 1e-4);

    // Accumulating twice gives twice the product on top of the starting value.
    let start = rand_vec(n * k, 4, 1.0);
    let gdw = g.upload(&[n, k], &start).unwrap();
    linear_backward_weight(g, &gdy, &gx, &gdw, true).unwrap();
    linear_backward_weight(g, &gdy, &gx, &gdw, true).unwrap();
    let dw = g.read_f32_blocking(&gdw).unwrap();
    let prod = reference(&dy, true, &x, false, n, k, m);
    let want: Vec<f32> = start.iter().zip(&prod).map(|(s, p)| s + 2.0 * p).collect();
    assert_close("dW += dy^T x (twice)", &dw, &want, 2e-4, 1e-4);

    // Overwrite mode ignores the old contents.
    linear_backward_weight(g, &gdy, &gx, &gdw, false).unwrap();
    assert_close("dW = dy^T x", &g.read_f32_blocking(&gdw).unwrap(), &prod, 1e-4, 1e-4);
}

#[test]
fn offsets_alpha_and_shape_errors() {
    let g = ctx();
    let (m, n, k) = (5, 6, 7);
    let a = rand_vec(3 + m * k, 5, 1.0);
    let b = rand_vec(k * n, 6, 1.0);
    let ga = g.upload(&[a.len()], &a).unwrap();
    let gb = g.upload(&[b.len()], &b).unwrap();
    let gc = g.empty(&[m, n]).unwrap();
    dispatch_matmul(g, Operand { t: &ga, transposed: false, offset: 3 }, Operand::plain(&gb), &gc, m, n, k, 0.5, 0.0).unwrap();
    let want: Vec<f32> = reference(&a[3..], false, &b, false, m, n, k).iter().map(|v| 0.5 * v).collect();
    assert_close("offset 3, alpha 0.5", &g.read_f32_blocking(&gc).unwrap(), &want, 1e-5, 1e-5);

    let err = dispatch_matmul(g, Operand::plain(&gb), Operand::plain(&gb), &gc, m, n, k + 1, 1.0, 0.0).unwrap_err();
    assert!(err.to_string().contains("smaller"), "{err}");
    let err = dispatch_matmul(g, Operand::plain(&ga), Operand::plain(&gb), &ga, 1, 1, 1, 1.0, 0.0).unwrap_err();
    assert!(err.to_string().contains("share"), "{err}");
    let wrong = g.empty(&[4, 9]).unwrap();
    assert!(linear(g, &gc, &wrong).is_err());
    g.check().unwrap();
}

/// Several threads record into the one shared context at once, with enough dispatches to wrap the
/// uniform ring (1024 slots per submission) many times and readbacks that submit in between: every
/// product must still get its own parameters (here its own alpha). Without one lock around slot and
/// dispatch, a submission by another thread between the two let a later dispatch overwrite the slot.
#[test]
fn threads_recording_into_one_context_each_get_their_own_results() {
    let g = ctx();
    let (m, n, k) = (9, 7, 5);
    let a = rand_vec(m * k, 1, 1.0);
    let b = rand_vec(k * n, 2, 1.0);
    let base = reference(&a, false, &b, false, m, n, k);
    let (ga, gb) = (g.upload(&[m, k], &a).unwrap(), g.upload(&[k, n], &b).unwrap());
    std::thread::scope(|s| {
        for t in 0..4 {
            let (ga, gb, base) = (&ga, &gb, &base);
            s.spawn(move || {
                for round in 0..3 {
                    let outs: Vec<_> = (0..400)
                        .map(|i| {
                            let alpha = (t * 1000 + round * 400 + i) as f32 / 1000.0;
                            let c = g.empty(&[m, n]).unwrap();
                            dispatch_matmul(g, Operand::plain(ga), Operand::plain(gb), &c, m, n, k, alpha, 0.0).unwrap();
                            (alpha, c)
                        })
                        .collect();
                    for (alpha, c) in outs.iter().step_by(37) {
                        let want: Vec<f32> = base.iter().map(|x| x * alpha).collect();
                        assert_close(&format!("thread {t} round {round} alpha {alpha}"), &g.read_f32_blocking(c).unwrap(), &want, 1e-4, 1e-4);
                    }
                }
            });
        }
    });
    g.check().unwrap();
}
