//! Released official checkpoints: a `torch.save` file (a zip archive, entries stored uncompressed:
//! `<name>/data.pkl` is the pickled state dict, `<name>/data/<key>` the raw little-endian bytes of each
//! storage) next to the `all_config.yaml` that `pretrain.py` wrote.
//!
//! A tensor in the pickle is `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` where
//! `storage` is the persistent id `('storage', torch.<T>Storage, key, location, numel)`. The location
//! (`cuda:0` in released files) does not matter here: every storage is read to host memory.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use serde_json::{Map, Value};

use super::pickle::{self, Obj, Pickle};
use super::{make_tensor, CheckpointError, DType, Result, Tensors};
use crate::config::Config;
use crate::params;

fn format_err(problem: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Format(format!("torch checkpoint: {problem}"))
}

/// Reads every tensor of a `torch.save`d state dict, widening F16/BF16 to f32 and stripping `_orig_mod.`.
pub fn read(bytes: &[u8]) -> Result<Tensors> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format_err(format!("not a zip archive (torch.save writes one): {e}")))?;
    let pkl = zip
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| n == "data.pkl" || (n.ends_with("/data.pkl") && n.matches('/').count() == 1))
        .map(|n| n.into_owned())
        .ok_or_else(|| format_err("the zip archive has no `<name>/data.pkl`: not a torch.save file"))?;
    let prefix = &pkl[..pkl.len() - "data.pkl".len()];
    if let Ok(order) = entry(&mut zip, &format!("{prefix}byteorder"), bytes.len()) {
        if order.trim_ascii() != b"little" {
            return Err(format_err(format!("byteorder {:?} is not supported", String::from_utf8_lossy(&order))));
        }
    }
    let program = entry(&mut zip, &pkl, bytes.len())?;
    let pk = pickle::parse(&program).map_err(|e| format_err(format!("{pkl}: {e}")))?;
    let Obj::Dict(entries) = pk.get(pk.root) else {
        return Err(format_err(format!("data.pkl holds {}, not a state dict", pk.describe(pk.root))));
    };

    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    let mut out = Tensors::default();
    for &(key, value) in entries {
        let name = pk
            .as_str(key)
            .ok_or_else(|| format_err(format!("state dict key {} is not a string", pk.describe(key))))?;
        let t = tensor_ref(&pk, value, 0).ok_or_else(|| CheckpointError::Tensor {
            name: name.to_string(),
            problem: format!("is {}, not a tensor torch.save wrote", pk.describe(value)),
        })?;
        let dtype = storage_dtype(t.storage_type).ok_or_else(|| CheckpointError::Dtype {
            name: name.to_string(),
            dtype: t.storage_type.to_string(),
        })?;
        if !storages.contains_key(t.key) {
            let data = entry(&mut zip, &format!("{prefix}data/{}", t.key), bytes.len())?;
            storages.insert(t.key.to_string(), data);
        }
        let data = gather(name, &t, dtype, &storages[t.key])?;
        out.insert(name, make_tensor(name, t.size.clone(), data)?, dtype)?;
    }
    Ok(out)
}

/// Reads `checkpoint` (the bytes of a `torch.save` file) and builds the model config from the `arch`
/// section of `all_config_yaml`, with what the yaml lacks read off the tensors:
/// `vocab_size` = rows of `embed_tokens`, `num_puzzle_identifiers` = rows of `puzzle_emb.weights` (1 when
/// there is no puzzle embedding), and `seq_len` = rows of `embed_pos` minus the puzzle positions for
/// learned positions; for RoPE `seq_len` if given, else inferred from the yaml's `data_path`
/// (sudoku → 81, maze-NxM → N·M, arc → 900), else an error asking for it.
pub fn convert(checkpoint: &[u8], all_config_yaml: &str, seq_len: Option<usize>) -> Result<(Config, Tensors)> {
    let tensors = read(checkpoint)?;
    let shape_of = |suffix: &str| tensors.params.get(&params::name(suffix)).map(|t| t.shape.as_slice());
    let tokens = params::name("embed_tokens.embedding_weight");
    let (vocab, hidden) = match shape_of("embed_tokens.embedding_weight") {
        Some(&[v, h]) => (v, h),
        Some(other) => {
            return Err(CheckpointError::Tensor { name: tokens, problem: format!("has shape {other:?}, not [vocab, hidden]") })
        }
        None => return Err(CheckpointError::Missing(tokens)),
    };
    let (puzzle_ids, puzzle_ndim) = match shape_of("puzzle_emb.weights") {
        Some(&[n, d]) => (n, d),
        _ => (1, 0),
    };
    let seq_len = match shape_of("embed_pos.embedding_weight") {
        Some(&[rows, _]) => {
            let from_table = rows.checked_sub(puzzle_ndim.div_ceil(hidden.max(1))).filter(|&s| s > 0).ok_or_else(|| {
                CheckpointError::SeqLen(format!("embed_pos has {rows} rows, fewer than the puzzle positions"))
            })?;
            if let Some(s) = seq_len.filter(|&s| s != from_table) {
                return Err(CheckpointError::SeqLen(format!(
                    "--seq-len {s} contradicts the learned position table, which has room for {from_table}"
                )));
            }
            from_table
        }
        _ => match seq_len {
            Some(s) => s,
            None => seq_len_from_data_path(all_config_yaml)?,
        },
    };
    let mut extra = Map::new();
    extra.insert("vocab_size".into(), Value::from(vocab));
    extra.insert("num_puzzle_identifiers".into(), Value::from(puzzle_ids));
    extra.insert("seq_len".into(), Value::from(seq_len));
    let config = Config::from_all_config_yaml(all_config_yaml, &extra)?;
    Ok((config, tensors))
}

