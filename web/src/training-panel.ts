// Train in the tab: task and model-size preset, start/pause/resume/reset (reset asks first), live
// loss, exact accuracy (training batch and held-out set) and steps/s, progress and ETA, the backend
// that trains, export of the weights and "solve with this model". The worker runs the loop
// (train-worker.ts); this panel only sends requests, shows snapshots and plots progress events.
// A hidden tab pauses training (checkpointed), and showing it again resumes.

import { option } from './dom';
import { LineChart, PALETTE } from './plots';
import type { TrainCatalog, TrainChoice, TrainEvalPoint, TrainPauseReason, TrainProgress, TrainSnapshot, TrainWeights, WorkerEvent } from './protocol';
import { controlsFor, series, statusLine, visibilityAction, type Controls } from './train-state';
import { errorText } from './errors';

export { etaSeconds, formatEta } from './train-state';

/** The worker's training requests, as the panel uses them. */
export interface TrainingApi {
  catalog(): Promise<TrainCatalog>;
  start(choice: Omit<TrainChoice, 'backend'>): Promise<TrainSnapshot>;
  pause(reason: TrainPauseReason): Promise<TrainSnapshot>;
  resume(): Promise<TrainSnapshot>;
  reset(): Promise<TrainSnapshot>;
  restore(): Promise<TrainSnapshot>;
  weights(): Promise<TrainWeights>;
}

export interface TrainingHooks {
  /** Hands the weights to the solver ("solve with the model being trained"). */
  useModel(w: TrainWeights): Promise<void>;
  /** Saves the weights as a file. */
  download(w: TrainWeights): void;
}


const EMPTY: TrainSnapshot = { state: 'idle', pausedBy: null, run: null, history: [], evals: [], savedStep: null, message: '' };

function button(label: string, cls: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.className = cls;
  return b;
}

export class TrainingPanel {
  readonly element: HTMLElement;
  readonly loss: LineChart;
  readonly accuracy: LineChart;
  readonly heldOut: LineChart;
  readonly speed: LineChart;
  private readonly progress: HTMLProgressElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;
  private readonly backendLine: HTMLElement;
  private readonly confirmBox: HTMLElement;
  private readonly confirmText: HTMLElement;
  private readonly taskSel: HTMLSelectElement;
  private readonly presetSel: HTMLSelectElement;
  private readonly buttons: Record<keyof Omit<Controls, 'choose'>, HTMLButtonElement>;
  private snap: TrainSnapshot = EMPTY;
  private history: TrainProgress[] = [];
  private evals: TrainEvalPoint[] = [];
  private busy = false;
  private confirming = false;
  private available = true;

