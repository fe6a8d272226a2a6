/**
 * `pnpm bench:profile --backend tensorflow` on the tiny model: the phases hold the ops they should, the
 * fused and op-by-op steps differ the way docs/benchmarks.md says, and the step leaks nothing. Skipped,
 * saying why, where the tensorflow backend is not provisioned.
 */
import { initBackend } from '@food/core/backend';
import { useFusedKernels } from '@food/core/tensorflow-ops';
import { tensorflowSkipReason, titleFor } from '@food/core/testing/tensorflow-backend';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PhaseProfile,
  profileTensorflowStep,
  tensorflowProfileMarkdown,
} from '../src/profile-tensorflow-step.ts';
import { TINY_MODEL } from '../src/spec.ts';

const skip = tensorflowSkipReason();
const calls = (phase: PhaseProfile, name: string) => phase.ops.find((op) => op.name === name)?.calls ?? 0;
const total = (phase: PhaseProfile) => phase.ops.reduce((sum, op) => sum + op.calls, 0);

describe.skipIf(skip)('profile of a training step on the tensorflow backend', () => {
  beforeAll(async () => {
    await initBackend('tensorflow', () => {});
  });
  afterAll(() => useFusedKernels(true));

  it(titleFor('counts every TensorFlow op by phase, fused and op by op', skip), async () => {
    const before = tf.memory().numTensors;
    useFusedKernels(true);
    const fused = await profileTensorflowStep(TINY_MODEL, 2);
    useFusedKernels(false);
    const reference = await profileTensorflowStep(TINY_MODEL, 2);
    expect(tf.memory().numTensors).toBe(before);

    // The tiny model: 17 BatchNorms, 13 ReLUs, 70 trainable weight tensors.
    expect(calls(fused.forward, 'FusedBatchNormV3')).toBe(17);
    expect(calls(fused.backward, 'FusedBatchNormGradV3')).toBe(17);
    expect(calls(fused.backward, 'ReluGrad')).toBe(13);
    expect(calls(fused.optimizer, 'ResourceApplyAdam')).toBe(70);
    expect(calls(fused.forward, 'ResourceApplyAdam')).toBe(0);
    expect(calls(reference.forward, 'FusedBatchNormV3')).toBe(0);
    expect(calls(reference.optimizer, 'ResourceApplyAdam')).toBe(0);
    for (const phase of ['forward', 'backward', 'optimizer'] as const) {
      expect(total(fused[phase]), phase).toBeLessThan(total(reference[phase]));
      expect(fused[phase].ms, phase).toBeGreaterThan(0);
    }

    const markdown = tensorflowProfileMarkdown(fused, 'Tiny step', 5);
    expect(markdown).toMatch(/^Tiny step: \d+ ms, \d+ TensorFlow ops/);
    expect(markdown).toContain('| optimizer |');
    expect(markdown).toMatch(/\| \d+ others \|/);
  }, 120_000);
});
