/** Compares the weights of checkpoints: what resume tests use to say a run reached the same weights. */
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import { expect } from 'vitest';

/** Every weight of the checkpoint in `dir`, read out; the model is disposed. */
export async function weightsOf(dir: string): Promise<Float32Array[]> {
  const { model } = await loadCheckpoint(dir);
  const values = model.getWeights().map((weight) => weight.dataSync() as Float32Array);
  model.dispose();
  return values;
}

/** The largest absolute difference between two weight lists, which must have the same shapes. */
export function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(b.length).toBe(a.length);
  let max = 0;
  for (const [i, values] of a.entries()) {
    expect(b[i].length).toBe(values.length);
    for (const [j, value] of values.entries()) max = Math.max(max, Math.abs(value - b[i][j]));
  }
  return max;
}
