// Sudoku board logic that must be instant as you type (no worker round trip): conflicts and the
// 81-character form. Parsing what people paste, solving and generating come from the crate.

export const CELLS = 81;

export const row = (i: number): number => Math.floor(i / 9);
export const col = (i: number): number => i % 9;
export const box = (i: number): number => Math.floor(row(i) / 3) * 3 + Math.floor(col(i) / 3);

/** Cells (0..80) whose digit repeats in their row, column or box. `cells` holds 0 for blank. */
export function conflicts(cells: readonly number[]): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < CELLS; i++) {
    const d = cells[i] ?? 0;
    if (d === 0) continue;
    for (let j = i + 1; j < CELLS; j++) {
      if (cells[j] !== d) continue;
      if (row(i) === row(j) || col(i) === col(j) || box(i) === box(j)) {
        out.add(i);
        out.add(j);
      }
    }
  }
  return out;
}

/** The 81-character form with '.' for blanks (the URL and clipboard form). */
export function toLine(cells: readonly number[]): string {
  return cells.map((d) => (d === 0 ? '.' : String(d))).join('');
}

/** Reads the strict 81-character URL form; anything else is null (the caller then asks the
 *  crate's parser, which explains what is wrong). */
export function fromLine(s: string): number[] | null {
  if (!/^[0-9.]{81}$/.test(s)) return null;
  return [...s].map((c) => (c === '.' ? 0 : Number(c)));
}

/** True when `solution` is a complete valid grid that keeps every given of `puzzle`. */
export function isSolutionOf(puzzle: readonly number[], solution: readonly number[]): boolean {
  if (solution.length !== CELLS) return false;
  if (solution.some((d) => !(d >= 1 && d <= 9))) return false;
  if (puzzle.some((d, i) => d !== 0 && solution[i] !== d)) return false;
  return conflicts(solution).size === 0;
}

/** A duration for people: the worker's clock is coarse, so tiny times read "under 0.1 ms". */
export function formatMs(ms: number): string {
  return ms < 0.1 ? 'under 0.1 ms' : ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}
