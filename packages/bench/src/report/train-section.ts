import type { BenchResults, Measurement } from '../run-bench.ts';
import { formatResult, loadCell, ratioCell, table, torchCell } from './format.ts';
import type { TrainSpec } from './pick-measurements.ts';

/** The wasm training step per batch and thread count, beside PyTorch at the same batch. */
export function trainSection(results: BenchResults): string[] {
  const train = results.measurements.filter((m) => m.spec.kind === 'train' && m.spec.backend === 'wasm');
  if (train.length === 0 || !results.options.sections.includes('train')) return [];
  const out = [
    '## Training step, wasm, ms per image',
    '',
    "The trainer's real `trainStep` (train/train-step.ts: forward in training mode, softmax cross-entropy, gradients of " +
      'every weight, `AdamL2` update), all layers trainable, random inputs. A batch larger than the wasm heap holds ' +
      'runs as micro-batches with gradient accumulation and one update, as `pnpm train` does. PyTorch: the same ' +
      'network, `Adam(weight_decay)`, the whole batch at once.',
    '',
    table(
      ['Batch', 'Threads', 'Ours: ms/image', 'PyTorch: ms/image', 'Ours / PyTorch', 'Load'],
      [...train]
        .sort(
          (a, b) =>
            (a.spec as TrainSpec).batch - (b.spec as TrainSpec).batch ||
            (b.spec as TrainSpec).threads - (a.spec as TrainSpec).threads,
        )
        .map((m) => trainRow(results, m)),
    ),
    '',
  ];
  if (train.some((m) => m.result.status === 'oom')) {
    out.push(
      'wasm32 addresses at most 4 GiB, and a training step keeps every activation of the forward pass for the ' +
        'gradient (~0.65 GiB per image at 224×224). A batch whose estimated heap (train/wasm-heap-budget.ts) ' +
        'exceeds 3.5 GiB is not run: the single-threaded build would abort in malloc and the pthreads build ' +
        'would deadlock. `pnpm train` refuses it the same way and names the `--accumulate` that fits.',
      '',
    );
  }
  return out;
}

function trainRow(results: BenchResults, m: Measurement): string[] {
  const spec = m.spec as TrainSpec;
  const reference = results.pytorch?.train.get(spec.batch);
  const detail = m.result.status === 'ok' && m.result.detail ? ` (${m.result.detail})` : '';
  const accumulated =
    spec.microBatch < spec.batch ? ` (${spec.batch / spec.microBatch} × ${spec.microBatch})` : '';
  return [
    `${spec.batch}${accumulated}`,
    String(spec.threads),
    formatResult(m.result) + detail,
    torchCell(results, reference),
    ratioCell(m.result, reference),
    loadCell(m),
  ];
}
