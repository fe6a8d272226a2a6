/**
 * Which samples make each batch of an epoch: the seeded order and its cut into batches, written once
 * for the image loader (loader.ts) and the feature-cache batches (train/cached-feature-source.ts). An
 * exact resume needs both to start a resumed epoch at the same sample.
 */
import seedrandom from 'seedrandom';

/**
 * The epoch's sample order: a Fisher–Yates shuffle seeded by (seed, epoch) alone, so epoch N is the
 * same whether training ran straight through or resumed at its start.
 */
export function epochOrder(numSamples: number, seed: number, epoch: number): number[] {
  const random = seedrandom(`epoch-order:${seed}:${epoch}`);
  const order = Array.from({ length: numSamples }, (_, index) => index);
  for (let i = numSamples - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export interface EpochBatchesOptions {
  numSamples: number;
  batchSize: number;
  /** Seeded order (training) or the samples' own order (evaluation). */
  shuffle: boolean;
  seed: number;
  epoch: number;
  /** Start at this batch without the ones before it (a resume inside an epoch). */
  skipBatches?: number;
  /** Leave out a last, smaller batch (default false). */
  dropLast?: boolean;
}

/** Batches in an epoch: a last, smaller one counts unless `dropLast`. */
export function batchCount(numSamples: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(numSamples / batchSize) : Math.ceil(numSamples / batchSize);
}

/** The sample indices of each batch of the epoch, from batch `skipBatches` on. */
export function epochBatches(options: EpochBatchesOptions): number[][] {
  const { numSamples, batchSize } = options;
  const order = options.shuffle
    ? epochOrder(numSamples, options.seed, options.epoch)
    : Array.from({ length: numSamples }, (_, index) => index);
  const count = batchCount(numSamples, batchSize, options.dropLast);
  const batches: number[][] = [];
  for (let batch = options.skipBatches ?? 0; batch < count; batch++) {
    batches.push(order.slice(batch * batchSize, (batch + 1) * batchSize));
  }
  return batches;
}
