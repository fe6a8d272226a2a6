/**
 * Where a training step on the tensorflow backend spends its time: every TensorFlow op it executes
 * through the binding (count and time per op type), split into forward, backward and the optimizer,
 * and what it allocates. The same step as `trainStep` (training-mode forward, cross-entropy,
 * `tf.variableGrads`, AdamL2), taken apart so each phase is measured on its own.
 */
import { countTensorflowOps, type OpCount } from '@food/core/tensorflow-ops';
import { AdamL2, trainableParameters } from '@food/trainer/building-blocks';
import * as tf from '@tensorflow/tfjs';
import { buildModel, randomImages } from './model-benchmarks.ts';
import type { ModelShape } from './spec.ts';

export interface PhaseProfile {
  ms: number;
  ops: OpCount[];
}

export interface TensorflowStepProfile {
  forward: PhaseProfile;
  backward: PhaseProfile;
  optimizer: PhaseProfile;
  /** Tensors and bytes the step left behind (`tf.profile`; 0 when it leaks nothing), and its peak. */
  allocations: { newTensors: number; newBytes: number; peakBytes: number };
}

function timed(fn: () => void): PhaseProfile {
  const started = performance.now();
  const ops = countTensorflowOps(fn);
  return { ms: performance.now() - started, ops };
}

/** Phase profile of the step after one warm-up step (which creates Adam's moments). */
export async function profileTensorflowStep(
  shape: ModelShape,
  batch: number,
): Promise<TensorflowStepProfile> {
  const model = buildModel(shape);
  const optimizer = new AdamL2({ learningRate: 1e-4, weightDecay: 1e-4 });
  const parameters = trainableParameters(model);
  const variables = parameters.map((parameter) => parameter.variable);
  const inputs = tf.tensor4d(
    randomImages(batch, shape.inputSize).flatMap((image) => [...image]),
    [batch, shape.inputSize, shape.inputSize, 3],
  );
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % shape.numClasses),
      'int32',
    ),
    shape.numClasses,
  );
  const loss = () =>
    tf.losses.softmaxCrossEntropy(labels, model.apply(inputs, { training: true }) as tf.Tensor) as tf.Scalar;
  const gradients = () => {
    const { value, grads } = tf.variableGrads(loss, variables);
    value.dispose();
    return grads;
  };
  const step = (grads: tf.NamedTensorMap) => {
    optimizer.applyGradients(parameters, grads);
    tf.dispose(Object.values(grads));
  };
  try {
    step(gradients());
    const forward = timed(() => tf.tidy(loss).dispose());
    let grads: tf.NamedTensorMap = {};
    const forwardBackward = timed(() => {
      grads = gradients();
    });
    const optimizerPhase = timed(() => step(grads));
    const info = await tf.profile(() => step(gradients()));
    return {
      forward,
      backward: { ms: forwardBackward.ms - forward.ms, ops: subtractOps(forwardBackward.ops, forward.ops) },
      optimizer: optimizerPhase,
      allocations: { newTensors: info.newTensors, newBytes: info.newBytes, peakBytes: info.peakBytes },
    };
  } finally {
    tf.dispose([inputs, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

/** Ops of `whole` less those of `part` (forward + backward less the forward alone). */
function subtractOps(whole: OpCount[], part: OpCount[]): OpCount[] {
  const partByName = new Map(part.map((op) => [op.name, op]));
  return whole
    .map((op) => {
      const other = partByName.get(op.name);
      return other ? { name: op.name, calls: op.calls - other.calls, ms: op.ms - other.ms } : op;
    })
    .filter((op) => op.calls > 0)
    .sort((a, b) => b.ms - a.ms);
}

const sum = (ops: OpCount[], field: 'calls' | 'ms') => ops.reduce((total, op) => total + op[field], 0);

/** The profile as markdown: one row per phase, then the op types of the whole step, largest first. */
export function tensorflowProfileMarkdown(
  profile: TensorflowStepProfile,
  title: string,
  top: number,
): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const phases = { forward: profile.forward, backward: profile.backward, optimizer: profile.optimizer };
  const stepMs = sum(
    Object.values(phases).map((phase) => ({ name: '', calls: 0, ms: phase.ms })),
    'ms',
  );
  const all = new Map<string, OpCount>();
  for (const phase of Object.values(phases)) {
    for (const op of phase.ops) {
      const entry = all.get(op.name) ?? { name: op.name, calls: 0, ms: 0 };
      entry.calls += op.calls;
      entry.ms += op.ms;
      all.set(op.name, entry);
    }
  }
  const ops = [...all.values()].sort((a, b) => b.ms - a.ms);
  const { newTensors, newBytes, peakBytes } = profile.allocations;
  const lines = [
    `${title}: ${Math.round(stepMs)} ms, ${sum(ops, 'calls')} TensorFlow ops ` +
      `(${Math.round(sum(ops, 'ms'))} ms inside them, ${Math.round(stepMs - sum(ops, 'ms'))} ms of JavaScript between them); ` +
      `peak tensor memory ${(peakBytes / 2 ** 30).toFixed(2)} GiB; ${newTensors} tensors (${(newBytes / 2 ** 20).toFixed(0)} MiB) left behind.`,
    '',
    row(['Phase', 'ms', 'TensorFlow ops', 'ms inside ops']),
    row(['---', '---', '---', '---']),
    ...Object.entries(phases).map(([name, phase]) =>
      row([
        name,
        Math.round(phase.ms).toString(),
        String(sum(phase.ops, 'calls')),
        Math.round(sum(phase.ops, 'ms')).toString(),
      ]),
    ),
    '',
    row(['TensorFlow op', 'ms', 'Share of the step', 'Calls']),
    row(['---', '---', '---', '---']),
    ...ops
      .slice(0, top)
      .map((op) =>
        row([
          op.name,
          Math.round(op.ms).toString(),
          `${((100 * op.ms) / stepMs).toFixed(1)} %`,
          String(op.calls),
        ]),
      ),
  ];
  const rest = ops.slice(top);
  if (rest.length > 0) {
    const ms = sum(rest, 'ms');
    lines.push(
      row([
        `${rest.length} others`,
        Math.round(ms).toString(),
        `${((100 * ms) / stepMs).toFixed(1)} %`,
        String(sum(rest, 'calls')),
      ]),
    );
  }
  return lines.join('\n');
}
