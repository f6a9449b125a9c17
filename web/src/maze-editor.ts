// The maze you draw on: click or drag to paint walls (the first cell decides wall or open), drag S
// or G to move them. Keyboard: arrows move the cursor, Space/Enter toggles a wall, S and G place
// the endpoints. The shortest path (from the crate's BFS) is drawn over the grid.

import { emptyMaze, moveEndpoint, setWall, type Maze } from './maze';

type Drag = { kind: 'paint'; wall: boolean } | { kind: 'start' } | { kind: 'goal' } | null;

export class MazeEditor {
  readonly element: HTMLElement;
  private maze: Maze;
  private path = new Set<number>();
  private prediction = new Set<number>();
  private cellEls: HTMLElement[] = [];
  private cursor = 0;
  private drag: Drag = null;
  private changeListeners: ((m: Maze) => void)[] = [];

  constructor(parent: HTMLElement, maze: Maze = emptyMaze(12)) {
    this.maze = maze;
    const grid = document.createElement('div');
    grid.className = 'maze';
    grid.tabIndex = 0;
    grid.setAttribute('role', 'grid');
    grid.setAttribute('aria-label', 'Maze: click or drag to draw walls, drag S and G; keys: arrows, Space toggles a wall, S and G place them');
    grid.addEventListener('pointerdown', (e) => this.onDown(e));
    grid.addEventListener('pointermove', (e) => this.onMove(e));
    window.addEventListener('pointerup', () => this.endDrag());
    grid.addEventListener('pointercancel', () => this.endDrag());
    grid.addEventListener('keydown', (e) => this.onKey(e));
    parent.append(grid);
    this.element = grid;
    this.build();
  }

  onChange(fn: (m: Maze) => void): void {
    this.changeListeners.push(fn);
  }

  getMaze(): Maze {
    return { ...this.maze, walls: [...this.maze.walls] };
  }

  setMaze(m: Maze): void {
    this.maze = { ...m, walls: [...m.walls] };
    this.path.clear();
    this.cursor = Math.min(this.cursor, m.size * m.size - 1);
    this.build();
    this.emit();
  }

  /** The reference shortest path (cells), or null to clear it. */
  setPath(cells: readonly number[] | null): void {
    this.path = new Set(cells ?? []);
    this.render();
  }

  /** An HRM-predicted path drawn over the grid (separately from the reference path). */
  setPrediction(cells: readonly number[] | null): void {
    this.prediction = new Set(cells ?? []);
    this.render();
  }

  private build(): void {
    const n = this.maze.size;
    this.element.style.setProperty('--n', String(n));
    this.element.replaceChildren();
    this.cellEls = [];
    for (let i = 0; i < n * n; i++) {
      const c = document.createElement('div');
      c.className = 'mcell';
      c.id = `maze-cell-${i}`;
      c.dataset.i = String(i);
      c.setAttribute('role', 'gridcell');
      this.element.append(c);
      this.cellEls.push(c);
    }
    this.render();
  }

  private cellAt(e: PointerEvent): number {
    const r = this.element.getBoundingClientRect();
    const n = this.maze.size;
    const c = Math.floor(((e.clientX - r.left) / r.width) * n);
    const rr = Math.floor(((e.clientY - r.top) / r.height) * n);
    if (c < 0 || c >= n || rr < 0 || rr >= n) return -1;
    return rr * n + c;
  }

  private onDown(e: PointerEvent): void {
    const i = this.cellAt(e);
    if (i < 0) return;
    e.preventDefault();
    this.element.focus();
    this.cursor = i;
    if (i === this.maze.start) this.drag = { kind: 'start' };
    else if (i === this.maze.goal) this.drag = { kind: 'goal' };
    else {
      const wall = !this.maze.walls[i];
      this.drag = { kind: 'paint', wall };
      setWall(this.maze, i, wall);
      this.changed();
    }
    this.render();
  }

  private onMove(e: PointerEvent): void {
    if (!this.drag) return;
    const i = this.cellAt(e);
    if (i < 0) return;
    const d = this.drag;
    const did = d.kind === 'paint' ? setWall(this.maze, i, d.wall) : moveEndpoint(this.maze, d.kind, i);
    if (did) {
      this.cursor = i;
      this.changed();
    }
  }

  private endDrag(): void {
    this.drag = null;
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.maze.size;
    const r = Math.floor(this.cursor / n);
    const c = this.cursor % n;
    const move: Record<string, [number, number]> = {
      ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
    };
    const m = move[e.key];
    if (m) {
      const nr = Math.min(n - 1, Math.max(0, r + m[0]));
      const nc = Math.min(n - 1, Math.max(0, c + m[1]));
      this.cursor = nr * n + nc;
      this.render();
    } else if (e.key === ' ' || e.key === 'Enter') {
      if (setWall(this.maze, this.cursor, !this.maze.walls[this.cursor])) this.changed();
    } else if (e.key === 's' || e.key === 'S') {
      if (moveEndpoint(this.maze, 'start', this.cursor)) this.changed();
    } else if (e.key === 'g' || e.key === 'G') {
      if (moveEndpoint(this.maze, 'goal', this.cursor)) this.changed();
    } else {
      return;
    }
    e.preventDefault();
  }

  private changed(): void {
    this.path.clear(); // stale until the new BFS answer arrives
    this.prediction.clear();
    this.render();
    this.emit();
  }

  private emit(): void {
    for (const fn of this.changeListeners) fn(this.getMaze());
  }

  private render(): void {
    const m = this.maze;
    for (let i = 0; i < this.cellEls.length; i++) {
      const el = this.cellEls[i]!;
      const kind = i === m.start ? 'start' : i === m.goal ? 'goal' : m.walls[i] ? 'wall' : 'open';
      el.textContent = kind === 'start' ? 'S' : kind === 'goal' ? 'G' : '';
      el.className = `mcell ${kind}`;
      if (this.path.has(i) && kind === 'open') el.classList.add('path');
      if (this.prediction.has(i) && kind !== 'wall') el.classList.add('predicted');
      if (i === this.cursor) el.classList.add('cursor');
      const r = Math.floor(i / m.size) + 1;
      const c = (i % m.size) + 1;
      el.setAttribute('aria-label', `row ${r} column ${c}: ${kind}${this.path.has(i) ? ', on the shortest path' : ''}`);
    }
    this.element.setAttribute('aria-activedescendant', `maze-cell-${this.cursor}`);
  }
}
