import type { BenchResults } from '../run-bench.ts';
import { formatResult, table } from './format.ts';

/** Forward at batch 1 and one training step on each tfjs backend (wasm, cpu, tensorflow). */
export function backendsSection(results: BenchResults): string[] {
  const backendRows = results.measurements.filter(
    (m) =>
      (m.spec.kind === 'forward' && m.spec.batch === 1) ||
      (m.spec.kind === 'train' && m.spec.batch === results.backendTrainBatch),
  );
  if (!results.options.sections.includes('backends') || backendRows.length === 0) return [];
  const batch = results.backendTrainBatch;
  const rows = (['wasm', 'cpu', 'tensorflow'] as const).map((backend) => {
    const get = (kind: 'forward' | 'train', b: number) =>
      results.measurements.find(
        (m) =>
          m.spec.kind === kind && 'backend' in m.spec && m.spec.backend === backend && m.spec.batch === b,
      )?.result;
    const forwardResult = get('forward', 1);
    const trainResult = forwardResult?.status === 'unavailable' ? forwardResult : get('train', batch);
    return [backend, formatResult(forwardResult), formatResult(trainResult)];
  });
  return [
    '## Per backend, ms per image',
    '',
    `Forward at batch 1 and a training step at batch ${batch}. The pure-JS cpu backend needs minutes for one ` +
      'ResNet-50 step, so its step is timed once after the warm-up (marked "1 run"): it is a fallback, not a way ' +
      'to train. `tensorflow` is @tensorflow/tfjs-node(-gpu), available once `pnpm setup:tensorflow` provisioned it.',
    '',
    table(['Backend', 'Forward, batch 1', `Train step, batch ${batch}`], rows),
    '',
  ];
}
