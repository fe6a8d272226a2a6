/**
 * `--mixup ALPHA` (Zhang et al., "mixup: Beyond Empirical Risk Minimization", 2018; on cached features it
 * mixes the frozen trunk's output, as manifold mixup does): each batch is blended with a shuffled copy of
 * itself, inputs and one-hot targets alike, λ·a + (1 − λ)·b with λ ~ Beta(α, α). Cross-entropy is linear
 * in its target, so the soft target is λ·CE(a) + (1 − λ)·CE(b). λ and the shuffle are drawn from
 * (seed, global step) alone, so a resumed run mixes its batches as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import type { ModelBatch } from './train-step.ts';

/** A standard normal draw (Box–Muller) from a uniform stream. */
function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); below shape 1 through Gamma(shape + 1)·U^(1/shape). */
function gamma(random: () => number, shape: number): number {
  if (shape < 1) return gamma(random, shape + 1) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(alpha, alpha) draw: X / (X + Y) with X, Y ~ Gamma(alpha). */
export function sampleBeta(random: () => number, alpha: number): number {
  const x = gamma(random, alpha);
  return x / (x + gamma(random, alpha));
}

/** The step's λ and partner order, from (seed, step) alone. */
export function mixupDraw(
  seed: number,
  step: number,
  size: number,
  alpha: number,
): { lambda: number; partner: number[] } {
  const random = seedrandom(`mixup:${seed}:${step}`);
  const lambda = sampleBeta(random, alpha);
  const partner = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [partner[i], partner[j]] = [partner[j]!, partner[i]!];
  }
  return { lambda, partner };
}

/**
 * `batch` mixed with its partner order: new tensors (the caller disposes them and the batch); `labels`
 * stay the first image's, which the step's accuracy counts.
 */
export function mixBatch(
  batch: ModelBatch,
  options: { alpha: number; seed: number; step: number; numClasses: number },
): ModelBatch {
  const size = batch.labels.shape[0];
  const { lambda, partner } = mixupDraw(options.seed, options.step, size, options.alpha);
  return tf.tidy(() => {
    const order = tf.tensor1d(partner, 'int32');
    const blend = (own: tf.Tensor, other: tf.Tensor) => own.mul(lambda).add(other.mul(1 - lambda));
    const targets = tf.oneHot(batch.labels, options.numClasses).toFloat();
    return {
      inputs: blend(batch.inputs, tf.gather(batch.inputs, order)),
      labels: batch.labels.clone(),
      targets: blend(targets, tf.gather(targets, order)) as tf.Tensor2D,
    };
  });
}
