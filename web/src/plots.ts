// Small SVG plots: the residual curves (hierarchical convergence), the Q-value panel (ACT), and a
// generic line chart (training). Geometry is computed by pure functions so tests can check it.
// Colours are Okabe–Ito (colour-blind safe) and every series also differs by dash or marker.

import type { SegmentEnd, TraceStep } from './trace';

export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  vermillion: '#D55E00',
  green: '#009E73',
  sky: '#56B4E9',
  purple: '#CC79A7',
  yellow: '#F0E442',
  grey: '#666666',
} as const;

const SVG = 'http://www.w3.org/2000/svg';

export interface Box { width: number; height: number; pad: number }

export interface LogScale { lo: number; hi: number; y(v: number): number }

/** A log10 y-scale covering the positive finite values (zeros and non-finite values are clamped
 *  to the smallest positive one, so a converged step still shows at the bottom). */
export function logScale(values: readonly number[], box: Box): LogScale {
  const pos = values.filter((v) => Number.isFinite(v) && v > 0);
  let lo = pos.length ? Math.min(...pos) : 1e-3;
  let hi = pos.length ? Math.max(...pos) : 1;
  if (hi / lo < 10) {
    // at least one decade, centred, so a flat curve does not fill the plot with noise
    const mid = Math.sqrt(hi * lo);
    lo = mid / Math.sqrt(10);
    hi = mid * Math.sqrt(10);
  }
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const top = box.pad;
  const bottom = box.height - box.pad;
  return {
    lo,
    hi,
    y(v: number): number {
      const c = Number.isFinite(v) && v > 0 ? Math.min(Math.max(v, lo), hi) : lo;
      return bottom - ((Math.log10(c) - l0) / (l1 - l0)) * (bottom - top);
    },
  };
}

export const xAt = (i: number, n: number, box: Box): number =>
  n <= 1 ? box.width / 2 : box.pad + (i / (n - 1)) * (box.width - 2 * box.pad);

export interface ResidualGeometry {
  /** SVG polyline points for the L residuals (at L steps) and H residuals (at H updates). */
  l: string;
  h: string;
  /** x of each segment's first step (boundaries to draw). */
  segmentStarts: number[];
  scale: LogScale;
}