/// The sequence length of the official datasets, from the yaml's `data_path`.
fn seq_len_from_data_path(all_config_yaml: &str) -> Result<usize> {
    let doc: Value = serde_norway::from_str(all_config_yaml)
        .map_err(|e| CheckpointError::Config(crate::config::ConfigError::Syntax { format: "YAML", message: e.to_string() }))?;
    let path = doc.get("data_path").and_then(Value::as_str).unwrap_or("");
    let dataset = path.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    let grid = |s: &str| -> Option<usize> {
        // The first `NxM` in the name, e.g. maze-30x30-hard-1k → 900.
        s.split(|c: char| !c.is_ascii_alphanumeric()).find_map(|part| {
            let (a, b) = part.split_once('x')?;
            Some(a.parse::<usize>().ok()? * b.parse::<usize>().ok()?)
        })
    };
    let found = if dataset.contains("sudoku") {
        Some(81)
    } else if dataset.contains("maze") {
        grid(&dataset)
    } else if dataset.starts_with("arc") {
        Some(900)
    } else {
        None
    };
    found.ok_or_else(|| {
        CheckpointError::SeqLen(format!(
            "cannot tell seq_len: the model uses RoPE (no position table to read it from) and data_path {path:?} \
             is not a known dataset (sudoku → 81, maze-NxM → N·M, arc → 900); pass --seq-len N"
        ))
    })
}

/// One zip entry's bytes. Torch stores entries uncompressed, so an entry can never be larger than the
/// archive: the read is bounded by the input.
fn entry(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str, total: usize) -> Result<Vec<u8>> {
    let mut f = zip.by_name(name).map_err(|e| format_err(format!("zip entry `{name}`: {e}")))?;
    let mut out = Vec::with_capacity(f.size().min(total as u64) as usize);
    f.read_to_end(&mut out).map_err(|e| format_err(format!("zip entry `{name}`: {e}")))?;
    Ok(out)
}

/// A tensor as the pickle describes it.
struct TensorRef<'p> {
    storage_type: &'p str,
    key: &'p str,
    storage_numel: u64,
    offset: u64,
    size: Vec<usize>,
    stride: Vec<u64>,
}

/// Recognises `_rebuild_tensor_v2(persistent storage, offset, size, stride, …)`, also wrapped in
/// `_rebuild_parameter(tensor, …)` (a state dict saved with `keep_vars=True`).
fn tensor_ref(pk: &Pickle, id: pickle::Id, depth: usize) -> Option<TensorRef<'_>> {
    let Obj::Call { callable, args, .. } = pk.get(id) else { return None };
    let args = pk.as_tuple(*args)?;
    match pk.as_global(*callable)? {
        ("torch._utils", "_rebuild_parameter") if depth == 0 => tensor_ref(pk, *args.first()?, 1),
        ("torch._utils", "_rebuild_tensor_v2") if args.len() >= 4 => {
            let Obj::Persistent(pid) = pk.get(args[0]) else { return None };
            let pid = pk.as_tuple(*pid)?;
            if pid.len() != 5 || pk.as_str(pid[0]) != Some("storage") {
                return None;
            }
            let (module, storage_type) = pk.as_global(pid[1])?;
            if module != "torch" {
                return None;
            }
            let ints = |id: pickle::Id| -> Option<Vec<i64>> { pk.as_tuple(id)?.iter().map(|&i| pk.as_int(i)).collect() };
            let nonneg = |v: i64| u64::try_from(v).ok();
            Some(TensorRef {
                storage_type,
                key: pk.as_str(pid[2])?,
                storage_numel: nonneg(pk.as_int(pid[4])?)?,
                offset: nonneg(pk.as_int(args[1])?)?,
                size: ints(args[2])?.into_iter().map(|v| usize::try_from(v).ok()).collect::<Option<_>>()?,
                stride: ints(args[3])?.into_iter().map(nonneg).collect::<Option<_>>()?,
            })
        }
        _ => None,
    }
}

fn storage_dtype(storage_type: &str) -> Option<DType> {
    match storage_type {
        "FloatStorage" => Some(DType::F32),
        "HalfStorage" => Some(DType::F16),
        "BFloat16Storage" => Some(DType::BF16),
        _ => None,
    }
}

