import type { BenchResults } from '../run-bench.ts';
import { gemmFlop, type MeasurementSpec } from '../spec.ts';
import { formatNumber, formatRatio, formatResult, table } from './format.ts';
import { bestTrain, isResNet50, medianOf, pytorchForward, type TrainSpec } from './pick-measurements.ts';

/** Multiply-adds × 2 of one ResNet-50 v1 forward pass at 224 (4.1 G multiply-adds; the head is noise). */
const RESNET50_FORWARD_GFLOP = 8.2;

/**
 * What bounds wasm: XNNPACK's GEMM speed against PyTorch's on the same convolution. No step made of
 * convolutions can beat the ratio of the two, however little else it does.
 */
export function gemmSection(results: BenchResults): string[] {
  const gemm = results.measurements.filter((m) => m.spec.kind === 'gemm');
  if (gemm.length === 0) return [];
  const shape = (gemm[0]!.spec as Extract<MeasurementSpec, { kind: 'gemm' }>).shape;
  const torch = medianOf(results.pytorch?.gemm);
  const gemmAt = (threads: number) =>
    medianOf(gemm.find((m) => (m.spec as { threads: number }).threads === threads)?.result);
  // All cores either as one pool (train, evaluate) or as one single-threaded instance per core (the
  // server's workers), whichever computes more.
  const cores = results.machine.cores;
  const pooled = gemmAt(cores);
  const perInstance = gemmAt(1);
  const candidates = [pooled, perInstance === undefined ? undefined : perInstance * cores].filter(
    (value): value is number => value !== undefined,
  );
  const wasmPeak = candidates.length > 0 ? Math.max(...candidates) : undefined;
  const out = [
    '## What bounds wasm: convolution speed, GFLOP/s',
    '',
    `One ${shape.inChannels}→${shape.outChannels} 1×1 convolution on ${shape.batch}×${shape.size}×${shape.size} ` +
      `(${(gemmFlop(shape) / 1e9).toFixed(2)} GFLOP, a plain GEMM): XNNPACK in wasm (128-bit SIMD, no FMA) against ` +
      "PyTorch's oneDNN (AVX2 with FMA) on the same cores. Every convolution of ResNet-50, forward or backward, runs " +
      'at most this fast, so the ratio of the two is the floor of any ratio in the targets above.',
    '',
    table(
      ['Runtime', 'Threads', 'GFLOP/s', 'Load'],
      [
        ...gemm.map((m) => [
          'tfjs wasm (XNNPACK)',
          String((m.spec as { threads: number }).threads),
          formatResult(m.result),
          m.loadAverage.toFixed(1),
        ]),
        ['PyTorch', String(results.pytorch?.threads ?? '–'), formatResult(results.pytorch?.gemm), '–'],
      ],
    ),
    '',
  ];
  if (wasmPeak !== undefined && torch !== undefined) {
    out.push(
      `wasm's best on all ${cores} cores: ${formatNumber(wasmPeak)} GFLOP/s (${cores} thread pool: ` +
        `${pooled === undefined ? '–' : formatNumber(pooled)}; ${cores} single-threaded instances: ` +
        `${perInstance === undefined ? '–' : formatNumber(perInstance * cores)}). PyTorch / wasm: ` +
        `**${formatRatio(torch / wasmPeak)}**: the best any convolution-bound ratio can be here.`,
      '',
    );
  }
  if (isResNet50(results.model) && results.model.inputSize === 224 && wasmPeak !== undefined) {
    const torchForward = pytorchForward(results).ms;
    const train = bestTrain(results);
    const trainMs = medianOf(train?.result);
    const torchTrain = train
      ? medianOf(results.pytorch?.train.get((train.spec as TrainSpec).batch))
      : undefined;
    const versus = (ms: number, reference: number | undefined, what: string) =>
      reference === undefined ? '' : `, ${formatRatio(ms / reference)} PyTorch's measured ${what}`;
    // Inference may spread over instances; a training step is one model, so it gets the pool's speed.
    const floorForward = (RESNET50_FORWARD_GFLOP * 1000) / wasmPeak;
    // A training step is ~3 forward passes of work: the forward, the input gradients, the weight gradients.
    const floorTrain = pooled === undefined ? undefined : (3 * RESNET50_FORWARD_GFLOP * 1000) / pooled;
    out.push(
      `At that speed, with nothing but convolutions, ResNet-50 needs at least ${formatNumber(floorForward)} ms per ` +
        `image forward (${RESNET50_FORWARD_GFLOP} GFLOP${versus(floorForward, torchForward, 'forward')})` +
        (floorTrain === undefined
          ? '.'
          : ` and ${formatNumber(floorTrain)} ms per image for a training step on the thread pool (~3× the ` +
            `forward's work${versus(floorTrain, torchTrain, 'step at the same batch')})` +
            (trainMs === undefined
              ? '.'
              : `. The measured step takes ${formatNumber(trainMs)} ms per image: ` +
                `${Math.round((100 * floorTrain) / trainMs)}% of it is convolution work at full speed, the rest is ` +
                'BatchNorm, elementwise gradients, the Adam update and slower gradient convolutions (per-kernel ' +
                'profile below).')),
      '',
    );
  }
  return out;
}
