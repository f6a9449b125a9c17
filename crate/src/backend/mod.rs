//! Compute backends. `gpu` runs the ops as WGSL compute shaders through wgpu.

pub mod gpu;