export function residualGeometry(steps: readonly TraceStep[], box: Box): ResidualGeometry {
  const n = steps.length;
  const all: number[] = [];
  for (const s of steps) {
    if (s.residualL !== null) all.push(s.residualL);
    if (s.residualH !== null) all.push(s.residualH);
  }
  const scale = logScale(all, box);
  const l: string[] = [];
  const h: string[] = [];
  const segmentStarts: number[] = [];
  steps.forEach((s, i) => {
    const x = xAt(i, n, box).toFixed(1);
    if (s.residualL !== null) l.push(`${x},${scale.y(s.residualL).toFixed(1)}`);
    if (s.residualH !== null) h.push(`${x},${scale.y(s.residualH).toFixed(1)}`);
    if (i > 0 && steps[i - 1]!.segment !== s.segment) segmentStarts.push(xAt(i, n, box));
  });
  return { l: l.join(' '), h: h.join(' '), segmentStarts, scale };
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function text(x: number, y: number, s: string, anchor = 'start'): SVGTextElement {
  const t = el('text', { x, y, 'text-anchor': anchor, 'font-size': 11, fill: 'currentColor' });
  t.textContent = s;
  return t;
}

/** ‖Δz_L‖ and ‖Δz_H‖ per step on a log scale, with a cursor at the step being shown. */
export class ResidualPlot {
  readonly element: SVGSVGElement;
  private readonly box: Box = { width: 480, height: 180, pad: 24 };
  private steps: readonly TraceStep[] = [];

  constructor(parent: HTMLElement) {
    this.element = el('svg', { viewBox: `0 0 ${this.box.width} ${this.box.height}`, class: 'plot residual-plot', role: 'img' });
    parent.append(this.element);
    this.draw(-1);
  }

  setSteps(steps: readonly TraceStep[]): void {
    this.steps = steps;
    this.draw(-1);
  }

  setCursor(index: number): void {
    this.draw(index);
  }

  private draw(cursor: number): void {
    const svg = this.element;
    svg.replaceChildren();
    const b = this.box;
    if (this.steps.length === 0) {
      svg.append(text(b.width / 2, b.height / 2, 'no run recorded yet', 'middle'));
      svg.setAttribute('aria-label', 'Residual curves: no run recorded yet');
      return;
    }
    const g = residualGeometry(this.steps, b);
    for (const x of g.segmentStarts) svg.append(el('line', { x1: x, x2: x, y1: b.pad, y2: b.height - b.pad, stroke: PALETTE.grey, 'stroke-opacity': 0.3 }));
    svg.append(el('polyline', { points: g.l, fill: 'none', stroke: PALETTE.blue, 'stroke-width': 1.5, class: 'series-l' }));
    svg.append(el('polyline', { points: g.h, fill: 'none', stroke: PALETTE.orange, 'stroke-width': 2, 'stroke-dasharray': '5 3', class: 'series-h' }));
    for (const p of g.h.split(' ').filter((s) => s)) {
      const [x, y] = p.split(',').map(Number) as [number, number];
      svg.append(el('rect', { x: x - 2.5, y: y - 2.5, width: 5, height: 5, fill: PALETTE.orange }));
    }
    if (cursor >= 0) {
      const x = xAt(cursor, this.steps.length, b);
      svg.append(el('line', { x1: x, x2: x, y1: b.pad, y2: b.height - b.pad, stroke: 'currentColor', 'stroke-width': 1, class: 'cursor' }));
    }
    svg.append(text(b.pad, 14, `‖Δz_L‖ (blue, solid) · ‖Δz_H‖ (orange, dashed ■) · log scale ${g.scale.lo.toExponential(1)}–${g.scale.hi.toExponential(1)}`));
    svg.setAttribute('aria-label', `Residual curves over ${this.steps.length} steps`);
  }
}

export interface QBar { segment: number; x: number; width: number; haltY: number; contY: number; zeroY: number; halted: boolean }

/** Bars for Q-halt and Q-continue logits per segment around a zero line. */
export function qGeometry(segments: readonly SegmentEnd[], box: Box): QBar[] {
  const vals = segments.flatMap((s) => [s.qHalt, s.qContinue]).filter(Number.isFinite);
  const m = Math.max(1e-6, ...vals.map(Math.abs));
  const mid = box.height / 2;
  const half = box.height / 2 - box.pad;
  const slot = (box.width - 2 * box.pad) / Math.max(1, segments.length);
  return segments.map((s, k) => ({
    segment: s.segment,
    x: box.pad + k * slot,
    width: slot,
    haltY: mid - (s.qHalt / m) * half,
    contY: mid - (s.qContinue / m) * half,
    zeroY: mid,
    halted: s.halted,
  }));
}

/** Q-halt (vermillion, solid) and Q-continue (blue, hatched) per segment; ACT's halt marked. */
export class QPanel {
  readonly element: SVGSVGElement;
  private readonly box: Box = { width: 480, height: 140, pad: 20 };

  constructor(parent: HTMLElement) {
    this.element = el('svg', { viewBox: `0 0 ${this.box.width} ${this.box.height}`, class: 'plot q-panel', role: 'img' });
    parent.append(this.element);
    this.setSegments([]);
  }

  setSegments(segments: readonly SegmentEnd[], current = -1): void {
    const svg = this.element;
    svg.replaceChildren();
    const b = this.box;
    if (segments.length === 0) {
      svg.append(text(b.width / 2, b.height / 2, 'no Q values recorded yet', 'middle'));
      svg.setAttribute('aria-label', 'Q values: none recorded yet');
      return;
    }
    const defs = el('defs', {});
    const pat = el('pattern', { id: 'hatch', width: 4, height: 4, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
    pat.append(el('rect', { width: 2, height: 4, fill: PALETTE.blue }));
    defs.append(pat);
    svg.append(defs);
    const bars = qGeometry(segments, b);
    for (const q of bars) {
      const w = q.width * 0.35;
      const bar = (x: number, y: number, fill: string, cls: string): SVGRectElement =>
        el('rect', { x, y: Math.min(y, q.zeroY), width: w, height: Math.abs(y - q.zeroY), fill, class: cls });
      svg.append(bar(q.x + q.width * 0.12, q.haltY, PALETTE.vermillion, 'q-halt'));
      svg.append(bar(q.x + q.width * 0.5, q.contY, 'url(#hatch)', 'q-continue'));
      if (q.segment === current) svg.append(el('rect', { x: q.x, y: b.pad - 4, width: q.width, height: b.height - 2 * b.pad + 8, fill: 'none', stroke: 'currentColor', class: 'current' }));
      if (q.halted) svg.append(text(q.x + q.width / 2, b.height - 4, 'halt', 'middle'));
    }
    svg.append(el('line', { x1: b.pad, x2: b.width - b.pad, y1: b.height / 2, y2: b.height / 2, stroke: PALETTE.grey }));
    svg.append(text(b.pad, 12, 'Q-halt (solid) · Q-continue (hatched) per segment'));
    svg.setAttribute('aria-label', `Q values for ${segments.length} segments`);
  }
}

/** Linear scale polyline for a series of [x, y] points (training curves). */
export function linePoints(points: readonly [number, number][], box: Box): string {
  if (points.length === 0) return '';
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]).filter(Number.isFinite);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x: number): number => (x1 === x0 ? box.width / 2 : box.pad + ((x - x0) / (x1 - x0)) * (box.width - 2 * box.pad));
  const sy = (y: number): number => box.height - box.pad - ((y - y0) / (y1 - y0)) * (box.height - 2 * box.pad);
  return points.filter((p) => Number.isFinite(p[1])).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
}

