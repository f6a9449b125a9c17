//! Where `hrm train` and `hrm eval` get their examples: the built-in synthetic task, Sudokus or mazes
//! generated on the fly, or a dataset folder in the official format.
//!
//! Generated training data is seeded per step (`seed`, step) rather than drawn from one long stream,
//! so a resumed run regenerates exactly the batch it would have had, with no generator state to save;
//! and only the rows that take a new example this step (the halted ones) are generated, since the
//! others keep the example in their ACT carry. Held-out sets use a separate seed, so they never
//! overlap the training stream except by chance (≈ 0 for generated puzzles).

use std::path::PathBuf;

use anyhow::{bail, Context};
use hrm::dataset::{self, Dataset, ExampleStream, Metadata, StreamSource, TrainSampler};
use hrm::model::Batch;
use hrm::puzzles::maze::MazeOptions;
use hrm::puzzles::metrics::PuzzleKind;
use hrm::puzzles::sudoku::Band;
use hrm::synthetic::{eval_set, SplitMix64, SyntheticConfig, SyntheticStream};
use serde::{Deserialize, Serialize};

/// A data source, as stored in a run's `train_state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceSpec {
    Synthetic { task: SyntheticConfig },
    Sudoku { band: String, augment: bool },
    /// `sides`: maze sides drawn from lo..=hi, each walled into `size` (absent: all of side `size`).
    Maze {
        size: usize,
        min_path: usize,
        loops: f64,
        augment: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sides: Option<(usize, usize)>,
    },
    Folder { path: PathBuf },
}

/// Salt that separates held-out seeds from training seeds.
const HELD_OUT: u64 = 0x5eed_0f_7e57;

pub fn parse_band(name: &str) -> anyhow::Result<Band> {
    Band::ALL.into_iter().find(|b| b.name() == name).with_context(|| format!("`{name}` is not a Sudoku band (easy, medium, hard, extreme)"))
}

/// The generator of a generated source.
fn stream_source(spec: &SourceSpec) -> anyhow::Result<Option<StreamSource>> {
    Ok(match spec {
        SourceSpec::Sudoku { band, augment } => Some(StreamSource::Sudoku { band: parse_band(band)?, augment: *augment }),
        SourceSpec::Maze { size, min_path, loops, augment, sides } => {
            let options = MazeOptions { size: *size, min_path: *min_path, loop_fraction: *loops, unique_path: false };
            Some(StreamSource::Maze { options, sides: sides.unwrap_or((*size, *size)), augment: *augment })
        }
        _ => None,
    })
}

/// A default minimum path for an N×N maze: half of Maze-Hard's 111 moves on 30×30, scaled by area.
pub fn default_min_path(size: usize) -> usize {
    (111 * size * size / 900).max(size / 2).max(1)
}

/// An opened source, ready to give batches.
pub struct Source {
    pub spec: SourceSpec,
    meta: Metadata,
    dataset: Option<Dataset>,
    synthetic: Option<SyntheticStream>,
    /// Folder sources: the sampler and the batches of the iteration in progress.
    sampler: Option<TrainSampler>,
    pending: Vec<Batch>,
    next_in_iteration: usize,
}

/// The caller's data position, stored in the run state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Synthetic: the stream's generator state.
    #[serde(default)]
    pub rng: u64,
    /// Folder: iterations started and the batch index inside the current one.
    #[serde(default)]
    pub iterations: u64,
    #[serde(default)]
    pub in_iteration: usize,
}

impl Source {
    pub fn open(spec: SourceSpec, seed: u64) -> anyhow::Result<Source> {
        let (meta, dataset, synthetic) = match &spec {
            SourceSpec::Synthetic { task } => {
                let meta = Metadata::official(task.vocab_size(), task.seq_len, 0);
                (meta, None, Some(SyntheticStream::new(*task, seed.wrapping_add(1))?))
            }
            SourceSpec::Folder { path } => {
                let ds = dataset::folder::read_folder(path).with_context(|| format!("reading the dataset folder {}", path.display()))?;
                let train = ds.split("train").with_context(|| format!("{}: no train split", path.display()))?;
                (train.metadata.clone(), Some(ds), None)
            }
            gen => {
                let mut probe = ExampleStream::new(stream_source(gen)?.expect("a generated source"), 0);
                probe.next_example().context("the generator cannot make these puzzles")?;
                (probe.metadata(), None, None)
            }
        };
        Ok(Source { spec, meta, dataset, synthetic, sampler: None, pending: Vec::new(), next_in_iteration: 0 })
    }

    pub fn seq_len(&self) -> usize {
        self.meta.seq_len
    }
    pub fn vocab_size(&self) -> usize {
        self.meta.vocab_size
    }
    pub fn num_puzzle_identifiers(&self) -> usize {
        self.meta.num_puzzle_identifiers
    }
    /// The puzzle the tokens encode (None for the synthetic task), for the puzzle metrics.
    pub fn kind(&self) -> Option<PuzzleKind> {
        match &self.spec {
            SourceSpec::Sudoku { .. } => Some(PuzzleKind::Sudoku),
            SourceSpec::Maze { .. } => Some(PuzzleKind::Maze),
            SourceSpec::Synthetic { .. } => None,
            // The official builders' sizes: 81 = Sudoku (vocab 11), N*N = maze (vocab 6).
            SourceSpec::Folder { .. } => match (self.meta.seq_len, self.meta.vocab_size) {
                (81, 11) => Some(PuzzleKind::Sudoku),
                (_, 6) => Some(PuzzleKind::Maze),
                _ => None,
            },
        }
    }

