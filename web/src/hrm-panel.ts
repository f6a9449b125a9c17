// The "Watch HRM think" panel: the model list (manifest, accuracy labels, download with progress,
// cache), checkpoints the user drops in, the backend that runs, and HRM runs streamed from the
// worker into the trace player, the residual / Q / PCA plots and the boards. Editing the puzzle
// while a run is shown re-solves from the current states, so the view re-converges.

import { pickCheckpointFiles } from './checkpoint-files';
import { pathIsValid, predictedPath } from './hrm-input';
import { toTokens } from './maze';
import type { MazeEditor } from './maze-editor';
import { describeModel, fetchModel, parseManifest, recipeLines, type ModelEntry } from './models';
import { PcaPlot, QPanel, ResidualPlot } from './plots';
import type { BackendChoice, HrmBackend, HrmModel, HrmRunStart, HrmTriesResult, WorkerEvent } from './protocol';
import type { SudokuBoard } from './sudoku-board';
import { conflicts } from './sudoku';
import type { Task, Trace } from './trace';
import { PlayerControls, TracePlayer, TraceView } from './trace-player';
import type { Settings } from './url-state';
import type { WorkerClient } from './worker-client';
import { errorText } from './errors';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
};

export const MANIFEST_URL = new URL('models/manifest.json', document.baseURI).toString();

/** One line saying which backend runs a model, and what to know about it. */
export function describeRunning(b: HrmBackend, model: HrmModel | null): string {
  const who = model ? `${model.name} (${model.task}, ${model.parameters.toLocaleString('en')} parameters)` : 'The model';
  const where = b.backend === 'webgpu' ? `WebGPU on ${b.adapter}` : 'the CPU (wasm)';
  const soft = b.backend === 'webgpu' && b.software ? ' This is a software adapter: the CPU path is usually faster.' : '';
  return `${who} runs on ${where}.${soft}${b.note ? ` ${b.note}` : ''}`;
}

/** A summary of the final step for the status line. */
export function describeResult(t: Trace): string {
  const last = t.steps.at(-1);
  if (!last) return 'no steps recorded';
  const segs = t.segments.length;
  const halted = t.segments.find((s) => s.halted);
  const act = halted ? `ACT's Q head says halt after segment ${halted.segment + 1}` : 'Q-halt never exceeded Q-continue';
  if (t.task === 'sudoku') {
    const digits = Array.from(last.prediction, (tok) => (tok >= 2 && tok <= 10 ? tok - 1 : 0));
    const blanks = digits.filter((d) => d === 0).length;
    const bad = conflicts(digits).size;
    const kept = t.input.every((tok, i) => tok < 2 || tok === last.prediction[i]);
    const verdict = blanks === 0 && bad === 0 && kept ? 'a valid solution' : `not a solution (${bad} cells break a rule, ${blanks} left blank${kept ? '' : ', givens changed'})`;
    return `After ${segs} segment${segs === 1 ? '' : 's'} the model's answer is ${verdict}; ${act}.`;
  }
  const ok = pathIsValid(t.input, last.prediction);
  return `After ${segs} segment${segs === 1 ? '' : 's'} the model's path ${ok ? 'joins S to G through open cells' : 'is not a valid S→G route'} (${predictedPath(last.prediction).length} path cells); ${act}.`;
}

/**
 * The segments a run may use: the page's setting, or else as many as the model was trained with
 * (its halt_max_steps), at least 16: states past the trained number can drift, yet the 1-D Sudoku
 * model, trained with 8, solves more medium puzzles with 16 (README: Trained models).
 */
export function runSegments(setting: number | null, haltMaxSteps: number): number {
  return setting ?? Math.min(64, Math.max(16, haltMaxSteps));
}

/**
 * "Try copies" per task: the copies and the least segments of the README's tries rows. Sudoku: 16
 * copies for up to 32 segments (the 2-D model: 97.4 % of hard puzzles, against 85.6 % with 8 copies
 * and 16); mazes: their 8 orientations for 16. The run stops at the first copy that passes, so easy
 * puzzles pay little.
 */
