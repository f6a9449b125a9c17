//! The official dataset format: npy and folder round trips, the hand-checked fixtures, refusal of
//! inconsistent folders, the official CSVs, and sampling as the official loader does.
use hrm::dataset::build::{maze_pairs_from_csv, sudoku_pairs_from_csv};
use hrm::dataset::folder::{read_folder, write_folder};
use hrm::dataset::{maze_set, npy, sudoku_set, test_batches, CsvOptions, Dataset, ExampleStream, Split, StreamSource, TrainSampler};
use hrm::puzzles::maze::{Maze, MazeOptions};
use hrm::puzzles::metrics::sudoku_valid;
use hrm::puzzles::sudoku::{self, Band, Grid};
use hrm::puzzles::{PuzzleRng, IGNORE_LABEL_ID};
use hrm_tests::fixtures;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

const HARD: &str = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";
const HARD_SOLUTION: &str = "812753649943682175675491283154237896369845721287169534521974368438526917796318452";

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hrm-puzzles-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn read_files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for split in ["", "train/", "test/"] {
        for e in std::fs::read_dir(dir.join(split)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                m.insert(format!("{split}{}", e.file_name().to_string_lossy()), std::fs::read(e.path()).unwrap());
            }
        }
    }
    m
}

/// Read a folder held in memory, through the bytes API (what the page uses).
fn read_mem(files: &BTreeMap<String, Vec<u8>>) -> Result<Dataset, hrm::dataset::DatasetError> {
    Dataset::read(&["train", "test"], |p| files.get(p).cloned().ok_or_else(|| hrm::dataset::DatasetError::new(p, "missing".into())))
}

#[test]
fn hand_checked_sudoku_fixture_loads() {
    let d = read_folder(&fixtures().join("dataset/tiny-sudoku")).unwrap();
    assert_eq!(d.identifiers, vec!["<blank>"]);
    let train = d.split("train").unwrap();
    let m = &train.metadata;
    assert_eq!((m.vocab_size, m.seq_len, m.total_groups, m.pad_id, m.ignore_label_id), (11, 81, 1, 0, Some(0)));
    let set = &train.sets[0];
    assert_eq!((set.examples(), set.puzzles(), set.groups()), (2, 2, 1));
    assert_eq!(set.puzzle_indices, vec![0, 1, 2]);
    assert_eq!(set.group_indices, vec![0, 2]);
    // Tokens are digit + 1 with 1 for blanks, computed here from the strings, not by the library.
    let want: Vec<u8> = HARD.bytes().map(|b| if b == b'.' { 1 } else { b - b'0' + 1 }).collect();
    assert_eq!(set.example(0).0, &want[..]);
    let want: Vec<u8> = HARD_SOLUTION.bytes().map(|b| b - b'0' + 1).collect();
    assert_eq!(set.example(0).1, &want[..]);
    // Example 1 is an augmentation: still a puzzle with its solution.
    let (q, a) = set.example(1);
    assert!(sudoku_valid(q, a));
    assert_eq!(Grid::from_tokens(q).unwrap().validate().unwrap().0, Grid::from_tokens(a).unwrap());
    assert_eq!(d.split("test").unwrap().sets[0].examples(), 1);
}

#[test]
fn hand_checked_maze_fixture_loads() {
    let d = read_folder(&fixtures().join("dataset/tiny-maze")).unwrap();
    let set = &d.split("train").unwrap().sets[0];
    assert_eq!((set.seq_len, set.examples()), (25, 1));
    let label = Maze::from_tokens(set.example(0).1).unwrap();
    assert_eq!(label.to_text(), "#####\n#Soo#\n# #o#\n#  G#\n#####\n");
}

#[test]
fn our_files_are_byte_identical_to_the_fixture() {
    // Rebuild the tiny Sudoku folder with the library (the augmentation there is the transpose).
    let q = Grid::parse(HARD).unwrap();
    let a = Grid::parse(HARD_SOLUTION).unwrap();
    let t = sudoku::SudokuTransform { transpose: true, ..sudoku::SudokuTransform::IDENTITY };
    let mut b = hrm::dataset::SetBuilder::new("all", 81);
    b.push_example(&q.to_tokens(), &a.to_tokens());
    b.push_example(&t.apply(&q).to_tokens(), &t.apply(&a).to_tokens());
    let train = Split::official("train", 11, b.finish());
    let test = Split::official("test", 11, sudoku_set(&[(q, a)], 0, &mut PuzzleRng::new(0)));
    let ours = Dataset { identifiers: vec!["<blank>".into()], splits: vec![train, test] };
    let theirs = read_files(&fixtures().join("dataset/tiny-sudoku"));
    let ours: BTreeMap<String, Vec<u8>> = ours.to_files().into_iter().collect();
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
    for (k, v) in &theirs {
        assert_eq!(&ours[k], v, "{k} differs");
    }
}

