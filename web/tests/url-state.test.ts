import { describe, expect, it } from 'vitest';
import { DEFAULTS, readSettings, writeSettings } from '../src/url-state';

describe('URL state', () => {
  it('defaults give an empty query and read back as defaults', () => {
    expect(writeSettings(DEFAULTS)).toBe('');
    expect(readSettings('')).toEqual(DEFAULTS);
  });
  it('round-trips every setting', () => {
    const s = { ...DEFAULTS, sudoku: '1'.repeat(81), maze: 's' + '.'.repeat(62) + 'g', difficulty: 'hard' as const, size: 20, minPath: 40, backend: 'cpu' as const, segments: 8, act: false, speed: 16 };
    expect(readSettings(writeSettings(s))).toEqual(s);
  });
  it('keeps an explicit segment count, even the old default, and leaves it out when unset', () => {
    expect(DEFAULTS.segments).toBeNull();
    expect(readSettings('?segments=16').segments).toBe(16);
    expect(writeSettings({ ...DEFAULTS, segments: 16 })).toBe('?segments=16');
  });
  it('ignores invalid values', () => {
    const s = readSettings('?difficulty=impossible&size=99&segments=-1&backend=tpu&speed=abc&minpath=x');
    expect(s.minPath).toBeNull();
    expect(s.difficulty).toBe(DEFAULTS.difficulty);
    expect(s.size).toBe(DEFAULTS.size);
    expect(s.segments).toBe(DEFAULTS.segments);
    expect(s.backend).toBe(DEFAULTS.backend);
    expect(s.speed).toBe(DEFAULTS.speed);
  });
});
