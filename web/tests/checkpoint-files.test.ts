import { describe, expect, it } from 'vitest';
import { pickCheckpointFiles } from '../src/checkpoint-files';

const f = (name: string) => ({ name });

describe('choosing checkpoint files', () => {
  it('takes one .safetensors and an optional config.json', () => {
    expect(pickCheckpointFiles([f('model.safetensors')])).toEqual({ weights: f('model.safetensors'), config: null });
    expect(pickCheckpointFiles([f('config.json'), f('W.SafeTensors')])).toEqual({ weights: f('W.SafeTensors'), config: f('config.json') });
  });
  it('says what is wrong otherwise', () => {
    expect(pickCheckpointFiles([])).toMatch(/^no \.safetensors file/);
    expect(pickCheckpointFiles([f('config.json')])).toMatch(/^no \.safetensors file/);
    expect(pickCheckpointFiles([f('a.safetensors'), f('b.safetensors')])).toBe('2 .safetensors files: choose one');
    expect(pickCheckpointFiles([f('a.safetensors'), f('x.json'), f('y.json')])).toMatch(/^2 \.json files/);
    expect(pickCheckpointFiles([f('a.safetensors'), f('notes.txt')])).toMatch(/^notes\.txt: not a checkpoint file/);
  });
});