export class LineChart {
  readonly element: SVGSVGElement;
  private readonly box: Box = { width: 300, height: 120, pad: 18 };
  private points: [number, number][] = [];

  constructor(parent: HTMLElement, private readonly title: string, private readonly colour: string) {
    this.element = el('svg', { viewBox: `0 0 ${this.box.width} ${this.box.height}`, class: 'plot line-chart', role: 'img' });
    parent.append(this.element);
    this.draw();
  }

  push(x: number, y: number): void {
    this.points.push([x, y]);
    this.draw();
  }

  clear(): void {
    this.points = [];
    this.draw();
  }

  /** Replaces the whole series (the training panel redraws from its history). */
  setPoints(points: readonly [number, number][]): void {
    this.points = points.map(([x, y]) => [x, y]);
    this.draw();
  }

  get length(): number {
    return this.points.length;
  }

  private draw(): void {
    const svg = this.element;
    svg.replaceChildren();
    const last = this.points.at(-1);
    svg.append(text(this.box.pad, 12, last ? `${this.title}: ${last[1].toPrecision(3)}` : `${this.title}: no data yet`));
    svg.append(el('polyline', { points: linePoints(this.points, this.box), fill: 'none', stroke: this.colour, 'stroke-width': 1.5 }));
    svg.setAttribute('aria-label', last ? `${this.title}, latest ${last[1].toPrecision(3)} at step ${last[0]}` : `${this.title}: no data yet`);
  }
}

export interface PcaGeometry { points: [number, number][]; line: string }