#[test]
fn npy_round_trip() {
    let data: Vec<u8> = (0..=255).collect();
    let bytes = npy::write_u8(&[16, 16], &data);
    let back = npy::read_tokens(&bytes, "x.npy").unwrap();
    assert_eq!((back.shape, back.data), (vec![16, 16], data));
    let idx = vec![0, 5, -7, i32::MAX, i32::MIN];
    let back = npy::read_indices(&npy::write_i32(&[5], &idx), "i.npy").unwrap();
    assert_eq!(back.data, idx.iter().map(|&x| x as i64).collect::<Vec<_>>());
    // Wider ints read as tokens if they fit, else a precise error.
    let e = npy::read_tokens(&npy::write_i32(&[2], &[3, 256]), "w.npy").unwrap_err();
    assert_eq!(e.file, "w.npy");
    assert!(e.problem.contains("element 1 = 256"), "{e}");
}

#[test]
fn dataset_folder_round_trip() {
    let mut rng = PuzzleRng::new(1);
    let pairs: Vec<(Grid, Grid)> = (0..5).map(|_| {
        let g = sudoku::generate(Band::Easy, &mut rng).unwrap();
        (g.puzzle, g.solution)
    }).collect();
    let set = sudoku_set(&pairs, 3, &mut rng);
    assert_eq!((set.groups(), set.examples()), (5, 20));
    let d = Dataset {
        identifiers: vec!["<blank>".into()],
        splits: vec![Split::official("train", 11, set), Split::official("test", 11, sudoku_set(&pairs[..2], 0, &mut rng))],
    };
    let dir = temp_dir("roundtrip");
    write_folder(&dir, &d).unwrap();
    assert_eq!(read_folder(&dir).unwrap(), d);
    let _ = std::fs::remove_dir_all(&dir);

    let mazes: Vec<(Maze, Maze)> = (0..3).map(|_| {
        let g = hrm::puzzles::maze::generate(&MazeOptions::new(10, 10), &mut rng).unwrap();
        (g.puzzle, g.solution)
    }).collect();
    let set = maze_set(&mazes, true);
    assert_eq!((set.groups(), set.examples(), set.seq_len), (3, 24, 100));
    let d = Dataset { identifiers: vec!["<blank>".into()], splits: vec![Split::official("train", 6, set.clone()), Split::official("test", 6, maze_set(&mazes, false))] };
    let files: BTreeMap<String, Vec<u8>> = d.to_files().into_iter().collect();
    assert_eq!(read_mem(&files).unwrap(), d);
    // The 8 examples of a group are the official dihedral transforms, identity first.
    for tid in 0..8 {
        assert_eq!(set.example(tid as usize).0, &mazes[0].0.transformed(tid).to_tokens()[..]);
    }
}

#[test]
fn inconsistent_folders_are_refused_naming_the_file() {
    let good = read_files(&fixtures().join("dataset/tiny-sudoku"));
    type Files = BTreeMap<String, Vec<u8>>;
    let refuse = |edit: &dyn Fn(&mut Files), file: &str, says: &str| {
        let mut f = good.clone();
        edit(&mut f);
        let e = read_mem(&f).unwrap_err();
        assert_eq!(e.file, file, "{e}");
        assert!(e.problem.contains(says), "{e}");
    };
    refuse(&|f| { f.insert("train/all__group_indices.npy".into(), npy::write_i32(&[2], &[0, 3])); }, "train/all__group_indices.npy", "0 to 2");
    refuse(&|f| { f.insert("train/all__puzzle_indices.npy".into(), npy::write_i32(&[3], &[0, 2, 1])); }, "train/all__puzzle_indices.npy", "");
    refuse(&|f| { f.insert("train/all__puzzle_identifiers.npy".into(), npy::write_i32(&[2], &[0, 1])); }, "train/all__puzzle_identifiers.npy", "num_puzzle_identifiers");
    refuse(&|f| {
        let m = String::from_utf8(f["train/dataset.json"].clone()).unwrap().replace("\"seq_len\": 81", "\"seq_len\": 80");
        f.insert("train/dataset.json".into(), m.into_bytes());
    }, "train/all__inputs.npy", "seq_len");
    refuse(&|f| {
        let m = String::from_utf8(f["train/dataset.json"].clone()).unwrap().replace("\"total_groups\": 1", "\"total_groups\": 2");
        f.insert("train/dataset.json".into(), m.into_bytes());
    }, "train/dataset.json", "total_groups");
    refuse(&|f| {
        let m = String::from_utf8(f["train/dataset.json"].clone()).unwrap().replace("\"vocab_size\": 11", "\"vocab_size\": 10");
        f.insert("train/dataset.json".into(), m.into_bytes());
    }, "train/all__inputs.npy", "vocab_size");
    refuse(&|f| {
        // float64 where integers belong: patch the dtype string of the header ('<i4' -> '<f4').
        let mut b = f["test/all__puzzle_indices.npy"].clone();
        let at = b.windows(3).position(|w| w == b"<i4").unwrap();
        b[at + 1] = b'f';
        f.insert("test/all__puzzle_indices.npy".into(), b);
    }, "test/all__puzzle_indices.npy", "dtype <f4");
    refuse(&|f| { f.remove("test/all__labels.npy"); }, "test/all__labels.npy", "missing");
    refuse(&|f| {
        let b = f["train/all__inputs.npy"].clone();
        f.insert("train/all__inputs.npy".into(), b[..b.len() - 10].to_vec());
    }, "train/all__inputs.npy", "");
    refuse(&|f| { f.insert("train/all__labels.npy".into(), npy::write_u8(&[1, 81], &[2; 81])); }, "train/all__labels.npy", "differs from inputs");
}

