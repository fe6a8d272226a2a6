/**
 * Where one inference call through `createTfjsEngine` (what evaluation, serving and `pnpm bench --only
 * forward` run) spends its time on the tensorflow backend: every TensorFlow op it executes through the
 * binding, by type, against the call's wall time. The difference is JavaScript: tfjs-layers' graph
 * walk, tfjs's kernel dispatch, packing the input and reading the probabilities back.
 */
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { countTensorflowOpsAsync, type OpCount } from '@food/core/tensorflow-ops';
import { buildModel, randomImages } from './model-benchmarks.ts';
import type { ModelShape } from './spec.ts';
import { median } from './statistics.ts';

export interface ForwardProfile {
  /** Median wall time of unprofiled calls, ms. */
  ms: number;
  /** Wall time of the profiled call, ms. */
  profiledMs: number;
  ops: OpCount[];
}

/** Profile of one `predict` of `batch` random images, after two warm-up calls. */
export async function profileTensorflowForward(
  shape: ModelShape,
  batch: number,
  foldBatchNorm: boolean,
  runs = 5,
): Promise<ForwardProfile> {
  const engine = createTfjsEngine(buildModel(shape), { maxBatch: batch, foldBatchNorm });
  const images = randomImages(batch, shape.inputSize);
  try {
    for (let warmUp = 0; warmUp < 2; warmUp++) await engine.predict(images);
    const samples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await engine.predict(images);
      samples.push(performance.now() - started);
    }
    const started = performance.now();
    const ops = await countTensorflowOpsAsync(async () => {
      await engine.predict(images);
    });
    return { ms: median(samples), profiledMs: performance.now() - started, ops };
  } finally {
    engine.dispose();
  }
}

/** The profile as markdown: a summary line, then the op types, largest first. */
export function forwardProfileMarkdown(profile: ForwardProfile, title: string, top: number): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const calls = profile.ops.reduce((sum, op) => sum + op.calls, 0);
  const insideMs = profile.ops.reduce((sum, op) => sum + op.ms, 0);
  const rest = profile.ops.slice(top);
  const lines = [
    `${title}: ${profile.ms.toFixed(1)} ms per call (median, unprofiled); the profiled call ` +
      `${profile.profiledMs.toFixed(1)} ms, ${calls} TensorFlow ops (${insideMs.toFixed(1)} ms inside them, ` +
      `${(profile.profiledMs - insideMs).toFixed(1)} ms of JavaScript around them).`,
    '',
    row(['TensorFlow op', 'ms', 'Calls']),
    row(['---', '---', '---']),
    ...profile.ops.slice(0, top).map((op) => row([op.name, op.ms.toFixed(1), String(op.calls)])),
  ];
  if (rest.length > 0) {
    const ms = rest.reduce((sum, op) => sum + op.ms, 0);
    const restCalls = rest.reduce((sum, op) => sum + op.calls, 0);
    lines.push(row([`${rest.length} others`, ms.toFixed(1), String(restCalls)]));
  }
  return lines.join('\n');
}
