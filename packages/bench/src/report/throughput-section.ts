import type { BenchResults } from '../run-bench.ts';
import { describeLayout, formatNumber, formatRatio, formatResult, loadCell, table } from './format.ts';
import { medianOf, pytorchForward, type ThroughputSpec, throughputRows } from './pick-measurements.ts';

/** Images per second of each engine and worker/thread layout, against PyTorch's forward. */
export function throughputSection(results: BenchResults): string[] {
  const throughput = throughputRows(results);
  if (throughput.length === 0) return [];
  const { batch: torchBatch, ms: torchForward } = pytorchForward(results);
  return [
    '## Inference throughput, images per second',
    '',
    'tfjs-wasm: worker threads, each with its own wasm instance, engine and thread pool (1 worker × all threads is ' +
      "`pnpm evaluate`; 1 thread per worker is the server's default pool), batches of 4. ONNX: the exporter's " +
      'graph (BatchNorm folded; int8 = static QDQ calibrated on real JPEGs) in `createOnnxEngine` with N intra-op ' +
      'threads, batches of 8.',
    '',
    table(
      [
        'Engine',
        'Layout',
        'images/s',
        'ms/image',
        `Ours / PyTorch (batch ${torchBatch}, ${results.pytorch?.threads ?? '–'} threads)`,
        'Load',
      ],
      throughput.map((m) => {
        const spec = m.spec as ThroughputSpec;
        const perSecond = medianOf(m.result);
        const ms = perSecond === undefined ? undefined : 1000 / perSecond;
        return [
          spec.engine,
          describeLayout(spec),
          formatResult(m.result),
          ms === undefined ? '–' : formatNumber(ms),
          formatRatio(ms !== undefined && torchForward !== undefined ? ms / torchForward : undefined),
          loadCell(m),
        ];
      }),
    ),
    '',
  ];
}
