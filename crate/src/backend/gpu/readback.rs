//! Reading tensors back to the host: the same code on both targets. The copy is recorded after
//! everything pending, the encoder is submitted, and the staging buffer is mapped; natively the device
//! is polled until the map completes, on the web the browser's event loop completes it while we await.

use super::context::{GpuContext, GpuError};
use super::pool::GpuTensor;

impl GpuContext {
    /// A mappable buffer the copies of a readback land in.
    fn staging(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Submits everything recorded (the copies into `staging` last) and waits until `staging` is mapped.
    async fn submit_and_map(&self, staging: &wgpu::Buffer) -> Result<(), GpuError> {
        self.flush()?;
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait_idle()?;
        let mapped = rx.await.map_err(|_| GpuError::Readback("the map callback was dropped (device lost?)".into()))?;
        mapped.map_err(|e| GpuError::Readback(e.to_string()))?;
        self.check()
    }

    /// The raw 4-byte words of a tensor (submits all recorded work first).
    pub async fn read_words<T: bytemuck::Pod>(&self, t: &GpuTensor) -> Result<Vec<T>, GpuError> {
        if std::mem::size_of::<T>() != 4 {
            return Err(GpuError::Shape("read: only 4-byte element types".into()));
        }
        let n = t.numel();
        if n == 0 {
            self.flush()?;
            return Ok(Vec::new());
        }
        let bytes = t.data_bytes();
        let staging = self.staging(bytes);
        self.with_encoder(|enc| enc.copy_buffer_to_buffer(t.buffer(), 0, &staging, 0, bytes));
        self.submit_and_map(&staging).await?;
        self.count_read(bytes);
        let out = {
            let view = staging.slice(..).get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
            bytemuck::cast_slice::<u8, T>(&view).to_vec()
        };
        staging.unmap();
        Ok(out)
    }

    /// Several f32 tensors in one round trip: one staging buffer, one submission, one map.
    pub async fn read_many(&self, ts: &[&GpuTensor]) -> Result<Vec<Vec<f32>>, GpuError> {
        let total: u64 = ts.iter().map(|t| t.data_bytes()).sum();
        if total == 0 {
            self.flush()?;
            return Ok(ts.iter().map(|_| Vec::new()).collect());
        }
        let staging = self.staging(total);
        let mut offset = 0;
        for t in ts {
            let bytes = t.data_bytes();
            if bytes > 0 {
                self.with_encoder(|enc| enc.copy_buffer_to_buffer(t.buffer(), 0, &staging, offset, bytes));
            }
            offset += bytes;
        }
        self.submit_and_map(&staging).await?;
        self.count_read(total);
        let out = {
            let view = staging.slice(..).get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
            let all: &[f32] = bytemuck::cast_slice(&view);
            let mut start = 0;
            ts.iter()
                .map(|t| {
                    let v = all[start..start + t.numel()].to_vec();
                    start += t.numel();
                    v
                })
                .collect()
        };
        staging.unmap();
        Ok(out)
    }

    pub async fn read_f32(&self, t: &GpuTensor) -> Result<Vec<f32>, GpuError> {
        self.read_words::<f32>(t).await
    }

    /// Blocking read for native callers.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_f32_blocking(&self, t: &GpuTensor) -> Result<Vec<f32>, GpuError> {
        pollster::block_on(self.read_f32(t))
    }

    /// Blocking read of integer tensors for native callers.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_u32_blocking(&self, t: &GpuTensor) -> Result<Vec<u32>, GpuError> {
        pollster::block_on(self.read_words::<u32>(t))
    }

    /// Wait until all submitted work has finished and report any error (a sync point for timing).
    pub async fn finish(&self) -> Result<(), GpuError> {
        self.flush()?;
        let (tx, rx) = futures_channel::oneshot::channel();
        self.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        self.wait_idle()?;
        rx.await.map_err(|_| GpuError::DeviceLost("work-done callback dropped".into()))?;
        self.check()
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn finish_blocking(&self) -> Result<(), GpuError> {
        pollster::block_on(self.finish())
    }
}
