// Wires the page: the boards, the worker, the URL, the HRM panel and the training panel.

import './style.css';
import { describeBackend } from './backend';
import { emptyMaze, fromText, fromUrl, toText, toUrl, clampSize, defaultMinPath, type Maze } from './maze';
import { MazeEditor } from './maze-editor';
import { HrmPanel } from './hrm-panel';
import type { BackendChoice, Difficulty, Hello, WorkerEvent } from './protocol';
import { SudokuBoard } from './sudoku-board';
import { conflicts, formatMs, fromLine, toLine } from './sudoku';
import { TrainingPanel } from './training-panel';
import { readSettings, writeSettings, type Settings } from './url-state';
import { WorkerClient, latestOnly } from './worker-client';
import { errorText } from './errors';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
};
const randomSeed = (): number => crypto.getRandomValues(new Uint32Array(1))[0]!;

const settings: Settings = readSettings(location.search);
const saveUrl = (): void => history.replaceState(null, '', `${location.pathname}${writeSettings(settings)}`);

const worker = new WorkerClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));

// ---------- backend ----------
const backendSelect = $<HTMLSelectElement>('backend-select');
backendSelect.value = settings.backend;
let hello: Hello | null = null;
const showBackend = (): void => {
  if (!hello) return;
  const gpu = describeBackend(hello.backend);
  const picked = settings.backend as BackendChoice;
  const note = picked === 'webgpu' && hello.backend.webgpu !== 'available' ? ' You chose WebGPU, which is not available here: the CPU path will run.' : '';
  $('backend-status').textContent = `${gpu}${note}`;
};
backendSelect.addEventListener('change', () => {
  settings.backend = backendSelect.value as BackendChoice;
  saveUrl();
  showBackend();
});

// ---------- Sudoku ----------
const board = new SudokuBoard($('sudoku-board'));
const sudokuStatus = $('sudoku-status');
const sudokuError = $('sudoku-error');
const difficulty = $<HTMLSelectElement>('difficulty');
difficulty.value = settings.difficulty;
difficulty.addEventListener('change', () => {
  settings.difficulty = difficulty.value as Difficulty;
  saveUrl();
});

const describeSudoku = (cells: number[]): string => {
  const givens = cells.filter((d) => d !== 0).length;
  const bad = conflicts(cells).size;
  return `${givens} givens${bad ? ` · ${bad} cells in conflict (marked)` : ''}`;
};
board.onChange((cells) => {
  settings.sudoku = cells.some((d) => d !== 0) ? toLine(cells) : null;
  saveUrl();
  sudokuError.textContent = '';
  sudokuStatus.textContent = describeSudoku(cells);
});

$('sudoku-solve').addEventListener('click', async () => {
  sudokuError.textContent = '';
  try {
    const a = await worker.call('sudoku.solve', { cells: board.getCells() });
    board.setOverlay(a.solution);
    const count = a.solutions === 1 ? 'the unique solution' : 'one of several solutions';
    sudokuStatus.textContent = `Exact solver: ${count} in ${formatMs(a.ms)} (${a.guesses} guesses).`;
  } catch (e) {
    sudokuError.textContent = `No exact solution: ${errorText(e)}`;
  }
});
$('sudoku-generate').addEventListener('click', async () => {
  sudokuError.textContent = '';
  const seed = randomSeed();
  try {
    const g = await worker.call('sudoku.generate', { difficulty: settings.difficulty, seed });
    board.setCells(g.cells);
    sudokuStatus.textContent = `Generated a puzzle (${settings.difficulty}) with ${g.givens} givens (seed ${seed}).`;
  } catch (e) {
    sudokuError.textContent = `Could not generate: ${errorText(e)}`;
  }
});
$('sudoku-clear').addEventListener('click', () => board.setCells(new Array<number>(81).fill(0)));

const loadSudokuText = async (text: string, from: string): Promise<void> => {
  try {
    const { cells } = await worker.call('sudoku.parse', { text });
    board.setCells(cells);
    sudokuStatus.textContent = `Loaded from ${from}: ${describeSudoku(cells)}.`;
  } catch (e) {
    sudokuError.textContent = `${from[0]!.toUpperCase()}${from.slice(1)} is not a Sudoku: ${errorText(e)}`;
  }
};

// ---------- maze ----------
const editor = new MazeEditor($('maze-editor'), emptyMaze(settings.size));
const mazeStatus = $('maze-status');
const mazeError = $('maze-error');
const sizeInput = $<HTMLInputElement>('maze-size');
const minPathInput = $<HTMLInputElement>('maze-minpath');
sizeInput.value = String(settings.size);
// an empty field (or none in the URL) means the trainer's default for the size, shown as the value
const showMinPath = (): void => {
  minPathInput.value = String(settings.minPath ?? defaultMinPath(clampSize(Number(sizeInput.value))));
};
showMinPath();

