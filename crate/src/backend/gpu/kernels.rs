//! Pipelines built once: one per (WGSL file, entry point, override constants), kept for the context's
//! life. Every kernel binds its tensors as storage buffers in group 0 (the binding numbers it names;
//! entry points of one file use different subsets) and its shape parameters as one uniform block in
//! group 1 at a dynamic offset of the uniform ring.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::context::{GpuContext, GpuError, UNIFORM_SLOT};
use super::pool::GpuTensor;

/// A WGSL file compiled into the binary.
pub(crate) struct Shader {
    pub name: &'static str,
    pub source: &'static str,
}

/// How a kernel uses one storage binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    ReadWrite,
}

pub(crate) struct Kernel {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    bindings: Vec<(u32, Access)>,
    label: String,
}

#[derive(Default)]
pub(crate) struct KernelCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    kernels: Mutex<HashMap<String, Arc<Kernel>>>,
}

/// Most workgroups one dispatch dimension may have under core WebGPU limits.
pub(crate) const MAX_GROUPS: u32 = 65535;

impl GpuContext {
    /// The pipeline for `entry` of `shader` with these override constants, built on first use.
    pub(crate) fn kernel(&self, shader: &Shader, entry: &str, bindings: &[(u32, Access)], constants: &[(&str, f64)]) -> Arc<Kernel> {
        let key = format!("{}:{entry}:{bindings:?}:{constants:?}", shader.name);
        if let Some(k) = self.kernels.kernels.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return k.clone();
        }
        let module = {
            let mut modules = self.kernels.modules.lock().unwrap_or_else(|p| p.into_inner());
            modules
                .entry(shader.name)
                .or_insert_with(|| {
                    self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(shader.name),
                        source: wgpu::ShaderSource::Wgsl(shader.source.into()),
                    })
                })
                .clone()
        };
        let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
            .iter()
            .map(|&(binding, a)| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: a == Access::Read },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let layout = self.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(&key), entries: &entries });
        let pipeline_layout = self.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(&key),
            bind_group_layouts: &[Some(&layout), Some(&self.uniforms.layout)],
            immediate_size: 0,
        });
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&key),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions { constants, zero_initialize_workgroup_memory: false },
            cache: None,
        });
        let k = Arc::new(Kernel { pipeline, layout, bindings: bindings.to_vec(), label: key.clone() });
        self.kernels.kernels.lock().unwrap_or_else(|p| p.into_inner()).insert(key, k.clone());
        k
    }

    /// Record one dispatch of `kernel` over `groups` workgroups into the open encoder.
    pub(crate) fn dispatch<P: bytemuck::Pod>(&self, kernel: &Kernel, tensors: &[&GpuTensor], params: &P, groups: [u32; 3]) -> Result<(), GpuError> {
        if tensors.len() != kernel.bindings.len() {
            return Err(GpuError::Shape(format!("{}: {} tensors for {} bindings", kernel.label, tensors.len(), kernel.bindings.len())));
        }
        // WebGPU forbids one buffer in two bindings of a dispatch when either is writable.
        for (i, a) in tensors.iter().enumerate() {
            // iterator skip, not a skipped test: each unordered pair (i, j > i) is checked once
            for (j, b) in tensors.iter().enumerate().skip(i + 1) {
                let writes = kernel.bindings[i].1 == Access::ReadWrite || kernel.bindings[j].1 == Access::ReadWrite;
                if writes && a.same_buffer(b) {
                    return Err(GpuError::Shape(format!("{}: bindings {i} and {j} alias one buffer that is written", kernel.label)));
                }
            }
        }
        if groups.iter().any(|&g| g > MAX_GROUPS) {
            return Err(GpuError::Shape(format!("{}: {groups:?} workgroups exceed {MAX_GROUPS} per dimension", kernel.label)));
        }
        if groups.iter().any(|&g| g == 0) {
            return Ok(()); // nothing to do (an empty tensor)
        }
        let bytes = bytemuck::bytes_of(params);
        debug_assert!(bytes.len() as u64 <= UNIFORM_SLOT);
        let entries: Vec<wgpu::BindGroupEntry> = tensors
            .iter()
            .enumerate()
            .map(|(i, t)| wgpu::BindGroupEntry { binding: kernel.bindings[i].0, resource: t.buffer().as_entire_binding() })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(&kernel.label), layout: &kernel.layout, entries: &entries });
        self.with_uniform(bytes, |enc, offset| {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(&kernel.label), timestamp_writes: None });
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.set_bind_group(1, &self.uniforms.bind_group, &[offset]);
            pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        });
        Ok(())
    }
}

/// Workgroups needed to cover `n` items, `per` items per workgroup, laid out as (x, y) so that no
/// dimension exceeds the core limit. Kernels recover the flat group index as `y * nx + x`.
pub(crate) fn groups_1d(n: usize, per: u32) -> [u32; 3] {
    let g = (n as u64).div_ceil(per as u64) as u32;
    if g <= MAX_GROUPS {
        [g, 1, 1]
    } else {
        let y = g.div_ceil(MAX_GROUPS);
        [g.div_ceil(y), y, 1]
    }
}
