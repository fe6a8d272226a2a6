/**
 * `pnpm bench:profile --backend tensorflow --forward` on the tiny model: the folded forward executes
 * one Conv2D, BiasAdd per convolution and no BatchNorm op; model.predict runs a FusedBatchNorm per
 * BatchNorm. Skipped, saying why, where the tensorflow backend is not provisioned.
 */
import { initBackend } from '@food/core/backend';
import { tensorflowSkipReason, titleFor } from '@food/core/testing/tensorflow-backend';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardProfileMarkdown, profileTensorflowForward } from '../src/profile-tensorflow-forward.ts';
import { TINY_MODEL } from '../src/spec.ts';

const skip = tensorflowSkipReason();

describe.skipIf(skip)('profile of an engine forward on the tensorflow backend', () => {
  beforeAll(async () => {
    await initBackend('tensorflow', () => {});
  });

  it(titleFor('counts the ops of the folded forward and of model.predict', skip), async () => {
    const before = tf.memory().numTensors;
    const [folded, layered] = [
      await profileTensorflowForward(TINY_MODEL, 2, true, 1),
      await profileTensorflowForward(TINY_MODEL, 2, false, 1),
    ];
    expect(tf.memory().numTensors).toBe(before);
    const calls = (ops: typeof folded.ops, name: string) => ops.find((op) => op.name === name)?.calls ?? 0;
    // The tiny model: 17 convolutions, each followed by a BatchNorm.
    expect(calls(folded.ops, 'Conv2D')).toBe(17);
    expect(calls(folded.ops, 'BiasAdd')).toBe(17);
    expect(calls(folded.ops, 'FusedBatchNorm')).toBe(0);
    expect(calls(layered.ops, 'Conv2D')).toBe(17);
    expect(calls(layered.ops, 'FusedBatchNorm')).toBe(17);
    const markdown = forwardProfileMarkdown(folded, 'Forward', 3);
    expect(markdown).toMatch(
      /^Forward: [\d.]+ ms per call \(median, unprofiled\); the profiled call [\d.]+ ms, \d+ TensorFlow ops/,
    );
    expect(markdown).toContain('| Conv2D |');
  });
});
