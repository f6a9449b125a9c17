//! Sudoku: parsing, formatting, validation errors, the solver, the generator and the official augmentation.
use hrm::puzzles::sudoku::{self, parse_csv_row, Band, Cell, Grid, SudokuError, SudokuTransform, Unit};
use hrm::puzzles::PuzzleRng;
use proptest::prelude::*;

/// Arto Inkala's "world's hardest" puzzle and the solution our solver found, checked below by the
/// rules alone (not by the solver).
const HARD: &str = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";
const HARD_SOLUTION: &str = "812753649943682175675491283154237896369845721287169534521974368438526917796318452";

/// Independent rule check: every row, column and box holds 1..9 once.
fn obeys_rules(s: &str) -> bool {
    let d: Vec<u32> = s.chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
    let full = |cells: Vec<usize>| {
        let mut seen = [false; 10];
        cells.iter().all(|&i| d[i] >= 1 && !std::mem::replace(&mut seen[d[i] as usize], true))
    };
    d.len() == 81
        && (0..9).all(|k| {
            full((0..9).map(|j| k * 9 + j).collect())
                && full((0..9).map(|j| j * 9 + k).collect())
                && full((0..9).map(|j| (k / 3 * 3 + j / 3) * 9 + k % 3 * 3 + j % 3).collect())
        })
}

#[test]
fn the_reference_solution_is_right_by_the_rules() {
    assert!(obeys_rules(HARD_SOLUTION));
    assert!(HARD.chars().zip(HARD_SOLUTION.chars()).all(|(q, a)| q == '.' || q == a));
}

#[test]
fn solver_finds_the_unique_solution_and_reports_effort() {
    let g = Grid::parse(HARD).unwrap();
    let r = sudoku::solve(&g, 2);
    assert_eq!(r.solutions.len(), 1);
    assert_eq!(r.solutions[0].to_line(), HARD_SOLUTION);
    assert!(r.effort.guesses > 0 && r.effort.backtracks > 0, "the hardest puzzle needs search: {:?}", r.effort);
    let (sol, effort) = g.validate().unwrap();
    assert_eq!(sol.to_line(), HARD_SOLUTION);
    assert_eq!(effort, r.effort);
    // A full grid needs no search at all.
    let full = Grid::parse(HARD_SOLUTION).unwrap();
    assert_eq!(sudoku::solve(&full, 2).effort, sudoku::Effort::default());
}

#[test]
fn parses_what_people_paste() {
    let line = Grid::parse(HARD).unwrap();
    let zeros = Grid::parse(&HARD.replace('.', "0")).unwrap();
    let underscores = Grid::parse(&HARD.replace('.', "_")).unwrap();
    let pretty = Grid::parse(&line.to_pretty()).unwrap();
    let spaced: String = HARD.chars().flat_map(|c| [c, ' ']).collect();
    assert_eq!(line, zeros);
    assert_eq!(line, underscores);
    assert_eq!(line, pretty);
    assert_eq!(line, Grid::parse(&spaced).unwrap());
    assert!(line.to_pretty().contains('|') && line.to_pretty().contains('+'));
    let csv = format!("some-source,{HARD},{HARD_SOLUTION},17");
    assert_eq!(Grid::parse(&csv).unwrap(), line);
    let row = parse_csv_row(&csv).unwrap();
    assert_eq!(row.answer.unwrap().to_line(), HARD_SOLUTION);
    assert_eq!(row.rating, Some(17.0));
    assert_eq!(row.source, "some-source");
}

#[test]
fn errors_say_what_and_where() {
    let mut bad = HARD.to_string();
    bad.replace_range(40..41, "x");
    assert_eq!(Grid::parse(&bad), Err(SudokuError::BadCharacter { ch: 'x', line: 1, column: 41 }));
    assert_eq!(Grid::parse("1\n..z"), Err(SudokuError::BadCharacter { ch: 'z', line: 2, column: 3 }));
    assert_eq!(Grid::parse(&HARD[..80]), Err(SudokuError::WrongCellCount { found: 80 }));
    assert!(matches!(Grid::parse(&format!("{HARD}1")), Err(SudokuError::WrongCellCount { found: 82 })));
    // Two 8s in column 1 (r1c1 is an 8 given; put another at r5c1).
    let mut conflict = HARD.to_string();
    conflict.replace_range(36..37, "8");
    let e = Grid::parse(&conflict).unwrap().validate().unwrap_err();
    assert_eq!(e, SudokuError::Conflict { digit: 8, unit: Unit::Column, first: Cell { row: 0, col: 0 }, second: Cell { row: 4, col: 0 } });
    assert!(e.to_string().contains("r1c1") && e.to_string().contains("r5c1"));
    // 16 givens.
    let few: String = HARD_SOLUTION.chars().enumerate().map(|(i, c)| if i < 16 { c } else { '.' }).collect();
    assert_eq!(Grid::parse(&few).unwrap().validate(), Err(SudokuError::TooFewGivens { found: 16 }));
}

