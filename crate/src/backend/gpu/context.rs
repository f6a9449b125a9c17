//! Device setup, error capture, the open command encoder and the uniform ring.
//!
//! Every `dispatch_*` records into one open [`wgpu::CommandEncoder`]; [`GpuContext::flush`] submits it.
//! So a whole segment or training step becomes one submission unless the caller reads something back.
//!
//! Thread safety: the context is `Sync` and may be shared by threads (parallel tests, a worker pool).
//! The recording state — the open encoder and the uniform ring's cursor — sits behind one mutex, and a
//! dispatch reserves its uniform slot and records its pass under that one lock, so no other thread's
//! submission can fall between the two (which would let a later dispatch reuse the slot before this one
//! ran). Commands of different threads interleave in the one encoder in lock order; each thread's own
//! commands stay in its program order, which is all the pool's buffer reuse relies on.
//! Errors that wgpu reports asynchronously (validation, out-of-memory, device loss) are stored on the
//! context and returned by the next `flush`/read as a [`GpuError`], so the caller can fall back to CPU.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::kernels::KernelCache;
use super::pool::BufferPool;

/// Why the GPU backend cannot do what was asked. The caller can fall back to the CPU backend.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuError {
    #[error("gpu: no adapter found (natively install a Vulkan driver, e.g. mesa-vulkan-drivers; in a browser enable WebGPU): {0}")]
    NoAdapter(String),
    #[error("gpu: adapter `{adapter}` is below the core WebGPU limits this backend needs: {problems}")]
    AdapterTooWeak { adapter: String, problems: String },
    #[error("gpu: could not open a device: {0}")]
    RequestDevice(String),
    #[error("gpu: device lost: {0}")]
    DeviceLost(String),
    #[error("gpu: out of memory: {0}")]
    OutOfMemory(String),
    #[error("gpu: a buffer of {bytes} bytes exceeds the device's binding limit of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("gpu: validation error (a bug in this backend): {0}")]
    Validation(String),
    #[error("gpu: reading back failed: {0}")]
    Readback(String),
    #[error("gpu: {0}")]
    Shape(String),
}

/// What the adapter is, for the UI and the logs.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuInfo {
    pub name: String,
    pub backend: String,
    pub driver: String,
    /// A software rasteriser (lavapipe, SwiftShader, WARP): correct but ~100× slower than a real GPU,
    /// so the CPU path is usually faster there. On the web this is `GPUAdapterInfo.isFallbackAdapter`.
    pub is_software: bool,
    pub max_invocations_per_workgroup: u32,
    pub max_storage_buffers_per_stage: u32,
    pub max_workgroup_storage_bytes: u32,
    pub max_storage_binding_bytes: u64,
}

impl std::fmt::Display for GpuInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, driver {}{})",
            self.name,
            self.backend,
            if self.driver.is_empty() { "?" } else { &self.driver },
            if self.is_software { ", software adapter" } else { "" }
        )
    }
}

/// Bytes per slot of the uniform ring: the dynamic-offset alignment every device guarantees.
pub(crate) const UNIFORM_SLOT: u64 = 256;
const UNIFORM_SLOTS: u64 = 1024;

pub(crate) struct UniformRing {
    pub buffer: wgpu::Buffer,
    pub layout: wgpu::BindGroupLayout,
    pub bind_group: wgpu::BindGroup,
}

/// What is being recorded: the open encoder and the next free uniform slot of this submission.
#[derive(Default)]
struct Recorder {
    encoder: Option<wgpu::CommandEncoder>,
    next_uniform: u64,
}

/// The GPU: device, queue, pooled buffers, pipelines built once, and the encoder being recorded.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: GpuInfo,
    /// The first asynchronous error wgpu reported; sticky, since the device state is unknown after it.
    error: Arc<Mutex<Option<GpuError>>>,
    pub(crate) pool: BufferPool,
    pub(crate) kernels: KernelCache,
    recorder: Mutex<Recorder>,
    pub(crate) uniforms: UniformRing,
    submissions: AtomicU64,
    bytes_read: AtomicU64,
}

impl GpuContext {
    /// Open the default adapter (`WGPU_ADAPTER_NAME` / `WGPU_BACKEND` / `WGPU_POWER_PREF` pick another)
    /// with core WebGPU limits, so that what passes here also runs in a browser.
    pub async fn new() -> Result<GpuContext, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = wgpu::util::initialize_adapter_from_env_or_default(&instance, None)
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let ainfo = adapter.get_info();
        let have = adapter.limits();
        let mut problems = Vec::new();
        let need = |name: &str, want: u64, got: u64, problems: &mut Vec<String>| {
            if got < want {
                problems.push(format!("{name} {got} < {want}"));
            }
        };
        need("max_compute_invocations_per_workgroup", 256, have.max_compute_invocations_per_workgroup as u64, &mut problems);
        need("max_compute_workgroup_size_x", 256, have.max_compute_workgroup_size_x as u64, &mut problems);
        need("max_storage_buffers_per_shader_stage", 8, have.max_storage_buffers_per_shader_stage as u64, &mut problems);
        need("max_compute_workgroup_storage_size", 16384, have.max_compute_workgroup_storage_size as u64, &mut problems);
        need("max_dynamic_uniform_buffers_per_pipeline_layout", 1, have.max_dynamic_uniform_buffers_per_pipeline_layout as u64, &mut problems);
        if !problems.is_empty() {
            return Err(GpuError::AdapterTooWeak { adapter: ainfo.name.clone(), problems: problems.join(", ") });
        }
        // Core WebGPU limits, lowered where the adapter has less: never more than a browser gives.
        let limits = wgpu::Limits::defaults().or_worse_values_from(&have);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("hrm"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::RequestDevice(e.to_string()))?;

