import { describe, expect, it } from 'vitest';
import { PlayerControls, TracePlayer, TraceView, type Clock } from '../src/trace-player';
import { syntheticTrace } from './synthetic-trace';

/** A clock the test advances by hand. */
class FakeClock implements Clock {
  fns = new Map<number, { ms: number; fn: () => void }>();
  private next = 0;
  every(ms: number, fn: () => void): () => void {
    const id = this.next++;
    this.fns.set(id, { ms, fn });
    return () => this.fns.delete(id);
  }
  tick(times = 1): void {
    for (let k = 0; k < times; k++) for (const { fn } of [...this.fns.values()]) fn();
  }
}

describe('TracePlayer (synthetic test data)', () => {
  it('plays to the end and stops, then replays from the start', () => {
    const clock = new FakeClock();
    const p = new TracePlayer(clock, 4);
    expect(p.load(syntheticTrace())).toBeNull();
    p.play();
    expect(p.playing).toBe(true);
    expect([...clock.fns.values()][0]!.ms).toBe(250);
    clock.tick(5);
    expect(p.index).toBe(5);
    clock.tick(100);
    expect(p.index).toBe(15);
    expect(p.playing).toBe(false);
    p.play();
    expect(p.index).toBe(0);
  });
  it('pauses, steps by unit, seeks with clamping, changes speed while playing', () => {
    const clock = new FakeClock();
    const p = new TracePlayer(clock);
    p.load(syntheticTrace());
    p.step('H', 1);
    expect(p.index).toBe(3);
    p.step('segment', 1);
    expect(p.index).toBe(8);
    p.seek(1000);
    expect(p.index).toBe(15);
    p.seek(-3);
    expect(p.index).toBe(0);
    p.play();
    p.setSpeed(16);
    expect(clock.fns.size).toBe(1); // the old timer was replaced, not doubled
    expect([...clock.fns.values()][0]!.ms).toBeCloseTo(62.5);
    p.pause();
    expect(clock.fns.size).toBe(0);
  });
  it('refuses a malformed trace and keeps the old one', () => {
    const p = new TracePlayer(new FakeClock());
    p.load(syntheticTrace());
    const bad = syntheticTrace();
    bad.steps[0]!.confidence = new Float32Array(0);
    expect(p.load(bad)).toMatch(/confidences/);
    expect(p.current!.steps[0]!.confidence).toHaveLength(81);
  });
});

describe('PlayerControls and TraceView (synthetic test data)', () => {
  it('is keyboard-operable and reflects the player', () => {
    document.body.innerHTML = '';
    const p = new TracePlayer(new FakeClock());
    const view = new TraceView(document.body, p);
    const controls = new PlayerControls(document.body, p);
    const scrub = controls.element.querySelector<HTMLInputElement>('input[type=range]')!;
    expect(scrub.disabled).toBe(true); // nothing loaded yet
    p.load(syntheticTrace());
    expect(scrub.disabled).toBe(false);
    expect(scrub.max).toBe('15');
    const key = (k: string, opts: KeyboardEventInit = {}): void => {
      controls.element.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, ...opts }));
    };
    key('ArrowRight');
    expect(p.index).toBe(1);
    key('ArrowRight', { shiftKey: true });
    expect(p.index).toBe(3);
    expect(view.element.querySelector('.module-h')!.classList.contains('active')).toBe(true);
    key('ArrowRight', { altKey: true });
    expect(p.index).toBe(8);
    key('End');
    expect(scrub.value).toBe('15');
    key('Home');
    expect(p.index).toBe(0);
    expect(view.element.querySelector('.module-l')!.classList.contains('active')).toBe(true);
    key(' ');
    expect(p.playing).toBe(true);
    expect(controls.element.querySelector('.play')!.getAttribute('aria-label')).toBe('pause');
    scrub.value = '6';
    scrub.dispatchEvent(new Event('input'));
    expect(p.index).toBe(6);
    expect(controls.element.querySelector('.player-label')!.textContent).toBe('step 7/16 · segment 1 · H cycle 2, L step 3');
  });
  it('shows givens bold, changed cells, violations and confidence', () => {
    document.body.innerHTML = '';
    const p = new TracePlayer(new FakeClock());
    const view = new TraceView(document.body, p);
    const t = syntheticTrace();
    // make step 1 put the same digit in two cells of row 1 (a rule violation)
    t.steps[1]!.prediction[1] = 5;
    t.steps[1]!.prediction[2] = 5;
    p.load(t);
    p.seek(1);
    const cells = [...view.element.querySelectorAll<HTMLElement>('.tcell')];
    expect(cells).toHaveLength(81);
    expect(cells[0]!.classList.contains('given')).toBe(true);
    expect(cells[1]!.classList.contains('given')).toBe(false);
    expect(cells[1]!.classList.contains('violation')).toBe(true);
    expect(cells[2]!.classList.contains('violation')).toBe(true);
    expect(cells[1]!.textContent).toBe('4');
    expect(cells[1]!.style.getPropertyValue('--conf')).toBe('0.600');
    expect(cells.some((c) => c.classList.contains('changed'))).toBe(true);
    cells[4]!.dispatchEvent(new Event('click'));
    // synthetic confidences are 0.6 at L step 2; the distribution names the tokens as digits
    expect(view.element.querySelector('.cell-detail')!.textContent).toMatch(/^row 1, column 5: \d with p = 0\.600/);
    expect(view.element.querySelector('.trace-caption')!.textContent).toMatch(/planner preview lm_head\(f_H\(z_H, z_L\)\)/);
    p.step('H', 1);
    expect(view.element.querySelector('.trace-caption')!.textContent).toMatch(/H update: lm_head\(z_H\)/);
  });
});

describe('TraceView keyboard', () => {
  it('reads a cell\'s distribution with the arrow keys', () => {
    document.body.replaceChildren();
    const p = new TracePlayer(new FakeClock());
    const view = new TraceView(document.body, p);
    const t = syntheticTrace();
    t.steps[0]!.probs = Float32Array.from({ length: 81 * 11 }, (_, i) => (i % 11 === 3 ? 0.5 : 0.05));
    p.load(t);
    const grid = view.element.querySelector<HTMLElement>('.trace-grid')!;
    grid.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    grid.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(view.element.querySelector('.cell-detail')!.textContent).toMatch(/^row 2, column 2: .* · 2 0\.50 ·/);
    expect(view.element.querySelectorAll('.tcell.cursor')).toHaveLength(1);
  });
});
