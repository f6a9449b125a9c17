//! Pooled storage buffers and GPU tensors.
//!
//! A [`GpuTensor`] owns a buffer from the pool; dropping the last handle returns the buffer to the free
//! list of its exact byte size, so a training step that allocates the same shapes every time reuses the
//! same buffers. The pool counts bytes in use and bytes held, with high-water marks: the memory-flat-in-
//! cycles test reads [`PoolStats::peak_allocated_bytes`].
//!
//! Reuse inside one open encoder is safe: commands run in recording order, and uploads are recorded as
//! copies (not queue writes), so a buffer handed out again is written only after its earlier readers ran.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::context::{GpuContext, GpuError};

/// Byte counts of the pool. "allocated" = buffers the pool created and still holds (in use + free).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub live_bytes: u64,
    pub peak_live_bytes: u64,
    pub allocated_bytes: u64,
    pub peak_allocated_bytes: u64,
    /// Buffers created since the context was made (a steady-state step should add none).
    pub buffers_created: u64,
}

#[derive(Default)]
struct PoolInner {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: PoolStats,
}

pub(crate) struct BufferPool {
    inner: Arc<Mutex<PoolInner>>,
    max_bytes: u64,
}

/// A buffer on loan from the pool; goes back on drop.
struct Slot {
    buffer: Option<wgpu::Buffer>,
    bytes: u64,
    pool: Arc<Mutex<PoolInner>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            let mut p = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            p.stats.live_bytes -= self.bytes;
            p.free.entry(self.bytes).or_default().push(b);
        }
    }
}

/// A dense row-major tensor of 4-byte elements (f32, or i32/u32 for ids and labels) in a GPU buffer.
/// Cloning shares the buffer.
#[derive(Clone)]
pub struct GpuTensor {
    slot: Arc<Slot>,
    pub shape: Vec<usize>,
}

impl std::fmt::Debug for GpuTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuTensor{:?}", self.shape)
    }
}

impl GpuTensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.slot.buffer.as_ref().expect("live slot has a buffer")
    }
    /// Bytes of the data (the buffer may be a little larger).
    pub(crate) fn data_bytes(&self) -> u64 {
        4 * self.numel() as u64
    }
    /// The same buffer viewed with another shape of the same element count.
    pub fn reshape(&self, shape: Vec<usize>) -> Result<GpuTensor, GpuError> {
        if shape.iter().product::<usize>() != self.numel() {
            return Err(GpuError::Shape(format!("reshape {:?} -> {:?}: element counts differ", self.shape, shape)));
        }
        Ok(GpuTensor { slot: self.slot.clone(), shape })
    }
    /// Whether two tensors share one buffer (WebGPU forbids binding it twice when one use writes).
    pub fn same_buffer(&self, other: &GpuTensor) -> bool {
        Arc::ptr_eq(&self.slot, &other.slot)
    }
}

/// Storage bindings must be non-empty multiples of 4 bytes; round to 16 so vec4 views stay in bounds.
fn padded(bytes: u64) -> u64 {
    bytes.max(16).div_ceil(16) * 16
}

impl BufferPool {
    pub(crate) fn new(max_bytes: u64) -> BufferPool {
        BufferPool { inner: Arc::default(), max_bytes }
    }

    fn acquire(&self, device: &wgpu::Device, data_bytes: u64) -> Result<Slot, GpuError> {
        let bytes = padded(data_bytes);
        if bytes > self.max_bytes {
            return Err(GpuError::TooLarge { bytes, limit: self.max_bytes });
        }
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let buffer = match p.free.get_mut(&bytes).and_then(Vec::pop) {
            Some(b) => b,
            None => {
                let b = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("pooled"),
                    size: bytes,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                p.stats.allocated_bytes += bytes;
                p.stats.peak_allocated_bytes = p.stats.peak_allocated_bytes.max(p.stats.allocated_bytes);
                p.stats.buffers_created += 1;
                b
            }
        };
        p.stats.live_bytes += bytes;
        p.stats.peak_live_bytes = p.stats.peak_live_bytes.max(p.stats.live_bytes);
        Ok(Slot { buffer: Some(buffer), bytes, pool: self.inner.clone() })
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).stats
    }

    /// Start a new measurement: peaks drop to the current values.
    pub(crate) fn reset_peaks(&self) {
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        p.stats.peak_live_bytes = p.stats.live_bytes;
        p.stats.peak_allocated_bytes = p.stats.allocated_bytes;
    }

    /// Free every buffer not in use.
    pub(crate) fn trim(&self) {
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let freed: u64 = p.free.iter().map(|(bytes, v)| bytes * v.len() as u64).sum();
        p.free.clear();
        p.stats.allocated_bytes -= freed;
    }
}

