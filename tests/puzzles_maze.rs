//! Mazes: the text format and its errors, BFS with the number of shortest paths, the generator, the
//! dihedral augmentation and the official tokens.
use hrm::puzzles::dihedral::DIHEDRAL_INVERSE;
use hrm::puzzles::maze::{self, Maze, MazeError, MazeOptions, Tile};
use hrm::puzzles::metrics::maze_valid;
use hrm::puzzles::PuzzleRng;
use proptest::prelude::*;

const SMALL: &str = "\
#####
#S  #
# # #
#  G#
#####
";

#[test]
fn parse_and_format_round_trip() {
    let m = Maze::parse(SMALL).unwrap();
    assert_eq!(m.size(), 5);
    assert_eq!(m.to_text(), SMALL);
    assert_eq!(Maze::parse(&SMALL.replace('\n', "\r\n")).unwrap(), m);
    assert_eq!(Maze::parse(SMALL.trim_end()).unwrap(), m);
    assert_eq!(Maze::parse_flat(&m.to_flat()).unwrap(), m);
    assert_eq!(Maze::parse(&m.to_flat()).unwrap(), m, "one line of N*N cells is the CSV form");
    assert_eq!(Maze::from_tokens(&m.to_tokens()).unwrap(), m);
    assert_eq!((m.start(), m.goal()), (6, 18));
}

#[test]
fn tokens_are_the_official_ones() {
    let chars: Vec<char> = maze::CHARSET.chars().collect();
    assert_eq!(chars, vec!['#', ' ', 'S', 'G', 'o']);
    for (i, &c) in chars.iter().enumerate() {
        let t = Tile::from_char(c).unwrap();
        assert_eq!(t.token() as usize, i + 1);
        assert_eq!(t.to_char(), c);
        assert_eq!(Tile::from_token(t.token()), Some(t));
    }
    assert_eq!(Tile::from_token(0), None);
    assert_eq!(maze::VOCAB_SIZE, 6);
}

#[test]
fn errors_say_what_and_where() {
    assert_eq!(Maze::parse("#####\n#S  #\n# #\n#  G#\n#####\n"), Err(MazeError::RaggedRow { row: 3, len: 3, expected: 5 }));
    assert_eq!(Maze::parse("#####\n#S  #\n# x #\n#  G#\n#####\n"), Err(MazeError::BadCharacter { ch: 'x', row: 3, col: 3 }));
    assert_eq!(Maze::parse("#####\n#   #\n# # #\n#  G#\n#####\n"), Err(MazeError::NoStart));
    assert_eq!(Maze::parse("#####\n#S  #\n# # #\n#   #\n#####\n"), Err(MazeError::NoGoal));
    assert_eq!(
        Maze::parse("#####\n#S  #\n# # #\n#G G#\n#####\n"),
        Err(MazeError::SeveralGoals { first: (3, 1), second: (3, 3) })
    );
    assert!(matches!(Maze::parse("#####\n#SS #\n# # #\n#  G#\n#####\n"), Err(MazeError::SeveralStarts { .. })));
    assert_eq!(Maze::parse("#####\n#S  #\n#  G#\n"), Err(MazeError::NotSquare { rows: 3, cols: 5 }));
    assert_eq!(Maze::parse("###\n#SG\n###\n"), Err(MazeError::SizeOutOfRange { n: 3 }));
    assert_eq!(Maze::parse(""), Err(MazeError::Empty));
    let walled = Maze::parse("#####\n#S# #\n### #\n#  G#\n#####\n").unwrap();
    assert_eq!(maze::shortest_path(&walled), Err(MazeError::Unreachable));
    let e = MazeError::BadCharacter { ch: 'x', row: 3, col: 3 }.to_string();
    assert!(e.contains("row 3") && e.contains("column 3"), "{e}");
}

