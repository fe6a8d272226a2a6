/**
 * Adam's update as TensorFlow's own kernel, `ResourceApplyAdam`, on the tensorflow backend: the moments
 * live in TensorFlow resource variables and one op updates weight, m and v in a single pass, where the
 * op-by-op update costs about fifteen tfjs ops per weight tensor.
 *
 * The rule is AdamL2's (torch.optim.Adam): TensorFlow computes
 *   θ ← θ − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε̂)
 * which, with ε̂ = ε·√(1 − β₂ᵗ), is exactly θ − lr/(1 − β₁ᵗ) · m / (√(v/(1 − β₂ᵗ)) + ε): PyTorch's
 * epsilon placement, outside the bias-corrected square root. Its moment updates m ← m + (g − m)(1 − β₁)
 * equal m·β₁ + g·(1 − β₁) up to float32 rounding.
 */
import { opAttribute, ResourceVariable, runTensorflowOp } from '@food/core/tensorflow-ops';
import * as tf from '@tensorflow/tfjs';

/** One step's hyper-parameters, as AdamL2 holds them. */
export interface AdamStepSettings {
  learningRate: number;
  /** L2 penalty λ: the step uses g + λ·θ (torch.optim.Adam's weight_decay). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step number, for the bias corrections. */
  step: number;
}

interface Slot {
  weight: ResourceVariable;
  firstMoment: ResourceVariable;
  secondMoment: ResourceVariable;
}

/** The moments of every parameter key, held in TensorFlow resource variables. */
export class ResourceAdamMoments {
  private readonly slots = new Map<string, Slot>();

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** Starts tracking `key` with moments `m` and `v` (copied; the caller keeps ownership). */
  add(key: string, weight: tf.Tensor, m: tf.Tensor, v: tf.Tensor): void {
    this.slots.set(key, {
      weight: new ResourceVariable(weight),
      firstMoment: new ResourceVariable(m),
      secondMoment: new ResourceVariable(v),
    });
  }

  /**
   * One step for every `(key, variable, gradient)`: the variable's value goes into the resource, Adam
   * updates it in place, and the variable takes the result.
   */
  apply(
    updates: ReadonlyArray<{ key: string; variable: tf.Variable; gradient: tf.Tensor }>,
    settings: AdamStepSettings,
  ): void {
    const { learningRate, weightDecay, beta1, beta2, epsilon, step } = settings;
    const scalars = tf.tidy(() =>
      [beta1 ** step, beta2 ** step, learningRate, beta1, beta2, epsilon * Math.sqrt(1 - beta2 ** step)].map(
        (value) => tf.scalar(value),
      ),
    );
    const attrs = [
      opAttribute.float32Type('T'),
      opAttribute.bool('use_locking', false),
      opAttribute.bool('use_nesterov', false),
    ];
    try {
      for (const { key, variable, gradient } of updates) {
        const slot = this.slots.get(key);
        if (slot === undefined) throw new Error(`no Adam moments for ${key}: add them before the first step`);
        tf.tidy(() => {
          const decayed = weightDecay === 0 ? gradient : tf.add(gradient, tf.mul(variable, weightDecay));
          slot.weight.assign(variable);
          runTensorflowOp(
            'ResourceApplyAdam',
            attrs,
            [slot.weight.handle, slot.firstMoment.handle, slot.secondMoment.handle, ...scalars, decayed],
            0,
          );
          variable.assign(slot.weight.read());
        });
      }
    } finally {
      tf.dispose(scalars);
    }
  }

  /** Every key's moments as new tensors the caller owns. */
  read(): Array<{ key: string; m: tf.Tensor; v: tf.Tensor }> {
    return [...this.slots].map(([key, slot]) => ({
      key,
      m: slot.firstMoment.read(),
      v: slot.secondMoment.read(),
    }));
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.weight.destroy();
      slot.firstMoment.destroy();
      slot.secondMoment.destroy();
    }
    this.slots.clear();
  }
}