        let error: Arc<Mutex<Option<GpuError>>> = Arc::new(Mutex::new(None));
        {
            let slot = error.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                let err = match &e {
                    wgpu::Error::OutOfMemory { .. } => GpuError::OutOfMemory(e.to_string()),
                    wgpu::Error::Validation { description, .. } => GpuError::Validation(description.clone()),
                    wgpu::Error::Internal { description, .. } => GpuError::Validation(description.clone()),
                };
                let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
                s.get_or_insert(err);
            }));
            let slot = error.clone();
            device.set_device_lost_callback(move |reason, message| {
                let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
                s.get_or_insert(GpuError::DeviceLost(format!("{reason:?}: {message}")));
            });
        }

        let info = GpuInfo {
            name: ainfo.name.clone(),
            backend: format!("{:?}", ainfo.backend),
            driver: format!("{} {}", ainfo.driver, ainfo.driver_info).trim().to_string(),
            is_software: ainfo.device_type == wgpu::DeviceType::Cpu,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_storage_buffers_per_stage: limits.max_storage_buffers_per_shader_stage,
            max_workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
            max_storage_binding_bytes: limits.max_storage_buffer_binding_size,
        };
        let uniforms = UniformRing::new(&device);
        let pool = BufferPool::new(limits.max_storage_buffer_binding_size.min(limits.max_buffer_size));
        Ok(GpuContext {
            device,
            queue,
            info,
            error,
            pool,
            kernels: KernelCache::default(),
            recorder: Mutex::default(),
            uniforms,
            submissions: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
        })
    }

    /// Blocking [`GpuContext::new`] for native callers (CLI, tests).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<GpuContext, GpuError> {
        pollster::block_on(GpuContext::new())
    }

    pub fn info(&self) -> &GpuInfo {
        &self.info
    }

    /// The first error wgpu reported since the context was made, if any (sticky).
    pub fn check(&self) -> Result<(), GpuError> {
        match &*self.error.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Give the device up now: every later use reports [`GpuError::DeviceLost`] instead of running. For
    /// an application that switches to the CPU backend and wants the GPU memory back at once; it is also
    /// how the tests produce a lost device.
    pub fn destroy(&self) {
        self.device.destroy();
        self.record(GpuError::DeviceLost("the device was destroyed (GpuContext::destroy)".into()));
    }

    /// Keep `e` as the context's error unless an earlier one is already there (the first error is
    /// usually the cause of the later ones).
    pub fn record(&self, e: GpuError) {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
    }

    fn recorder(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open<'a>(&self, rec: &'a mut Recorder) -> &'a mut wgpu::CommandEncoder {
        rec.encoder.get_or_insert_with(|| self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("hrm step") }))
    }

    /// Submit `rec`'s encoder (if any) and start a new submission's uniform slots. Caller holds the lock.
    fn submit_locked(&self, rec: &mut Recorder) {
        if let Some(enc) = rec.encoder.take() {
            self.queue.submit(Some(enc.finish()));
            self.submissions.fetch_add(1, Ordering::Relaxed);
        }
        // Slots written from now on belong to the next submission; queue writes are ordered after it.
        rec.next_uniform = 0;
    }

    /// Run `f` on the open encoder (opening one if needed).
    pub(crate) fn with_encoder<R>(&self, f: impl FnOnce(&mut wgpu::CommandEncoder) -> R) -> R {
        let mut rec = self.recorder();
        f(self.open(&mut rec))
    }

    /// Reserve a uniform slot for `bytes` (≤ 256), write it, and run `f` with the open encoder and the
    /// slot's dynamic offset — all under the recording lock (see the module notes). A full ring submits
    /// early, which only splits the work; an error there is reported by the next flush.
    pub(crate) fn with_uniform<R>(&self, bytes: &[u8], f: impl FnOnce(&mut wgpu::CommandEncoder, u32) -> R) -> R {
        assert!(bytes.len() as u64 <= UNIFORM_SLOT, "uniform block of {} bytes > {UNIFORM_SLOT}", bytes.len());
        let mut rec = self.recorder();
        if rec.next_uniform >= UNIFORM_SLOTS {
            self.submit_locked(&mut rec);
        }
        let offset = rec.next_uniform * UNIFORM_SLOT;
        rec.next_uniform += 1;
        self.queue.write_buffer(&self.uniforms.buffer, offset, bytes);
        f(self.open(&mut rec), offset as u32)
    }

    /// Submit everything recorded so far (one submission) and report any error wgpu raised.
    pub fn flush(&self) -> Result<(), GpuError> {
        self.submit_locked(&mut self.recorder());
        self.check()
    }

    /// How many submissions this context has made (a whole step should need very few).
    pub fn submissions(&self) -> u64 {
        self.submissions.load(Ordering::Relaxed)
    }

    /// Bytes read back to the host since the context was made (a training step with the optimizers on
    /// the device reads only the segment's small per-row results).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    pub(crate) fn count_read(&self, bytes: u64) {
        self.bytes_read.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Wait natively until the GPU has finished all submitted work (no-op on the web).
    pub(crate) fn wait_idle(&self) -> Result<(), GpuError> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::DeviceLost(e.to_string()))?;
        Ok(())
    }
}

impl UniformRing {
    fn new(device: &wgpu::Device) -> UniformRing {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("uniform ring"),
            size: UNIFORM_SLOT * UNIFORM_SLOTS,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("params"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("params"),
            layout: &layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &buffer,
                    offset: 0,
                    size: wgpu::BufferSize::new(UNIFORM_SLOT),
                }),
            }],
        });
        UniformRing { buffer, layout, bind_group }
    }
}