impl GpuContext {
    /// A tensor with unspecified contents (every kernel that takes one as output overwrites it).
    pub fn empty(&self, shape: &[usize]) -> Result<GpuTensor, GpuError> {
        let n: usize = shape.iter().product();
        let slot = self.pool.acquire(&self.device, 4 * n as u64)?;
        Ok(GpuTensor { slot: Arc::new(slot), shape: shape.to_vec() })
    }

    /// A tensor of zeros (cleared in recording order).
    pub fn zeros(&self, shape: &[usize]) -> Result<GpuTensor, GpuError> {
        let t = self.empty(shape)?;
        self.with_encoder(|enc| enc.clear_buffer(t.buffer(), 0, None));
        Ok(t)
    }

    /// Upload 4-byte values (f32, i32, u32) as a new tensor.
    pub fn upload<T: bytemuck::Pod>(&self, shape: &[usize], data: &[T]) -> Result<GpuTensor, GpuError> {
        if std::mem::size_of::<T>() != 4 {
            return Err(GpuError::Shape("upload: only 4-byte element types".into()));
        }
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(GpuError::Shape(format!("upload: shape {shape:?} needs {n} values, got {}", data.len())));
        }
        let t = self.empty(shape)?;
        self.write(&t, data)?;
        Ok(t)
    }

    /// Overwrite a tensor's contents, ordered after everything recorded so far.
    pub fn write<T: bytemuck::Pod>(&self, t: &GpuTensor, data: &[T]) -> Result<(), GpuError> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        if bytes.len() as u64 != t.data_bytes() {
            return Err(GpuError::Shape(format!("write: tensor {:?} holds {} bytes, got {}", t.shape, t.data_bytes(), bytes.len())));
        }
        if bytes.is_empty() {
            return Ok(());
        }
        // A staging copy recorded in the encoder (not queue.write_buffer, which would run before the
        // commands already recorded and could clobber a reused buffer they still read).
        let size = padded(bytes.len() as u64);
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("upload"),
            size,
            usage: wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: true,
        });
        {
            let mut view = staging.slice(..).get_mapped_range_mut().map_err(|e| GpuError::Readback(format!("upload staging: {e}")))?;
            let mut padded_bytes = bytes.to_vec();
            padded_bytes.resize(size as usize, 0);
            view.copy_from_slice(&padded_bytes);
        }
        staging.unmap();
        self.with_encoder(|enc| enc.copy_buffer_to_buffer(&staging, 0, t.buffer(), 0, (bytes.len() as u64).div_ceil(4) * 4));
        Ok(())
    }

    /// Copy `src` into `dst` (same element count), in recording order.
    pub fn copy(&self, src: &GpuTensor, dst: &GpuTensor) -> Result<(), GpuError> {
        if src.numel() != dst.numel() {
            return Err(GpuError::Shape(format!("copy {:?} -> {:?}: sizes differ", src.shape, dst.shape)));
        }
        if src.numel() > 0 {
            self.with_encoder(|enc| enc.copy_buffer_to_buffer(src.buffer(), 0, dst.buffer(), 0, src.data_bytes()));
        }
        Ok(())
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }
    pub fn reset_pool_peaks(&self) {
        self.pool.reset_peaks()
    }
    pub fn trim_pool(&self) {
        self.pool.trim()
    }
}
