import { describe, expect, it } from 'vitest';
import { WorkerClient, WorkerError, latestOnly, type Endpoint } from '../src/worker-client';
import type { RequestMsg, WorkerEvent } from '../src/protocol';
import { detectBackend, describeBackend, wasmStartError } from '../src/backend';

/** An in-memory endpoint that answers like the worker would. */
class FakeEndpoint implements Endpoint {
  private fns: ((e: MessageEvent) => void)[] = [];
  sent: RequestMsg[] = [];
  postMessage(msg: unknown): void { this.sent.push(msg as RequestMsg); }
  addEventListener(type: string, fn: (e: never) => void): void { if (type === 'message') this.fns.push(fn as (e: MessageEvent) => void); }
  deliver(data: unknown): void { for (const f of this.fns) f(new MessageEvent('message', { data })); }
}

describe('worker protocol', () => {
  it('matches replies to requests by id, in any order, and rejects with the worker\'s message', async () => {
    const ep = new FakeEndpoint();
    const c = new WorkerClient(ep);
    const a = c.call('sudoku.parse', { text: 'x' });
    const b = c.call('maze.solve', { text: 'y' });
    expect(ep.sent.map((m) => m.kind)).toEqual(['sudoku.parse', 'maze.solve']);
    ep.deliver({ id: ep.sent[1]!.id, ok: false, error: 'the goal is unreachable' });
    ep.deliver({ id: ep.sent[0]!.id, ok: true, body: { cells: [1, 2] } });
    await expect(a).resolves.toEqual({ cells: [1, 2] });
    await expect(b).rejects.toBeInstanceOf(WorkerError);
    await expect(b).rejects.toThrow('the goal is unreachable');
  });
  it('passes streamed events to listeners', () => {
    const ep = new FakeEndpoint();
    const c = new WorkerClient(ep);
    const got: WorkerEvent[] = [];
    c.onEvent((e) => got.push(e));
    ep.deliver({ event: { type: 'trace.done', runId: 3 } });
    expect(got).toEqual([{ type: 'trace.done', runId: 3 }]);
  });
  it('latestOnly drops superseded answers', async () => {
    const resolvers: ((v: number) => void)[] = [];
    const f = latestOnly(() => new Promise<number>((r) => resolvers.push(r)));
    const first = f();
    const second = f();
    resolvers[1]!(2);
    resolvers[0]!(1);
    await expect(second).resolves.toBe(2);
    await expect(first).resolves.toBeUndefined();
  });
});

describe('a wasm module that does not start', () => {
  it('says the page needs WebAssembly SIMD and keeps the browser\'s own error', () => {
    const e = wasmStartError(new WebAssembly.CompileError('Compiling function #12 failed: invalid opcode 0xfd'));
    expect(e.message).toMatch(/^this browser could not start the page's WebAssembly module, which needs WebAssembly SIMD \(.*Safari 16\.4\+\): Compiling function #12 failed: invalid opcode 0xfd$/);
    expect(wasmStartError('no memory').message).toMatch(/SIMD.*: no memory$/);
  });
});

describe('backend detection', () => {
  it('reports no WebGPU, no adapter, and fallback adapters', async () => {
    expect((await detectBackend(undefined)).webgpu).toBe('absent');
    expect((await detectBackend({ requestAdapter: async () => null })).webgpu).toBe('no-adapter');
    const fake = { info: { vendor: 'google', architecture: 'swiftshader', description: '', isFallbackAdapter: true } } as unknown as GPUAdapter;
    const r = await detectBackend({ requestAdapter: async () => fake });
    expect(r).toEqual({ webgpu: 'available', fallbackAdapter: true, adapter: 'google / swiftshader' });
    expect(describeBackend(r)).toMatch(/software fallback: the CPU \(wasm\) path is usually faster/);
    const hw = { info: { vendor: 'acme', architecture: 'x', description: '', isFallbackAdapter: false } } as unknown as GPUAdapter;
    expect(describeBackend(await detectBackend({ requestAdapter: async () => hw }))).toMatch(/hardware adapter/);
  });
});
