//! This project's checkpoint file: safetensors (the `safetensors` crate does the format) with the
//! official tensor names and the model config as JSON in `__metadata__["config"]`.

use std::borrow::Cow;

use ::safetensors::tensor::{Dtype, SafeTensors, View};

use super::{CheckpointError, DType, Result, Tensors};
use crate::config::Config;
use crate::tensor::ParamStore;

/// The metadata key holding the model config (JSON, official field names).
pub const CONFIG_KEY: &str = "config";

/// Reads every tensor of a safetensors file, widening F16/BF16 to f32 and stripping `_orig_mod.`.
/// Does not check the tensors against a config (see [`super::validate`]).
pub fn read(bytes: &[u8]) -> Result<Tensors> {
    let bad = |e: ::safetensors::SafeTensorError| CheckpointError::Format(format!("not a valid safetensors file: {e}"));
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let file = SafeTensors::deserialize(bytes).map_err(bad)?;
    let mut out = Tensors {
        config_json: metadata.metadata().as_ref().and_then(|m| m.get(CONFIG_KEY).cloned()),
        ..Tensors::default()
    };
    for (name, view) in file.iter() {
        let (dtype, data) = widen(name, view.dtype(), view.data())?;
        out.insert(name, super::make_tensor(name, view.shape().to_vec(), data)?, dtype)?;
    }
    Ok(out)
}

/// Writes `params` (any names) as `dtype`, with `config` in the metadata when given.
pub fn write(params: &ParamStore, config: Option<&Config>, dtype: DType) -> Result<Vec<u8>> {
    let mut views = Vec::with_capacity(params.len());
    for (name, t) in params {
        views.push((name.as_str(), Narrowed { dtype, shape: &t.shape, bytes: narrow(name, &t.data, dtype)? }));
    }
    // One metadata key only: the crate keeps metadata in a HashMap, whose order (and so the bytes
    // written) would vary between runs with more than one.
    let meta = config.map(|c| [(CONFIG_KEY.to_string(), c.to_json_string())].into_iter().collect());
    ::safetensors::serialize(views, meta)
        .map_err(|e| CheckpointError::Format(format!("cannot write safetensors: {e}")))
}

fn widen(name: &str, dtype: Dtype, bytes: &[u8]) -> Result<(DType, Vec<f32>)> {
    Ok(match dtype {
        Dtype::F32 => (DType::F32, bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
        Dtype::F16 => (DType::F16, bytes.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()),
        Dtype::BF16 => {
            (DType::BF16, bytes.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect())
        }
        other => return Err(CheckpointError::Dtype { name: name.to_string(), dtype: format!("{other:?}") }),
    })
}

fn narrow(name: &str, data: &[f32], dtype: DType) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * if dtype == DType::F32 { 4 } else { 2 });
    for (i, &v) in data.iter().enumerate() {
        match dtype {
            DType::F32 => out.extend_from_slice(&v.to_le_bytes()),
            DType::BF16 => out.extend_from_slice(&half::bf16::from_f32(v).to_le_bytes()),
            DType::F16 => {
                let h = half::f16::from_f32(v);
                if h.is_infinite() && v.is_finite() {
                    return Err(CheckpointError::Tensor {
                        name: name.to_string(),
                        problem: format!("value {v} at flat index {i} is beyond the range of F16"),
                    });
                }
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// One tensor already encoded little-endian, as `safetensors::serialize` wants it.
struct Narrowed<'a> {
    dtype: DType,
    shape: &'a [usize],
    bytes: Vec<u8>,
}

impl View for Narrowed<'_> {
    fn dtype(&self) -> Dtype {
        match self.dtype {
            DType::F32 => Dtype::F32,
            DType::F16 => Dtype::F16,
            DType::BF16 => Dtype::BF16,
        }
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}
