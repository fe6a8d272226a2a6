import { describe, expect, it } from 'vitest';
import { imagesPerSecond, parseProgressLine } from '../../src/gpu-check/train-child.ts';

describe('gpu:check reading a training process', () => {
  it('reads the global step from a progress line, and nothing else', () => {
    expect(parseProgressLine('epoch 2/14 7/77 (9%) ETA 300s loss 2.1 acc 0.3')).toEqual({
      epoch: 2,
      globalStep: 84,
    });
    expect(parseProgressLine('validate 3/8 (37%)')).toBeUndefined();
    expect(parseProgressLine('--accumulate auto: micro-batches of 16')).toBeUndefined();
  });

  it('measures images/s between lines of one epoch, leaving out the validation and save between epochs', () => {
    const steps = [
      { epoch: 1, globalStep: 10, at: 0 },
      { epoch: 1, globalStep: 20, at: 10_000 },
      // Epoch 1 ended at step 25: validation and a save took 60 s before the next line.
      { epoch: 2, globalStep: 30, at: 80_000 },
      { epoch: 2, globalStep: 40, at: 90_000 },
    ];
    expect(imagesPerSecond(steps, 128)).toBeCloseTo((20 * 128) / 20, 6);
    expect(imagesPerSecond(steps.slice(0, 1), 128)).toBeUndefined();
  });
});
