//! The 8 symmetries of a square grid, numbered as the official `dataset/common.py: dihedral_transform`
//! numbers them (numpy semantics): 0 identity, 1 `rot90` (counter-clockwise), 2 `rot90` twice,
//! 3 `rot90` three times, 4 `fliplr`, 5 `flipud`, 6 transpose, 7 `fliplr(rot90(x))` (anti-transpose).

/// `DIHEDRAL_INVERSE[t]` undoes transform `t` (official table).
pub const DIHEDRAL_INVERSE: [u8; 8] = [0, 3, 2, 1, 4, 5, 6, 7];

/// For output cell (i, j) of an n x n grid under transform `tid`, the input cell it comes from.
///
/// # Panics
/// If `tid` is not in 0..8 (a programming error: ids come from code, not from users).
pub fn source_cell(n: usize, tid: u8, i: usize, j: usize) -> (usize, usize) {
    let m = n - 1;
    match tid {
        0 => (i, j),
        1 => (j, m - i),
        2 => (m - i, m - j),
        3 => (m - j, i),
        4 => (i, m - j),
        5 => (m - i, j),
        6 => (j, i),
        7 => (m - j, m - i),
        _ => panic!("dihedral transform id {tid} is not in 0..8"),
    }
}

/// Apply transform `tid` to a row-major n x n grid.
///
/// # Panics
/// If `tid` is not in 0..8 or `cells` is not n*n long.
pub fn transform<T: Copy>(cells: &[T], n: usize, tid: u8) -> Vec<T> {
    assert_eq!(cells.len(), n * n, "grid is not {n}x{n}");
    let mut out = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let (si, sj) = source_cell(n, tid, i, j);
            out.push(cells[si * n + sj]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy's documented results on [[1,2],[3,4]] (rot90 -> [[2,4],[1,3]], and so on).
    #[test]
    fn matches_numpy_on_a_2x2() {
        let a = [1, 2, 3, 4];
        let expect: [[i32; 4]; 8] =
            [[1, 2, 3, 4], [2, 4, 1, 3], [4, 3, 2, 1], [3, 1, 4, 2], [2, 1, 4, 3], [3, 4, 1, 2], [1, 3, 2, 4], [4, 2, 3, 1]];
        for t in 0..8u8 {
            assert_eq!(transform(&a, 2, t), expect[t as usize], "tid {t}");
        }
    }

    #[test]
    fn inverse_table_undoes_each_transform() {
        let a: Vec<u32> = (0..25).collect();
        for t in 0..8u8 {
            let back = transform(&transform(&a, 5, t), 5, DIHEDRAL_INVERSE[t as usize]);
            assert_eq!(back, a, "tid {t}");
        }
    }
}
