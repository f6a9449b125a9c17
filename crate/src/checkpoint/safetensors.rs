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

/// The values of a tensor of any numeric dtype, for files that are not checkpoints (the parity
/// fixtures hold I32 batches, F64 losses, U8/BOOL flags). F16/BF16 are widened to F32.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
}

/// A tensor of a non-checkpoint safetensors file.
#[derive(Debug, Clone, PartialEq)]
pub struct AnyTensor {
    pub shape: Vec<usize>,
    pub values: Values,
}

impl AnyTensor {
    /// Every value as f64 (exact for all the dtypes here except I64 beyond 2^53).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.values {
            Values::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Values::F64(v) => v.clone(),
            Values::I32(v) => v.iter().map(|&x| x as f64).collect(),
            Values::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Values::U8(v) => v.iter().map(|&x| x as f64).collect(),
            Values::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
        }
    }

    /// The values as f32 if the tensor is floating point (F64 is rounded), else `None`.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        match &self.values {
            Values::F32(v) => Some(v.clone()),
            Values::F64(v) => Some(v.iter().map(|&x| x as f32).collect()),
            _ => None,
        }
    }

    /// The values as i64 if the tensor holds integers or booleans, else `None`.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        match &self.values {
            Values::I32(v) => Some(v.iter().map(|&x| x as i64).collect()),
            Values::I64(v) => Some(v.clone()),
            Values::U8(v) => Some(v.iter().map(|&x| x as i64).collect()),
            Values::Bool(v) => Some(v.iter().map(|&x| x as i64).collect()),
            _ => None,
        }
    }
}

/// Reads every tensor of any safetensors file as it is stored (names untouched). Dtypes other than
/// F32/F16/BF16/F64/I32/I64/U8/BOOL are refused with an error naming the tensor.
pub fn read_all(bytes: &[u8]) -> Result<std::collections::BTreeMap<String, AnyTensor>> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| CheckpointError::Format(format!("not a valid safetensors file: {e}")))?;
    let mut out = std::collections::BTreeMap::new();
    for (name, view) in file.iter() {
        let b = view.data();
        let values = match view.dtype() {
            Dtype::F32 | Dtype::F16 | Dtype::BF16 => Values::F32(widen(name, view.dtype(), b)?.1),
            Dtype::F64 => Values::F64(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()),
            Dtype::I32 => Values::I32(b.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
            Dtype::I64 => Values::I64(b.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()),
            Dtype::U8 => Values::U8(b.to_vec()),
            Dtype::BOOL => Values::Bool(b.iter().map(|&x| x != 0).collect()),
            other => return Err(CheckpointError::Dtype { name: name.to_string(), dtype: format!("{other:?}") }),
        };
        out.insert(name.to_string(), AnyTensor { shape: view.shape().to_vec(), values });
    }
    Ok(out)
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
