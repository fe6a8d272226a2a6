import type { MachineFacts } from '../src/machine.ts';
import { parsePytorchOutput } from '../src/pytorch.ts';
import type { BenchResults, Measurement } from '../src/run-bench.ts';
import { GEMM_PROBE, type MeasurementSpec, RESNET50_224 } from '../src/spec.ts';

/**
 * Bench results as a full run would collect them: an OOM at batch 8, so batch 8 runs as 2 × 4
 * accumulated; one train row on 1 thread; PyTorch beside.
 */
export const machine: MachineFacts = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryGiB: 8,
  platform: 'Linux test x64',
  node: 'v20.0.0',
  tfjs: '4.22.0',
  packages: { sharp: '0.35.5' },
  loadAverage: [0.5, 0.4, 0.3],
};

const ok = (samples: number[]) => ({ status: 'ok' as const, unit: 'ms/image' as const, samples });
const measurement = (spec: MeasurementSpec, result: Measurement['result']): Measurement => ({
  spec,
  result,
  loadAverage: 0.5,
});
const model = RESNET50_224;

export function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    options: {
      quick: false,
      runs: 3,
      dataRoot: '/data/food10',
      sections: ['forward', 'train', 'gemm', 'throughput', 'preprocess', 'backends', 'pytorch'],
    },
    model,
    machine,
    startedAt: new Date('2026-01-02T03:04:00Z'),
    seconds: 600,
    skipped: [],
    backendTrainBatch: 2,
    measurements: [
      measurement(
        { kind: 'forward', backend: 'wasm', threads: 2, batch: 1, runs: 3, model },
        ok([500, 480, 520]),
      ),
      measurement(
        { kind: 'train', backend: 'wasm', threads: 2, batch: 8, microBatch: 8, runs: 3, model },
        { status: 'oom', reason: 'RuntimeError: Aborted()' },
      ),
      measurement(
        { kind: 'train', backend: 'wasm', threads: 2, batch: 4, microBatch: 4, runs: 3, model },
        ok([4000, 4200, 3900]),
      ),
      measurement(
        { kind: 'train', backend: 'wasm', threads: 2, batch: 8, microBatch: 4, runs: 3, model },
        ok([3000, 3100, 2900]),
      ),
      measurement(
        { kind: 'train', backend: 'wasm', threads: 1, batch: 4, microBatch: 4, runs: 3, model },
        ok([5000, 5000, 5000]),
      ),
      measurement(
        { kind: 'gemm', threads: 2, runs: 3, shape: GEMM_PROBE },
        { status: 'ok', unit: 'GFLOP/s', samples: [40, 41, 42] },
      ),
      measurement(
        {
          kind: 'throughput',
          engine: 'tfjs-wasm',
          workers: 2,
          threadsPerWorker: 1,
          batch: 4,
          imagesPerRun: 16,
          runs: 3,
          model,
          calibrationImages: [],
        },
        { status: 'ok', unit: 'images/s', samples: [4, 4, 4] },
      ),
      measurement(
        { kind: 'preprocess', mode: 'loader', files: ['a.jpg'], dataRoot: '/data/food10', runs: 3 },
        { status: 'ok', unit: 'images/s', samples: [1, 0.5, 0.6] },
      ),
    ],
    pytorch: parsePytorchOutput({
      available: true,
      version: '1.13.0',
      threads: 2,
      results: [
        { kind: 'forward', batch: 8, samples: [200, 200, 200] },
        { kind: 'train', batch: 4, samples: [1000, 1000, 1000] },
        { kind: 'train', batch: 8, samples: [750, 750, 750] },
        { kind: 'gemm', batch: 4, samples: [100, 100, 100] },
      ],
    }),
    ...overrides,
  };
}