/** Scales [x0, y0, x1, y1, …] into the box (same scale on both axes, so distances read true). */
export function pcaGeometry(xy: ArrayLike<number>, box: Box): PcaGeometry {
  const n = Math.floor(xy.length / 2);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < 2 * n; i++) {
    const v = xy[i]!;
    if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (!(hi > lo)) { lo = -1; hi = 1; }
  const span = hi - lo;
  const side = Math.min(box.width, box.height) - 2 * box.pad;
  const x0 = (box.width - side) / 2;
  const y0 = (box.height - side) / 2;
  const points: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const x = x0 + ((xy[2 * i]! - lo) / span) * side;
    const y = y0 + side - ((xy[2 * i + 1]! - lo) / span) * side;
    points.push([x, y]);
  }
  return { points, line: points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ') };
}

/** The z_L and z_H trajectories on their first two principal components, side by side; the
 *  point of the step being shown is ringed. */
export class PcaPlot {
  readonly element: HTMLElement;
  private readonly box: Box = { width: 260, height: 220, pad: 30 };
  private readonly svgs: { L: SVGSVGElement; H: SVGSVGElement };
  private pca: { l: ArrayLike<number>; h: ArrayLike<number>; explainedL: [number, number]; explainedH: [number, number]; truncated: boolean } | null = null;

  constructor(parent: HTMLElement) {
    this.element = document.createElement('div');
    this.element.className = 'pca-plots';
    const mk = (): SVGSVGElement => el('svg', { viewBox: `0 0 ${this.box.width} ${this.box.height}`, class: 'plot pca-plot', role: 'img' });
    this.svgs = { L: mk(), H: mk() };
    this.element.append(this.svgs.L, this.svgs.H);
    parent.append(this.element);
    this.set(null);
  }

  set(pca: PcaPlot['pca']): void {
    this.pca = pca;
    this.setCursor(null, -1);
  }

  /** `module` and index among that module's calls of the step shown (-1: none). */
  setCursor(module: 'L' | 'H' | null, k: number): void {
    for (const m of ['L', 'H'] as const) {
      const svg = this.svgs[m];
      svg.replaceChildren();
      const b = this.box;
      const name = m === 'L' ? 'z_L (worker)' : 'z_H (planner)';
      if (!this.pca) {
        svg.append(text(b.width / 2, b.height / 2, `PCA of ${name}: no run yet`, 'middle'));
        svg.setAttribute('aria-label', `PCA of ${name}: no run recorded yet`);
        continue;
      }
      const xy = m === 'L' ? this.pca.l : this.pca.h;
      const ex = m === 'L' ? this.pca.explainedL : this.pca.explainedH;
      const g = pcaGeometry(xy, b);
      const colour = m === 'L' ? PALETTE.blue : PALETTE.orange;
      svg.append(el('polyline', { points: g.line, fill: 'none', stroke: colour, 'stroke-width': 1, 'stroke-opacity': 0.7, ...(m === 'H' ? { 'stroke-dasharray': '4 2' } : {}) }));
      g.points.forEach(([x, y], i) => {
        const attrs = { fill: colour, class: 'pca-point' };
        svg.append(m === 'L' ? el('circle', { cx: x, cy: y, r: 2, ...attrs }) : el('rect', { x: x - 2.5, y: y - 2.5, width: 5, height: 5, ...attrs }));
        if (i === 0) svg.append(text(x + 4, y - 4, 'start'));
      });
      const at = module === m ? g.points[k] : undefined;
      if (at) svg.append(el('circle', { cx: at[0], cy: at[1], r: 6, fill: 'none', stroke: 'currentColor', 'stroke-width': 2, class: 'cursor' }));
      svg.append(text(4, 12, name));
      svg.append(text(4, 25, `PC1 ${(100 * ex[0]).toFixed(0)}% · PC2 ${(100 * ex[1]).toFixed(0)}% of variance${this.pca.truncated ? ' (first steps only)' : ''}`));
      svg.setAttribute('aria-label', `PCA of ${name} over ${g.points.length} states`);
    }
  }
}
