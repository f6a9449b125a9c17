//! Path-based wrappers (not on wasm32, where the page hands over bytes).

use std::path::{Path, PathBuf};

use super::{safetensors, Checkpoint, CheckpointError, DType, Result};
use crate::config::Config;

/// The first bytes of a zip archive, i.e. of a `torch.save` file.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// File names [`Checkpoint::open`] looks for in a directory, in this order.
pub const DIR_CANDIDATES: [&str; 3] = ["checkpoint", "model.safetensors", "weights.safetensors"];

/// A file's bytes, or an error naming the path.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Io { path: path.display().to_string(), message: e.to_string() }
}

impl Checkpoint {
    /// Opens a checkpoint of either kind:
    /// - a `torch.save` file (recognised by its zip signature; a released official checkpoint), read
    ///   with the `all_config.yaml` beside it, as [`Checkpoint::from_torch`] (`seq_len` for RoPE models);
    /// - this project's safetensors, with the config from its metadata or else from `config.json` beside it;
    /// - a directory holding one of [`DIR_CANDIDATES`].
    pub fn open(path: &Path, seq_len: Option<usize>) -> Result<Checkpoint> {
        let file = resolve(path)?;
        let bytes = read_file(&file)?;
        let beside = |name: &str| file.parent().unwrap_or(Path::new(".")).join(name);
        if bytes.starts_with(ZIP_MAGIC) {
            let yaml_path = beside("all_config.yaml");
            let yaml = std::fs::read_to_string(&yaml_path).map_err(|e| {
                io_err(&yaml_path, format!("{e} (a torch checkpoint needs the all_config.yaml it was trained with beside it)"))
            })?;
            return Checkpoint::from_torch(&bytes, &yaml, seq_len);
        }
        let tensors = safetensors::read(&bytes)?;
        let config = match &tensors.config_json {
            Some(json) => Config::from_json_str(json)?,
            None => {
                let json_path = beside("config.json");
                if !json_path.exists() {
                    return Err(CheckpointError::NoConfig);
                }
                let text = std::fs::read_to_string(&json_path).map_err(|e| io_err(&json_path, e))?;
                Config::from_json_str(&text)?
            }
        };
        Checkpoint::with_dtypes(config, tensors.params, tensors.dtypes)
    }

    /// Writes [`Checkpoint::to_safetensors`] to `path` (through a temporary file, so a crash never
    /// leaves a half-written checkpoint under the real name).
    pub fn save(&self, path: &Path, dtype: DType) -> Result<()> {
        let bytes = self.to_safetensors(dtype)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, &bytes).map_err(|e| io_err(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
    }
}

fn resolve(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    DIR_CANDIDATES.iter().map(|n| path.join(n)).find(|p| p.is_file()).ok_or_else(|| {
        io_err(path, format!("is a directory without a checkpoint (looked for {})", DIR_CANDIDATES.join(", ")))
    })
}
