import * as tf from '@tensorflow/tfjs';
import { corruptCheckpoint } from './checkpoint-error.ts';
import { CHECKPOINT_FILES } from './layout.ts';

/**
 * What `--resume` needs beyond the model: opaque to checkpoint I/O. `json` (epoch, step, RNG state,
 * ...) goes to training-state.json, `tensors` (Adam moments, ...) to optimizer.bin.
 */
export interface TrainingState {
  json: Record<string, unknown>;
  tensors: tf.NamedTensorMap;
}

/** training-state.json: the caller's JSON plus the manifest that decodes optimizer.bin. */
interface TrainingStateFile {
  format: 'food-training-state/1';
  state: Record<string, unknown>;
  tensors: tf.io.WeightsManifestEntry[];
}

export async function encodeTrainingState(
  state: TrainingState,
): Promise<{ json: string; optimizer: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(state.tensors);
  const file: TrainingStateFile = { format: 'food-training-state/1', state: state.json, tensors: specs };
  return { json: `${JSON.stringify(file, null, 2)}\n`, optimizer: new Uint8Array(data) };
}

/** The returned tensors belong to the caller (dispose them, e.g. after assigning to the optimizer). */
export function decodeTrainingState(dir: string, json: string, optimizer: Uint8Array): TrainingState {
  let file: Partial<TrainingStateFile>;
  try {
    file = JSON.parse(json) as Partial<TrainingStateFile>;
  } catch (error) {
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.trainingState, 'is not valid JSON', error);
  }
  if (
    file?.format !== 'food-training-state/1' ||
    typeof file.state !== 'object' ||
    !Array.isArray(file.tensors)
  ) {
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.trainingState, 'is not a food-training-state/1 file');
  }
  const buffer = new Uint8Array(optimizer).buffer;
  try {
    return {
      json: file.state as Record<string, unknown>,
      tensors: tf.io.decodeWeights(buffer, file.tensors),
    };
  } catch (error) {
    throw corruptCheckpoint(
      dir,
      CHECKPOINT_FILES.optimizer,
      `does not match ${CHECKPOINT_FILES.trainingState}`,
      error,
    );
  }
}