#[test]
fn bfs_length_and_path_count() {
    // Two routes of 4 moves around the central pillar.
    let r = maze::shortest_path(&Maze::parse(SMALL).unwrap()).unwrap();
    assert_eq!((r.length, r.shortest_paths, r.path.len()), (4, 2, 5));
    assert!(!r.is_unique());
    // An open 6x6 room, S and G at opposite corners of the inner 4x4: C(6,3) = 20 monotone paths.
    let room = "######\n#S   #\n#    #\n#    #\n#   G#\n######\n";
    let r = maze::shortest_path(&Maze::parse(room).unwrap()).unwrap();
    assert_eq!((r.length, r.shortest_paths), (6, 20));
    // A corridor: one path.
    let corridor = "#####\n#S  #\n### #\n#G  #\n#####\n";
    let r = maze::shortest_path(&Maze::parse(corridor).unwrap()).unwrap();
    assert_eq!((r.length, r.shortest_paths), (6, 1));
    // Consecutive path cells are neighbours, and the path is marked with `o` between S and G.
    let m = Maze::parse(corridor).unwrap();
    for w in r.path.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(a.abs_diff(b) == 1 || a.abs_diff(b) == 5);
    }
    assert_eq!(m.with_path(&r.path).to_text(), "#####\n#Soo#\n###o#\n#Goo#\n#####\n");
}

#[test]
fn generator_meets_the_minimum_path_and_is_reproducible() {
    let opts = MazeOptions::HARD_30;
    let mut rng = PuzzleRng::new(11);
    for _ in 0..5 {
        let g = maze::generate(&opts, &mut rng).unwrap();
        assert_eq!(g.puzzle.size(), 30);
        assert!(g.report.length >= 111, "shortest path {}", g.report.length);
        assert_eq!(maze::shortest_path(&g.puzzle).unwrap(), g.report);
        assert_eq!(g.solution.without_path(), g.puzzle);
        assert!(maze_valid(&g.puzzle.to_tokens(), &g.solution.to_tokens()));
    }
    let unique = MazeOptions { size: 12, min_path: 20, unique_path: true, ..opts };
    for _ in 0..5 {
        assert!(maze::generate(&unique, &mut rng).unwrap().report.is_unique());
    }
    let a = maze::generate(&opts, &mut PuzzleRng::new(1)).unwrap();
    let b = maze::generate(&opts, &mut PuzzleRng::new(1)).unwrap();
    assert_eq!(a, b);
    assert!(matches!(
        maze::generate(&MazeOptions::new(4, 100), &mut rng),
        Err(maze::GenerateError::GaveUp { .. })
    ));
    assert_eq!(maze::generate(&MazeOptions::new(31, 10), &mut rng), Err(maze::GenerateError::BadSize(31)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every dihedral transform keeps the maze solvable with the same shortest length and count, maps
    /// the solution to a valid solution, and is undone by its official inverse.
    #[test]
    fn dihedral_transforms_map_solutions_to_solutions(seed in any::<u64>(), tid in 0u8..8, size in 4usize..=16) {
        let g = maze::generate(&MazeOptions::new(size, size), &mut PuzzleRng::new(seed)).unwrap();
        let (q, a) = (g.puzzle.transformed(tid), g.solution.transformed(tid));
        let r = maze::shortest_path(&q).unwrap();
        prop_assert_eq!(r.length, g.report.length);
        prop_assert_eq!(r.shortest_paths, g.report.shortest_paths);
        prop_assert!(maze_valid(&q.to_tokens(), &a.to_tokens()));
        prop_assert_eq!(a.without_path(), q.clone());
        let inv = DIHEDRAL_INVERSE[tid as usize];
        prop_assert_eq!(q.transformed(inv), g.puzzle);
        prop_assert_eq!(a.transformed(inv), g.solution);
    }

    #[test]
    fn text_round_trip(seed in any::<u64>(), size in 4usize..=30) {
        let g = maze::generate(&MazeOptions::new(size, 1), &mut PuzzleRng::new(seed)).unwrap();
        prop_assert_eq!(Maze::parse(&g.solution.to_text()).unwrap(), g.solution.clone());
        prop_assert_eq!(Maze::parse_flat(&g.solution.to_flat()).unwrap(), g.solution);
    }
}
