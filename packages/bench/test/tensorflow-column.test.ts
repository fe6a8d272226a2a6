import { describe, expect, it } from 'vitest';
import type { Measurement } from '../src/run-bench.ts';
import { RESNET50_224 } from '../src/spec.ts';
import { tensorflowColumnSection } from '../src/tensorflow-column.ts';
import { results } from './fixture.ts';

const model = RESNET50_224;
const ok = (samples: number[], detail?: string) => ({
  status: 'ok' as const,
  unit: 'ms/image' as const,
  samples,
  detail,
});
const tensorflowRows: Measurement[] = [
  {
    spec: { kind: 'forward', backend: 'tensorflow', threads: 2, batch: 1, runs: 3, model },
    result: ok([100, 100, 100]),
    loadAverage: 0.5,
  },
  {
    spec: { kind: 'train', backend: 'tensorflow', threads: 2, batch: 8, microBatch: 8, runs: 3, model },
    result: ok([900, 1000, 950], 'peak RSS 6.10 GiB'),
    loadAverage: 0.5,
  },
];

describe('the tensorflow column of the bench report', () => {
  it('puts tensorflow beside the wasm row that ran at the same batch and PyTorch, with both ratios', () => {
    const base = results();
    const lines = tensorflowColumnSection({
      ...base,
      measurements: [...base.measurements, ...tensorflowRows],
    });
    const text = lines.join('\n');
    expect(text).toContain('## tensorflow (CPU) beside wasm and PyTorch, ms per image');
    expect(text).toContain(
      '| Measurement | Batch | wasm | tensorflow (CPU) | PyTorch | tensorflow / PyTorch | tensorflow / wasm |',
    );
    // wasm's batch 1 forward: 500; no PyTorch forward at batch 1 in the fixture.
    expect(text).toContain('| forward | 1 | 500 (480–520) | 100 (100–100) | not measured | – | 0.20× |');
    // wasm's batch 8 ran out of memory whole and ran as 2 × 4: that is the row to compare with.
    expect(text).toContain(
      '| train step | 8 | 3,000 (2,900–3,100) (2 × 4) | 950 (900–1,000), peak RSS 6.10 GiB | 750 (750–750) | 1.27× | 0.32× |',
    );
  });

  it('is left out of a run without tensorflow measurements', () => {
    expect(tensorflowColumnSection(results())).toEqual([]);
  });
});