export const TRIES: Record<Task, { copies: number; segments: number }> = { sudoku: { copies: 16, segments: 32 }, maze: { copies: 8, segments: 16 } };

/** The copies and segments a "Try copies" run of `task` uses, with the page's `segments` setting. */
export function triesPlan(task: Task, segments: number): { tries: number; segments: number } {
  return { tries: TRIES[task].copies, segments: Math.max(segments, TRIES[task].segments) };
}

/** The status line of a "Try copies" run. */
export function describeTries(task: Task, r: HrmTriesResult, segments: number): string {
  const ms = `${(r.ms / 1000).toFixed(1)} s`;
  if (!r.solved) {
    return `None of the ${r.tries} copies' answers passed the rules check within ${segments} segments (${ms}); the exact solver above always finds the answer.`;
  }
  const which = r.copy === 0 ? 'the puzzle as given' : task === 'sudoku' ? 'digits relabelled, rows and columns shuffled' : 'the maze rotated or mirrored';
  const where = task === 'sudoku' ? 'on the board' : 'on the maze';
  return `Copy ${r.copy + 1} of ${r.tries} (${which}) passed the rules check after ${r.segment} segment${r.segment === 1 ? '' : 's'}; its answer, mapped back, is shown ${where} (${ms}).`;
}

export interface PanelDeps {
  worker: WorkerClient;
  board: SudokuBoard;
  editor: MazeEditor;
  settings: Settings;
  saveUrl: () => void;
  /** A maze model of this grid size was loaded (main.ts: fit an undrawn maze to it). */
  fitMaze: (size: number) => Promise<void>;
}

export class HrmPanel {
  private readonly player: TracePlayer;
  private readonly residuals: ResidualPlot;
  private readonly qpanel: QPanel;
  private readonly pca: PcaPlot;
  private models = new Map<Task, HrmModel>();
  private manifest: ModelEntry[] = [];
  private run: { id: number; trace: Trace; start: HrmRunStart; loaded: boolean } | null = null;
  private shown: Task | null = null;
  private editTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly status = $('hrm-status');
  private readonly error = $('hrm-error');

  constructor(private readonly d: PanelDeps) {
    this.player = new TracePlayer(undefined, d.settings.speed);
    new TraceView($('trace'), this.player);
    new PlayerControls($('trace'), this.player);
    this.residuals = new ResidualPlot($('residuals'));
    this.qpanel = new QPanel($('qvalues'));
    this.pca = new PcaPlot($('pca'));
    this.player.onChange(() => this.onStep());
    d.worker.onEvent((e) => this.onEvent(e));
    // Read-only view of the last run for the e2e tests (they compare backends step by step).
    (window as unknown as { hrmTrace: () => Trace | null }).hrmTrace = () => this.run?.trace ?? null;

    const segments = $<HTMLInputElement>('hrm-segments');
    const act = $<HTMLInputElement>('hrm-act');
    const showSegments = () => { segments.value = d.settings.segments === null ? '' : String(d.settings.segments); };
    showSegments();
    act.checked = d.settings.act;
    segments.addEventListener('change', () => {
      // empty: back to each model's own number
      d.settings.segments = segments.value.trim() === '' ? null : Math.min(64, Math.max(1, Math.round(Number(segments.value)) || 1));
      showSegments();
      d.saveUrl();
    });
    act.addEventListener('change', () => {
      d.settings.act = act.checked;
      d.saveUrl();
    });
    $('hrm-solve-sudoku').addEventListener('click', () => void this.solve('sudoku', false));
    $('hrm-solve-maze').addEventListener('click', () => void this.solve('maze', false));
    $('hrm-stop').addEventListener('click', () => void d.worker.call('hrm.stop', {}));
    $('hrm-tries').addEventListener('click', () => void this.tryCopies());
    $('model-load').addEventListener('click', () => void this.loadSelected());
    $<HTMLSelectElement>('model-select').addEventListener('change', () => this.showAccuracy());

    const input = $<HTMLInputElement>('ckpt-file');
    input.addEventListener('change', () => void this.loadFiles([...(input.files ?? [])]));
    const section = $('hrm-section');
    section.addEventListener('dragover', (e) => e.preventDefault());
    section.addEventListener('drop', (e) => {
      e.preventDefault();
      void this.loadFiles([...(e.dataTransfer?.files ?? [])]);
    });
  }

