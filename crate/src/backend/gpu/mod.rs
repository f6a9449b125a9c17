//! The GPU backend: the HRM ops as WGSL compute shaders (`shaders/*.wgsl`) run through wgpu — Vulkan,
//! Metal, DX12 or GL natively, WebGPU in the browser (wasm32). The same code runs on both targets; only
//! device setup and readback are async, because the browser cannot block.
//!
//! Layout: [`context`] (adapter, device, error capture, the open command encoder, the uniform ring),
//! [`pool`] (pooled storage buffers with peak-bytes accounting), [`kernels`] (pipelines built once per
//! shader entry point and constant set), [`readback`], and one module with the `dispatch_*` functions
//! per WGSL file. Every kernel stays inside core WebGPU limits (256 invocations per workgroup, ≤ 16 KiB
//! workgroup storage, ≤ 8 storage buffers per stage, bindings ≤ 128 MiB); no f16, no subgroups.

pub mod adds;
pub mod attention;
pub mod backend;
pub mod context;
pub mod embedding;
pub mod kernels;
pub mod loss;
pub mod matmul;
pub mod optim;
pub mod pool;
pub mod readback;
pub mod reduce;
pub mod rmsnorm;
pub mod rope;
pub mod swiglu;

pub use backend::GpuBackend;
pub use context::{GpuContext, GpuError, GpuInfo};
pub use pool::{GpuTensor, PoolStats};
