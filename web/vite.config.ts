import { defineConfig } from 'vite';

// The worker imports the wasm-pack output (pkg/hrm.js), which loads hrm_bg.wasm through
// `new URL(..., import.meta.url)`; Vite copies that asset. ES-module workers keep the import.
export default defineConfig({
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  server: { host: '127.0.0.1', port: 5173 },
});