  constructor(parent: HTMLElement, private readonly api: TrainingApi, private readonly hooks: TrainingHooks) {
    const root = document.createElement('div');
    root.className = 'training';
    const row = document.createElement('div');
    row.className = 'controls';
    this.taskSel = document.createElement('select');
    this.taskSel.className = 'train-task';
    this.taskSel.setAttribute('aria-label', 'training task');
    this.presetSel = document.createElement('select');
    this.presetSel.className = 'train-preset';
    this.presetSel.setAttribute('aria-label', 'model size preset');
    this.buttons = {
      start: button('Start training', 'train-start'),
      pause: button('Pause', 'train-pause'),
      resume: button('Resume', 'train-resume'),
      reset: button('Reset…', 'train-reset'),
      useModel: button('Solve with this model', 'train-use'),
      exportWeights: button('Export weights (.safetensors)', 'train-export'),
    };
    const b = this.buttons;
    b.start.addEventListener('click', () => void this.request(() => this.api.start({ task: this.taskSel.value, preset: this.presetSel.value })));
    b.pause.addEventListener('click', () => void this.request(() => this.api.pause('user')));
    b.resume.addEventListener('click', () => void this.request(() => this.api.resume()));
    b.reset.addEventListener('click', () => this.askReset());
    b.useModel.addEventListener('click', () => void this.withWeights((w) => this.hooks.useModel(w), 'handed to the solver'));
    b.exportWeights.addEventListener('click', () => void this.withWeights(async (w) => this.hooks.download(w), 'exported'));
    row.append(this.taskSel, this.presetSel, b.start, b.pause, b.resume, b.reset);
    const row2 = document.createElement('div');
    row2.className = 'controls';
    row2.append(b.useModel, b.exportWeights);

    this.confirmBox = document.createElement('div');
    this.confirmBox.className = 'train-confirm';
    this.confirmBox.setAttribute('role', 'alertdialog');
    this.confirmBox.hidden = true;
    this.confirmText = document.createElement('p');
    const discard = button('Discard the run', 'train-confirm-discard');
    const keep = button('Keep it', 'train-confirm-keep');
    discard.addEventListener('click', () => {
      this.confirming = false;
      this.confirmBox.hidden = true;
      void this.request(() => this.api.reset());
    });
    keep.addEventListener('click', () => {
      this.confirming = false;
      this.confirmBox.hidden = true;
      this.render();
      this.buttons.reset.focus();
    });
    this.confirmBox.append(this.confirmText, discard, keep);

    this.backendLine = document.createElement('p');
    this.backendLine.className = 'status train-backend';
    this.progress = document.createElement('progress');
    this.progress.max = 1;
    this.progress.value = 0;
    this.progress.setAttribute('aria-label', 'training progress');
    this.status = document.createElement('p');
    this.status.className = 'status training-status';
    this.status.setAttribute('role', 'status');
    this.error = document.createElement('p');
    this.error.className = 'status error train-error';
    this.error.setAttribute('role', 'alert');
    const charts = document.createElement('div');
    charts.className = 'charts';
    this.loss = new LineChart(charts, 'loss', PALETTE.vermillion);
    this.accuracy = new LineChart(charts, 'exact accuracy (training batch)', PALETTE.green);
    this.heldOut = new LineChart(charts, 'exact accuracy (held-out set)', PALETTE.purple);
    this.speed = new LineChart(charts, 'steps/s', PALETTE.blue);
    this.loss.element.classList.add('train-loss');
    this.accuracy.element.classList.add('train-exact');
    this.heldOut.element.classList.add('train-heldout');
    this.speed.element.classList.add('train-speed');
    root.append(row, row2, this.confirmBox, this.backendLine, this.progress, this.status, this.error, charts);
    parent.append(root);
    this.element = root;
    this.render();
  }

  /** Fills the menus and picks up a run saved before a reload. */
  async init(): Promise<void> {
    try {
      const c = await this.api.catalog();
      this.taskSel.replaceChildren(...c.tasks.map((t) => option(`${t.label} · ${t.totalSteps} steps`, t.id)));
      this.presetSel.replaceChildren(...c.presets.map((p) => option(p.label, p.id)));
      await this.request(() => this.api.restore());
    } catch (e) {
      this.setUnavailable(errorText(e));
    }
  }

  /** Training cannot run in this build or browser: say why, offer nothing. */
  setUnavailable(reason: string): void {
    this.available = false;
    this.setStatus(reason, true);
    this.render();
  }

  /** A status line, or (isError) a message in the alert line under it. */
  setStatus(text: string, isError = false): void {
    if (isError) this.error.textContent = text;
    else this.status.textContent = text;
  }

  get state(): TrainSnapshot['state'] {
    return this.snap.state;
  }

  /** Events from the worker (other kinds are ignored). */
  onEvent(ev: WorkerEvent): void {
    if (ev.type !== 'train.progress' && ev.type !== 'train.eval' && ev.type !== 'train.state') return;
    if (ev.runId !== (this.snap.run?.runId ?? -1) && ev.type !== 'train.state') return;
    if (ev.type === 'train.progress') {
      this.history.push(ev.progress);
      this.drawProgress();
      this.element.dataset.step = String(ev.progress.step);
    } else if (ev.type === 'train.eval') {
      this.evals.push(ev.eval);
      this.snap = { ...this.snap, evals: [...this.evals] };
      this.drawProgress();
      this.render();
    } else {
      this.show(ev.snapshot);
    }
  }

