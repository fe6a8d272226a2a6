import * as tf from '@tensorflow/tfjs';
import { corruptCheckpoint } from './checkpoint-error.ts';
import { CHECKPOINT_FILES } from './layout.ts';

/** Running train loss/accuracy sums of an incomplete epoch, so its history row stays exact after a resume. */
export interface PartialEpoch {
  lossSum: number;
  steps: number;
  correct: number;
  examples: number;
  seconds: number;
}

/**
 * Where a run is: what `--resume` restores beside the weights and the Adam moments. There is no RNG
 * state to save: every random choice (data order, augmentation) is a pure function of the seed, the
 * epoch and the step, so a resumed run replays it from `epoch` and `stepInEpoch`.
 */
export interface TrainingProgress {
  /** Epochs fully completed. */
  epoch: number;
  /** Optimizer steps already taken inside the current (incomplete) epoch; 0 at an epoch boundary. */
  stepInEpoch: number;
  globalStep: number;
  bestValTop1: number;
  bestEpoch: number;
  partialEpoch: PartialEpoch;
  /**
   * Seconds the commands that trained the run spent before their first step (start-up, the feature
   * cache), summed: with the epochs' seconds, the run's wall time. Absent in runs from before it existed.
   */
  setupSeconds?: number;
}

/** What a resumable checkpoint holds beyond the model: training-state.json and optimizer.bin. */
export interface TrainingState {
  progress: TrainingProgress;
  /** Adam's step count (its bias correction). */
  optimizerStep: number;
  /** Adam's moments by weight name. */
  moments: tf.NamedTensorMap;
}

export function newTrainingProgress(): TrainingProgress {
  return {
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    bestValTop1: -1,
    bestEpoch: 0,
    partialEpoch: { lossSum: 0, steps: 0, correct: 0, examples: 0, seconds: 0 },
  };
}

/** training-state.json: the progress and optimizer step, plus the manifest that decodes optimizer.bin. */
interface TrainingStateFile {
  format: 'food-training-state/1';
  state: TrainingProgress & { optimizerStep: number };
  tensors: tf.io.WeightsManifestEntry[];
}

export async function encodeTrainingState(
  state: TrainingState,
): Promise<{ json: string; optimizer: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(state.moments);
  const file: TrainingStateFile = {
    format: 'food-training-state/1',
    state: { ...state.progress, optimizerStep: state.optimizerStep },
    tensors: specs,
  };
  return { json: `${JSON.stringify(file, null, 2)}\n`, optimizer: new Uint8Array(data) };
}

/**
 * The progress part of training-state.json, without decoding optimizer.bin (cheap: for choosing where
 * to resume). Undefined when the text is not a training state this version can resume from.
 */
export function parseTrainingProgress(
  json: string,
): (TrainingProgress & { optimizerStep: number }) | undefined {
  try {
    const file = JSON.parse(json) as Partial<TrainingStateFile>;
    if (file?.format !== 'food-training-state/1') return undefined;
    const state = file.state;
    const integers = [
      state?.epoch,
      state?.stepInEpoch,
      state?.globalStep,
      state?.bestEpoch,
      state?.optimizerStep,
    ];
    if (!integers.every(Number.isInteger)) return undefined;
    if (typeof state?.bestValTop1 !== 'number' || typeof state.partialEpoch !== 'object') return undefined;
    return state;
  } catch {
    return undefined;
  }
}

/** The returned moments belong to the caller (dispose them, e.g. after assigning to the optimizer). */
export function decodeTrainingState(dir: string, json: string, optimizer: Uint8Array): TrainingState {
  const state = parseTrainingProgress(json);
  const file = state && (JSON.parse(json) as TrainingStateFile);
  if (!state || !file || !Array.isArray(file.tensors)) {
    throw corruptCheckpoint(
      dir,
      CHECKPOINT_FILES.trainingState,
      'is not a food-training-state/1 file with epoch, stepInEpoch, globalStep, bestValTop1, bestEpoch, partialEpoch and optimizerStep',
    );
  }
  const { optimizerStep, ...progress } = state;
  const buffer = new Uint8Array(optimizer).buffer;
  try {
    return { progress, optimizerStep, moments: tf.io.decodeWeights(buffer, file.tensors) };
  } catch (error) {
    throw corruptCheckpoint(
      dir,
      CHECKPOINT_FILES.optimizer,
      `does not match ${CHECKPOINT_FILES.trainingState}`,
      error,
    );
  }
}
