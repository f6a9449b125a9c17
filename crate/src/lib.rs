//! `hrm`: the Hierarchical Reasoning Model (official HRM ACT-v1) in Rust.
//!
//! Everything here compiles natively and for `wasm32-unknown-unknown`; the CLI lives in `src/bin/hrm/`.

pub mod config;
pub mod dataset;
pub mod puzzles;
pub mod tensor;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use config::{Config, ConfigError, LossType, PosEncoding};
pub use tensor::{HostTensor, ParamStore};
