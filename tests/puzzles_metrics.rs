//! Cell, exact and valid-solution accuracy on official tokens.
use hrm::puzzles::maze::{self, Maze};
use hrm::puzzles::metrics::{score, Accuracy, PuzzleKind};
use hrm::puzzles::sudoku::{self, Grid};
use hrm::puzzles::IGNORE_LABEL_ID;

const HARD: &str = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";
const HARD_SOLUTION: &str = "812753649943682175675491283154237896369845721287169534521974368438526917796318452";

fn labels_of(tokens: &[u8]) -> Vec<i32> {
    tokens.iter().map(|&t| t as i32).collect()
}

#[test]
fn sudoku_exact_cell_and_valid() {
    let q = Grid::parse(HARD).unwrap().to_tokens();
    let a = Grid::parse(HARD_SOLUTION).unwrap().to_tokens();
    let s = score(PuzzleKind::Sudoku, &q, &labels_of(&a), &a);
    assert_eq!((s.labelled, s.correct, s.exact, s.valid), (81, 81, true, true));
    // Swap two cells of the answer: 79/81 right, not exact, breaks the rules.
    let mut wrong = a;
    wrong.swap(1, 2);
    let s = score(PuzzleKind::Sudoku, &q, &labels_of(&a), &wrong);
    assert_eq!((s.correct, s.exact, s.valid), (79, false, false));
    // Predicting the puzzle itself (blanks) is never valid.
    assert!(!score(PuzzleKind::Sudoku, &q, &labels_of(&a), &q).valid);
}

#[test]
fn sudoku_valid_but_not_exact_when_the_puzzle_is_not_unique() {
    let mut puzzle = Grid::parse(HARD_SOLUTION).unwrap();
    let (first, second) = loop_until_two(&mut puzzle);
    let q = puzzle.to_tokens();
    let s = score(PuzzleKind::Sudoku, &q, &labels_of(&first.to_tokens()), &second.to_tokens());
    assert!(!s.exact && s.valid, "another right answer counts as valid");
}

/// Blank cells of `g` one at a time (in index order) until it has two solutions.
fn loop_until_two(g: &mut Grid) -> (Grid, Grid) {
    for i in 0..81 {
        let mut c = *g.cells();
        c[i] = 0;
        *g = Grid::from_cells(&c).unwrap();
        let r = sudoku::solve(g, 2);
        if r.solutions.len() == 2 {
            return (r.solutions[0], r.solutions[1]);
        }
    }
    unreachable!("an empty grid has many solutions")
}

#[test]
fn maze_valid_accepts_another_shortest_path_and_rejects_longer_ones() {
    let q = Maze::parse("#####\n#S  #\n# # #\n#  G#\n#####\n").unwrap();
    let label = Maze::parse("#####\n#Soo#\n# #o#\n#  G#\n#####\n").unwrap();
    let other = Maze::parse("#####\n#S  #\n#o# #\n#ooG#\n#####\n").unwrap();
    let both = Maze::parse("#####\n#Soo#\n#o#o#\n#ooG#\n#####\n").unwrap();
    let (qt, lt) = (q.to_tokens(), labels_of(&label.to_tokens()));
    let exact = score(PuzzleKind::Maze, &qt, &lt, &label.to_tokens());
    assert!(exact.exact && exact.valid);
    let alt = score(PuzzleKind::Maze, &qt, &lt, &other.to_tokens());
    assert!(!alt.exact && alt.valid);
    assert_eq!(alt.correct, 25 - 6, "three o cells moved");
    assert!(!score(PuzzleKind::Maze, &qt, &lt, &both.to_tokens()).valid, "extra path cells");
    assert!(!score(PuzzleKind::Maze, &qt, &lt, &qt).valid, "no path");
    // A path through a wall is not valid even if short.
    let mut through_wall = q.to_tokens();
    through_wall[12] = 5; // the pillar
    through_wall[7] = 5;
    assert!(!score(PuzzleKind::Maze, &qt, &lt, &through_wall).valid);
    // A longer path around is not a shortest path.
    let big = Maze::parse("######\n#S   #\n# ## #\n#    #\n#   G#\n######\n").unwrap();
    let r = maze::shortest_path(&big).unwrap();
    let long = Maze::parse("######\n#Sooo#\n# ##o#\n#oooo#\n#oooG#\n######\n").unwrap();
    assert!(maze::shortest_path(&big).is_ok() && r.length == 6);
    let s = score(PuzzleKind::Maze, &big.to_tokens(), &labels_of(&big.with_path(&r.path).to_tokens()), &long.to_tokens());
    assert!(!s.valid);
}

#[test]
fn ignored_labels_and_padding_rows() {
    let q = Grid::parse(HARD).unwrap().to_tokens();
    let a = Grid::parse(HARD_SOLUTION).unwrap().to_tokens();
    let mut labels = labels_of(&a);
    labels[..40].fill(IGNORE_LABEL_ID);
    let mut pred = a;
    pred[0] = 1; // wrong, but its label is ignored
    pred[50] = 1; // wrong and scored
    let s = score(PuzzleKind::Sudoku, &q, &labels, &pred);
    assert_eq!((s.labelled, s.correct, s.exact), (41, 40, false));

    let mut acc = Accuracy::default();
    acc.add(&s);
    acc.add(&score(PuzzleKind::Sudoku, &q, &labels_of(&a), &a));
    let pad = vec![IGNORE_LABEL_ID; 81];
    acc.add(&score(PuzzleKind::Sudoku, &[0u8; 81], &pad, &[0u8; 81]));
    assert_eq!(acc.count, 2, "padding rows are not counted");
    assert!((acc.cell_accuracy() - (40.0 / 41.0 + 1.0) / 2.0).abs() < 1e-12);
    assert_eq!(acc.exact_accuracy(), 0.5);
    assert_eq!(acc.valid_accuracy(), 0.5);
    // Mismatched lengths and garbage tokens score as wrong, never panic.
    let s = score(PuzzleKind::Maze, &[1i32, 2, 3], &[1i32, 2], &[300i32, -5, 7]);
    assert!(!s.valid && !s.exact);
}
