import { buildResNet50 } from '@food/core/model/resnet50';
import { describe, expect, it } from 'vitest';
import { assertTrainingFitsWasmHeap, estimateTrainingHeapBytes } from '../../src/train/wasm-heap-budget.ts';
import { useFullResNet50 } from '../helpers/full-resnet50.ts';

const GiB = 2 ** 30;

describe('wasm heap budget for a training step', () => {
  const resnet50 = useFullResNet50(50);

  it('matches the heap measured on wasm for ResNet-50 at 224 (1.19 GiB at batch 1, 3.14 GiB at batch 4)', () => {
    expect(estimateTrainingHeapBytes(resnet50(), 1) / GiB).toBeCloseTo(1.19, 1);
    expect(estimateTrainingHeapBytes(resnet50(), 4) / GiB).toBeCloseTo(3.14, 1);
  });

  it('refuses the recipe batch in one piece and names an --accumulate that fits', () => {
    expect(() => assertTrainingFitsWasmHeap(resnet50(), 128, 1)).toThrowError(
      /128 images at once needs about 8\d\.\d GiB .* Use --accumulate 32 \(micro-batches of 4/,
    );
    expect(() => assertTrainingFitsWasmHeap(resnet50(), 128, 32)).not.toThrow();
    expect(() => assertTrainingFitsWasmHeap(resnet50(), 8, 1)).toThrowError(/--accumulate 2 /);
  });

  it('lets a tiny model train in large batches', () => {
    const tiny = buildResNet50({
      numClasses: 5,
      inputSize: 64,
      widthMultiplier: 1 / 16,
      blocksPerStage: [1, 1, 1, 1],
    });
    expect(() => assertTrainingFitsWasmHeap(tiny, 256, 1)).not.toThrow();
    tiny.dispose();
  });
});
