import { describe, expect, it } from 'vitest';
import { emptyMaze, fromText, fromUrl, moveEndpoint, setWall, toText, toTokens, toUrl, clampSize, defaultMinPath } from '../src/maze';

describe('maze model', () => {
  it("defaults the shortest path as the trainer does (hrm train's source.rs)", () => {
    // Maze-Hard's 111 on 30x30 scaled to the area, at least half the side
    expect([30, 15, 12, 9, 7, 4].map(defaultMinPath)).toEqual([111, 27, 17, 9, 6, 2]);
  });
  it('clamps sizes to 4..30 (the crate\'s range)', () => {
    expect(clampSize(3)).toBe(4);
    expect(clampSize(5)).toBe(5);
    expect(clampSize(31)).toBe(30);
    expect(clampSize(NaN)).toBe(4);
    expect(emptyMaze(12).walls).toHaveLength(144);
  });
  it('round-trips text and URL forms', () => {
    const m = emptyMaze(9);
    setWall(m, 5, true);
    setWall(m, 40, true);
    moveEndpoint(m, 'goal', 44);
    const back = fromText(toText(m));
    expect(back).toEqual(m);
    expect(fromUrl(toUrl(m))).toEqual(m);
  });
  it('never walls S or G and refuses to move an endpoint onto a wall or the other endpoint', () => {
    const m = emptyMaze(8);
    expect(setWall(m, m.start, true)).toBe(false);
    expect(setWall(m, 10, true)).toBe(true);
    expect(moveEndpoint(m, 'start', 10)).toBe(false);
    expect(moveEndpoint(m, 'start', m.goal)).toBe(false);
    expect(moveEndpoint(m, 'start', 11)).toBe(true);
    expect(m.start).toBe(11);
  });
  it('reads path cells as open and explains bad text', () => {
    const rows = ['S  ooooo', ...Array(6).fill('        '), '       G'];
    const m = fromText(rows.join('\n'));
    expect(typeof m).toBe('object');
    expect(fromText(['S  ', '   ', '  G'].join('\n'))).toMatch(/4 to 30 rows/);
    expect(fromText(rows.slice(0, 7).join('\n'))).toBe('row 1 has 8 cells, expected 7');
    expect(fromText([...rows.slice(0, 7), '  G'].join('\n'))).toBe('row 8 has 3 cells, expected 8');
    expect(fromText(rows.join('\n').replace('G', 'x'))).toMatch(/'x' is not one of/);
    expect(fromText(rows.join('\n').replace('G', ' '))).toBe('the maze has no G');
    expect(fromUrl('x'.repeat(50))).toMatch(/not a square number/);
  });
  it('uses the official tokens', () => {
    const m = emptyMaze(8);
    setWall(m, 1, true);
    const t = toTokens(m);
    expect(t[0]).toBe(3);
    expect(t[1]).toBe(1);
    expect(t[2]).toBe(2);
    expect(t[63]).toBe(4);
  });
});