  /** An edit of the board or the maze: re-solve from the current states when a run of that task is shown. */
  edited(task: Task): void {
    if (!$<HTMLInputElement>('hrm-live').checked || this.shown !== task || !this.models.has(task)) return;
    if (this.editTimer) clearTimeout(this.editTimer);
    this.editTimer = setTimeout(() => void this.solve(task, true), 250);
  }

  // ---------- models ----------
  async loadManifest(): Promise<void> {
    const sel = $<HTMLSelectElement>('model-select');
    try {
      const r = await fetch(MANIFEST_URL);
      if (r.status === 404) throw new Error('no models/manifest.json in this build (the shipped models are not there yet)');
      if (!r.ok) throw new Error(`models/manifest.json: the server answered ${r.status}`);
      const m = parseManifest(await r.json());
      if (typeof m === 'string') throw new Error(`models/manifest.json: ${m}`);
      this.manifest = m;
    } catch (e) {
      this.manifest = [];
      $('model-accuracy').textContent = `No shipped models: ${errorText(e)}. Drop a checkpoint file below instead.`;
    }
    sel.replaceChildren(...this.manifest.map((m) => new Option(m.title, m.id)));
    const want = this.manifest.find((m) => m.id === this.d.settings.model) ?? this.manifest[0];
    if (want) sel.value = want.id;
    sel.disabled = $<HTMLButtonElement>('model-load').disabled = this.manifest.length === 0;
    if (this.manifest.length) this.showAccuracy();
    else if (!$('model-accuracy').textContent) $('model-accuracy').textContent = 'No shipped models in this build yet: drop a checkpoint file below.';
  }

  private showAccuracy(): void {
    const m = this.manifest.find((e) => e.id === $<HTMLSelectElement>('model-select').value);
    if (!m) return;
    $('model-accuracy').textContent = `${describeModel(m)}.`;
    $('model-recipe').textContent = recipeLines(m.recipe);
    $('model-recipe-box').hidden = false;
  }

  /** Loads the manifest model chosen in the list (or the one named by id). */
  async loadSelected(id?: string): Promise<void> {
    const m = this.manifest.find((e) => e.id === (id ?? $<HTMLSelectElement>('model-select').value));
    if (!m) return;
    const bar = $<HTMLProgressElement>('model-progress');
    bar.hidden = false;
    bar.value = 0;
    this.setError('');
    $('ckpt-status').textContent = `Loading ${m.title}…`;
    try {
      $('ckpt-details').hidden = true;
      const got = await fetchModel(m, MANIFEST_URL, (f) => { bar.value = f; });
      await this.loadBytes(got.bytes, null, m.title, got.fromCache ? 'from the browser cache' : `downloaded (${(m.bytes / 1e6).toFixed(1)} MB, sha256 checked, cached)`);
      this.d.settings.model = m.id;
      this.d.saveUrl();
    } catch (e) {
      $('ckpt-status').textContent = '';
      $('ckpt-error').textContent = `Not loaded: ${errorText(e)}`;
    } finally {
      bar.hidden = true;
    }
  }

  async loadFiles(files: File[]): Promise<void> {
    $('ckpt-error').textContent = '';
    const picked = pickCheckpointFiles(files);
    if (typeof picked === 'string') {
      $('ckpt-error').textContent = `Not loaded: ${picked}`;
      return;
    }
    let weights: Uint8Array;
    let config: string | null;
    try {
      $('ckpt-status').textContent = `Reading ${picked.weights.name}…`;
      weights = new Uint8Array(await picked.weights.arrayBuffer());
      config = picked.config ? await picked.config.text() : null;
      // check it and show the reader's report first: any checkpoint, whatever its task
      const info = await this.d.worker.call('checkpoint.inspect', { weights, config });
      $('ckpt-status').textContent = `Read ${picked.weights.name}: ${info.parameters.toLocaleString('en')} trainable parameters in ${info.tensors} tensors, checked against its config.`;
      $('ckpt-summary').textContent = info.summary;
      $('ckpt-details').hidden = false;
    } catch (e) {
      $('ckpt-status').textContent = '';
      $('ckpt-error').textContent = `Not loaded: ${errorText(e)}`;
      return;
    }
    try {
      await this.loadBytes(weights, config, picked.weights.name, 'from your file');
    } catch (e) {
      $('ckpt-error').textContent = `Checked, but this page cannot run it: ${errorText(e)}`;
    }
  }

