import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamL2 } from '../../src/train/adam.ts';
import { evaluateModel } from '../../src/train/evaluate-model.ts';
import { trainableParameters } from '../../src/train/parameters.ts';
import { type ModelBatch, trainStep } from '../../src/train/train-step.ts';

// Seeded initialisers: unseeded, about 1 run in 25 drew a conv kernel whose channel means hardly move the
// moving mean (measured: 12 of 300 draws below the 1e-3 asserted below; seeded, the smallest move is 0.035), and the test failed by chance.
function convBnModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let x = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      name: 'conv',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn', momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: 3, name: 'predictions', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

const movingMean = (model: tf.LayersModel) => Array.from(model.getLayer('bn').getWeights()[2].dataSync());

async function* once(batch: ModelBatch): AsyncIterable<ModelBatch> {
  yield { inputs: batch.inputs.clone(), labels: batch.labels.clone() };
}

describe('batch normalisation modes', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('uses batch statistics and updates moving averages in a training step, and not in validation', async () => {
    const model = convBnModel();
    const batch: ModelBatch = {
      inputs: tf.randomNormal([4, 6, 6, 3], 3, 2, 'float32', 1),
      labels: tf.tensor1d([0, 1, 2, 0], 'int32'),
    };
    const optimizer = new AdamL2({ learningRate: 1e-3, weightDecay: 0 });
    const initial = movingMean(model);

    await evaluateModel(model, once(batch), 3);
    expect(movingMean(model)).toEqual(initial); // inference mode: moving statistics untouched

    trainStep(model, optimizer, trainableParameters(model), [batch], 3);
    const afterStep = movingMean(model);
    // Moving mean moved 10% (momentum 0.9) of the way towards the batch mean, which is far from 0.
    const moved = afterStep.map((value, channel) => Math.abs(value - initial[channel]));
    for (const distance of moved) expect(distance).toBeGreaterThan(1e-3);

    // Validation normalises with the moving statistics: its loss differs from a training-mode pass.
    const inference = tf.tidy(() => (model.predict(batch.inputs) as tf.Tensor).arraySync());
    const training = tf.tidy(() => (model.apply(batch.inputs, { training: true }) as tf.Tensor).arraySync());
    expect(inference).not.toEqual(training);
    tf.dispose([batch.inputs, batch.labels]);
    optimizer.dispose();
    model.dispose();
  });
});
