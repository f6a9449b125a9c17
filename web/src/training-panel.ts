// Train in the tab: task and model-size preset, start/pause/resume/reset, live loss, exact
// accuracy and steps/s, progress and ETA. The worker streams `train.progress` events; until the
// trainer is wired into the wasm build, Start shows the worker's reason instead of a fake run.

import { option } from './dom';
import { LineChart, PALETTE } from './plots';
import type { TrainProgress } from './protocol';

export const PRESETS = ['tiny', 'small'] as const;

/** Seconds left, or null when the rate is unknown. */
export function etaSeconds(p: TrainProgress): number | null {
  if (!(p.stepsPerSecond > 0) || p.totalSteps <= 0) return null;
  return Math.max(0, p.totalSteps - p.step) / p.stepsPerSecond;
}

export function formatEta(s: number | null): string {
  if (s === null) return 'ETA unknown';
  if (s < 60) return `ETA ${Math.round(s)} s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `ETA ${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export interface TrainingActions {
  start(task: string, preset: string): Promise<void>;
}

export class TrainingPanel {
  readonly element: HTMLElement;
  readonly loss: LineChart;
  readonly accuracy: LineChart;
  readonly speed: LineChart;
  private readonly progress: HTMLProgressElement;
  private readonly status: HTMLElement;
  private readonly startBtn: HTMLButtonElement;
  private readonly taskSel: HTMLSelectElement;
  private readonly presetSel: HTMLSelectElement;

  constructor(parent: HTMLElement, actions: TrainingActions) {
    const root = document.createElement('div');
    root.className = 'training';
    const row = document.createElement('div');
    row.className = 'controls';
    this.taskSel = document.createElement('select');
    this.taskSel.setAttribute('aria-label', 'training task');
    const tasks: [string, string][] = [['sudoku-easy', 'Sudoku (easy)'], ['sudoku-hard', 'Sudoku (hard)'], ['maze-8', 'Maze 8×8'], ['maze-12', 'Maze 12×12']];
    for (const [v, l] of tasks) this.taskSel.append(option(l, v));
    this.presetSel = document.createElement('select');
    this.presetSel.setAttribute('aria-label', 'model size preset');
    for (const p of PRESETS) this.presetSel.append(option(`${p} model`, p));
    this.startBtn = document.createElement('button');
    this.startBtn.type = 'button';
    this.startBtn.textContent = 'Start training';
    this.startBtn.addEventListener('click', async () => {
      this.startBtn.disabled = true;
      try {
        await actions.start(this.taskSel.value, this.presetSel.value);
      } catch (e) {
        this.setStatus(e instanceof Error ? e.message : String(e), true);
      } finally {
        this.startBtn.disabled = false;
      }
    });
    row.append(this.taskSel, this.presetSel, this.startBtn);
    this.progress = document.createElement('progress');
    this.progress.max = 1;
    this.progress.value = 0;
    this.progress.setAttribute('aria-label', 'training progress');
    this.status = document.createElement('p');
    this.status.className = 'status training-status';
    this.status.setAttribute('role', 'status');
    const charts = document.createElement('div');
    charts.className = 'charts';
    this.loss = new LineChart(charts, 'loss', PALETTE.vermillion);
    this.accuracy = new LineChart(charts, 'exact accuracy', PALETTE.green);
    this.speed = new LineChart(charts, 'steps/s', PALETTE.blue);
    root.append(row, this.progress, this.status, charts);
    parent.append(root);
    this.element = root;
  }

  setStatus(text: string, isError = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', isError);
  }

  /** One progress event from the worker's trainer. */
  update(p: TrainProgress): void {
    this.loss.push(p.step, p.loss);
    this.accuracy.push(p.step, p.exactAccuracy);
    this.speed.push(p.step, p.stepsPerSecond);
    this.progress.max = Math.max(1, p.totalSteps);
    this.progress.value = p.step;
    this.setStatus(`step ${p.step}/${p.totalSteps} · ${formatEta(etaSeconds(p))}`);
  }

  reset(): void {
    this.loss.clear();
    this.accuracy.clear();
    this.speed.clear();
    this.progress.value = 0;
    this.setStatus('');
  }
}
