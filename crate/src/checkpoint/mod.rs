//! Checkpoints: a model's [`Config`] plus its persistent tensors with the official state-dict names.
//!
//! - [`Checkpoint::from_safetensors`] / [`Checkpoint::to_safetensors`]: this project's format, a
//!   safetensors file whose `__metadata__["config"]` holds the config JSON (so one file runs a model).
//! - [`Checkpoint::from_torch`]: a released official checkpoint (`torch.save` zip + pickle) and its
//!   `all_config.yaml`, as `hrm convert` does.
//! - [`Checkpoint::open`] / [`Checkpoint::save`] (native only): the same from and to paths.
//!
//! Everything but the path wrappers works on bytes, so the page (wasm32) loads checkpoints the same way.
//! Every load is validated against the config ([`validate`]): each problem is an error value naming the
//! tensor or the file problem, never a panic.

mod average;
mod pickle;
pub mod safetensors;
pub mod torch;

use std::collections::BTreeMap;

use crate::config::{Config, ConfigError};
use crate::params::{self, COMPILED_PREFIX};
use crate::tensor::{HostTensor, ParamStore};

/// The element types a checkpoint may store. Everything is widened to f32 on load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    F16,
    BF16,
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            DType::F32 => "F32",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
        })
    }
}

/// Everything that can be wrong with a checkpoint. Each message names the tensor or the file problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint: missing tensor `{0}`")]
    Missing(String),
    #[error("checkpoint: unexpected tensor `{0}` (a model with this config has no such tensor)")]
    Unexpected(String),
    #[error("checkpoint: tensor `{name}` has shape {found:?}, the config needs {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("checkpoint: tensor `{name}` holds a non-finite value ({value}) at flat index {index}")]
    NonFinite { name: String, index: usize, value: f32 },
    #[error("checkpoint: tensor `{name}` has dtype {dtype}; only F32, F16 and BF16 are accepted")]
    Dtype { name: String, dtype: String },
    #[error("checkpoint: tensor `{0}` appears twice (with and without the `_orig_mod.` prefix)")]
    Duplicate(String),
    #[error("checkpoint: tensor `{name}`: {problem}")]
    Tensor { name: String, problem: String },
    /// The bytes are not a valid file of the expected format (truncated, corrupt, another format).
    #[error("{0}")]
    Format(String),
    #[error("checkpoint: {0}")]
    Config(#[from] ConfigError),
    #[error(
        "checkpoint: no model config: the file carries none in its metadata and none was given \
         (put a config.json beside it)"
    )]
    NoConfig,
    #[error("{0}")]
    SeqLen(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

pub type Result<T> = std::result::Result<T, CheckpointError>;

/// A model ready to run: its config and exactly the tensors [`params::expected`] lists for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub config: Config,
    /// Official names (`model.inner.…`), f32.
    pub params: ParamStore,
    /// The element type each tensor had in the file it was read from (F32 for a fresh model).
    pub dtypes: BTreeMap<String, DType>,
}

impl Checkpoint {
    /// Wraps a config and tensors after checking they fit ([`validate`]).
    pub fn new(config: Config, params: ParamStore) -> Result<Checkpoint> {
        let dtypes = params.keys().map(|k| (k.clone(), DType::F32)).collect();
        Checkpoint::with_dtypes(config, params, dtypes)
    }

    fn with_dtypes(config: Config, params: ParamStore, dtypes: BTreeMap<String, DType>) -> Result<Checkpoint> {
        config.validate()?;
        validate(&config, &params)?;
        Ok(Checkpoint { config, params, dtypes })
    }

    /// A fresh model with the official initialisation ([`params::init`]).
    pub fn init(config: Config, seed: u64) -> Result<Checkpoint> {
        config.validate()?;
        let params = params::init(&config, seed);
        Checkpoint::new(config, params)
    }

    /// Reads this project's safetensors format. The config is `config` if given (e.g. a `config.json`
    /// beside the file, or a caller's override), else the one in the file's metadata.
    pub fn from_safetensors(bytes: &[u8], config: Option<&Config>) -> Result<Checkpoint> {
        let file = safetensors::read(bytes)?;
        let config = match config {
            Some(c) => c.clone(),
            None => Config::from_json_str(file.config_json.as_deref().ok_or(CheckpointError::NoConfig)?)?,
        };
        Checkpoint::with_dtypes(config, file.params, file.dtypes)
    }

    /// Writes this project's safetensors format: every tensor as `dtype`, the config in the metadata.
    /// F32 round-trips bit for bit; F16 halves the size (for shipping small web models) and fails if a
    /// value is beyond f16's range.
    pub fn to_safetensors(&self, dtype: DType) -> Result<Vec<u8>> {
        validate(&self.config, &self.params)?;
        safetensors::write(&self.params, Some(&self.config), dtype)
    }

