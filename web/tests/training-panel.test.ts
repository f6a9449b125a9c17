import { describe, expect, it } from 'vitest';
import { TrainingPanel, etaSeconds, formatEta } from '../src/training-panel';

describe('training panel (synthetic test data)', () => {
  it('computes and formats the ETA', () => {
    expect(etaSeconds({ step: 50, totalSteps: 150, loss: 1, exactAccuracy: 0, stepsPerSecond: 10 })).toBe(10);
    expect(etaSeconds({ step: 50, totalSteps: 150, loss: 1, exactAccuracy: 0, stepsPerSecond: 0 })).toBeNull();
    expect(formatEta(null)).toBe('ETA unknown');
    expect(formatEta(42)).toBe('ETA 42 s');
    expect(formatEta(125)).toBe('ETA 2 min 5 s');
    expect(formatEta(7300)).toBe('ETA 2 h 2 min');
  });
  it('plots progress events and shows the worker\'s refusal as an error', async () => {
    document.body.innerHTML = '';
    const panel = new TrainingPanel(document.body, {
      start: async () => { throw new Error('not wired yet'); },
    });
    for (let s = 1; s <= 3; s++) panel.update({ step: s * 10, totalSteps: 100, loss: 2 / s, exactAccuracy: s / 10, stepsPerSecond: 5 });
    expect(panel.loss.length).toBe(3);
    expect(document.querySelector('progress')!.value).toBe(30);
    expect(document.querySelector('.training-status')!.textContent).toBe('step 30/100 · ETA 14 s');
    document.querySelector('button')!.click();
    await new Promise((r) => setTimeout(r, 0));
    const status = document.querySelector('.training-status')!;
    expect(status.textContent).toBe('not wired yet');
    expect(status.classList.contains('error')).toBe(true);
    panel.reset();
    expect(panel.loss.length).toBe(0);
  });
});
