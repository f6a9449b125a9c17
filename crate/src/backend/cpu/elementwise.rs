//! Small element-wise ops: adds, carry reset, the residual-norm reduction for traces.

/// `out = a + b` (same lengths).
pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// `out += a`.
pub fn add_assign(out: &mut [f32], a: &[f32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o += x;
    }
}

/// ACT carry reset (HRM_SPEC §5): for every batch row `b` with `flags[b] != 0`, every one of its
/// `positions` rows of `z [B,positions,h]` becomes `init [h]`.
pub fn reset_rows(z: &mut [f32], init: &[f32], flags: &[i32], positions: usize) {
    let h = init.len();
    for (b, &f) in flags.iter().enumerate() {
        if f != 0 {
            for t in 0..positions {
                z[(b * positions + t) * h..(b * positions + t + 1) * h].copy_from_slice(init);
            }
        }
    }
}

/// `out[r] = || a[r,:] - b[r,:] ||_2` for `a, b [rows, cols]`: how far a state moved in one call.
pub fn row_diff_norm(rows: usize, cols: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
    for r in 0..rows {
        let s: f64 = a[r * cols..(r + 1) * cols]
            .iter()
            .zip(&b[r * cols..(r + 1) * cols])
            .map(|(x, y)| {
                let d = (*x - *y) as f64;
                d * d
            })
            .sum();
        out[r] = s.sqrt() as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_touches_only_flagged_rows_and_norm_is_euclidean() {
        let mut z = vec![5.0; 2 * 3 * 2];
        reset_rows(&mut z, &[1.0, 2.0], &[0, 1], 3);
        assert_eq!(&z[..6], &[5.0; 6]);
        assert_eq!(&z[6..], &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        let mut n = vec![0.0; 2];
        row_diff_norm(2, 2, &[3.0, 4.0, 1.0, 1.0], &[0.0, 0.0, 1.0, 1.0], &mut n);
        assert_eq!(n, vec![5.0, 0.0]);
    }
}
