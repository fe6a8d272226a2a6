import { describe, expect, it } from 'vitest';
import { batchCount, epochBatches, epochOrder } from '../../src/data/epoch-batches.ts';

describe('epochBatches (the loader and the feature cache both batch through it)', () => {
  const options = { numSamples: 23, batchSize: 5, shuffle: true, seed: 7, epoch: 2 };

  it("cuts the epoch's seeded order into batches, a last smaller one included", () => {
    const batches = epochBatches(options);
    expect(batches.map((batch) => batch.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat()).toEqual(epochOrder(23, 7, 2));
    expect(batchCount(23, 5)).toBe(5);
  });

  it('a resume at batch k yields exactly the batches from k of the whole epoch', () => {
    expect(epochBatches({ ...options, skipBatches: 3 })).toEqual(epochBatches(options).slice(3));
    expect(epochBatches({ ...options, skipBatches: 5 })).toEqual([]);
  });

  it('without shuffling keeps the samples in order; dropLast leaves out the short batch', () => {
    expect(epochBatches({ ...options, shuffle: false, dropLast: true }).flat()).toEqual(
      Array.from({ length: 20 }, (_, index) => index),
    );
  });
});
