// Plays a recorded HRM run: play/pause, step by L step / H update / segment (both ways), a
// scrubber over the whole run, and a speed. The state machine (TracePlayer) is separate from its
// controls (PlayerControls) and from what a step shows (TraceView), so each can be tested alone.

import { option } from './dom';
import { conflicts } from './sudoku';
import { changedCells, describeStep, moveIndex, validateTrace, type StepUnit, type Trace } from './trace';

export interface Clock {
  /** Calls fn every `ms` milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  every(ms, fn) {
    const id = setInterval(fn, ms);
    return () => clearInterval(id);
  },
};

export class TracePlayer {
  private trace: Trace | null = null;
  private idx = 0;
  private stopTimer: (() => void) | null = null;
  private stepsPerSecond: number;
  private listeners: (() => void)[] = [];

  constructor(private readonly clock: Clock = realClock, speed = 4) {
    this.stepsPerSecond = speed;
  }

  /** Loads a run; a malformed one is refused with the reason. */
  load(trace: Trace): string | null {
    const bad = validateTrace(trace);
    if (bad) return bad;
    this.pause();
    this.trace = trace;
    this.idx = 0;
    this.notify();
    return null;
  }

  /** The loaded trace grew (a run streams in segment by segment): keep the position, redraw. */
  extended(): void {
    if (this.trace) this.notify();
  }

  get index(): number { return this.idx; }
  get length(): number { return this.trace?.steps.length ?? 0; }
  get playing(): boolean { return this.stopTimer !== null; }
  get speed(): number { return this.stepsPerSecond; }
  get current(): Trace | null { return this.trace; }

  onChange(fn: () => void): void { this.listeners.push(fn); }

  seek(i: number): void {
    if (!this.trace) return;
    const n = this.trace.steps.length;
    const to = Math.min(Math.max(Math.round(i), 0), n - 1);
    if (to === this.idx) return;
    this.idx = to;
    this.notify();
  }

  step(unit: StepUnit, dir: 1 | -1): void {
    if (!this.trace) return;
    this.seek(moveIndex(this.trace, this.idx, unit, dir));
  }

  play(): void {
    if (!this.trace || this.playing) return;
    if (this.idx >= this.length - 1) this.seek(0); // replay from the start
    this.stopTimer = this.clock.every(1000 / this.stepsPerSecond, () => this.tick());
    this.notify();
  }

  pause(): void {
    if (!this.stopTimer) return;
    this.stopTimer();
    this.stopTimer = null;
    this.notify();
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(stepsPerSecond: number): void {
    this.stepsPerSecond = Math.min(60, Math.max(0.5, stepsPerSecond));
    if (this.playing) {
      this.pause();
      this.play();
    }
    this.notify();
  }

  private tick(): void {
    if (this.idx >= this.length - 1) {
      this.pause();
      return;
    }
    this.idx += 1;
    this.notify();
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }
}

const SPEEDS = [1, 2, 4, 8, 16, 30];

/** Buttons, scrubber and speed for a TracePlayer; keyboard: Space plays, arrows step
 *  (←/→ L step, with Shift an H update, with Alt a segment), Home/End jump. */
export class PlayerControls {
  readonly element: HTMLElement;
  private readonly scrub: HTMLInputElement;
  private readonly label: HTMLElement;
  private readonly playBtn: HTMLButtonElement;
  private readonly buttons: HTMLButtonElement[] = [];
  private readonly speedSel: HTMLSelectElement;

