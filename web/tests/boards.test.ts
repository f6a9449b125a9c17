import { describe, expect, it } from 'vitest';
import { SudokuBoard } from '../src/sudoku-board';
import { MazeEditor } from '../src/maze-editor';
import { emptyMaze } from '../src/maze';

const key = (el: HTMLElement, k: string): void => {
  el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));
};

describe('Sudoku board', () => {
  it('types digits, moves with arrows, clears, and marks conflicts as you type', () => {
    document.body.innerHTML = '';
    const b = new SudokuBoard(document.body);
    const changes: number[][] = [];
    b.onChange((c) => changes.push(c));
    key(b.element, '5');
    key(b.element, 'ArrowRight');
    key(b.element, 'ArrowRight');
    key(b.element, '5');
    expect(b.getCells().slice(0, 3)).toEqual([5, 0, 5]);
    const cells = b.element.querySelectorAll('.cell');
    expect(cells[0]!.classList.contains('conflict')).toBe(true);
    expect(cells[2]!.getAttribute('aria-invalid')).toBe('true');
    key(b.element, 'Backspace');
    expect(b.getCells()[2]).toBe(0);
    expect(cells[0]!.classList.contains('conflict')).toBe(false);
    key(b.element, 'ArrowLeft');
    key(b.element, 'ArrowLeft');
    key(b.element, 'ArrowLeft'); // clamps at the edge
    key(b.element, 'ArrowDown');
    key(b.element, '7');
    expect(b.getCells()[9]).toBe(7);
    key(b.element, 'Delete');
    expect(b.getCells()[9]).toBe(0);
    expect(changes).toHaveLength(5); // 5, 5, clear, 7, clear
  });
  it('shows an overlay in a different style and drops it on the next edit', () => {
    document.body.innerHTML = '';
    const b = new SudokuBoard(document.body);
    b.setOverlay(new Array(81).fill(3));
    const c0 = b.element.querySelector('.cell')!;
    expect(c0.textContent).toBe('3');
    expect(c0.classList.contains('solved')).toBe(true);
    key(b.element, '1');
    expect(c0.classList.contains('given')).toBe(true);
    expect(b.element.querySelectorAll('.solved')).toHaveLength(0);
  });
});

describe('Maze editor', () => {
  it('toggles walls and places S and G from the keyboard, never on each other', () => {
    document.body.innerHTML = '';
    const e = new MazeEditor(document.body, emptyMaze(8));
    let changes = 0;
    e.onChange(() => changes++);
    key(e.element, 'ArrowRight');
    key(e.element, ' ');
    expect(e.getMaze().walls[1]).toBe(true);
    key(e.element, 's'); // a wall: S cannot go there
    expect(e.getMaze().start).toBe(0);
    key(e.element, ' ');
    key(e.element, 's');
    expect(e.getMaze().start).toBe(1);
    key(e.element, 'ArrowDown');
    key(e.element, 'g');
    expect(e.getMaze().goal).toBe(9);
    expect(changes).toBe(4);
    e.setPath([1, 2, 10, 9]);
    expect(e.element.querySelectorAll('.path')).toHaveLength(2); // S and G are not drawn as path
  });
});

describe('Sudoku digit pad', () => {
  it('sets the cursor cell and keeps the keyboard on the board', () => {
    document.body.innerHTML = '';
    const b = new SudokuBoard(document.body);
    key(b.element, 'ArrowDown');
    const pad = [...document.querySelectorAll<HTMLButtonElement>('.digit-pad button')];
    expect(pad.map((p) => p.textContent)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '⌫']);
    pad[6]!.click();
    expect(b.getCells()[9]).toBe(7);
    expect(document.activeElement).toBe(b.element);
    pad[9]!.click();
    expect(b.getCells()[9]).toBe(0);
  });
});
