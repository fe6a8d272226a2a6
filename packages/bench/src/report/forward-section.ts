import type { BenchResults } from '../run-bench.ts';
import type { MeasurementSpec } from '../spec.ts';
import { formatResult, loadCell, ratioCell, table, torchCell } from './format.ts';

/** The wasm forward pass per batch and thread count, beside PyTorch at the same batch. */
export function forwardSection(results: BenchResults): string[] {
  const forward = results.measurements.filter((m) => m.spec.kind === 'forward' && m.spec.backend === 'wasm');
  if (forward.length === 0) return [];
  return [
    '## Forward pass (inference), wasm, ms per image',
    '',
    'Through `createTfjsEngine` (the engine evaluation and serving use: packing, the forward with BatchNorm ' +
      'folded into the convolutions, softmax), one ' +
      "batch per run, on tfjs's pthreads build with N threads (1 thread: the single-threaded SIMD build).",
    '',
    table(
      ['Batch', 'Threads', 'Ours: ms/image', 'PyTorch: ms/image', 'Ours / PyTorch', 'Load'],
      forward.map((m) => {
        const spec = m.spec as Extract<MeasurementSpec, { kind: 'forward' }>;
        const batch = spec.batch;
        const reference = results.pytorch?.forward.get(batch);
        return [
          String(batch),
          String(spec.threads),
          formatResult(m.result),
          torchCell(results, reference),
          ratioCell(m.result, reference),
          loadCell(m),
        ];
      }),
    ),
    '',
  ];
}
