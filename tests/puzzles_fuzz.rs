//! Random bytes and mutated valid inputs into every parser, bounded in time: nothing may panic; bad
//! input must come back as an error value.
use hrm::dataset::build::{maze_pairs_from_csv, sudoku_pairs_from_csv};
use hrm::dataset::{csv, npy, CsvOptions, Dataset, DatasetError, Metadata};
use hrm::puzzles::maze::Maze;
use hrm::puzzles::metrics::{score, PuzzleKind};
use hrm::puzzles::sudoku::{parse_csv_row, Grid};
use hrm::puzzles::PuzzleRng;
use hrm_tests::fixtures;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Each parser gets this long (plus one iteration), so the file stays within seconds.
const BUDGET: Duration = Duration::from_millis(400);

fn random_bytes(rng: &mut PuzzleRng, max: usize) -> Vec<u8> {
    let n = rng.below(max + 1);
    (0..n).map(|_| rng.below(256) as u8).collect()
}

/// Text biased towards the characters the parsers care about.
fn random_text(rng: &mut PuzzleRng, max: usize) -> String {
    const ALPHABET: &[char] = &['#', ' ', 'S', 'G', 'o', '.', '0', '1', '5', '9', '_', '|', '-', '+', '\n', '\r', ',', '"', 'x', 'é', '\t'];
    let n = rng.below(max + 1);
    (0..n).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect()
}

fn mutate(rng: &mut PuzzleRng, valid: &[u8]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for _ in 0..rng.between(1, 4) {
        match rng.below(3) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.below(256) as u8;
            }
            1 if !b.is_empty() => {
                let cut = rng.below(b.len());
                b.truncate(cut);
            }
            _ => b.push(rng.below(256) as u8),
        }
    }
    b
}

fn for_a_while(mut f: impl FnMut(&mut PuzzleRng)) -> usize {
    let mut rng = PuzzleRng::new(0xF022);
    let t = Instant::now();
    let mut n = 0;
    while n == 0 || t.elapsed() < BUDGET {
        f(&mut rng);
        n += 1;
    }
    n
}

#[test]
fn sudoku_parsers_never_panic() {
    let valid = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";
    let n = for_a_while(|rng| {
        let text = match rng.below(3) {
            0 => random_text(rng, 200),
            1 => String::from_utf8_lossy(&mutate(rng, valid.as_bytes())).into_owned(),
            _ => String::from_utf8_lossy(&random_bytes(rng, 120)).into_owned(),
        };
        if let Ok(g) = Grid::parse(&text) {
            let _ = g.validate();
        }
        let _ = parse_csv_row(&text);
        let _ = Grid::from_tokens(&random_bytes(rng, 90));
        let _ = Grid::from_cells(&random_bytes(rng, 90));
        let _ = csv::read_records(&text, "f.csv");
        let opts = CsvOptions { min_rating: Some(1.0), subsample: Some(1) };
        let row = format!("h\n{text}\ns,{valid},{text},3\n");
        let _ = sudoku_pairs_from_csv(&row, "f.csv", &opts, rng);
        let _ = maze_pairs_from_csv(&row, "f.csv", &CsvOptions::default(), rng);
    });
    assert!(n > 10);
}

#[test]
fn maze_parsers_never_panic() {
    let valid = "#####\n#S  #\n# # #\n#  G#\n#####\n";
    let n = for_a_while(|rng| {
        let text = match rng.below(3) {
            0 => random_text(rng, 300),
            1 => String::from_utf8_lossy(&mutate(rng, valid.as_bytes())).into_owned(),
            _ => String::from_utf8_lossy(&random_bytes(rng, 120)).into_owned(),
        };
        if let Ok(m) = Maze::parse(&text) {
            let _ = hrm::puzzles::maze::shortest_path(&m);
        }
        let _ = Maze::parse_flat(&text);
        let tokens: Vec<u8> = (0..rng.below(40)).map(|_| rng.below(7) as u8).collect();
        let _ = Maze::from_tokens(&tokens);
    });
    assert!(n > 10);
}

#[test]
fn metrics_never_panic() {
    for_a_while(|rng| {
        let len = rng.below(100);
        let v = |rng: &mut PuzzleRng| (0..len + rng.below(2)).map(|_| rng.below(300) as i32 - 120).collect::<Vec<i32>>();
        let (i, l, p) = (v(rng), v(rng), v(rng));
        let _ = score(PuzzleKind::Sudoku, &i, &l, &p);
        let _ = score(PuzzleKind::Maze, &i, &l, &p);
    });
}

#[test]
fn npy_and_dataset_readers_never_panic() {
    let good: BTreeMap<String, Vec<u8>> = ["identifiers.json", "train/dataset.json", "train/all__inputs.npy", "train/all__labels.npy",
        "train/all__puzzle_identifiers.npy", "train/all__puzzle_indices.npy", "train/all__group_indices.npy"]
        .iter()
        .map(|p| (p.to_string(), std::fs::read(fixtures().join("dataset/tiny-sudoku").join(p)).unwrap()))
        .collect();
    let keys: Vec<String> = good.keys().cloned().collect();
    let n = for_a_while(|rng| {
        let sample = &good[&keys[rng.below(keys.len())]];
        let b = if rng.chance(0.8) { mutate(rng, sample) } else { random_bytes(rng, 300) };
        let _ = npy::read_tokens(&b, "x.npy");
        let _ = npy::read_indices(&b, "x.npy");
        let _ = Metadata::from_json(&String::from_utf8_lossy(&b));
        // A whole folder with one file damaged.
        let mut files = good.clone();
        let k = &keys[rng.below(keys.len())];
        files.insert(k.clone(), mutate(rng, &good[k]));
        let _ = Dataset::read(&["train"], |p| files.get(p).cloned().ok_or_else(|| DatasetError::new(p, "missing".into())));
    });
    assert!(n > 10);
}
