import type * as tf from '@tensorflow/tfjs';
import type { Labels } from '../labels.ts';
import type { PreprocessConfig } from '../preprocess/config.ts';
import { CheckpointError } from './checkpoint-error.ts';

/**
 * A model, its labels and its preprocessing must come from the same run: a 101-unit head with a
 * 50-name labels.json would serve wrong names without any error, so both save and load refuse it.
 */
export function checkModelMatches(
  dir: string,
  model: tf.LayersModel,
  labels: Labels,
  preprocess: PreprocessConfig,
): void {
  const mismatch = (why: string) =>
    new CheckpointError(
      `Checkpoint ${dir}: ${why}. The files come from different runs or were edited; use a checkpoint folder written by one training run (or retrain).`,
      'CHECKPOINT_MISMATCH',
    );
  if (model.outputs.length !== 1 || model.outputs[0].shape.length !== 2) {
    throw mismatch(`the model must have one output of shape [batch, classes], not ${describeOutputs(model)}`);
  }
  const units = model.outputs[0].shape[1];
  if (units !== labels.classes.length) {
    throw mismatch(
      `the model has ${units} output units but labels.json lists ${labels.classes.length} classes`,
    );
  }
  const [, height, width, channels] = model.inputs[0].shape;
  const fixed = [height, width].filter((side) => side != null);
  if (fixed.some((side) => side !== preprocess.cropSize) || (channels != null && channels !== 3)) {
    throw mismatch(
      `the model expects ${height}x${width}x${channels} inputs but preprocess.json crops ${preprocess.cropSize}x${preprocess.cropSize}x3`,
    );
  }
}

function describeOutputs(model: tf.LayersModel): string {
  return model.outputs.map((output) => `[${output.shape.join(', ')}]`).join(', ');
}
