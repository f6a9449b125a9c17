// The puzzle and the settings live in the URL, so a link reproduces what you see.

import { DIFFICULTIES, type BackendChoice, type Difficulty } from './protocol';
import { clampSize, MAX_SIZE, MIN_SIZE } from './maze';

export interface Settings {
  sudoku: string | null;
  maze: string | null;
  difficulty: Difficulty;
  size: number;
  /** The shortest path a generated maze must have; null: the trainer's default for the size. */
  minPath: number | null;
  backend: BackendChoice;
  /** Segments per run; null: the loaded model's own number (`runSegments` in hrm-panel). */
  segments: number | null;
  act: boolean;
  speed: number;
  /** The shipped model to load (its manifest id), or null for the first one of the task. */
  model: string | null;
}

export const DEFAULTS: Settings = {
  sudoku: null,
  maze: null,
  difficulty: 'medium',
  size: 12,
  minPath: null,
  backend: 'auto',
  segments: null,
  act: true,
  speed: 4,
  model: null,
};

const int = (v: string | null, lo: number, hi: number, dflt: number): number => {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n >= lo && n <= hi ? n : dflt;
};

export function readSettings(search: string): Settings {
  const q = new URLSearchParams(search);
  const difficulty = q.get('difficulty');
  const backend = q.get('backend');
  return {
    sudoku: q.get('sudoku'),
    maze: q.get('maze'),
    difficulty: DIFFICULTIES.includes(difficulty as Difficulty) ? (difficulty as Difficulty) : DEFAULTS.difficulty,
    size: clampSize(int(q.get('size'), MIN_SIZE, MAX_SIZE, DEFAULTS.size)),
    minPath: q.get('minpath') === null ? DEFAULTS.minPath : int(q.get('minpath'), 1, 900, 0) || DEFAULTS.minPath,
    backend: backend === 'webgpu' || backend === 'cpu' || backend === 'auto' ? backend : DEFAULTS.backend,
    segments: int(q.get('segments'), 1, 64, 0) || DEFAULTS.segments,
    act: q.get('act') !== '0',
    speed: int(q.get('speed'), 1, 60, DEFAULTS.speed),
    model: q.get('model'),
  };
}

/** The query string for `s`, leaving out what equals the default (short links). */
export function writeSettings(s: Settings): string {
  const q = new URLSearchParams();
  if (s.sudoku) q.set('sudoku', s.sudoku);
  if (s.maze) q.set('maze', s.maze);
  if (s.difficulty !== DEFAULTS.difficulty) q.set('difficulty', s.difficulty);
  if (s.size !== DEFAULTS.size) q.set('size', String(s.size));
  if (s.minPath !== null) q.set('minpath', String(s.minPath));
  if (s.backend !== DEFAULTS.backend) q.set('backend', s.backend);
  if (s.segments !== null) q.set('segments', String(s.segments));
  if (!s.act) q.set('act', '0');
  if (s.speed !== DEFAULTS.speed) q.set('speed', String(s.speed));
  if (s.model) q.set('model', s.model);
  const str = q.toString();
  return str ? `?${str}` : '';
}
