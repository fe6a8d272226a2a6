/**
 * Where a training step on the tensorflow backend spends its time: every TensorFlow op it executes
 * through the binding (count and time per op type), split into forward, backward and the optimizer,
 * and its peak memory. The same step as `trainStep` (training-mode forward, cross-entropy,
 * `tf.variableGrads`, AdamL2), with the phase boundaries timed where they happen inside one step.
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

type Phase = 'forward' | 'backward' | 'optimizer';
const PHASES: readonly Phase[] = ['forward', 'backward', 'optimizer'];

/** Phase profile of one step, after a warm-up step (which creates Adam's moments). */
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
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => i % shape.numClasses),
        'int32',
      ),
      shape.numClasses,
    ),
  );
  // The step as trainStep runs it, with the phase boundaries timed where they happen.
  let phase: Phase = 'forward';
  const ends: Record<Phase, number> = { forward: 0, backward: 0, optimizer: 0 };
  const step = () =>
    tf.tidy(() => {
      phase = 'forward';
      const { value, grads } = tf.variableGrads(() => {
        const loss = tf.losses.softmaxCrossEntropy(
          labels,
          model.apply(inputs, { training: true }) as tf.Tensor,
        );
        ends.forward = performance.now();
        phase = 'backward';
        return loss as tf.Scalar;
      }, variables);
      ends.backward = performance.now();
      phase = 'optimizer';
      optimizer.applyGradients(parameters, grads);
      tf.dispose([value, ...Object.values(grads)]);
      ends.optimizer = performance.now();
    });
  try {
    step();
    const started = performance.now();
    const ops = countTensorflowOps(step, () => phase);
    const starts = { forward: started, backward: ends.forward, optimizer: ends.backward };
    const [forward, backward, optimizerPhase] = PHASES.map((name) => ({
      ms: ends[name] - starts[name],
      ops: ops.filter((op) => op.phase === name),
    })) as [PhaseProfile, PhaseProfile, PhaseProfile];
    const info = await tf.profile(step);
    return {
      forward,
      backward,
      optimizer: optimizerPhase,
      allocations: { newTensors: info.newTensors, newBytes: info.newBytes, peakBytes: info.peakBytes },
    };
  } finally {
    tf.dispose([inputs, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

const sum = (ops: OpCount[], field: 'calls' | 'ms') => ops.reduce((total, op) => total + op[field], 0);

/** The profile as markdown: one row per phase, then the op types of the whole step, largest first. */
export function tensorflowProfileMarkdown(
  profile: TensorflowStepProfile,
  title: string,
  top: number,
): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const phases = Object.fromEntries(PHASES.map((name) => [name, profile[name]]));
  const stepMs = sum(
    Object.values(phases).map((phase) => ({ phase: '', name: '', calls: 0, ms: phase.ms })),
    'ms',
  );
  const all = new Map<string, OpCount>();
  for (const phase of Object.values(phases)) {
    for (const op of phase.ops) {
      const entry = all.get(op.name) ?? { phase: 'step', name: op.name, calls: 0, ms: 0 };
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
