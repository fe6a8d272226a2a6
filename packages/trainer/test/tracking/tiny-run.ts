/** The tracking tests' training runs: the real CLI on a tiny model, 2 steps per epoch. */
import type { PreparedSynth } from '../fixtures/prepared-synth.ts';

export function tinyTrainArgs(
  synth: PreparedSynth,
  out: string,
  epochs: number,
  ...extra: string[]
): string[] {
  return [
    'train',
    ...['--prepared', synth.prepared, '--out', out, '--weights', 'none'],
    ...['--width', '0.0625', '--blocks', '1,1,1,1', '--image-size', '32', '--lr', '3e-3'],
    ...['--batch-size', '8', '--limit', '16', '--epochs', String(epochs), '--backend', 'wasm'],
    '--no-progress',
    ...extra,
  ];
}