/// The tensor's values in row-major order, read through its offset and strides from the storage bytes.
fn gather(name: &str, t: &TensorRef, dtype: DType, bytes: &[u8]) -> Result<Vec<f32>> {
    let bad = |problem: String| CheckpointError::Tensor { name: name.to_string(), problem };
    if t.size.len() != t.stride.len() {
        return Err(bad(format!("size {:?} and stride {:?} differ in rank", t.size, t.stride)));
    }
    let width = if dtype == DType::F32 { 4 } else { 2 };
    let have = bytes.len() as u64 / width;
    if have < t.storage_numel {
        return Err(bad(format!("storage `{}` holds {have} values, the pickle says {}", t.key, t.storage_numel)));
    }
    let numel = t.size.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| bad("size overflows".into()))?;
    if numel == 0 {
        return Ok(Vec::new());
    }
    // The largest element index the view touches must lie inside the storage.
    let last = t
        .size
        .iter()
        .zip(&t.stride)
        .try_fold(t.offset, |acc, (&n, &s)| acc.checked_add((n as u64 - 1).checked_mul(s)?))
        .filter(|&last| last < t.storage_numel)
        .ok_or_else(|| {
            bad(format!(
                "view (offset {}, size {:?}, stride {:?}) reaches past its storage of {} values",
                t.offset, t.size, t.stride, t.storage_numel
            ))
        })?;
    debug_assert!(last < have);
    let value = |i: u64| -> f32 {
        let at = (i * width) as usize;
        match dtype {
            DType::F32 => f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]),
            DType::F16 => half::f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32(),
            DType::BF16 => half::bf16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32(),
        }
    };
    // Row-major contiguous (what a state dict almost always holds): one slice, decoded in order.
    let contiguous = t.size.iter().zip(&t.stride).rev().try_fold(1u64, |expect, (&n, &s)| (n == 1 || s == expect).then_some(expect * n as u64));
    if contiguous.is_some() {
        return Ok((t.offset..t.offset + numel as u64).map(value).collect());
    }
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; t.size.len()];
    for _ in 0..numel {
        let at = t.offset + index.iter().zip(&t.stride).map(|(&i, &s)| i as u64 * s).sum::<u64>();
        out.push(value(at));
        // Row-major odometer over `size`.
        for d in (0..index.len()).rev() {
            index[d] += 1;
            if index[d] < t.size[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(data_path: &str) -> String {
        format!("arch: {{}}\ndata_path: {data_path}\n")
    }

    #[test]
    fn seq_len_of_the_official_datasets() {
        assert_eq!(seq_len_from_data_path(&yaml("data/sudoku-extreme-1k-aug-1000")), Ok(81));
        assert_eq!(seq_len_from_data_path(&yaml("data/maze-30x30-hard-1k")), Ok(900));
        assert_eq!(seq_len_from_data_path(&yaml("data/arc-2-aug-1000/")), Ok(900));
        assert_eq!(seq_len_from_data_path(&yaml("data/arc1concept-aug-1000")), Ok(900));
        let e = seq_len_from_data_path(&yaml("data/my-own-task")).unwrap_err();
        assert!(e.to_string().contains("--seq-len") && e.to_string().contains("my-own-task"), "{e}");
        let e = seq_len_from_data_path("arch: {}\n").unwrap_err();
        assert!(e.to_string().contains("--seq-len"), "{e}");
    }

    #[test]
    fn gather_follows_strides() {
        // Storage 0..12 as f32; a [2, 3] view at offset 1 with strides [4, 2] (a transposed-like view).
        let bytes: Vec<u8> = (0..12).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let t = TensorRef { storage_type: "FloatStorage", key: "0", storage_numel: 12, offset: 1, size: vec![2, 3], stride: vec![4, 2] };
        assert_eq!(gather("x", &t, DType::F32, &bytes).unwrap(), vec![1.0, 3.0, 5.0, 5.0, 7.0, 9.0]);
        let contiguous = TensorRef { storage_type: "FloatStorage", key: "0", storage_numel: 12, offset: 2, size: vec![2, 1, 3], stride: vec![3, 7, 1] };
        assert_eq!(gather("x", &contiguous, DType::F32, &bytes).unwrap(), vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let past = TensorRef { offset: 4, ..t }; // last index 4 + 4 + 2*2 = 12: one past the end
        let e = gather("x", &past, DType::F32, &bytes).unwrap_err();
        assert!(e.to_string().contains("`x`") && e.to_string().contains("past its storage"), "{e}");
        let short = TensorRef { storage_type: "FloatStorage", key: "0", storage_numel: 13, offset: 0, size: vec![1], stride: vec![1] };
        assert!(gather("x", &short, DType::F32, &bytes).unwrap_err().to_string().contains("holds 12 values"));
    }
}
