import { beforeEach, describe, expect, it } from 'vitest';
import type { TrainProgress, TrainSnapshot, TrainWeights } from '../src/protocol';
import { TrainingPanel, type TrainingApi } from '../src/training-panel';

const task = { id: 'reverse', label: 'Reverse 8 symbols (fast)', family: 'synthetic' as const, seqLen: 8, vocabSize: 5, totalSteps: 100 };
const run = { runId: 7, task, preset: 'tiny', parameters: 4321, backend: 'cpu' as const, adapter: '', backendNote: '', step: 0, totalSteps: 100 };
const idle: TrainSnapshot = { state: 'idle', pausedBy: null, run: null, history: [], evals: [], savedStep: null, message: '' };
const prog = (step: number): TrainProgress => ({ step, totalSteps: 100, loss: 2 / step, exactAccuracy: step / 100, stepsPerSecond: 5 });
const tick = () => new Promise((r) => setTimeout(r, 0));

function fakeApi(restored: TrainSnapshot = idle) {
  const calls: string[] = [];
  const weights: TrainWeights = { weights: new Uint8Array([1, 2, 3]), fileName: 'hrm-reverse-tiny-step3.safetensors', step: 3, family: 'synthetic' };
  const api: TrainingApi = {
    catalog: async () => ({ tasks: [task, { ...task, id: 'maze-6', label: 'Maze 6×6' }], presets: [{ id: 'tiny', label: 'tiny', batchSize: 32, hiddenSize: 32 }, { id: 'small', label: 'small', batchSize: 32, hiddenSize: 64 }] }),
    start: async (c) => { calls.push(`start ${c.task} ${c.preset}`); return { ...idle, state: 'running', run }; },
    pause: async (r) => { calls.push(`pause ${r}`); return { ...idle, state: 'paused', pausedBy: r, run: { ...run, step: 3 }, savedStep: 3 }; },
    resume: async () => { calls.push('resume'); return { ...idle, state: 'running', run: { ...run, step: 3 }, savedStep: 3 }; },
    reset: async () => { calls.push('reset'); return idle; },
    restore: async () => { calls.push('restore'); return restored; },
    weights: async () => { calls.push('weights'); return weights; },
  };
  return { api, calls, weights };
}

const $ = <T extends Element>(sel: string): T => document.querySelector(sel) as T;
const enabled = (): string[] => [...document.querySelectorAll<HTMLButtonElement>('.training button')].filter((b) => !b.disabled && !b.closest('[hidden]')).map((b) => b.className);