    /// Converts a released official checkpoint: `checkpoint` is the bytes of the `torch.save` file,
    /// `all_config_yaml` the text of the `all_config.yaml` beside it. See [`torch::convert`].
    pub fn from_torch(checkpoint: &[u8], all_config_yaml: &str, seq_len: Option<usize>) -> Result<Checkpoint> {
        let (config, file) = torch::convert(checkpoint, all_config_yaml, seq_len)?;
        Checkpoint::with_dtypes(config, file.params, file.dtypes)
    }

    /// Values in trainable parameters (buffers excluded).
    pub fn parameter_count(&self) -> usize {
        params::parameter_count(&self.config)
    }

    /// A human-readable report: the config with its derived sizes, the parameter count, and every
    /// tensor with its shape, stored dtype, min/max and checksum ([`HostTensor::checksum`]).
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let c = &self.config;
        let mut s = String::new();
        let _ = writeln!(s, "config:\n{}", c.to_json_string());
        let _ = writeln!(
            s,
            "derived: head_dim {}, puzzle_emb_len {}, total_seq {}, swiglu_width {}, embed_scale {}",
            c.head_dim(),
            c.puzzle_emb_len(),
            c.total_seq(),
            c.swiglu_width(),
            c.embed_scale()
        );
        let _ = writeln!(
            s,
            "parameters: {} trainable values; buffers (H_init, L_init, puzzle_emb.weights): {} values",
            self.parameter_count(),
            params::buffer_count(c)
        );
        let width = self.params.keys().map(String::len).max().unwrap_or(0);
        let _ = writeln!(s, "tensors ({}):", self.params.len());
        let _ = writeln!(s, "  {:width$}  {:>12}  {:5}  {:>12}  {:>12}  checksum", "name", "shape", "dtype", "min", "max");
        for (name, t) in &self.params {
            let (lo, hi) = t.min_max().unwrap_or((0.0, 0.0));
            let dtype = self.dtypes.get(name).copied().unwrap_or(DType::F32);
            let shape = format!("{:?}", t.shape);
            let _ = writeln!(s, "  {name:width$}  {shape:>12}  {dtype:5}  {lo:>12.6}  {hi:>12.6}  {:016x}", t.checksum());
        }
        s
    }
}

/// Tensors read off a file, names normalised, values widened to f32, not yet checked against a config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tensors {
    pub params: ParamStore,
    pub dtypes: BTreeMap<String, DType>,
    /// `__metadata__["config"]` of a safetensors file (torch files carry none).
    pub config_json: Option<String>,
}

impl Tensors {
    /// Adds a tensor read from a file under `raw_name`, stripping the `_orig_mod.` prefix.
    pub(crate) fn insert(&mut self, raw_name: &str, tensor: HostTensor, dtype: DType) -> Result<()> {
        let name = raw_name.strip_prefix(COMPILED_PREFIX).unwrap_or(raw_name).to_string();
        if self.params.contains_key(&name) {
            return Err(CheckpointError::Duplicate(name));
        }
        self.dtypes.insert(name.clone(), dtype);
        self.params.insert(name, tensor);
        Ok(())
    }
}

/// A tensor from a file's shape and values, refusing a mismatch instead of panicking.
pub(crate) fn make_tensor(name: &str, shape: Vec<usize>, data: Vec<f32>) -> Result<HostTensor> {
    let numel = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if numel != Some(data.len()) {
        return Err(CheckpointError::Tensor {
            name: name.to_string(),
            problem: format!("shape {shape:?} does not match its {} stored values", data.len()),
        });
    }
    Ok(HostTensor::new(shape, data))
}

/// Checks that `params` holds exactly the tensors a model of `config` has, with the right shapes and
/// only finite values. Reports the first problem: missing, then unexpected, then shape, then values.
pub fn validate(config: &Config, params: &ParamStore) -> Result<()> {
    let expected = params::expected(config);
    if let Some(spec) = expected.iter().find(|s| !params.contains_key(&s.name)) {
        return Err(CheckpointError::Missing(spec.name.clone()));
    }
    if let Some(name) = params.keys().find(|k| !expected.iter().any(|s| &s.name == *k)) {
        return Err(CheckpointError::Unexpected(name.clone()));
    }
    for spec in &expected {
        let t = &params[&spec.name];
        if t.shape != spec.shape || t.data.len() != spec.numel() {
            return Err(CheckpointError::Shape {
                name: spec.name.clone(),
                expected: spec.shape.clone(),
                found: t.shape.clone(),
            });
        }
    }
    for (name, t) in params {
        if let Some((index, &value)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CheckpointError::NonFinite { name: name.clone(), index, value });
        }
    }
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::read_file;
pub use average::average;
