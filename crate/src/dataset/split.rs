//! One split (`train/` or `test/`) of an official dataset folder, in memory, with the consistency checks
//! the official loader takes for granted.
//!
//! Layout (dataset/build_*_dataset.py): examples are rows of `inputs`/`labels` ([E, seq_len], uint8);
//! a puzzle is a run of examples, `puzzle_indices` ([P+1], int32) holds where each starts (0 first, E
//! last); `puzzle_identifiers` ([P], int32) tags each puzzle; a group is a run of puzzles (an original
//! and its augmentations), `group_indices` ([G+1], int32) holds where each starts (0 first, P last).

use super::metadata::Metadata;
use super::npy;
use super::DatasetError;

/// One set of a split (the official builders write one, named `all`).
#[derive(Clone, Debug, PartialEq)]
pub struct PuzzleSet {
    pub name: String,
    pub seq_len: usize,
    /// [examples * seq_len] tokens.
    pub inputs: Vec<u8>,
    pub labels: Vec<u8>,
    /// [puzzles]
    pub puzzle_identifiers: Vec<u32>,
    /// [puzzles + 1]
    pub puzzle_indices: Vec<usize>,
    /// [groups + 1]
    pub group_indices: Vec<usize>,
}

impl PuzzleSet {
    pub fn examples(&self) -> usize {
        self.inputs.len() / self.seq_len.max(1)
    }
    pub fn puzzles(&self) -> usize {
        self.puzzle_identifiers.len()
    }
    pub fn groups(&self) -> usize {
        self.group_indices.len().saturating_sub(1)
    }
    /// Input and label tokens of example `i`.
    pub fn example(&self, i: usize) -> (&[u8], &[u8]) {
        let r = i * self.seq_len..(i + 1) * self.seq_len;
        (&self.inputs[r.clone()], &self.labels[r])
    }

    /// The file name of one of this set's arrays, relative to the dataset folder.
    pub fn file(&self, split: &str, field: &str) -> String {
        format!("{split}/{}__{field}.npy", self.name)
    }

    /// Everything the loader relies on, each failure naming the file at fault.
    pub fn validate(&self, split: &str, meta: &Metadata) -> Result<(), DatasetError> {
        let f = |field: &str| self.file(split, field);
        if self.seq_len != meta.seq_len {
            return Err(DatasetError::new(&f("inputs"), format!("rows of {} tokens, dataset.json says seq_len {}", self.seq_len, meta.seq_len)));
        }
        if !self.inputs.len().is_multiple_of(self.seq_len.max(1)) || self.labels.len() != self.inputs.len() {
            return Err(DatasetError::new(&f("labels"), format!("{} label tokens for {} input tokens", self.labels.len(), self.inputs.len())));
        }
        for (field, data) in [("inputs", &self.inputs), ("labels", &self.labels)] {
            if let Some(pos) = data.iter().position(|&t| t as usize >= meta.vocab_size) {
                return Err(DatasetError::new(
                    &f(field),
                    format!("token {} at example {}, position {} is not below vocab_size {}", data[pos], pos / self.seq_len, pos % self.seq_len, meta.vocab_size),
                ));
            }
        }
        check_offsets(&self.puzzle_indices, self.examples(), "examples", &f("puzzle_indices"))?;
        if self.puzzle_identifiers.len() + 1 != self.puzzle_indices.len() {
            return Err(DatasetError::new(
                &f("puzzle_identifiers"),
                format!("{} identifiers for {} puzzles", self.puzzle_identifiers.len(), self.puzzle_indices.len() - 1),
            ));
        }
        if let Some(pos) = self.puzzle_identifiers.iter().position(|&id| id as usize >= meta.num_puzzle_identifiers) {
            return Err(DatasetError::new(
                &f("puzzle_identifiers"),
                format!("identifier {} of puzzle {pos} is not below num_puzzle_identifiers {}", self.puzzle_identifiers[pos], meta.num_puzzle_identifiers),
            ));
        }
        check_offsets(&self.group_indices, self.puzzles(), "puzzles", &f("group_indices"))
    }
}