#[test]
fn official_csvs_are_read() {
    let csv = format!("source,question,answer,rating\nabc,{HARD},{HARD_SOLUTION},42\n\"q,uoted\",{HARD},{HARD_SOLUTION},3\n");
    let mut rng = PuzzleRng::new(0);
    let pairs = sudoku_pairs_from_csv(&csv, "train.csv", &CsvOptions::default(), &mut rng).unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].1.to_line(), HARD_SOLUTION);
    let hard_only = sudoku_pairs_from_csv(&csv, "train.csv", &CsvOptions { min_rating: Some(10.0), subsample: None }, &mut rng).unwrap();
    assert_eq!(hard_only.len(), 1);
    let one = sudoku_pairs_from_csv(&csv, "train.csv", &CsvOptions { min_rating: None, subsample: Some(1) }, &mut rng).unwrap();
    assert_eq!(one.len(), 1);
    let bad = csv.replace(&format!(",{HARD_SOLUTION},3"), &format!(",{},3", HARD_SOLUTION.replace('8', "9")));
    let e = sudoku_pairs_from_csv(&bad, "train.csv", &CsvOptions::default(), &mut rng).unwrap_err();
    assert_eq!(e.file, "train.csv");
    assert!(e.problem.starts_with("line 3: answer"), "{e}");

    let q = "#####" .to_string() + "#S  #" + "# # #" + "#  G#" + "#####";
    let a = "#####" .to_string() + "#Soo#" + "# #o#" + "#  G#" + "#####";
    let csv = format!("source,question,answer,rating\nm1,{q},{a},0\n");
    let mazes = maze_pairs_from_csv(&csv, "test.csv", &CsvOptions::default(), &mut rng).unwrap();
    assert_eq!(mazes[0].1.to_text(), "#####\n#Soo#\n# #o#\n#  G#\n#####\n");
    let e = maze_pairs_from_csv(&csv.replace("#S  #", "#S  x"), "test.csv", &CsvOptions::default(), &mut rng).unwrap_err();
    assert!(e.problem.contains("line 2: question") && e.problem.contains("'x'"), "{e}");
}

fn sampler_split() -> Split {
    // 10 groups of 1..=3 puzzles (sizes vary so group choice matters), one example each.
    let mut b = hrm::dataset::SetBuilder::new("all", 4);
    let mut example = 0u8;
    for g in 0..10u8 {
        for _ in 0..(g % 3 + 1) {
            example += 1;
            b.push_example(&[g + 1, example, 2, 3], &[0, example, g + 1, 5]);
        }
        b.end_group();
    }
    Split::official("train", 64, b.finish())
}

