// Which of the files a user dropped or chose make a checkpoint: exactly one .safetensors, and at
// most one .json (its config.json). Anything else is a message saying what to choose.

export interface Named { name: string }

export function pickCheckpointFiles<F extends Named>(files: readonly F[]): { weights: F; config: F | null } | string {
  const weights = files.filter((f) => f.name.toLowerCase().endsWith('.safetensors'));
  const configs = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  const other = files.filter((f) => !weights.includes(f) && !configs.includes(f));
  if (other.length) return `${other.map((f) => f.name).join(', ')}: not a checkpoint file (choose one .safetensors file and, if it carries no config, its config.json)`;
  if (weights.length === 0) return 'no .safetensors file: choose the weights (and, if they carry no config, their config.json)';
  if (weights.length > 1) return `${weights.length} .safetensors files: choose one`;
  if (configs.length > 1) return `${configs.length} .json files: choose at most one config.json`;
  return { weights: weights[0]!, config: configs[0] ?? null };
}