#[test]
fn several_solutions_are_shown_as_two_different_valid_grids() {
    // Blank a deadly pattern (two rows, two columns, same box band) of a full grid: two completions.
    let sol = Grid::parse(HARD_SOLUTION).unwrap();
    let cells = *sol.cells();
    let mut found = None;
    'outer: for r1 in 0..9 {
        for r2 in r1 + 1..9 {
            for c1 in 0..9 {
                for c2 in c1 + 1..9 {
                    let (a, b) = (cells[r1 * 9 + c1], cells[r1 * 9 + c2]);
                    if (r1 / 3 == r2 / 3 || c1 / 3 == c2 / 3) && cells[r2 * 9 + c1] == b && cells[r2 * 9 + c2] == a {
                        found = Some((r1, r2, c1, c2));
                        break 'outer;
                    }
                }
            }
        }
    }
    let (r1, r2, c1, c2) = found.expect("this grid has an unavoidable rectangle");
    let mut g = sol;
    for (r, c) in [(r1, c1), (r1, c2), (r2, c1), (r2, c2)] {
        g.set(Cell { row: r as u8, col: c as u8 }, 0).unwrap();
    }
    match g.validate() {
        Err(SudokuError::MultipleSolutions { first, second }) => {
            assert_ne!(first, second);
            assert!(first.solves(&g) && second.solves(&g));
            assert!(obeys_rules(&first.to_line()) && obeys_rules(&second.to_line()));
        }
        other => panic!("expected two solutions, got {other:?}"),
    }
}

#[test]
fn no_solution_is_reported() {
    // No conflict among givens, but r1c9 has no candidate: row 1 holds 1..8, column 9 holds a 9.
    let mut cells = [0u8; 81];
    for (c, d) in (1..=8).enumerate() {
        cells[c] = d;
    }
    cells[9 * 4 + 8] = 9;
    for (i, d) in [(10, 5), (20, 4), (30, 5), (40, 6), (50, 7), (60, 1), (70, 2), (80, 3)] {
        cells[i] = d;
    }
    let g = Grid::from_cells(&cells).unwrap();
    assert!(g.first_conflict().is_none());
    assert_eq!(g.validate(), Err(SudokuError::NoSolution));
}

#[test]
fn generated_puzzles_are_unique_solved_and_in_band() {
    for band in Band::ALL {
        let mut rng = PuzzleRng::new(7);
        let n = if band == Band::Extreme { 2 } else { 4 };
        for _ in 0..n {
            let g = sudoku::generate(band, &mut rng).unwrap();
            let report = sudoku::solve(&g.puzzle, 2);
            assert_eq!(report.solutions, vec![g.solution], "{band}: exactly one solution, the generator's");
            assert_eq!(reference_count(&mut g.puzzle.cells().clone(), 2), 1, "{band}: unique by the naive reference too");
            assert!(obeys_rules(&g.solution.to_line()));
            let (lo, hi) = band.givens();
            assert!((lo..=hi).contains(&g.puzzle.givens()), "{band}: {} givens", g.puzzle.givens());
            assert_eq!(report.effort, g.effort);
            assert!(band.accepts(g.effort), "{band}: effort {:?}", g.effort);
        }
    }
    // Hard and extreme puzzles are minimal: removing any given breaks uniqueness.
    let g = sudoku::generate(Band::Hard, &mut PuzzleRng::new(3)).unwrap();
    for i in (0..81).filter(|&i| g.puzzle.cells()[i] != 0) {
        let mut c = *g.puzzle.cells();
        c[i] = 0;
        assert_eq!(sudoku::count_solutions(&Grid::from_cells(&c).unwrap(), 2).0, 2);
    }
}

#[test]
fn generation_is_reproducible_from_the_seed() {
    let a: Vec<_> = (0..3).map({
        let mut r = PuzzleRng::new(99);
        move |_| sudoku::generate(Band::Medium, &mut r).unwrap().puzzle
    }).collect();
    let b: Vec<_> = (0..3).map({
        let mut r = PuzzleRng::new(99);
        move |_| sudoku::generate(Band::Medium, &mut r).unwrap().puzzle
    }).collect();
    let c = sudoku::generate(Band::Medium, &mut PuzzleRng::new(100)).unwrap().puzzle;
    assert_eq!(a, b);
    assert_ne!(a[0], c);
}

#[test]
fn augmentation_draws_look_like_the_official_ones() {
    let mut rng = PuzzleRng::new(5);
    let mut transposed = 0;
    for _ in 0..400 {
        let t = SudokuTransform::random(&mut rng);
        transposed += t.transpose as usize;
        assert_eq!(t.digit_map[0], 0, "blank stays blank");
        let mut d = t.digit_map[1..].to_vec();
        d.sort();
        assert_eq!(d, (1..=9).collect::<Vec<u8>>());
        for perm in [t.row_perm, t.col_perm] {
            // Each block of 3 output lines comes from one band, in some order.
            for k in 0..3 {
                let band = perm[k * 3] / 3;
                let mut within: Vec<u8> = perm[k * 3..k * 3 + 3].iter().map(|&r| { assert_eq!(r / 3, band); r % 3 }).collect();
                within.sort();
                assert_eq!(within, vec![0, 1, 2]);
            }
        }
    }
    assert!((150..250).contains(&transposed), "transpose with p = 0.5: {transposed}/400");
}

