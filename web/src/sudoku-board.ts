// The 9×9 board you type into. One focusable grid (roving cursor), so Tab moves past it in one step:
// digits set a cell, arrows move, Backspace/Delete/0/. clear. A digit pad serves touch screens.
// Conflicts are recomputed on every change and shown by colour *and* a marked border.

import { CELLS, conflicts, col, row } from './sudoku';

export interface BoardView {
  /** The cells you typed (0 blank). */
  cells: number[];
  /** Digits shown but not typed (a solver's answer or an HRM prediction), 0 where none. */
  overlay: number[];
}

export class SudokuBoard {
  readonly element: HTMLElement;
  private readonly cellEls: HTMLElement[] = [];
  private cells: number[] = new Array<number>(CELLS).fill(0);
  private overlay: number[] = new Array<number>(CELLS).fill(0);
  private cursor = 0;
  private changeListeners: ((cells: number[]) => void)[] = [];

  constructor(parent: HTMLElement) {
    const grid = document.createElement('div');
    grid.className = 'sudoku';
    grid.tabIndex = 0;
    grid.setAttribute('role', 'grid');
    grid.setAttribute('aria-label', 'Sudoku board: type digits, arrows move, Backspace clears');
    for (let i = 0; i < CELLS; i++) {
      const c = document.createElement('div');
      c.className = 'cell';
      c.id = `sudoku-cell-${i}`;
      c.dataset.i = String(i);
      c.setAttribute('role', 'gridcell');
      if (col(i) % 3 === 2 && col(i) < 8) c.classList.add('box-right');
      if (row(i) % 3 === 2 && row(i) < 8) c.classList.add('box-bottom');
      c.addEventListener('pointerdown', () => {
        this.moveTo(i);
        grid.focus();
      });
      grid.append(c);
      this.cellEls.push(c);
    }
    grid.addEventListener('keydown', (e) => this.onKey(e));
    const pad = document.createElement('div');
    pad.className = 'digit-pad';
    for (const d of [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = d === 0 ? '⌫' : String(d);
      b.setAttribute('aria-label', d === 0 ? 'clear cell' : `digit ${d}`);
      b.addEventListener('click', () => {
        this.set(this.cursor, d);
        grid.focus(); // keep typing on the board after a tap on the pad
      });
      pad.append(b);
    }
    const wrap = document.createElement('div');
    wrap.className = 'sudoku-wrap';
    wrap.append(grid, pad);
    parent.append(wrap);
    this.element = grid;
    this.render();
  }

  onChange(fn: (cells: number[]) => void): void {
    this.changeListeners.push(fn);
  }

  getCells(): number[] {
    return [...this.cells];
  }

  /** Replaces the puzzle (a paste, a URL, the generator); clears any overlay. */
  setCells(cells: readonly number[]): void {
    this.cells = [...cells];
    this.overlay.fill(0);
    this.render();
    this.emit();
  }

  /** Shows digits over the blanks (a solver's answer); 0 shows nothing. */
  setOverlay(overlay: readonly number[] | null): void {
    this.overlay = overlay ? [...overlay] : new Array<number>(CELLS).fill(0);
    this.render();
  }

  private set(i: number, d: number): void {
    if (this.cells[i] === d) return;
    this.cells[i] = d;
    this.overlay.fill(0); // an answer to another puzzle is no answer to this one
    this.render();
    this.emit();
  }

  private moveTo(i: number): void {
    this.cursor = Math.min(CELLS - 1, Math.max(0, i));
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    const r = row(this.cursor);
    const c = col(this.cursor);
    const move: Record<string, [number, number]> = {
      ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
    };
    const m = move[e.key];
    if (m) {
      const nr = Math.min(8, Math.max(0, r + m[0]));
      const nc = Math.min(8, Math.max(0, c + m[1]));
      this.moveTo(nr * 9 + nc);
    } else if (/^[1-9]$/.test(e.key)) {
      this.set(this.cursor, Number(e.key));
    } else if (e.key === 'Backspace' || e.key === 'Delete' || e.key === '0' || e.key === '.' || e.key === ' ') {
      this.set(this.cursor, 0);
    } else {
      return;
    }
    e.preventDefault();
  }

  private emit(): void {
    for (const fn of this.changeListeners) fn(this.getCells());
  }

  private render(): void {
    const bad = conflicts(this.cells);
    for (let i = 0; i < CELLS; i++) {
      const el = this.cellEls[i]!;
      const given = this.cells[i]!;
      const shown = given || this.overlay[i]!;
      el.textContent = shown ? String(shown) : '';
      el.classList.toggle('given', given !== 0);
      el.classList.toggle('solved', given === 0 && shown !== 0);
      el.classList.toggle('conflict', bad.has(i));
      el.classList.toggle('cursor', i === this.cursor);
      el.setAttribute('aria-invalid', bad.has(i) ? 'true' : 'false');
      el.setAttribute('aria-label', `row ${row(i) + 1} column ${col(i) + 1}: ${shown ? shown : 'blank'}${bad.has(i) ? ', conflict' : ''}`);
    }
    this.element?.setAttribute('aria-activedescendant', `sudoku-cell-${this.cursor}`);
  }
}
