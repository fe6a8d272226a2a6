import { describe, expect, it } from 'vitest';
import {
  describePlan,
  gpuBudgetBytes,
  gpuStepMemory,
  outputFloatsPerImage,
  planMicroBatch,
} from '../../src/train/gpu-memory-plan.ts';
import { useFullResNet50 } from '../helpers/full-resnet50.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe('GPU memory plan for --accumulate auto', () => {
  const resnet50 = useFullResNet50(50);

  it('estimates ResNet-50 at 224 from tf.profile peak bytes (1.02 GB per image)', () => {
    expect(outputFloatsPerImage(resnet50()) / 1e6).toBeCloseTo(37.1, 0);
    const memory = gpuStepMemory(resnet50());
    expect(memory.perImageBytes / 1e9).toBeCloseTo(1.02, 1);
    expect(memory.fixedBytes / 1e6).toBeCloseTo(379, -1); // 23.7 M parameters × 16 bytes
  });

  it('picks the fewest micro-batches that fit: recipe batch 128 on an 80 GB, a 24 GB and a 16 GB card', () => {
    const memory = gpuStepMemory(resnet50());
    // Free memory as nvidia-smi reports it on idle cards (MiB).
    const plan = (freeMiB: number) => planMicroBatch(128, memory, gpuBudgetBytes(freeMiB * MiB));
    expect(plan(80_589)).toMatchObject({ accumulate: 2, microBatch: 64, fits: true });
    expect(plan(24_080)).toMatchObject({ accumulate: 8, microBatch: 16, fits: true });
    expect(plan(15_948)).toMatchObject({ accumulate: 16, microBatch: 8, fits: true });
    for (const freeMiB of [80_589, 24_080, 15_948]) {
      const chosen = plan(freeMiB);
      expect(chosen.neededBytes).toBeLessThanOrEqual(chosen.budgetBytes);
      // The next larger micro-batch (a divisor of 128) would not fit.
      expect(memory.fixedBytes + memory.perImageBytes * chosen.microBatch * 2).toBeGreaterThan(
        chosen.budgetBytes,
      );
    }
  });

  it('falls back to micro-batches of 1 when nothing fits, and says so', () => {
    const plan = planMicroBatch(128, gpuStepMemory(resnet50()), gpuBudgetBytes(1 * GiB));
    expect(plan).toMatchObject({ accumulate: 128, microBatch: 1, fits: false });
    expect(describePlan(plan, 128, { name: 'Tiny GPU', freeBytes: 1 * GiB })).toMatch(
      /even 1 image per micro-batch .* trying micro-batches of 1/,
    );
  });

  it('prints its choice with the GPU, the free memory and the retry', () => {
    const plan = planMicroBatch(128, gpuStepMemory(resnet50()), gpuBudgetBytes(80_589 * MiB));
    expect(describePlan(plan, 128, { name: 'NVIDIA H100 80GB HBM3', freeBytes: 80_589 * MiB })).toBe(
      "--accumulate auto: NVIDIA H100 80GB HBM3 has 78.7 GiB free (69.8 GiB for the step after CUDA's reserve): micro-batches of 64 (2 per batch of 128, estimated 61.0 GiB); on an OOM the micro-batch is halved and the step retried",
    );
  });
});
