// The maze being edited: an N×N grid of walls with one start and one goal. The official text form
// ('#' wall, ' ' open, 'S', 'G', 'o' path; one row per line) goes to the crate; a compact form
// ('x' wall, '.' open, 's', 'g'; rows concatenated) goes in the URL.

export const MIN_SIZE = 4; // the crate's smallest maze (puzzles::maze::MIN_SIZE)
export const MAX_SIZE = 30;

export interface Maze {
  size: number;
  walls: boolean[];
  start: number;
  goal: number;
}

export function emptyMaze(size: number): Maze {
  const n = clampSize(size);
  return { size: n, walls: new Array<boolean>(n * n).fill(false), start: 0, goal: n * n - 1 };
}

/** The trainer's default shortest path for generated n x n mazes (`hrm train --data maze` without
 * `--min-path`, crate/src/bin/hrm/source.rs): Maze-Hard's 111 moves on 30x30 scaled to the area. */
export function defaultMinPath(n: number): number {
  return Math.max(Math.floor((111 * n * n) / 900), Math.floor(n / 2), 1);
}

export function clampSize(size: number): number {
  if (!Number.isFinite(size)) return MIN_SIZE;
  return Math.min(MAX_SIZE, Math.max(MIN_SIZE, Math.round(size)));
}

export function toText(m: Maze): string {
  const rows: string[] = [];
  for (let r = 0; r < m.size; r++) {
    let line = '';
    for (let c = 0; c < m.size; c++) {
      const i = r * m.size + c;
      line += i === m.start ? 'S' : i === m.goal ? 'G' : m.walls[i] ? '#' : ' ';
    }
    rows.push(line);
  }
  return rows.join('\n');
}

/** Reads the crate's generator output (the official charset; 'o' path cells count as open). */
export function fromText(text: string): Maze | string {
  const rows = text.replace(/\r/g, '').split('\n').filter((r) => r.length > 0);
  const n = rows.length;
  if (n < MIN_SIZE || n > MAX_SIZE) return `a maze needs ${MIN_SIZE} to ${MAX_SIZE} rows, this one has ${n}`;
  const walls: boolean[] = [];
  let start = -1;
  let goal = -1;
  for (const [r, line] of rows.entries()) {
    if (line.length !== n) return `row ${r + 1} has ${line.length} cells, expected ${n}`;
    for (const [c, ch] of [...line].entries()) {
      const i = r * n + c;
      if (ch === 'S') start = i;
      else if (ch === 'G') goal = i;
      else if (ch !== '#' && ch !== ' ' && ch !== 'o') return `row ${r + 1}, column ${c + 1}: '${ch}' is not one of # space S G o`;
      walls.push(ch === '#');
    }
  }
  if (start < 0) return 'the maze has no S';
  if (goal < 0) return 'the maze has no G';
  return { size: n, walls, start, goal };
}

export function toUrl(m: Maze): string {
  return m.walls.map((w, i) => (i === m.start ? 's' : i === m.goal ? 'g' : w ? 'x' : '.')).join('');
}

export function fromUrl(s: string): Maze | string {
  const n = Math.round(Math.sqrt(s.length));
  if (n * n !== s.length) return `the maze in the URL has ${s.length} cells, not a square number`;
  const text = [...s]
    .map((ch) => ({ x: '#', '.': ' ', s: 'S', g: 'G' })[ch] ?? ch)
    .join('')
    .match(new RegExp(`.{${n}}`, 'g'));
  return fromText((text ?? []).join('\n'));
}

/** Sets wall state of cell i; S and G are never walls. */
export function setWall(m: Maze, i: number, wall: boolean): boolean {
  if (i < 0 || i >= m.walls.length || i === m.start || i === m.goal || m.walls[i] === wall) return false;
  m.walls[i] = wall;
  return true;
}

/** Moves S or G to cell i when it is open and not the other endpoint. */
export function moveEndpoint(m: Maze, which: 'start' | 'goal', i: number): boolean {
  const other = which === 'start' ? m.goal : m.start;
  if (i < 0 || i >= m.walls.length || i === other || m.walls[i] || m[which] === i) return false;
  m[which] = i;
  return true;
}

/** The official maze tokens: '#'=1, ' '=2, 'S'=3, 'G'=4 (0 PAD, 5 path). */
export function toTokens(m: Maze): number[] {
  return m.walls.map((w, i) => (i === m.start ? 3 : i === m.goal ? 4 : w ? 1 : 2));
}
