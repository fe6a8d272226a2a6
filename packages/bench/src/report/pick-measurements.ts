/** Which measurements the report compares: the best layout per engine, the batch the targets use. */
import type { BenchResults, Measurement } from '../run-bench.ts';
import type { MeasurementResult, MeasurementSpec } from '../spec.ts';
import { summarize } from '../statistics.ts';

export type TrainSpec = Extract<MeasurementSpec, { kind: 'train' }>;
export type ThroughputSpec = Extract<MeasurementSpec, { kind: 'throughput' }>;

export function medianOf(result: MeasurementResult | undefined): number | undefined {
  return result?.status === 'ok' ? summarize(result.samples).median : undefined;
}

export function find(
  results: BenchResults,
  match: (spec: MeasurementSpec) => boolean,
): Measurement | undefined {
  return results.measurements.find((m) => match(m.spec));
}

/** The largest wasm train batch that ran on every core, the one the targets use. */
export function bestTrain(results: BenchResults): Measurement | undefined {
  return results.measurements
    .filter(
      (m) =>
        m.spec.kind === 'train' &&
        m.spec.backend === 'wasm' &&
        m.spec.threads === results.machine.cores &&
        m.result.status === 'ok',
    )
    .sort((a, b) => (b.spec as TrainSpec).batch - (a.spec as TrainSpec).batch)[0];
}

/** The fastest all-core layout of an engine: wasm instances × threads, or ONNX intra-op threads. */
export function bestThroughput(
  results: BenchResults,
  engine: ThroughputSpec['engine'],
): Measurement | undefined {
  return throughputRows(results)
    .filter((m) => {
      const spec = m.spec as ThroughputSpec;
      return spec.engine === engine && spec.workers * spec.threadsPerWorker === results.machine.cores;
    })
    .sort((a, b) => (medianOf(b.result) ?? 0) - (medianOf(a.result) ?? 0))[0];
}

/** PyTorch's forward at its largest measured batch: what every inference ratio compares with. */
export function pytorchForward(results: BenchResults): { batch: number; ms: number | undefined } {
  const batch = Math.max(...(results.pytorch?.forward.keys() ?? []), 0);
  return { batch, ms: medianOf(results.pytorch?.forward.get(batch)) };
}

export function throughputRows(results: BenchResults): Measurement[] {
  return results.measurements.filter((m) => m.spec.kind === 'throughput');
}

export function isResNet50(model: BenchResults['model']): boolean {
  return model.widthMultiplier === 1 && model.blocksPerStage.join() === '3,4,6,3';
}