/// Offsets must start at 0, strictly increase (no empty puzzle or group) and end at `total`.
fn check_offsets(offsets: &[usize], total: usize, what: &str, file: &str) -> Result<(), DatasetError> {
    let err = |p: String| Err(DatasetError::new(file, p));
    match (offsets.first(), offsets.last()) {
        (Some(0), Some(&last)) if last == total => {}
        (None, _) => return err("empty; expected at least [0]".into()),
        (Some(&first), Some(&last)) => return err(format!("runs from {first} to {last}; expected 0 to {total} ({what})")),
        _ => unreachable!(),
    }
    if let Some(w) = offsets.windows(2).position(|w| w[1] <= w[0]) {
        return err(format!("entry {} ({}) is not above entry {} ({})", w + 1, offsets[w + 1], w, offsets[w]));
    }
    Ok(())
}

/// A split: its metadata and its sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub name: String,
    pub metadata: Metadata,
    pub sets: Vec<PuzzleSet>,
}

impl Split {
    /// A split as the official builders write it: one set `all`, official ids and metadata.
    pub fn official(name: &str, vocab_size: usize, set: PuzzleSet) -> Split {
        let metadata = Metadata::official(vocab_size, set.seq_len, set.groups());
        Split { name: name.into(), metadata, sets: vec![set] }
    }

    /// Read a split from its files: `read(path)` returns the bytes of `"{split}/dataset.json"`,
    /// `"{split}/all__inputs.npy"` and so on. Checks everything `validate` checks.
    pub fn read(name: &str, mut read: impl FnMut(&str) -> Result<Vec<u8>, DatasetError>) -> Result<Split, DatasetError> {
        let meta_file = format!("{name}/dataset.json");
        let bytes = read(&meta_file)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| DatasetError::new(&meta_file, "not UTF-8".into()))?;
        let metadata = Metadata::from_json(text).map_err(|e| DatasetError::new(&meta_file, e.to_string()))?;
        let mut sets = Vec::new();
        for set in &metadata.sets {
            let path = |field: &str| format!("{name}/{set}__{field}.npy");
            let tokens = |field: &str, read: &mut dyn FnMut(&str) -> Result<Vec<u8>, DatasetError>| -> Result<npy::Array<u8>, DatasetError> {
                let p = path(field);
                let a = npy::read_tokens(&read(&p)?, &p)?;
                if a.shape.len() != 2 || a.shape[1] != metadata.seq_len {
                    return Err(DatasetError::new(&p, format!("shape {:?}; expected [examples, {}] (seq_len)", a.shape, metadata.seq_len)));
                }
                Ok(a)
            };
            let indices = |field: &str, read: &mut dyn FnMut(&str) -> Result<Vec<u8>, DatasetError>| -> Result<Vec<usize>, DatasetError> {
                let p = path(field);
                let a = npy::read_indices(&read(&p)?, &p)?;
                if a.shape.len() != 1 {
                    return Err(DatasetError::new(&p, format!("shape {:?}; expected one dimension", a.shape)));
                }
                a.data
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| usize::try_from(v).map_err(|_| DatasetError::new(&p, format!("entry {i} is negative ({v})"))))
                    .collect()
            };
            let inputs = tokens("inputs", &mut read)?;
            let labels = tokens("labels", &mut read)?;
            if labels.shape != inputs.shape {
                return Err(DatasetError::new(&path("labels"), format!("shape {:?} differs from inputs {:?}", labels.shape, inputs.shape)));
            }
            let ids = indices("puzzle_identifiers", &mut read)?;
            let puzzle_identifiers = ids
                .iter()
                .map(|&v| u32::try_from(v).map_err(|_| DatasetError::new(&path("puzzle_identifiers"), format!("identifier {v} too large"))))
                .collect::<Result<Vec<_>, _>>()?;
            sets.push(PuzzleSet {
                name: set.clone(),
                seq_len: metadata.seq_len,
                inputs: inputs.data,
                labels: labels.data,
                puzzle_identifiers,
                puzzle_indices: indices("puzzle_indices", &mut read)?,
                group_indices: indices("group_indices", &mut read)?,
            });
        }
        let split = Split { name: name.into(), metadata, sets };
        split.validate()?;
        Ok(split)
    }

    pub fn validate(&self) -> Result<(), DatasetError> {
        let meta_file = format!("{}/dataset.json", self.name);
        let names: Vec<&str> = self.sets.iter().map(|s| s.name.as_str()).collect();
        if names != self.metadata.sets.iter().map(|s| s.as_str()).collect::<Vec<_>>() {
            return Err(DatasetError::new(&meta_file, format!("lists sets {:?} but the data has {names:?}", self.metadata.sets)));
        }
        for set in &self.sets {
            set.validate(&self.name, &self.metadata)?;
        }
        let groups: usize = self.sets.iter().map(|s| s.groups()).sum();
        if groups != self.metadata.total_groups {
            return Err(DatasetError::new(&meta_file, format!("total_groups is {} but the group_indices hold {groups}", self.metadata.total_groups)));
        }
        Ok(())
    }

    /// The split's files (path relative to the dataset folder, bytes), in the official dtypes.
    pub fn to_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![(format!("{}/dataset.json", self.name), self.metadata.to_json().into_bytes())];
        let i32s = |v: &[usize]| v.iter().map(|&x| i32::try_from(x).expect("index fits int32")).collect::<Vec<i32>>();
        for set in &self.sets {
            let rows = [set.examples(), set.seq_len];
            files.push((set.file(&self.name, "inputs"), npy::write_u8(&rows, &set.inputs)));
            files.push((set.file(&self.name, "labels"), npy::write_u8(&rows, &set.labels)));
            let ids: Vec<i32> = set.puzzle_identifiers.iter().map(|&x| x as i32).collect();
            files.push((set.file(&self.name, "puzzle_identifiers"), npy::write_i32(&[ids.len()], &ids)));
            files.push((set.file(&self.name, "puzzle_indices"), npy::write_i32(&[set.puzzle_indices.len()], &i32s(&set.puzzle_indices))));
            files.push((set.file(&self.name, "group_indices"), npy::write_i32(&[set.group_indices.len()], &i32s(&set.group_indices))));
        }
        files
    }
}