    pub fn position(&self) -> Position {
        Position {
            rng: self.synthetic.as_ref().map(|s| s.rng_state()).unwrap_or(0),
            iterations: self.sampler.as_ref().map(|s| s.iterations()).unwrap_or(0),
            in_iteration: self.next_in_iteration,
        }
    }

    /// Continues from a saved [`Position`] (`seed` as when the run started).
    pub fn restore(&mut self, pos: Position, seed: u64, batch: usize) -> anyhow::Result<()> {
        if let Some(s) = &mut self.synthetic {
            s.set_rng_state(pos.rng);
        }
        if self.dataset.is_some() && pos.iterations > 0 {
            let mut sampler = TrainSampler::new(seed, batch, 1);
            sampler.set_iterations(pos.iterations - 1);
            self.sampler = Some(sampler);
            self.refill()?;
            if pos.in_iteration > self.pending.len() {
                bail!("the saved data position (batch {} of iteration {}) is past the iteration's {} batches", pos.in_iteration, pos.iterations, self.pending.len());
            }
            self.next_in_iteration = pos.in_iteration;
        }
        Ok(())
    }

    fn refill(&mut self) -> anyhow::Result<()> {
        let ds = self.dataset.as_ref().expect("a folder source");
        let train = ds.split("train").expect("checked at open");
        let sampler = self.sampler.as_mut().expect("sampler");
        self.pending = sampler.next_iteration(train).into_iter().map(|(_, b)| b.into()).collect();
        self.next_in_iteration = 0;
        if self.pending.is_empty() {
            bail!("the train split has fewer examples than one batch of {}", sampler.batch_size);
        }
        Ok(())
    }

    /// The batch for optimizer step `step` (1-based). `needed[r]` says whether row r takes a new
    /// example this step (None: all rows); generated sources only generate those rows.
    pub fn train_batch(&mut self, step: u64, seed: u64, batch: usize, needed: Option<&[bool]>) -> anyhow::Result<Batch> {
        if let Some(s) = &mut self.synthetic {
            return Ok(s.next_batch(batch).into());
        }
        if self.dataset.is_some() {
            if self.sampler.is_none() {
                self.sampler = Some(TrainSampler::new(seed, batch, 1));
            }
            if self.next_in_iteration >= self.pending.len() {
                self.refill()?;
            }
            self.next_in_iteration += 1;
            return Ok(self.pending[self.next_in_iteration - 1].clone());
        }
        let src = stream_source(&self.spec)?.expect("a generated source");
        let mut rng = SplitMix64::new(seed ^ step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut stream = ExampleStream::new(src, rng.next_u64());
        let seq = self.meta.seq_len;
        let (mut inputs, mut labels) = (vec![0i32; batch * seq], vec![hrm::puzzles::IGNORE_LABEL_ID; batch * seq]);
        for r in 0..batch {
            if needed.map(|n| n.get(r).copied().unwrap_or(true)).unwrap_or(true) {
                let (i, l) = stream.next_example()?;
                let one = Batch::from(dataset::Batch::collate(&self.meta, [(i.as_slice(), l.as_slice(), 0)], 1));
                inputs[r * seq..(r + 1) * seq].copy_from_slice(&one.inputs);
                labels[r * seq..(r + 1) * seq].copy_from_slice(&one.labels);
            }
        }
        // Rows not needed stay PAD / ignored: the carry keeps its own example for them.
        Ok(Batch::new(batch, seq, inputs, labels, vec![0; batch])?)
    }

    /// Held-out batches: for generated sources `count` fresh examples from the held-out seed; for a
    /// folder its test split (all of it, or the first `count` examples); synthetic as before.
    pub fn held_out(&self, seed: u64, count: usize, batch: usize) -> anyhow::Result<Vec<Batch>> {
        match &self.spec {
            SourceSpec::Synthetic { task } => Ok(eval_set(task, seed, count.div_ceil(batch), batch).into_iter().map(Batch::from).collect()),
            SourceSpec::Folder { path } => {
                let ds = self.dataset.as_ref().expect("folder");
                let test = ds.split("test").with_context(|| format!("{}: no test split to evaluate on", path.display()))?;
                let mut out = Vec::new();
                let mut left = if count == 0 { usize::MAX } else { count };
                for (_, b) in dataset::test_batches(test, batch) {
                    if left == 0 {
                        break;
                    }
                    left = left.saturating_sub(b.effective);
                    out.push(b.into());
                }
                Ok(out)
            }
            gen => {
                let mut stream = ExampleStream::new(stream_source(gen)?.expect("generated"), seed ^ HELD_OUT);
                let mut out = Vec::new();
                let mut left = count;
                while left > 0 {
                    let n = left.min(batch);
                    let examples = (0..n).map(|_| stream.next_example()).collect::<Result<Vec<_>, _>>()?;
                    out.push(dataset::Batch::collate(&self.meta, examples.iter().map(|(i, l)| (i.as_slice(), l.as_slice(), 0)), batch).into());
                    left -= n;
                }
                Ok(out)
            }
        }
    }
}
