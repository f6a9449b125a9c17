// Which compute backends exist here. The wasm CPU path always does; WebGPU only with an adapter,
// and a software-fallback adapter (SwiftShader in headless Chromium) is usually slower than the CPU.

import { errorText } from './errors';
import type { BackendReport } from './protocol';

type GpuLike = { requestAdapter(): Promise<GPUAdapter | null> };

export async function detectBackend(gpu: GpuLike | undefined): Promise<BackendReport> {
  if (!gpu) return { webgpu: 'absent', fallbackAdapter: null, adapter: '' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch {
    adapter = null;
  }
  if (!adapter) return { webgpu: 'no-adapter', fallbackAdapter: null, adapter: '' };
  const info = adapter.info;
  // Newer browsers report it on GPUAdapterInfo, older ones on the adapter itself.
  const legacy = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const onInfo = (info as unknown as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter;
  const fallback = typeof onInfo === 'boolean' ? onInfo : typeof legacy === 'boolean' ? legacy : null;
  const name = info ? [info.vendor, info.architecture, info.description].filter((s) => s).join(' / ') : '';
  return { webgpu: 'available', fallbackAdapter: fallback, adapter: name };
}

/**
 * The error of a wasm module that would not start, saying what the page needs: its build uses
 * WebAssembly SIMD (.cargo/config.toml), which browsers before Chrome/Edge 91, Firefox 89 and
 * Safari 16.4 cannot compile.
 */
export function wasmStartError(e: unknown): Error {
  return new Error(`this browser could not start the page's WebAssembly module, which needs WebAssembly SIMD (Chrome or Edge 91+, Firefox 89+, Safari 16.4+): ${errorText(e)}`);
}

/** One sentence for the header. */
export function describeBackend(r: BackendReport): string {
  switch (r.webgpu) {
    case 'absent':
      return 'WebGPU is not available in this browser; the model would run on the CPU (wasm).';
    case 'no-adapter':
      return 'WebGPU exists but offered no adapter; the model would run on the CPU (wasm).';
    case 'available': {
      const who = r.adapter ? ` (${r.adapter})` : '';
      if (r.fallbackAdapter) return `WebGPU adapter${who} is a software fallback: the CPU (wasm) path is usually faster here.`;
      if (r.fallbackAdapter === false) return `WebGPU adapter${who} is a hardware adapter.`;
      return `WebGPU adapter${who}; the browser does not say whether it is a software fallback.`;
    }
  }
}
