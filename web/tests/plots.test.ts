import { describe, expect, it } from 'vitest';
import { LineChart, QPanel, ResidualPlot, linePoints, logScale, qGeometry, residualGeometry } from '../src/plots';
import { syntheticTrace } from './synthetic-trace';

const box = { width: 400, height: 200, pad: 20 };
const pts = (s: string): [number, number][] => s.split(' ').filter(Boolean).map((p) => p.split(',').map(Number) as [number, number]);

describe('plots (synthetic test data)', () => {
  it('log scale maps larger values higher and clamps zeros to the bottom', () => {
    const s = logScale([1e-3, 1, 10], box);
    expect(s.y(10)).toBeCloseTo(box.pad);
    expect(s.y(1e-3)).toBeCloseTo(box.height - box.pad);
    expect(s.y(1)).toBeLessThan(s.y(0.01));
    expect(s.y(0)).toBeCloseTo(box.height - box.pad);
    expect(s.y(NaN)).toBeCloseTo(box.height - box.pad);
    const flat = logScale([2, 2], box);
    expect(flat.hi / flat.lo).toBeCloseTo(10);
  });
  it('residual geometry: one L point per L step, one H point per H update, segment boundaries', () => {
    const t = syntheticTrace(2, 2, 3);
    const g = residualGeometry(t.steps, box);
    const l = pts(g.l);
    const h = pts(g.h);
    expect(l).toHaveLength(12);
    expect(h).toHaveLength(4);
    expect(g.segmentStarts).toHaveLength(1);
    // within an H cycle the L residual halves each step: the curve goes down (y grows)
    expect(l[1]![1]).toBeGreaterThan(l[0]![1]);
    expect(l[2]![1]).toBeGreaterThan(l[1]![1]);
    // and jumps back up after the planner update
    expect(l[3]![1]).toBeLessThan(l[2]![1]);
    // x increases along the run
    for (let i = 1; i < l.length; i++) expect(l[i]![0]).toBeGreaterThan(l[i - 1]![0]);
  });
  it('ResidualPlot draws both series and a cursor', () => {
    document.body.innerHTML = '';
    const plot = new ResidualPlot(document.body);
    expect(plot.element.textContent).toMatch(/no run recorded/);
    plot.setSteps(syntheticTrace().steps);
    plot.setCursor(3);
    expect(plot.element.querySelector('.series-l')!.getAttribute('points')!.length).toBeGreaterThan(0);
    expect(plot.element.querySelector('.series-h')!.getAttribute('points')!.length).toBeGreaterThan(0);
    expect(plot.element.querySelectorAll('.cursor')).toHaveLength(1);
  });
  it('Q geometry puts positive logits above the zero line and marks the halt', () => {
    const t = syntheticTrace(3);
    const bars = qGeometry(t.segments, box);
    expect(bars).toHaveLength(3);
    expect(bars[0]!.haltY).toBeGreaterThan(bars[0]!.zeroY); // q_halt = -0.5
    expect(bars[0]!.contY).toBeLessThan(bars[0]!.zeroY); // q_continue = 0.5
    expect(bars[2]!.haltY).toBeCloseTo(box.pad); // the largest |logit| reaches the edge
    expect(bars.map((b) => b.halted)).toEqual([false, false, true]);
    document.body.innerHTML = '';
    const panel = new QPanel(document.body);
    panel.setSegments(t.segments, 1);
    expect(panel.element.querySelectorAll('.q-halt')).toHaveLength(3);
    expect(panel.element.querySelectorAll('.current')).toHaveLength(1);
    expect(panel.element.textContent).toMatch(/halt/);
  });
  it('line chart spans the box and handles a single point', () => {
    const p = pts(linePoints([[0, 1], [5, 3], [10, 2]], box));
    expect(p[0]![0]).toBeCloseTo(box.pad);
    expect(p[2]![0]).toBeCloseTo(box.width - box.pad);
    expect(p[1]![1]).toBeCloseTo(box.pad); // max at the top
    expect(pts(linePoints([[3, 7]], box))).toHaveLength(1);
    document.body.innerHTML = '';
    const c = new LineChart(document.body, 'loss', '#000');
    c.push(1, 2.5);
    expect(c.element.getAttribute('aria-label')).toBe('loss, latest 2.50 at step 1');
  });
});
