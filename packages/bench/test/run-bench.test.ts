import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MeasurementResult, MeasurementSpec } from '../src/spec.ts';

// The children are replaced by a table of outcomes: what this checks is which measurements runBench asks
// for, and in what order, around an out-of-memory batch and a backend that is not installed.
vi.mock('../src/run-child.ts', () => ({
  runInChild: async (spec: MeasurementSpec): Promise<MeasurementResult> => {
    if (spec.kind === 'forward' || spec.kind === 'train') {
      if (spec.backend === 'tensorflow') return { status: 'unavailable', reason: 'not installed' };
      if (spec.kind === 'train' && spec.backend === 'wasm' && spec.microBatch > 8)
        return { status: 'oom', reason: 'heap' };
    }
    return { status: 'ok', unit: 'ms/image', samples: [1] };
  },
}));
vi.mock('../src/pytorch.ts', () => ({
  runPytorch: async () => ({ version: '2', threads: 2, forward: new Map(), train: new Map() }),
}));
vi.mock('../src/machine.ts', () => ({ collectMachineFacts: () => ({ cores: 2 }) }));

const { runBench, SECTIONS } = await import('../src/run-bench.ts');

let dataRoot: string;
beforeAll(async () => {
  dataRoot = await mkdtemp(path.join(tmpdir(), 'food-bench-plan-'));
  for (const name of ['pho', 'sushi']) {
    await mkdir(path.join(dataRoot, 'images', name), { recursive: true });
    for (const id of [1, 2]) await writeFile(path.join(dataRoot, 'images', name, `${id}.jpg`), 'jpeg');
  }
});
afterAll(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

function label(spec: MeasurementSpec): string {
  const { kind, ...rest } = spec as MeasurementSpec & Record<string, unknown>;
  const keys = ['backend', 'engine', 'mode', 'threads', 'batch', 'microBatch', 'workers', 'threadsPerWorker'];
  return [kind, ...keys.filter((key) => key in rest).map((key) => `${key}=${rest[key]}`)].join(' ');
}

describe('runBench', () => {
  it('measures every section in order, halving a batch that runs out of memory', async () => {
    const results = await runBench({
      quick: true,
      runs: 1,
      sections: new Set(SECTIONS),
      dataRoot,
      trainBatches: [16],
      log: () => {},
    });
    expect(results.measurements.map((measurement) => label(measurement.spec))).toEqual(EXPECTED);
    expect(results.skipped).toEqual([]);
    expect(results.pytorch?.version).toBe('2');
  });
});

// Recorded from runBench before it was split into one function per section, plus the loader-scaling runs.
const EXPECTED = [
  'forward backend=wasm threads=2 batch=1',
  'forward backend=wasm threads=2 batch=4',
  'forward backend=wasm threads=1 batch=4',
  'forward backend=tensorflow threads=2 batch=1',
  'train backend=wasm threads=2 batch=16 microBatch=16',
  'train backend=wasm threads=2 batch=8 microBatch=8',
  'train backend=wasm threads=2 batch=16 microBatch=8',
  'train backend=wasm threads=1 batch=8 microBatch=8',
  'train backend=tensorflow threads=2 batch=16 microBatch=4',
  'gemm threads=1',
  'gemm threads=2',
  'throughput engine=tfjs-wasm batch=4 workers=1 threadsPerWorker=1',
  'throughput engine=tfjs-wasm batch=4 workers=1 threadsPerWorker=2',
  'throughput engine=tfjs-wasm batch=4 workers=2 threadsPerWorker=1',
  'throughput engine=onnx-fp32 batch=8 workers=1 threadsPerWorker=1',
  'throughput engine=onnx-fp32 batch=8 workers=2 threadsPerWorker=1',
  'throughput engine=onnx-int8 batch=8 workers=1 threadsPerWorker=1',
  'throughput engine=onnx-int8 batch=8 workers=2 threadsPerWorker=1',
  'preprocess mode=preprocess',
  'preprocess mode=augment',
  'preprocess mode=loader',
  'preprocess mode=loader-512',
  // The loader's scaling: pinned to 1 core, then to 2 (the machine's cores).
  'preprocess mode=loader-512 workers=1',
  'preprocess mode=loader-512 workers=2',
  'forward backend=cpu threads=2 batch=1',
  'train backend=cpu threads=2 batch=2 microBatch=2',
  'forward backend=tensorflow threads=2 batch=1',
  'train backend=wasm threads=2 batch=2 microBatch=2',
];
