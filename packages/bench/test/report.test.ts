import { describe, expect, it } from 'vitest';
import { formatNumber, formatResult } from '../src/report/format.ts';
import { feedingAGpu } from '../src/report/preprocess-section.ts';
import { computeTargets } from '../src/report/targets.ts';
import { renderReport } from '../src/report.ts';
import { machine, results } from './fixture.ts';

describe('computeTargets', () => {
  const targets = computeTargets(results());

  it('compares the largest wasm batch that trained on every core with PyTorch at the same batch', () => {
    const train = targets[0]!;
    // Batch 8 ran out of memory whole, then ran as 2 micro-batches of 4.
    expect(train.ours).toBe('3,000 (wasm, batch 8 (2 × 4 accumulated), 2 threads)');
    expect(train.ratio).toBeCloseTo(3000 / 750, 5);
    expect(train.pass).toBe(false);
  });

  it("also compares with PyTorch's fastest measured batch", () => {
    const strict = targets[1]!;
    expect(strict.reference).toContain('batch 8');
    expect(strict.ratio).toBeCloseTo(4, 5);
  });

  it("holds ONNX to issue 8's stricter goals as well", () => {
    const goals = targets.filter((t) => t.name.includes('onnx')).map((t) => t.goal);
    expect(goals).toEqual(['≤ 2× PyTorch', '≤ 2× PyTorch', '≤ 1× PyTorch', '≤ 0.5× PyTorch']);
  });

  it('turns throughput with all cores into ms per image against PyTorch', () => {
    const wasm = targets.find((t) => t.name.includes('tfjs-wasm'))!;
    expect(wasm.ratio).toBeCloseTo(250 / 200, 5);
    expect(wasm.pass).toBe(true);
    expect(targets.find((t) => t.name.includes('onnx-int8'))!.pass).toBeUndefined();
  });

  it('needs preprocessing to outpace what training consumes three times', () => {
    const preprocess = targets.at(-1)!;
    // loader 0.6 images/s; training consumes 1000 / 3000 images/s.
    expect(preprocess.ratio).toBeCloseTo(1.8, 5);
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
    // GEMM speed bounds every ratio: PyTorch 100 GFLOP/s against wasm's 41.
    expect(doc).toContain('PyTorch / wasm: **2.44×**');
    expect(doc).toMatch(
      /needs at least 200 ms per image forward .* and 600 ms per image for a training step/,
    );
    expect(doc).toContain('| 8 (2 × 4) | 2 | 3,000 (2,900–3,100) |');
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

describe('feeding a GPU from the loader', () => {
  it('multiplies the per-core rate by the decoding cores of a 16-core box and caps it by the main thread', () => {
    expect(feedingAGpu({ imagesPerCoreSecond: 250, mainThreadMsPerImage: 0.5 })).toMatch(
      /decodes, augments and normalises 250 images per CPU-second.*15 decoding cores of a 16-core box give 3,750 images\/s.*main thread spends 0\.50 ms per image, a cap of 2,000 images\/s\. Against a target of 3000 images\/s: \*\*not enough\*\* \(2,000 images\/s\)/,
    );
    // Node 20 has no per-thread CPU time: the event loop's busy time stands in for it.
    expect(feedingAGpu({ imagesPerCoreSecond: 250, mainThreadBusyMsPerImage: 0.01 })).toMatch(
      /0\.01 ms per image, a cap of 100,000 images\/s\. Against a target of 3000 images\/s: enough \(3,750 images\/s\)/,
    );
    expect(feedingAGpu({ imagesPerCoreSecond: 90 })).toMatch(
      /1,350 images\/s.*\*\*not enough\*\* \(1,350 images\/s\)/,
    );
  });
});