  /** A hidden tab pauses a running run; showing the tab again resumes what hiding paused. */
  async visibilityChanged(hidden: boolean): Promise<void> {
    const act = visibilityAction(this.snap, hidden);
    if (act === 'pause') await this.request(() => this.api.pause('hidden'));
    else if (act === 'resume') await this.request(() => this.api.resume());
  }

  /** Clears the plots (a new run). */
  reset(): void {
    this.history = [];
    this.evals = [];
    this.drawProgress();
  }

  private askReset(): void {
    const step = this.history.at(-1)?.step ?? this.snap.run?.step ?? 0;
    this.confirmText.textContent = `Discard the run at step ${step}? Its weights and checkpoint are deleted; export them first to keep them.`;
    this.confirming = true;
    this.confirmBox.hidden = false;
    this.render();
    (this.confirmBox.querySelector('.train-confirm-keep') as HTMLButtonElement).focus();
  }

  private async request(f: () => Promise<TrainSnapshot>): Promise<void> {
    this.busy = true;
    this.error.textContent = '';
    this.render();
    try {
      this.show(await f());
    } catch (e) {
      this.setStatus(errorText(e), true);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  private async withWeights(f: (w: TrainWeights) => Promise<void>, what: string): Promise<void> {
    this.error.textContent = '';
    try {
      const w = await this.api.weights();
      await f(w);
      this.backendLine.dataset.last = `${what} at step ${w.step}`;
      this.render();
    } catch (e) {
      this.setStatus(errorText(e), true);
    }
  }

  private show(s: TrainSnapshot): void {
    const newRun = s.run?.runId !== this.snap.run?.runId;
    this.snap = s;
    if (newRun || s.state === 'idle') {
      this.history = [...s.history];
      this.evals = [...s.evals];
    }
    if (s.run) {
      const t = this.taskSel.querySelector(`option[value="${s.run.task.id}"]`);
      if (t) this.taskSel.value = s.run.task.id;
      this.presetSel.value = s.run.preset;
    }
    this.drawProgress();
    this.render();
  }

  private drawProgress(): void {
    const ser = series(this.history, this.evals);
    this.loss.setPoints(ser.loss);
    this.accuracy.setPoints(ser.exact);
    this.heldOut.setPoints(ser.heldOut);
    this.speed.setPoints(ser.speed);
    const last = this.history.at(-1);
    const total = this.snap.run?.totalSteps ?? 1;
    this.progress.max = Math.max(1, total);
    this.progress.value = last?.step ?? this.snap.run?.step ?? 0;
    this.setStatus(statusLine({ ...this.snap, evals: this.evals }, last));
  }

  private render(): void {
    const c = controlsFor(this.snap.state, this.busy, this.confirming);
    const on = (x: boolean): boolean => this.available && x;
    this.taskSel.disabled = !on(c.choose);
    this.presetSel.disabled = !on(c.choose);
    for (const [k, btn] of Object.entries(this.buttons) as [keyof typeof this.buttons, HTMLButtonElement][]) btn.disabled = !on(c[k]);
    const run = this.snap.run;
    this.element.dataset.state = this.snap.state;
    this.element.dataset.step = String(this.history.at(-1)?.step ?? run?.step ?? 0);
    const ev = this.evals.at(-1);
    this.element.dataset.heldOut = ev ? `${ev.exactAccuracy} @ ${ev.step}` : '';
    const last = this.backendLine.dataset.last ? ` · weights ${this.backendLine.dataset.last}` : '';
    const where = run?.backend === 'webgpu' ? `WebGPU${run.adapter ? ` (${run.adapter})` : ''}` : 'CPU (wasm)';
    this.backendLine.textContent = run
      ? `Backend: ${where} · ${run.task.label}, ${run.preset} model, ${run.parameters.toLocaleString('en')} parameters${last}.${run.backendNote ? ` ${run.backendNote}` : ''}`
      : 'Backend: chosen at the top of the page (auto picks WebGPU only on a hardware adapter).';
  }
}