  constructor(parent: HTMLElement, private readonly player: TracePlayer) {
    const root = document.createElement('div');
    root.className = 'player';
    root.setAttribute('role', 'group');
    root.setAttribute('aria-label', 'Trace player');
    const btn = (label: string, title: string, fn: () => void): HTMLButtonElement => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.title = title;
      b.setAttribute('aria-label', title);
      b.addEventListener('click', fn);
      this.buttons.push(b);
      return b;
    };
    const bar = document.createElement('div');
    bar.className = 'player-buttons';
    bar.append(
      btn('«seg', 'previous segment', () => player.step('segment', -1)),
      btn('«H', 'previous H update', () => player.step('H', -1)),
      btn('‹L', 'previous L step', () => player.step('L', -1)),
    );
    this.playBtn = btn('Play', 'play', () => player.toggle());
    this.playBtn.classList.add('play');
    bar.append(
      this.playBtn,
      btn('L›', 'next L step', () => player.step('L', 1)),
      btn('H»', 'next H update', () => player.step('H', 1)),
      btn('seg»', 'next segment', () => player.step('segment', 1)),
    );
    this.scrub = document.createElement('input');
    this.scrub.type = 'range';
    this.scrub.min = '0';
    this.scrub.className = 'scrubber';
    this.scrub.setAttribute('aria-label', 'position in the recorded run');
    this.scrub.addEventListener('input', () => player.seek(Number(this.scrub.value)));
    this.speedSel = document.createElement('select');
    this.speedSel.setAttribute('aria-label', 'speed in steps per second');
    for (const s of SPEEDS) this.speedSel.append(option(`${s} steps/s`, String(s)));
    this.speedSel.addEventListener('change', () => player.setSpeed(Number(this.speedSel.value)));
    this.label = document.createElement('div');
    this.label.className = 'player-label';
    this.label.setAttribute('aria-live', 'polite');
    root.append(bar, this.scrub, this.speedSel, this.label);
    root.addEventListener('keydown', (e) => this.onKey(e));
    parent.append(root);
    this.element = root;
    player.onChange(() => this.render());
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.target === this.speedSel) return;
    const p = this.player;
    const unit: StepUnit = e.altKey ? 'segment' : e.shiftKey ? 'H' : 'L';
    if (e.key === ' ' && !(e.target instanceof HTMLButtonElement)) p.toggle();
    else if (e.key === 'ArrowRight' && e.target !== this.scrub) p.step(unit, 1);
    else if (e.key === 'ArrowLeft' && e.target !== this.scrub) p.step(unit, -1);
    else if (e.key === 'Home') p.seek(0);
    else if (e.key === 'End') p.seek(p.length - 1);
    else return;
    e.preventDefault();
  }

  private render(): void {
    const p = this.player;
    const empty = p.length === 0;
    for (const b of this.buttons) b.disabled = empty;
    this.scrub.disabled = empty;
    this.speedSel.disabled = empty;
    this.scrub.max = String(Math.max(0, p.length - 1));
    this.scrub.value = String(p.index);
    this.playBtn.textContent = p.playing ? 'Pause' : 'Play';
    this.playBtn.setAttribute('aria-label', p.playing ? 'pause' : 'play');
    this.playBtn.title = p.playing ? 'pause' : 'play';
    if (!SPEEDS.includes(p.speed)) this.speedSel.append(option(`${p.speed} steps/s`, String(p.speed)));
    this.speedSel.value = String(p.speed);
    const t = p.current;
    this.label.textContent = t ? describeStep(t, p.index) : 'no run recorded yet';
  }
}

/** What one step shows: the decoded prediction per cell (Sudoku: givens bold, changed cells
 *  shaded, rule violations marked; confidence as shading), the full distribution of a cell on
 *  hover/focus, and which module (planner H or worker L) just ran. */
export class TraceView {
  readonly element: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly modules: { H: HTMLElement; L: HTMLElement };
  private readonly caption: HTMLElement;
  private cellEls: HTMLElement[] = [];
  private focusCell = -1;

  constructor(parent: HTMLElement, private readonly player: TracePlayer) {
    const root = document.createElement('div');
    root.className = 'trace-view';
    const diagram = document.createElement('div');
    diagram.className = 'modules';
    diagram.setAttribute('aria-label', 'module running now');
    const box = (name: string, cls: string): HTMLElement => {
      const d = document.createElement('div');
      d.className = `module ${cls}`;
      d.textContent = name;
      diagram.append(d);
      return d;
    };
    this.modules = { H: box('H · planner (slow)', 'module-h'), L: box('L · worker (fast)', 'module-l') };
    this.grid = document.createElement('div');
    this.grid.className = 'trace-grid';
    // keyboard: focus the grid, arrows move between cells, the detail line reads the distribution
    this.grid.tabIndex = 0;
    this.grid.setAttribute('aria-label', 'the model\'s prediction; arrow keys read one cell\'s distribution');
    this.grid.addEventListener('keydown', (e) => this.onGridKey(e));
    this.detail = document.createElement('div');
    this.detail.className = 'cell-detail';
    this.detail.setAttribute('aria-live', 'polite');
    this.caption = document.createElement('div');
    this.caption.className = 'trace-caption';
    const side = document.createElement('div');
    side.className = 'trace-side';
    side.append(this.caption, this.detail);
    root.append(diagram, this.grid, side);
    parent.append(root);
    this.element = root;
    player.onChange(() => this.render());
    this.render();
  }

  private ensureCells(n: number, side: number): void {
    if (this.cellEls.length === n) return;
    this.grid.replaceChildren();
    this.grid.style.setProperty('--n', String(side));
    this.cellEls = [];
    for (let i = 0; i < n; i++) {
      const c = document.createElement('div');
      c.className = 'tcell';
      c.tabIndex = -1;
      const show = (): void => {
        this.focusCell = i;
        this.cellEls.forEach((el, k) => el.classList.toggle('cursor', k === i));
        this.renderDetail();
      };
      c.addEventListener('pointerenter', show);
      c.addEventListener('click', show);
      c.addEventListener('focus', show);
      this.grid.append(c);
      this.cellEls.push(c);
    }
  }