#[test]
fn training_batches_are_full_and_take_each_group_once_per_epoch() {
    let split = sampler_split();
    let mut s = TrainSampler::new(3, 4, 2);
    let batches = s.next_iteration(&split);
    // 2 epochs x 10 groups = 20 draws, batch 4: 5 full batches, nothing dropped.
    assert_eq!(batches.len(), 5);
    let mut seen_groups = Vec::new();
    for (name, b) in &batches {
        assert_eq!(*name, "all");
        assert_eq!((b.batch_size, b.effective, b.inputs.len()), (4, 4, 16));
        for r in 0..4 {
            seen_groups.push(b.input_row(r)[0]);
            // label 0 (= ignore_label_id) became -100.
            assert_eq!(b.label_row(r)[0], IGNORE_LABEL_ID);
            assert_eq!(b.label_row(r)[2], b.input_row(r)[0]);
        }
    }
    let mut first: Vec<i32> = seen_groups[..10].to_vec();
    first.sort();
    assert_eq!(first, (1..=10).collect::<Vec<_>>(), "each group once in the first epoch");
    // Reproducible per iteration, different across iterations.
    let again = TrainSampler::new(3, 4, 2).next_iteration(&split);
    assert_eq!(again, batches);
    assert_ne!(s.next_iteration(&split), batches);
    assert_eq!(s.iterations(), 2);
    // Batch 3 of 10 groups: 3 full batches, the incomplete last one dropped as the official loader does.
    assert_eq!(TrainSampler::new(0, 3, 1).next_iteration(&split).len(), 3);
    // Over many iterations every puzzle of a group gets drawn.
    let mut s = TrainSampler::new(9, 5, 1);
    let mut examples = HashSet::new();
    for _ in 0..50 {
        for (_, b) in s.next_iteration(&split) {
            for r in 0..5 {
                examples.insert(b.input_row(r)[1]);
            }
        }
    }
    assert_eq!(examples.len(), 19);
}

#[test]
fn test_batches_cover_everything_in_order_and_pad() {
    let split = sampler_split();
    let batches: Vec<_> = test_batches(&split, 8).collect();
    assert_eq!(batches.len(), 3); // 19 examples
    let last = &batches[2].1;
    assert_eq!(last.effective, 3);
    for r in 3..8 {
        assert!(last.input_row(r).iter().all(|&t| t == 0), "pad rows hold pad_id");
        assert!(last.label_row(r).iter().all(|&t| t == IGNORE_LABEL_ID));
        assert_eq!(last.puzzle_identifiers[r], 0);
    }
    let order: Vec<i32> = batches.iter().flat_map(|(_, b)| (0..b.effective).map(|r| b.input_row(r)[1]).collect::<Vec<_>>()).collect();
    assert_eq!(order, (1..=19).collect::<Vec<_>>());
}

#[test]
fn generated_stream_batches() {
    let mut s = ExampleStream::new(StreamSource::Sudoku { band: Band::Easy, augment: true }, 4);
    let b = s.next_batch(3).unwrap();
    assert_eq!((b.batch_size, b.effective, b.seq_len), (3, 3, 81));
    for r in 0..3 {
        let q: Vec<u8> = b.input_row(r).iter().map(|&t| t as u8).collect();
        let a: Vec<u8> = b.label_row(r).iter().map(|&t| t as u8).collect();
        assert!(sudoku_valid(&q, &a));
        assert_eq!(sudoku::solve(&Grid::from_tokens(&q).unwrap(), 2).solutions.len(), 1);
    }
    let mut again = ExampleStream::new(StreamSource::Sudoku { band: Band::Easy, augment: true }, 4);
    assert_eq!(again.next_batch(3).unwrap(), b);
    let mut m = ExampleStream::new(StreamSource::Maze { options: MazeOptions::new(8, 8), sides: (8, 8), augment: true }, 1);
    let b = m.next_batch(2).unwrap();
    assert_eq!(b.seq_len, 64);
    let q: Vec<u8> = b.input_row(0).iter().map(|&t| t as u8).collect();
    let a: Vec<u8> = b.label_row(0).iter().map(|&t| t as u8).collect();
    assert!(hrm::puzzles::metrics::maze_valid(&q, &a));
}

/// Mixed maze sides: every example is a solvable maze of a side in the range, walled into the model's
/// grid at the top-left (without augmentation), and the sides really vary.
#[test]
fn maze_stream_walls_smaller_sides_into_the_grid() {
    let source = StreamSource::Maze { options: MazeOptions::new(12, 12), sides: (5, 9), augment: false };
    let mut m = ExampleStream::new(source, 3);
    let mut extents = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let (q, a) = m.next_example().unwrap();
        assert_eq!(q.len(), 144);
        assert!(hrm::puzzles::metrics::maze_valid(&q, &a), "the label is a shortest path of the puzzle");
        let wall = hrm::puzzles::maze::Tile::Wall.token();
        // Rows and columns holding anything but wall: the inner maze's extent.
        let used: Vec<usize> = (0..144).filter(|&i| q[i] != wall).collect();
        let extent = used.iter().map(|&i| (i / 12).max(i % 12) + 1).max().unwrap();
        assert!(extent <= 9, "a maze of side <= 9 reaches row/column {extent}");
        extents.insert(extent);
    }
    assert!(extents.len() >= 3, "sides do not vary: extents {extents:?}");
    let bad = StreamSource::Maze { options: MazeOptions::new(12, 12), sides: (5, 13), augment: false };
    let err = ExampleStream::new(bad, 3).next_example().unwrap_err().to_string();
    assert!(err.contains("5..=13") && err.contains("12"), "{err}");
}
