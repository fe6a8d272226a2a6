import { describe, expect, it } from 'vitest';
import type { MachineFacts } from '../../src/bench/machine.ts';
import { parsePytorchOutput } from '../../src/bench/pytorch.ts';
import { computeTargets, formatNumber, formatResult, renderReport } from '../../src/bench/report.ts';
import type { BenchResults, Measurement } from '../../src/bench/run-bench.ts';
import { type MeasurementSpec, RESNET50_224 } from '../../src/bench/spec.ts';

const machine: MachineFacts = {
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

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    options: {
      quick: false,
      runs: 3,
      dataRoot: '/data/food10',
      sections: ['forward', 'train', 'throughput', 'preprocess', 'backends', 'pytorch'],
    },
    model,
    machine,
    startedAt: new Date('2026-01-02T03:04:00Z'),
    seconds: 600,
    skipped: [],
    trainBatches: [8, 4],
    backendTrainBatch: 2,
    measurements: [
      measurement({ kind: 'forward', backend: 'wasm', batch: 1, runs: 3, model }, ok([500, 480, 520])),
      measurement(
        { kind: 'train', backend: 'wasm', batch: 8, runs: 3, model },
        { status: 'oom', reason: 'RuntimeError: Aborted()' },
      ),
      measurement({ kind: 'train', backend: 'wasm', batch: 4, runs: 3, model }, ok([4000, 4200, 3900])),
      measurement(
        {
          kind: 'throughput',
          engine: 'tfjs-wasm',
          workers: 2,
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
        { kind: 'train', batch: 8, error: 'DefaultCPUAllocator: not enough memory', oom: true },
      ],
    }),
    ...overrides,
  };
}

describe('computeTargets', () => {
  const targets = computeTargets(results());

  it('compares the largest wasm batch that trained with PyTorch at the same batch', () => {
    const train = targets[0]!;
    expect(train.ours).toContain('batch 4');
    expect(train.ratio).toBeCloseTo(4, 5);
    expect(train.pass).toBe(false);
  });

  it('turns throughput with all cores into ms per image against PyTorch', () => {
    const wasm = targets.find((t) => t.name.includes('tfjs-wasm'))!;
    expect(wasm.ratio).toBeCloseTo(250 / 200, 5);
    expect(wasm.pass).toBe(true);
    expect(targets.find((t) => t.name.includes('onnx-int8'))!.pass).toBeUndefined();
  });

  it('needs preprocessing to outpace what training consumes three times', () => {
    const preprocess = targets.at(-1)!;
    // loader 0.6 images/s; training consumes 1000 / 4000 = 0.25 images/s.
    expect(preprocess.ratio).toBeCloseTo(2.4, 5);
    expect(preprocess.pass).toBe(false);
  });

  it('leaves a target unjudged when PyTorch did not run', () => {
    const [train] = computeTargets(results({ pytorch: undefined }));
    expect(train!.ratio).toBeUndefined();
    expect(train!.pass).toBeUndefined();
  });
});

describe('renderReport', () => {
  it('states out-of-memory rows, machine facts and pass/fail', () => {
    const doc = renderReport(results());
    expect(doc).toContain('**out of memory**: RuntimeError: Aborted()');
    expect(doc).toContain('Test CPU, 2 cores');
    expect(doc).toContain('**FAIL**');
    expect(doc).toContain('500 (480–520)');
    expect(doc).not.toContain('the machine was loaded');
    // The kernels engineer's per-kernel tables are carried along.
    expect(doc).toContain('Per-kernel: conv gradients on ResNet-50 layer shapes');
  });

  it('warns when the load average exceeds the cores', () => {
    const doc = renderReport(results({ machine: { ...machine, loadAverage: [9.5, 8, 7] } }));
    expect(doc).toContain('the machine was loaded');
    expect(doc).toContain('9.50 / 8.00 / 7.00');
  });
});

describe('formatting', () => {
  it('keeps about three significant digits', () => {
    expect(formatNumber(4123.4)).toBe('4,123');
    expect(formatNumber(56.78)).toBe('56.8');
    expect(formatNumber(3.456)).toBe('3.46');
  });

  it('says why a measurement has no number', () => {
    expect(formatResult(undefined)).toBe('not measured');
    expect(formatResult({ status: 'ok', unit: 'ms/image', samples: [12.34] })).toBe('12.3 (1 run)');
    expect(formatResult({ status: 'timeout', reason: 'stopped after 600 s' })).toBe(
      '**timed out**: stopped after 600 s',
    );
    expect(formatResult({ status: 'failed', reason: 'a | b' })).toBe('**failed**: a \\| b');
  });
});
