/**
 * The report's side-by-side table: each forward and training-step batch on wasm, on tensorflow (tfjs-node
 * on the CPU, provisioned by `pnpm setup:tensorflow`) and in PyTorch, measured in the same run.
 */
import { formatRatio, formatResult, table } from './report/format.ts';
import type { BenchResults, Measurement } from './run-bench.ts';
import type { MeasurementResult, MeasurementSpec } from './spec.ts';
import { summarize } from './statistics.ts';

type ModelSpec = Extract<MeasurementSpec, { kind: 'forward' | 'train' }>;

export function tensorflowColumnSection(results: BenchResults): string[] {
  const tensorflow = results.measurements.filter(
    (m) => (m.spec.kind === 'forward' || m.spec.kind === 'train') && m.spec.backend === 'tensorflow',
  );
  const batches = (kind: ModelSpec['kind']) =>
    [...new Set(tensorflow.filter((m) => m.spec.kind === kind).map((m) => (m.spec as ModelSpec).batch))].sort(
      (a, b) => a - b,
    );
  if (tensorflow.length === 0) return [];
  const cores = results.machine.cores;
  const rows: string[][] = [];
  for (const kind of ['forward', 'train'] as const) {
    for (const batch of batches(kind)) {
      const ours = pick(results, kind, 'tensorflow', batch, cores);
      const wasm = pick(results, kind, 'wasm', batch, cores);
      const torch = results.pytorch?.[kind].get(batch);
      rows.push([
        kind === 'forward' ? 'forward' : 'train step',
        String(batch),
        cell(wasm),
        cell(ours),
        results.pytorch ? formatResult(torch) : 'not run',
        formatRatio(ratio(ours?.result, torch)),
        formatRatio(ratio(ours?.result, wasm?.result)),
      ]);
    }
  }
  return [
    '## tensorflow (CPU) beside wasm and PyTorch, ms per image',
    '',
    'The same measurements on the three CPU paths, in this run: wasm on every core, `tensorflow` = ' +
      "@tensorflow/tfjs-node with libtensorflow from TensorFlow's PyPI wheel (`pnpm setup:tensorflow`, " +
      'docs/tensorflow-backend.md), PyTorch the reference. A training step keeps ~0.65 GiB of activations per ' +
      'image on either tfjs backend (wasm in its 4 GiB heap, tensorflow in host memory: "peak RSS"), so large ' +
      'batches run as accumulated micro-batches, written "(steps × images)".',
    '',
    table(
      [
        'Measurement',
        'Batch',
        'wasm',
        'tensorflow (CPU)',
        'PyTorch',
        'tensorflow / PyTorch',
        'tensorflow / wasm',
      ],
      rows,
    ),
    '',
  ];
}

/** The all-core measurement of a backend at a batch; of several (an OOM, then accumulated), the one that ran. */
function pick(
  results: BenchResults,
  kind: ModelSpec['kind'],
  backend: ModelSpec['backend'],
  batch: number,
  cores: number,
): Measurement | undefined {
  const candidates = results.measurements.filter((m) => {
    const spec = m.spec as ModelSpec;
    return (
      spec.kind === kind &&
      spec.backend === backend &&
      spec.batch === batch &&
      (backend !== 'wasm' || spec.threads === cores)
    );
  });
  return candidates.find((m) => m.result.status === 'ok') ?? candidates[0];
}

function cell(measurement: Measurement | undefined): string {
  if (!measurement) return 'not measured';
  const spec = measurement.spec as ModelSpec;
  const accumulated =
    spec.kind === 'train' && spec.microBatch < spec.batch
      ? ` (${spec.batch / spec.microBatch} × ${spec.microBatch})`
      : '';
  const detail =
    measurement.result.status === 'ok' && measurement.result.detail ? `, ${measurement.result.detail}` : '';
  return `${formatResult(measurement.result)}${accumulated}${detail}`;
}

function ratio(
  ours: MeasurementResult | undefined,
  reference: MeasurementResult | undefined,
): number | undefined {
  if (ours?.status !== 'ok' || reference?.status !== 'ok') return undefined;
  return summarize(ours.samples).median / summarize(reference.samples).median;
}