describe('training panel', () => {
  beforeEach(() => { document.body.innerHTML = ''; });

  it('fills the menus from the catalog, starts, plots progress, pauses and resumes', async () => {
    const { api, calls } = fakeApi();
    const used: TrainWeights[] = [];
    const panel = new TrainingPanel(document.body, api, { useModel: async (w) => { used.push(w); }, download: () => undefined });
    await panel.init();
    expect([...document.querySelectorAll('.train-task option')].map((o) => (o as HTMLOptionElement).value)).toEqual(['reverse', 'maze-6']);
    expect(enabled()).toEqual(['train-start']);
    $<HTMLSelectElement>('.train-preset').value = 'small';
    $<HTMLButtonElement>('.train-start').click();
    await tick();
    expect(calls).toEqual(['restore', 'start reverse small']);
    expect(panel.state).toBe('running');
    expect(enabled().sort()).toEqual(['train-export', 'train-pause', 'train-reset', 'train-use']);
    for (let s = 1; s <= 3; s++) panel.onEvent({ type: 'train.progress', runId: 7, progress: prog(s) });
    panel.onEvent({ type: 'train.progress', runId: 6, progress: prog(50) }); // an old run's event: ignored
    panel.onEvent({ type: 'train.eval', runId: 7, eval: { step: 3, exactAccuracy: 0.25, accuracy: 0.6, meanSteps: 2 } });
    expect(panel.loss.length).toBe(3);
    expect(panel.heldOut.length).toBe(1);
    expect($<HTMLProgressElement>('progress').value).toBe(3);
    expect($('.training-status').textContent).toBe('Training: step 3/100 · 5.0 steps/s · ETA 19 s · held-out exact 25.0 % (step 3) · no checkpoint yet.');
    expect($('.train-backend').textContent).toMatch(/^Backend: CPU \(wasm\) · Reverse 8 symbols \(fast\), tiny model, 4,321 parameters/);
    $<HTMLButtonElement>('.train-pause').click();
    await tick();
    expect(panel.state).toBe('paused');
    expect(enabled().sort()).toEqual(['train-export', 'train-reset', 'train-resume', 'train-use']);
    $<HTMLButtonElement>('.train-use').click();
    await tick();
    expect(used.map((w) => w.step)).toEqual([3]);
    $<HTMLButtonElement>('.train-resume').click();
    await tick();
    expect(panel.state).toBe('running');
    expect(panel.loss.length).toBe(3); // the same run: its plot continues
  });

  it('asks before a reset, and Keep leaves the run alone', async () => {
    const { api, calls } = fakeApi();
    const panel = new TrainingPanel(document.body, api, { useModel: async () => undefined, download: () => undefined });
    await panel.init();
    $<HTMLButtonElement>('.train-start').click();
    await tick();
    panel.onEvent({ type: 'train.progress', runId: 7, progress: prog(4) });
    $<HTMLButtonElement>('.train-reset').click();
    expect($<HTMLElement>('.train-confirm').hidden).toBe(false);
    expect($('.train-confirm p').textContent).toMatch(/Discard the run at step 4\?/);
    expect(enabled().sort()).toEqual(['train-confirm-discard', 'train-confirm-keep']);
    $<HTMLButtonElement>('.train-confirm-keep').click();
    expect(calls).not.toContain('reset');
    expect(panel.state).toBe('running');
    $<HTMLButtonElement>('.train-reset').click();
    $<HTMLButtonElement>('.train-confirm-discard').click();
    await tick();
    expect(calls.at(-1)).toBe('reset');
    expect(panel.state).toBe('idle');
    expect(panel.loss.length).toBe(0);
  });

  it('pauses when the tab is hidden and resumes when it is shown', async () => {
    const { api, calls } = fakeApi();
    const panel = new TrainingPanel(document.body, api, { useModel: async () => undefined, download: () => undefined });
    await panel.init();
    $<HTMLButtonElement>('.train-start').click();
    await tick();
    await panel.visibilityChanged(true);
    expect(calls.at(-1)).toBe('pause hidden');
    expect($('.training-status').textContent).toMatch(/paused while the tab was hidden/);
    await panel.visibilityChanged(false);
    expect(calls.at(-1)).toBe('resume');
  });

  it('shows a run restored after a reload, with its plots, paused', async () => {
    const history = [prog(1), prog(2), prog(3)];
    const { api } = fakeApi({ ...idle, state: 'paused', pausedBy: 'reload', run: { ...run, step: 3 }, history, savedStep: 3 });
    const panel = new TrainingPanel(document.body, api, { useModel: async () => undefined, download: () => undefined });
    await panel.init();
    expect(panel.state).toBe('paused');
    expect(panel.loss.length).toBe(3);
    expect($('.training-status').textContent).toMatch(/^Step 3\/100, restored from its checkpoint after a reload/);
    expect($<HTMLElement>('.training').dataset.step).toBe('3');
  });

  it('shows a refusal as an error and stays usable', async () => {
    const { api } = fakeApi();
    api.start = async () => { throw new Error('unknown training task `x`'); };
    const panel = new TrainingPanel(document.body, api, { useModel: async () => undefined, download: () => undefined });
    await panel.init();
    $<HTMLButtonElement>('.train-start').click();
    await tick();
    expect($('.train-error').textContent).toBe('unknown training task `x`');
    expect(panel.state).toBe('idle');
    expect(enabled()).toEqual(['train-start']);
  });
});
