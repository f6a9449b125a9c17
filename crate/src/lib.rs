//! `hrm`: the Hierarchical Reasoning Model (official HRM ACT-v1) in Rust.
//!
//! Everything here compiles natively and for `wasm32-unknown-unknown`; the CLI lives in `src/bin/hrm/`.

pub mod backend;
pub mod checkpoint;
pub mod config;
pub mod model;
pub mod optim;
pub mod params;
pub mod synthetic;
pub mod tab_train;
pub mod dataset;
pub mod puzzles;
pub mod puzzle_eval;
pub mod tensor;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use config::{Config, ConfigError, LossType, PosEncoding};
pub use tensor::{HostTensor, ParamStore};