const solveMaze = latestOnly((text: string) => worker.call('maze.solve', { text }));
const refreshPath = async (m: Maze): Promise<void> => {
  try {
    const a = await solveMaze(toText(m));
    if (!a) return; // superseded by a newer edit
    editor.setPath(a.path);
    mazeError.textContent = '';
    const moves = a.path.length - 1;
    mazeStatus.textContent = `Shortest path (BFS): ${moves} move${moves === 1 ? '' : 's'}${a.severalShortest ? ' (other shortest paths exist)' : ''}, found in ${formatMs(a.ms)}.`;
  } catch (e) {
    editor.setPath(null);
    mazeStatus.textContent = '';
    mazeError.textContent = `No path: ${errorText(e)}`;
  }
};
editor.onChange((m) => {
  settings.maze = toUrl(m);
  settings.size = m.size;
  sizeInput.value = String(m.size);
  showMinPath();
  saveUrl();
  void refreshPath(m);
});
sizeInput.addEventListener('change', () => {
  const n = clampSize(Number(sizeInput.value));
  sizeInput.value = String(n);
  editor.setMaze(emptyMaze(n));
});
minPathInput.addEventListener('change', () => {
  const v = minPathInput.value.trim();
  settings.minPath = v === '' ? null : Math.max(1, Math.round(Number(v)) || 1);
  showMinPath();
  saveUrl();
});
// the last maze the generator made, to tell it from one the user drew or edited
let generated: string | null = null;
const generateMaze = async (): Promise<void> => {
  mazeError.textContent = '';
  const seed = randomSeed();
  const size = clampSize(Number(sizeInput.value));
  try {
    const g = await worker.call('maze.generate', { size, minPath: settings.minPath ?? defaultMinPath(size), seed });
    const m = fromText(g.text);
    if (typeof m === 'string') throw new Error(m);
    editor.setMaze(m);
    generated = toUrl(m);
  } catch (e) {
    mazeError.textContent = `Could not generate: ${errorText(e)}`;
  }
};
$('maze-generate').addEventListener('click', () => void generateMaze());
/** A maze model of an n x n grid was loaded: a maze larger than that which nobody drew (blank, or as
 * the generator made it) becomes one of the model's size; a drawn one stays (solving it says why not). */
const fitMaze = async (n: number): Promise<void> => {
  const m = editor.getMaze();
  if (m.size <= n) return;
  if (!m.walls.some(Boolean)) editor.setMaze(emptyMaze(n));
  else if (toUrl(m) === generated) {
    sizeInput.value = String(n);
    await generateMaze();
  }
};
$('maze-clear').addEventListener('click', () => {
  const m = editor.getMaze();
  editor.setMaze({ ...m, walls: m.walls.map(() => false) });
});

// ---------- paste anywhere ----------
document.addEventListener('paste', (e) => {
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement) return;
  const text = e.clipboardData?.getData('text/plain') ?? '';
  e.preventDefault();
  sudokuError.textContent = '';
  if (/[SG]/.test(text) && text.includes('#') && text.includes('\n')) {
    const m = fromText(text);
    if (typeof m === 'string') mazeError.textContent = `The pasted maze cannot be read: ${m}`;
    else editor.setMaze(m);
    return;
  }
  void loadSudokuText(text, 'the paste');
});

// ---------- HRM (hrm-panel.ts) ----------
const hrm = new HrmPanel({ worker, board, editor, settings, saveUrl, fitMaze });
board.onChange(() => hrm.edited('sudoku'));
editor.onChange(() => hrm.edited('maze'));
backendSelect.addEventListener('change', () => void hrm.setBackend(settings.backend));

// ---------- training in the tab (training-panel.ts; the loop runs in the worker) ----------
const training = new TrainingPanel($('training'), {
  catalog: () => worker.call('train.catalog', {}),
  start: (choice) => worker.call('train.start', { ...choice, backend: settings.backend as BackendChoice }),
  pause: (reason) => worker.call('train.pause', { reason }),
  resume: () => worker.call('train.resume', {}),
  reset: () => worker.call('train.reset', {}),
  restore: () => worker.call('train.restore', {}),
  weights: () => worker.call('train.weights', {}),
}, {
  // The trained weights take the same path as a checkpoint the user drops in (checked, then loaded
  // into the solver when it is a Sudoku or maze model).
  useModel: (w) => hrm.loadFiles([new File([w.weights as BlobPart], w.fileName)]),
  download: (w) => {
    const url = URL.createObjectURL(new Blob([w.weights as BlobPart], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = w.fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
});
document.addEventListener('visibilitychange', () => void training.visibilityChanged(document.visibilityState === 'hidden'));
worker.onEvent((ev: WorkerEvent) => {
  if (ev.type.startsWith('train.')) training.onEvent(ev);
});

// ---------- start ----------
async function startUp(): Promise<void> {
  try {
    hello = await worker.call('hello', {});
    $('version').textContent = `hrm ${hello.version} · wasm`;
    showBackend();
    if (!hello.hrmAvailable) $('hrm-status').textContent = hello.hrmUnavailableReason;
    await hrm.loadManifest();
    if (hello.trainingAvailable) await training.init();
    else training.setUnavailable('Training in the tab is not available in this build.');
  } catch (e) {
    $('backend-status').textContent = `The worker did not start: ${errorText(e)}`;
    return;
  }
  if (settings.sudoku) {
    const cells = fromLine(settings.sudoku);
    if (cells) board.setCells(cells);
    else await loadSudokuText(settings.sudoku, 'the URL');
  } else {
    sudokuStatus.textContent = 'Type, paste or generate a Sudoku.';
  }
  if (settings.maze) {
    const m = fromUrl(settings.maze);
    if (typeof m === 'string') {
      mazeError.textContent = `The maze in the URL cannot be read: ${m}`;
      await generateMaze();
    } else editor.setMaze(m);
  } else {
    await generateMaze();
  }
  document.body.dataset.ready = 'true'; // the e2e tests wait for this
}
void startUp();