fn any_transform() -> impl Strategy<Value = SudokuTransform> {
    any::<u64>().prop_map(|s| SudokuTransform::random(&mut PuzzleRng::new(s)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn augmentation_maps_puzzles_and_solutions_to_puzzles_and_solutions(t in any_transform()) {
        let q = Grid::parse(HARD).unwrap();
        let a = Grid::parse(HARD_SOLUTION).unwrap();
        let (tq, ta) = (t.apply(&q), t.apply(&a));
        prop_assert!(obeys_rules(&ta.to_line()));
        prop_assert!(ta.solves(&tq));
        prop_assert_eq!(tq.givens(), q.givens());
        // Still unique, and the solver's solution of the image is the image of the solution.
        prop_assert_eq!(sudoku::solve(&tq, 2).solutions, vec![ta]);
        // A bijection: the inverse undoes it on both.
        prop_assert_eq!(t.inverse().apply(&tq), q);
        prop_assert_eq!(t.inverse().apply(&ta), a);
    }

    #[test]
    fn format_then_parse_is_the_identity(cells in proptest::collection::vec(0u8..=9, 81)) {
        let g = Grid::from_cells(&cells).unwrap();
        prop_assert_eq!(Grid::parse(&g.to_line()).unwrap(), g);
        prop_assert_eq!(Grid::parse(&g.to_pretty()).unwrap(), g);
        prop_assert_eq!(Grid::from_tokens(&g.to_tokens()).unwrap(), g);
    }
}

#[test]
fn tokens_are_the_official_ones() {
    let g = Grid::parse(HARD).unwrap();
    let t = g.to_tokens();
    assert_eq!(t[0], 9, "digit 8 -> 9");
    assert_eq!(t[1], 1, "blank -> 1");
    assert!(Grid::parse(HARD_SOLUTION).unwrap().to_tokens().iter().all(|&x| (2..=10).contains(&x)));
    assert_eq!((sudoku::VOCAB_SIZE, sudoku::SEQ_LEN, sudoku::PAD_TOKEN, sudoku::BLANK_TOKEN), (11, 81, 0, 1));
    assert!(matches!(Grid::from_tokens(&[0; 81]), Err(SudokuError::BadValue { value: 0, .. })));
    let mut g = Grid::EMPTY;
    assert!(g.set(Cell { row: 0, col: 0 }, 10).is_err());
    assert!(g.set(Cell { row: 9, col: 0 }, 1).is_err());
    g.set(Cell { row: 8, col: 8 }, 9).unwrap();
    assert_eq!(g.cells()[80], 9);
}

/// A deliberately naive reference: plain backtracking over the first empty cell with the fewest
/// candidates, no propagation. Counts solutions up to `limit`.
fn reference_count(cells: &mut [u8; 81], limit: usize) -> usize {
    let allowed = |cells: &[u8; 81], i: usize| -> Vec<u8> {
        let (r, c) = (i / 9, i % 9);
        (1..=9u8)
            .filter(|&d| {
                (0..9).all(|k| cells[r * 9 + k] != d && cells[k * 9 + c] != d)
                    && (0..9).all(|k| cells[(r / 3 * 3 + k / 3) * 9 + c / 3 * 3 + k % 3] != d)
            })
            .collect()
    };
    let best = (0..81).filter(|&i| cells[i] == 0).map(|i| (allowed(cells, i), i)).min_by_key(|(a, _)| a.len());
    let Some((digits, i)) = best else { return 1 };
    let mut found = 0;
    for d in digits {
        cells[i] = d;
        found += reference_count(cells, limit - found);
        cells[i] = 0;
        if found >= limit {
            break;
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The solver's count (0, 1 or "2 or more") agrees with the naive reference on puzzles made by
    /// blanking a random subset of a random full grid: unique ones, ambiguous ones, and with a random
    /// extra given (often contradictory) to exercise "no solution".
    #[test]
    fn solution_count_agrees_with_a_naive_reference(seed in any::<u64>(), blanks in 20usize..64, poke in any::<bool>()) {
        let mut rng = PuzzleRng::new(seed);
        let full = sudoku::generate(Band::Easy, &mut rng).unwrap().solution;
        let mut cells = *full.cells();
        for i in rng.permutation(81).into_iter().take(blanks) {
            cells[i] = 0;
        }
        if poke {
            let i = (0..81).find(|&i| cells[i] == 0).unwrap();
            cells[i] = (full.cells()[i] % 9) + 1; // a wrong digit, maybe without conflict among givens
        }
        let g = Grid::from_cells(&cells).unwrap();
        let want = if g.first_conflict().is_some() { 0 } else { reference_count(&mut cells.clone(), 2) };
        let got = sudoku::solve(&g, 2);
        prop_assert_eq!(got.solutions.len(), want);
        for s in &got.solutions {
            prop_assert!(obeys_rules(&s.to_line()) && s.solves(&g));
        }
    }
}
