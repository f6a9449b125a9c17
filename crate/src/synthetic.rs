//! A built-in synthetic task with exact answers, for training and testing before real puzzles are at hand.
//!
//! Each example is a short sequence of symbols `0..k` written as tokens `1..=k` (token 0 is PAD, as in
//! the official datasets); its label is a deterministic function of the input:
//! - `reverse`: the sequence backwards,
//! - `sort`: the symbols in ascending order,
//! - `cumsum`: the running sum modulo k (`label[i] = (x[0] + … + x[i]) mod k`).
//!
//! Lengths vary between `min_len` and `seq_len`; positions past the length are PAD in the input and
//! `-100` (ignored) in the labels, so batches exercise the loss mask like padded puzzles do. Every
//! example uses puzzle identifier 0 (the official `blank_identifier_id`). Generation is seeded and
//! needs no OS randomness, so the same stream comes out natively and in wasm32.

use serde::{Deserialize, Serialize};

/// The label value the loss ignores (official `IGNORE_LABEL_ID` after collation).
pub const IGNORE_LABEL: i32 = -100;
/// The padding token.
pub const PAD: i32 = 0;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyntheticError {
    #[error("synthetic task: `{field}` {problem}")]
    Invalid { field: &'static str, problem: String },
    #[error("synthetic task: unknown task `{0}` (expected reverse, sort or cumsum)")]
    UnknownTask(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Reverse,
    Sort,
    CumSum,
}

impl std::str::FromStr for Task {
    type Err = SyntheticError;
    fn from_str(s: &str) -> Result<Task, SyntheticError> {
        match s {
            "reverse" => Ok(Task::Reverse),
            "sort" => Ok(Task::Sort),
            "cumsum" => Ok(Task::CumSum),
            other => Err(SyntheticError::UnknownTask(other.into())),
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::Reverse => "reverse",
            Task::Sort => "sort",
            Task::CumSum => "cumsum",
        })
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SyntheticConfig {
    pub task: Task,
    /// Positions per example (the model's `seq_len`).
    pub seq_len: usize,
    /// Number of symbols k (the model's vocabulary is k + 1 with PAD).
    pub num_symbols: usize,
    /// Shortest example; `min_len == seq_len` gives unpadded examples.
    pub min_len: usize,
}

impl SyntheticConfig {
    pub fn new(task: Task, seq_len: usize, num_symbols: usize, min_len: usize) -> Result<SyntheticConfig, SyntheticError> {
        let c = SyntheticConfig { task, seq_len, num_symbols, min_len };
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), SyntheticError> {
        let bad = |field, problem: String| Err(SyntheticError::Invalid { field, problem });
        if self.seq_len == 0 {
            return bad("seq_len", "must be at least 1".into());
        }
        if self.num_symbols < 2 || self.num_symbols > 1 << 20 {
            return bad("num_symbols", format!("= {} must be in 2..=2^20", self.num_symbols));
        }
        if self.min_len == 0 || self.min_len > self.seq_len {
            return bad("min_len", format!("= {} must be in 1..=seq_len ({})", self.min_len, self.seq_len));
        }
        Ok(())
    }

    /// The model vocabulary: PAD plus one token per symbol.
    pub fn vocab_size(&self) -> usize {
        self.num_symbols + 1
    }

    /// One example from the generator: (inputs, labels), each `seq_len` long.
    pub fn example(&self, rng: &mut SplitMix64) -> (Vec<i32>, Vec<i32>) {
        let len = self.min_len + rng.below((self.seq_len - self.min_len + 1) as u64) as usize;
        let symbols: Vec<usize> = (0..len).map(|_| rng.below(self.num_symbols as u64) as usize).collect();
        let answer = solve(self.task, self.num_symbols, &symbols);
        let mut inputs = vec![PAD; self.seq_len];
        let mut labels = vec![IGNORE_LABEL; self.seq_len];
        for i in 0..len {
            inputs[i] = symbols[i] as i32 + 1;
            labels[i] = answer[i] as i32 + 1;
        }
        (inputs, labels)
    }
}

/// The exact answer (as symbols) for a sequence of symbols.
pub fn solve(task: Task, num_symbols: usize, symbols: &[usize]) -> Vec<usize> {
    match task {
        Task::Reverse => symbols.iter().rev().copied().collect(),
        Task::Sort => {
            let mut s = symbols.to_vec();
            s.sort_unstable();
            s
        }
        Task::CumSum => symbols
            .iter()
            .scan(0usize, |acc, &x| {
                *acc = (*acc + x) % num_symbols;
                Some(*acc)
            })
            .collect(),
    }
}

/// A batch in the official layout: row-major `[batch_size, seq_len]` tokens and labels, one puzzle
/// identifier per row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBatch {
    pub batch_size: usize,
    pub seq_len: usize,
    pub inputs: Vec<i32>,
    pub labels: Vec<i32>,
    pub puzzle_identifiers: Vec<i32>,
}

impl TokenBatch {
    /// A batch of `rows` examples drawn from `config` with `rng`.
    pub fn generate(config: &SyntheticConfig, rng: &mut SplitMix64, rows: usize) -> TokenBatch {
        let mut b = TokenBatch {
            batch_size: rows,
            seq_len: config.seq_len,
            inputs: Vec::with_capacity(rows * config.seq_len),
            labels: Vec::with_capacity(rows * config.seq_len),
            puzzle_identifiers: vec![0; rows],
        };
        for _ in 0..rows {
            let (x, y) = config.example(rng);
            b.inputs.extend(x);
            b.labels.extend(y);
        }
        b
    }

    /// Pads a short batch up to `rows` as the official collate does: inputs PAD, labels ignored, id 0.
    pub fn pad_to(&mut self, rows: usize) {
        if rows <= self.batch_size {
            return;
        }
        let extra = (rows - self.batch_size) * self.seq_len;
        self.inputs.extend(std::iter::repeat(PAD).take(extra));
        self.labels.extend(std::iter::repeat(IGNORE_LABEL).take(extra));
        self.puzzle_identifiers.resize(rows, 0);
        self.batch_size = rows;
    }
}

impl From<TokenBatch> for crate::model::Batch {
    fn from(b: TokenBatch) -> crate::model::Batch {
        crate::model::Batch { rows: b.batch_size, seq_len: b.seq_len, inputs: b.inputs, labels: b.labels, puzzle_identifiers: b.puzzle_identifiers }
    }
}

/// An endless seeded stream of training batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticStream {
    pub config: SyntheticConfig,
    rng: SplitMix64,
}

impl SyntheticStream {
    pub fn new(config: SyntheticConfig, seed: u64) -> Result<SyntheticStream, SyntheticError> {
        config.validate()?;
        Ok(SyntheticStream { config, rng: SplitMix64::new(seed) })
    }

    pub fn next_batch(&mut self, rows: usize) -> TokenBatch {
        TokenBatch::generate(&self.config, &mut self.rng, rows)
    }

    /// The generator state, so a resumed run continues the same stream.
    pub fn rng_state(&self) -> u64 {
        self.rng.state
    }

    pub fn set_rng_state(&mut self, state: u64) {
        self.rng.state = state;
    }
}

/// A fixed held-out set: `batches` batches of `rows` examples from a seed of its own.
pub fn eval_set(config: &SyntheticConfig, seed: u64, batches: usize, rows: usize) -> Vec<TokenBatch> {
    let mut rng = SplitMix64::new(seed ^ 0x5EED_0F_E7A1);
    (0..batches).map(|_| TokenBatch::generate(config, &mut rng, rows)).collect()
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, the same on every target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64 {
    pub state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0) without modulo bias (Lemire's multiply-shift with rejection).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in [0, 1) with 24 random bits (an exact f32).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_exact() {
        assert_eq!(solve(Task::Reverse, 5, &[1, 2, 3]), vec![3, 2, 1]);
        assert_eq!(solve(Task::Sort, 5, &[3, 0, 2, 0]), vec![0, 0, 2, 3]);
        assert_eq!(solve(Task::CumSum, 5, &[3, 4, 1, 2]), vec![3, 2, 3, 0]);
    }

    #[test]
    fn examples_use_the_official_token_conventions() {
        let c = SyntheticConfig::new(Task::CumSum, 6, 3, 2).unwrap();
        let mut rng = SplitMix64::new(1);
        let mut saw_padding = false;
        for _ in 0..200 {
            let (x, y) = c.example(&mut rng);
            let len = x.iter().position(|&t| t == PAD).unwrap_or(6);
            assert!(len >= 2);
            assert!(x[..len].iter().all(|&t| (1..=3).contains(&t)));
            assert!(x[len..].iter().all(|&t| t == PAD) && y[len..].iter().all(|&t| t == IGNORE_LABEL));
            let symbols: Vec<usize> = x[..len].iter().map(|&t| t as usize - 1).collect();
            let want: Vec<i32> = solve(Task::CumSum, 3, &symbols).iter().map(|&s| s as i32 + 1).collect();
            assert_eq!(&y[..len], &want[..]);
            saw_padding |= len < 6;
        }
        assert!(saw_padding);
    }

    #[test]
    fn streams_are_seeded_and_resumable() {
        let c = SyntheticConfig::new(Task::Sort, 8, 4, 8).unwrap();
        let mut a = SyntheticStream::new(c, 42).unwrap();
        let mut b = SyntheticStream::new(c, 42).unwrap();
        assert_eq!(a.next_batch(3), b.next_batch(3));
        let state = a.rng_state();
        let next = a.next_batch(2);
        let mut c2 = SyntheticStream::new(c, 0).unwrap();
        c2.set_rng_state(state);
        assert_eq!(c2.next_batch(2), next);
        assert_ne!(SyntheticStream::new(c, 43).unwrap().next_batch(3), SyntheticStream::new(c, 42).unwrap().next_batch(3));
    }

    #[test]
    fn bad_configs_name_the_field() {
        let e = SyntheticConfig::new(Task::Sort, 4, 1, 4).unwrap_err();
        assert!(e.to_string().contains("num_symbols"), "{e}");
        let e = SyntheticConfig::new(Task::Sort, 4, 3, 5).unwrap_err();
        assert!(e.to_string().contains("min_len"), "{e}");
        assert!("shuffle".parse::<Task>().is_err());
    }

    #[test]
    fn padding_rows_are_all_ignored() {
        let c = SyntheticConfig::new(Task::Reverse, 4, 3, 4).unwrap();
        let mut b = TokenBatch::generate(&c, &mut SplitMix64::new(0), 2);
        b.pad_to(3);
        assert_eq!(b.batch_size, 3);
        assert!(b.inputs[8..].iter().all(|&t| t == PAD) && b.labels[8..].iter().all(|&t| t == IGNORE_LABEL));
        assert_eq!(b.puzzle_identifiers, vec![0, 0, 0]);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = SplitMix64::new(9);
        let mut counts = [0usize; 5];
        for _ in 0..50_000 {
            counts[r.below(5) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
    }
}
