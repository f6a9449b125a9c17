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
