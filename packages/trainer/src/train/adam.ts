import { fusedKernelsActive } from '@food/core/tensorflow-ops';
import * as tf from '@tensorflow/tfjs';
import { ResourceAdamMoments } from './resource-adam.ts';

export interface AdamOptions {
  learningRate: number;
  /** L2 penalty added to the gradient before the moment updates, as PyTorch's `Adam(weight_decay=…)`. */
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** A trainable tensor and its stable name (the Keras weight name, e.g. `predictions/kernel`). */
export interface Parameter {
  key: string;
  variable: tf.Variable;
}

/** Serialisable optimizer state: what `--resume` needs to continue exactly. */
export interface AdamState {
  step: number;
  moments: tf.NamedTensorMap;
}

/**
 * Adam with PyTorch's semantics (torch.optim.Adam, not AdamW): g ← g + λ·θ, then the usual bias-corrected
 * moment update. Written out rather than using tf.train.adam because tfjs's Adam has no weight decay and
 * PyTorch's epsilon placement (outside the bias-corrected sqrt) differs from it.
 *
 * On the tensorflow backend (unless `useFusedKernels(false)`) the update runs as TensorFlow's
 * `ResourceApplyAdam`, same rule (resource-adam.ts); the moments then live in TensorFlow resource
 * variables, and `getState` reads them out.
 */
export class AdamL2 {
  /** Set before a step by a learning-rate schedule (lr-schedule.ts); the initial rate otherwise. */
  learningRate: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private step = 0;
  private readonly firstMoments = new Map<string, tf.Variable>();
  private readonly secondMoments = new Map<string, tf.Variable>();
  private readonly resourceMoments = new ResourceAdamMoments();
  /** What the last `getState` read out of the resource moments; freed at the next step or read. */
  private stateSnapshot: tf.Tensor[] = [];

  constructor(options: AdamOptions) {
    this.learningRate = options.learningRate;
    this.weightDecay = options.weightDecay;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
  }

  get iterations(): number {
    return this.step;
  }

  /**
   * Applies one update to every parameter that has a gradient. `gradients` is keyed by the tf variable's
   * (process-unique) name; moments are keyed by the parameter's stable `key`, so they survive a restart.
   */
  applyGradients(parameters: readonly Parameter[], gradients: tf.NamedTensorMap): void {
    this.releaseSnapshot();
    this.step += 1;
    const withGradients = parameters.filter(({ variable }) => gradients[variable.name] !== undefined);
    if (fusedKernelsActive()) {
      this.applyResourceAdam(withGradients, gradients);
      return;
    }
    const biasCorrection1 = 1 - this.beta1 ** this.step;
    const biasCorrection2 = 1 - this.beta2 ** this.step;
    const stepSize = this.learningRate / biasCorrection1;
    for (const { key, variable } of withGradients) {
      const gradient = gradients[variable.name] as tf.Tensor;
      this.takeMomentsFromResources(key);
      const m = this.moment(this.firstMoments, key, variable);
      const v = this.moment(this.secondMoments, key, variable);
      tf.tidy(() => {
        const g = this.weightDecay === 0 ? gradient : gradient.add(variable.mul(this.weightDecay));
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        const denominator = v.div(biasCorrection2).sqrt().add(this.epsilon);
        variable.assign(variable.sub(m.div(denominator).mul(stepSize)));
      });
    }
  }

  private applyResourceAdam(parameters: readonly Parameter[], gradients: tf.NamedTensorMap): void {
    for (const { key, variable } of parameters) {
      if (this.resourceMoments.has(key)) continue;
      // Moments restored by setState (or made by an op-by-op step) move into TensorFlow.
      const m = this.moment(this.firstMoments, key, variable);
      const v = this.moment(this.secondMoments, key, variable);
      this.resourceMoments.add(key, variable, m, v);
      this.firstMoments.delete(key);
      this.secondMoments.delete(key);
      tf.dispose([m, v]);
    }
    const updates = parameters.map(({ key, variable }) => ({
      key,
      variable,
      gradient: gradients[variable.name] as tf.Tensor,
    }));
    const { learningRate, weightDecay, beta1, beta2, epsilon, step } = this;
    this.resourceMoments.apply(updates, { learningRate, weightDecay, beta1, beta2, epsilon, step });
  }

  /** Moves `key`'s moments out of TensorFlow for an op-by-op step (the fused kernels were turned off). */
  private takeMomentsFromResources(key: string): void {
    if (!this.resourceMoments.has(key)) return;
    for (const { key: name, m, v } of this.resourceMoments.read()) {
      this.firstMoments.set(name, tf.variable(m, false));
      this.secondMoments.set(name, tf.variable(v, false));
      // A variable keeps its own reference to the data.
      tf.dispose([m, v]);
    }
    this.resourceMoments.dispose();
  }

  /** The state as it stands; its tensors stay the optimizer's (valid until its next step, getState or dispose). */
  getState(): AdamState {
    this.releaseSnapshot();
    const moments: tf.NamedTensorMap = {};
    for (const [name, m] of this.firstMoments) moments[`m/${name}`] = m;
    for (const [name, v] of this.secondMoments) moments[`v/${name}`] = v;
    for (const { key, m, v } of this.resourceMoments.read()) {
      moments[`m/${key}`] = m;
      moments[`v/${key}`] = v;
      this.stateSnapshot.push(m, v);
    }
    return { step: this.step, moments };
  }

  private releaseSnapshot(): void {
    tf.dispose(this.stateSnapshot);
    this.stateSnapshot = [];
  }

  /** Restores a state saved by `getState` (the tensors are copied; the caller keeps ownership). */
  setState(state: AdamState): void {
    this.dispose();
    this.step = state.step;
    for (const [key, tensor] of Object.entries(state.moments)) {
      const [kind, ...rest] = key.split('/');
      const name = rest.join('/');
      const target = kind === 'm' ? this.firstMoments : this.secondMoments;
      // tidy frees the clone: a variable keeps its own reference to the data.
      target.set(
        name,
        tf.tidy(() => tf.variable(tensor.clone(), false)),
      );
    }
  }

  dispose(): void {
    this.releaseSnapshot();
    this.resourceMoments.dispose();
    for (const moment of [...this.firstMoments.values(), ...this.secondMoments.values()]) moment.dispose();
    this.firstMoments.clear();
    this.secondMoments.clear();
  }

  private moment(store: Map<string, tf.Variable>, key: string, variable: tf.Variable): tf.Variable {
    let moment = store.get(key);
    if (moment === undefined) {
      moment = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
      store.set(key, moment);
    }
    return moment;
  }
}