  private async loadBytes(weights: Uint8Array, config: string | null, name: string, how: string): Promise<void> {
    $('ckpt-error').textContent = '';
    const r = await this.d.worker.call('hrm.load', { weights, config, name, backend: this.d.settings.backend });
    this.models.set(r.model.task as Task, r.model);
    const m = r.model;
    const shape = m.task === 'maze' ? `${m.size}×${m.size} mazes` : 'Sudoku';
    const what = `a ${shape} model, ${m.parameters.toLocaleString('en')} parameters, ` +
      `hidden ${m.hidden}, ${m.hCycles} H cycles × ${m.lCycles} L steps per segment, trained with up to ${m.haltMaxSteps} segments` +
      (this.d.settings.segments === null ? `, so it runs for up to ${runSegments(null, m.haltMaxSteps)} unless you set Segments.` : '.');
    // a dropped file keeps the reader's line in front
    $('ckpt-status').textContent = how === 'from your file' ? `${$('ckpt-status').textContent} Loaded it to run: ${what}` : `Loaded ${name} ${how}: ${what}`;
    $('hrm-backend').textContent = describeRunning(r.backend, m);
    document.body.dataset[`model${m.task === 'maze' ? 'Maze' : 'Sudoku'}`] = 'loaded';
    if (m.task === 'maze') await this.d.fitMaze(m.size);
  }

  /** The backend choice changed: move every loaded model. */
  async setBackend(choice: BackendChoice): Promise<void> {
    if (this.models.size === 0) return;
    try {
      const { backends } = await this.d.worker.call('hrm.backend', { backend: choice });
      const last = backends.at(-1);
      if (last) $('hrm-backend').textContent = describeRunning(last, null);
    } catch (e) {
      this.setError(`Could not switch the backend: ${errorText(e)}`);
    }
  }

  // ---------- runs ----------
  private setError(msg: string): void {
    this.error.textContent = msg;
  }

  async solve(task: Task, resume: boolean): Promise<void> {
    this.setError('');
    const model = this.loadedModel(task);
    const input = model && this.puzzleInput(task);
    if (!model || !input) return;
    try {
      const { runId } = await this.d.worker.call('hrm.solve', {
        task, input, segments: runSegments(this.d.settings.segments, model.haltMaxSteps), actHalting: this.d.settings.act, backend: this.d.settings.backend, resume,
      });
      this.status.textContent = resume ? 'Re-solving from the current states…' : 'Running…';
      // the trace.start event of this run may already have arrived; it carries the details
      if (this.run?.id !== runId) this.run = null;
    } catch (e) {
      this.setError(errorText(e));
    }
  }

  /** The task's loaded model, or null with the error saying how to load one. */
  private loadedModel(task: Task): HrmModel | null {
    const model = this.models.get(task);
    if (!model) this.setError(`No ${task} model is loaded: pick one in the list and press Load model, or drop a checkpoint file.`);
    return model ?? null;
  }

  /** The task's puzzle as the model's tokens, or null (with the reason shown) when it breaks the rules. */
  private puzzleInput(task: Task): number[] | null {
    if (task === 'maze') return toTokens(this.d.editor.getMaze());
    const cells = this.d.board.getCells();
    const bad = conflicts(cells);
    if (bad.size) {
      this.setError(`The Sudoku breaks the rules in ${bad.size} cells (marked on the board): fix them first.`);
      return null;
    }
    return cells.map((d) => d + 1);
  }