/// Accumulates a set in the official layout: push puzzles (runs of examples), close groups.
#[derive(Clone, Debug)]
pub struct SetBuilder {
    set: PuzzleSet,
}

impl SetBuilder {
    pub fn new(name: &str, seq_len: usize) -> Self {
        SetBuilder {
            set: PuzzleSet {
                name: name.into(),
                seq_len,
                inputs: Vec::new(),
                labels: Vec::new(),
                puzzle_identifiers: Vec::new(),
                puzzle_indices: vec![0],
                group_indices: vec![0],
            },
        }
    }

    /// One puzzle of one example, identifier 0: how the Sudoku and maze builders push every example.
    pub fn push_example(&mut self, input: &[u8], label: &[u8]) {
        self.push_puzzle(&[(input, label)], 0);
    }

    /// One puzzle made of `examples` (input, label) pairs.
    pub fn push_puzzle(&mut self, examples: &[(&[u8], &[u8])], identifier: u32) {
        assert!(!examples.is_empty(), "a puzzle needs at least one example");
        for (input, label) in examples {
            assert_eq!(input.len(), self.set.seq_len, "input length is not seq_len");
            assert_eq!(label.len(), self.set.seq_len, "label length is not seq_len");
            self.set.inputs.extend_from_slice(input);
            self.set.labels.extend_from_slice(label);
        }
        self.set.puzzle_identifiers.push(identifier);
        self.set.puzzle_indices.push(self.set.examples());
    }

    /// Close the current group (its puzzles are an original and its augmentations). Ignored if empty.
    pub fn end_group(&mut self) {
        let puzzles = self.set.puzzles();
        if *self.set.group_indices.last().unwrap() != puzzles {
            self.set.group_indices.push(puzzles);
        }
    }

    pub fn finish(mut self) -> PuzzleSet {
        self.end_group();
        self.set
    }
}
