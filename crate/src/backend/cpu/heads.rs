//! The Q head (HRM_SPEC §4.4): `q [B,2] = zH[:, 0] @ Wq^T + bq` — it reads only position 0 of each row
//! of `zH [B,T,h]` (`q[:,0]` = halt, `q[:,1]` = continue). The LM head is a plain GEMM (matmul.rs).

pub fn q_head_forward(batch: usize, total: usize, hidden: usize, z: &[f32], w: &[f32], bias: &[f32], q: &mut [f32]) {
    for b in 0..batch {
        let x = &z[b * total * hidden..][..hidden];
        for o in 0..2 {
            q[b * 2 + o] = bias[o] + x.iter().zip(&w[o * hidden..(o + 1) * hidden]).map(|(a, b)| a * b).sum::<f32>();
        }
    }
}

/// Given `dq [B,2]`: ACCUMULATES into `dz` (position 0 of each row), `dw [2,h]` and `dbias [2]`.
#[allow(clippy::too_many_arguments)]
pub fn q_head_backward(batch: usize, total: usize, hidden: usize, z: &[f32], w: &[f32], dq: &[f32], dz: &mut [f32], dw: &mut [f32], dbias: &mut [f32]) {
    for b in 0..batch {
        let x = &z[b * total * hidden..][..hidden];
        for o in 0..2 {
            let g = dq[b * 2 + o];
            dbias[o] += g;
            let wr = &w[o * hidden..(o + 1) * hidden];
            let dzr = &mut dz[b * total * hidden..][..hidden];
            for i in 0..hidden {
                dzr[i] += g * wr[i];
            }
            let dwr = &mut dw[o * hidden..(o + 1) * hidden];
            for i in 0..hidden {
                dwr[i] += g * x[i];
            }
        }
    }
}
