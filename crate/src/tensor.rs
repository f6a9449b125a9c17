//! Host-side tensors: the currency between checkpoints, the model and the CLI.

use std::collections::BTreeMap;

/// A dense row-major f32 tensor in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    /// Panics if `data` does not hold `shape.iter().product()` values (a programming error).
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> HostTensor {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "HostTensor: shape {shape:?} vs {} values", data.len());
        HostTensor { shape, data }
    }

    pub fn zeros(shape: Vec<usize>) -> HostTensor {
        let n = shape.iter().product();
        HostTensor { shape, data: vec![0.0; n] }
    }

    pub fn numel(&self) -> usize {
        self.data.len()
    }
}

/// Named tensors with the official state-dict names (`model.inner.…`), sorted by name.
pub type ParamStore = BTreeMap<String, HostTensor>;

impl HostTensor {
    /// FNV-1a (64 bit) over the values' little-endian f32 bytes: a cheap fingerprint to compare tensors
    /// across runs, files and machines (`hrm info` prints it).
    pub fn checksum(&self) -> u64 {
        self.data.iter().flat_map(|v| v.to_le_bytes()).fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// The smallest and largest value (NaN-ignoring); `None` for an empty tensor.
    pub fn min_max(&self) -> Option<(f32, f32)> {
        let mut it = self.data.iter().copied().filter(|v| !v.is_nan());
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v))))
    }
}