  private render(): void {
    const t = this.player.current;
    const s = t?.steps[this.player.index];
    this.modules.H.classList.toggle('active', s?.module === 'H');
    this.modules.L.classList.toggle('active', s?.module === 'L');
    if (!t || !s) {
      this.grid.replaceChildren();
      this.cellEls = [];
      this.detail.textContent = '';
      this.caption.textContent = '';
      return;
    }
    this.caption.textContent = readoutCaption(s.module);
    const side = Math.round(Math.sqrt(t.seqLen));
    this.ensureCells(t.seqLen, side);
    const changed = changedCells(t, this.player.index);
    // Sudoku tokens: 1 blank, 2..10 digits 1..9. Maze tokens: 1 wall, 2 open, 3 S, 4 G, 5 path.
    const digits = t.task === 'sudoku' ? Array.from(s.prediction, (tok) => (tok >= 2 && tok <= 10 ? tok - 1 : 0)) : [];
    const bad = t.task === 'sudoku' ? conflicts(digits) : new Set<number>();
    for (let i = 0; i < t.seqLen; i++) {
      const el = this.cellEls[i]!;
      const tok = s.prediction[i]!;
      const given = t.task === 'sudoku' ? t.input[i]! >= 2 : t.input[i] !== 2;
      el.className = 'tcell';
      el.classList.toggle('cursor', i === this.focusCell);
      el.classList.toggle('given', given);
      el.classList.toggle('changed', changed[i] === true && this.player.index > 0);
      el.classList.toggle('violation', bad.has(i));
      el.style.setProperty('--conf', (s.confidence[i] ?? 0).toFixed(3));
      if (t.task === 'sudoku') {
        el.textContent = digits[i] ? String(digits[i]) : '';
      } else {
        el.textContent = t.input[i] === 3 ? 'S' : t.input[i] === 4 ? 'G' : '';
        el.classList.add(['pad', 'wall', 'open', 'start', 'goal', 'path'][t.input[i]!] ?? 'open');
        if (tok === 5) el.classList.add('predicted');
      }
    }
    this.renderDetail();
  }

  private onGridKey(e: KeyboardEvent): void {
    const t = this.player.current;
    if (!t) return;
    const side = Math.round(Math.sqrt(t.seqLen));
    const at = this.focusCell < 0 ? 0 : this.focusCell;
    const r = Math.floor(at / side);
    const c = at % side;
    const to = { ArrowLeft: c > 0 ? at - 1 : at, ArrowRight: c < side - 1 ? at + 1 : at, ArrowUp: r > 0 ? at - side : at, ArrowDown: r < side - 1 ? at + side : at }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    e.stopPropagation(); // the player's own arrow keys step through the run
    this.focusCell = to;
    this.cellEls.forEach((el, i) => el.classList.toggle('cursor', i === to));
    this.renderDetail();
  }

  private renderDetail(): void {
    const t = this.player.current;
    const s = t?.steps[this.player.index];
    const i = this.focusCell;
    if (!t || !s || i < 0 || i >= t.seqLen) {
      this.detail.textContent = t ? 'Hover or tap a cell to see its distribution.' : '';
      return;
    }
    const conf = s.confidence[i] ?? 0;
    const side = Math.round(Math.sqrt(t.seqLen));
    const fn = t.distribution ?? 'model';
    let line = `row ${Math.floor(i / side) + 1}, column ${(i % side) + 1}: ${tokenName(t.task, s.prediction[i]!)} with p = ${conf.toFixed(3)} (${fn})`;
    if (s.probs) {
      const row = Array.from(s.probs.subarray(i * t.vocab, (i + 1) * t.vocab));
      line += ' · ' + row.map((p, k) => `${tokenName(t.task, k)} ${p.toFixed(2)}`).join(' · ');
    }
    this.detail.textContent = line;
  }
}

/** What the grid shows at a step, named as the model computes it. */
export function readoutCaption(module: 'L' | 'H'): string {
  return module === 'H'
    ? 'After this H update: lm_head(z_H), the model\'s answer at this point.'
    : 'After this L step: the planner preview lm_head(f_H(z_H, z_L)), what the head would read if the planner updated now.';
}

/** A token as a person reads it: Sudoku digits (1 = blank), maze tiles. */
export function tokenName(task: 'sudoku' | 'maze', tok: number): string {
  if (task === 'sudoku') return tok === 0 ? 'PAD' : tok === 1 ? 'blank' : String(tok - 1);
  return ['PAD', 'wall', 'open', 'S', 'G', 'path'][tok] ?? `token ${tok}`;
}
