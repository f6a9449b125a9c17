//! Weight averaging (a "model soup"): the mean of checkpoints of one architecture, tensor by tensor.
//! Runs fine-tuned from one another can lie in one basin of the loss, where their mean may solve more
//! than either (it does for the shipped 2-D Sudoku model, README: Trained models).

use super::{Checkpoint, CheckpointError, Result};

/// The elementwise mean of the inputs' tensors (summed in f64), with the last input's config: its
/// `halt_max_steps` and the rest. Every input must hold the first one's tensors with the same shapes;
/// the error names the first tensor and input (1-based) that does not.
pub fn average(inputs: &[&Checkpoint]) -> Result<Checkpoint> {
    let (Some(first), Some(last)) = (inputs.first(), inputs.last()) else {
        return Err(CheckpointError::Format("averaging needs at least one checkpoint".into()));
    };
    let mut params = first.params.clone();
    for (k, ck) in inputs.iter().enumerate() {
        if let Some(extra) = ck.params.keys().find(|n| !first.params.contains_key(*n)) {
            return Err(CheckpointError::Tensor { name: extra.clone(), problem: format!("input {} has it, input 1 does not", k + 1) });
        }
        for (name, t) in &first.params {
            let other = ck.params.get(name).ok_or_else(|| CheckpointError::Tensor { name: name.clone(), problem: format!("input {} lacks it", k + 1) })?;
            if other.shape != t.shape {
                let problem = format!("input {} has shape {:?}, input 1 {:?}", k + 1, other.shape, t.shape);
                return Err(CheckpointError::Tensor { name: name.clone(), problem });
            }
        }
    }
    let n = inputs.len() as f64;
    for (name, t) in params.iter_mut() {
        let sources: Vec<&[f32]> = inputs.iter().map(|ck| ck.params[name].data.as_slice()).collect();
        for (i, v) in t.data.iter_mut().enumerate() {
            *v = (sources.iter().map(|s| f64::from(s[i])).sum::<f64>() / n) as f32;
        }
    }
    Checkpoint::new(last.config.clone(), params)
}