  /** "Try copies": the shown task's puzzle (else the one task with a model) under its symmetries. */
  async tryCopies(): Promise<void> {
    this.setError('');
    const task: Task = this.shown ?? (this.models.has('sudoku') || !this.models.has('maze') ? 'sudoku' : 'maze');
    const model = this.loadedModel(task);
    const input = model && this.puzzleInput(task);
    if (!model || !input) return;
    const { tries, segments } = triesPlan(task, runSegments(this.d.settings.segments, model.haltMaxSteps));
    this.status.textContent = `Running ${tries} copies of the ${task} for up to ${segments} segments…`;
    try {
      const r = await this.d.worker.call('hrm.tries', { task, input, tries, segments });
      this.status.textContent = describeTries(task, r, segments);
      if (r.solved && task === 'sudoku') this.d.board.setOverlay(r.answer.map((t) => (t >= 2 && t <= 10 ? t - 1 : 0)));
      if (r.solved && task === 'maze') this.d.editor.setPrediction(predictedPath(r.answer));
    } catch (e) {
      this.status.textContent = '';
      this.setError(`The tries failed: ${errorText(e)}`);
    }
  }

  private onEvent(e: WorkerEvent): void {
    if (e.type === 'trace.start') {
      const s = e.start;
      const trace: Trace = { task: s.task, seqLen: s.seqLen, vocab: s.vocab, input: s.input, steps: [], segments: [], distribution: s.distribution };
      this.run = { id: e.runId, trace, start: s, loaded: false };
      this.shown = s.task;
      this.residuals.setSteps([]);
      this.qpanel.setSegments([]);
      this.pca.set(null);
      $('hrm-backend').textContent = describeRunning(s.backend, this.models.get(s.task) ?? null);
      return;
    }
    const run = this.run;
    if (!run || run.id !== ('runId' in e ? e.runId : -1)) return;
    if (e.type === 'trace.step') run.trace.steps.push(e.step);
    else if (e.type === 'trace.segment') {
      run.trace.segments.push(e.segment);
      if (!run.loaded) {
        const bad = this.player.load(run.trace);
        if (bad) return this.setError(`The model's trace is malformed: ${bad}`);
        run.loaded = true;
        this.player.play();
      } else this.player.extended();
      this.residuals.setSteps(run.trace.steps);
      this.qpanel.setSegments(run.trace.segments);
      this.status.textContent = `Segment ${e.segment.segment + 1} done (${run.trace.steps.length} steps recorded)…`;
    } else if (e.type === 'trace.end') {
      if (e.pca) run.trace.pca = e.pca;
      run.trace.msPerSegment = e.msPerSegment;
      this.pca.set(e.pca);
      this.onStep();
      const ms = e.msPerSegment;
      const per = ms.length ? ` · ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(0)} ms per segment on ${run.start.backend.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}` : '';
      const why = { halted: 'ACT halted', segments: 'all segments ran', stopped: 'stopped', error: 'failed' }[e.end];
      const embedded = run.start.task === 'maze' && run.start.modelSize * run.start.modelSize !== run.start.seqLen
        ? ` The ${Math.sqrt(run.start.seqLen)}×${Math.sqrt(run.start.seqLen)} maze was surrounded by walls to fill the model's ${run.start.modelSize}×${run.start.modelSize}.` : '';
      if (e.end === 'error') this.setError(`The run failed: ${e.error}`);
      else if (e.error) this.setError(e.error);
      this.status.textContent = run.trace.steps.length
        ? `${describeResult(run.trace)} (${why}${per}.)${embedded}`
        : `No steps recorded (${why}).`;
      document.body.dataset.hrmRuns = String(Number(document.body.dataset.hrmRuns ?? 0) + 1);
    }
  }

  private onStep(): void {
    const t = this.player.current;
    const i = this.player.index;
    this.residuals.setCursor(i);
    if (!t) return;
    const s = t.steps[i];
    this.qpanel.setSegments(t.segments, s?.segment ?? -1);
    if (s) {
      let k = -1;
      for (let j = 0; j <= i; j++) if (t.steps[j]!.module === s.module) k++;
      this.pca.setCursor(s.module, k);
      if (t.task === 'maze') this.d.editor.setPrediction(predictedPath(s.prediction));
    }
    if (this.player.speed !== this.d.settings.speed) {
      this.d.settings.speed = this.player.speed;
      this.d.saveUrl();
    }
  }
}
