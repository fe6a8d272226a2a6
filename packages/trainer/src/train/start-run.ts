import path from 'node:path';
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import { CHECKPOINT_FILES } from '@food/core/checkpoint/layout';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import { resumeDifferences } from '@food/core/checkpoint/run-config';
import { newTrainingProgress, type TrainingProgress } from '@food/core/checkpoint/training-state';
import { UserError } from '@food/core/errors';
import { buildResNet50 } from '@food/core/model/resnet50';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import type { AdamL2 } from './adam.ts';
import { readHistory } from './history.ts';
import { loadPretrainedBackbone } from './load-pretrained.ts';
import { historyUpTo, type ResumePoint, repairRunLinks } from './resume-point.ts';
import type { TrainConfig } from './run-config.ts';
import { splitAverageState } from './weight-average.ts';

/** Where runTraining starts: a new model, or the resumed one with its progress and history. */
export interface RunStart {
  complete: false;
  model: tf.LayersModel;
  /** The prepared set's, or for a resumed run the checkpoint's (conv1 was folded for it). */
  preprocess: PreprocessConfig;
  progress: TrainingProgress;
  history: EpochRecord[];
  /** A resumed `--ema-decay` run's training weights (the model holds the average); the caller disposes them. */
  averageState?: tf.NamedTensorMap;
}

/** `--resume` of a run whose last epoch is done: nothing to train. */
export interface CompleteRun {
  complete: true;
  progress: TrainingProgress;
  history: EpochRecord[];
}

/** A new run: ResNet-50 for the classes, with the ImageNet backbone unless `--weights none`. */
export async function startNewRun(
  config: TrainConfig,
  classes: readonly string[],
  preprocess: PreprocessConfig,
  log: (line: string) => void,
): Promise<RunStart> {
  const model = buildResNet50({
    numClasses: classes.length,
    inputSize: preprocess.cropSize,
    widthMultiplier: config.widthMultiplier,
    blocksPerStage: config.blocksPerStage,
    seed: config.seed,
  });
  if (config.weights !== 'none') log(await loadPretrainedBackbone(model, config.weights, preprocess));
  return { complete: false, model, preprocess, progress: newTrainingProgress(), history: [] };
}

/** The run in `config.out` as `point` left it, with the Adam state put into `optimizer`. */
export async function resumeRun(
  config: TrainConfig,
  point: ResumePoint,
  classes: readonly string[],
  preparedPreprocess: PreprocessConfig,
  optimizer: AdamL2,
  log: (line: string) => void,
): Promise<RunStart | CompleteRun> {
  await repairRunLinks(config.out, point, log);
  const history = await historyUpTo(config.out, await readHistory(config.out), point.state.epoch);
  if (point.state.epoch >= config.epochs && point.state.stepInEpoch === 0) {
    return { complete: true, progress: point.state, history };
  }
  const resumed = await loadCheckpoint(point.dir, { withTrainingState: true });
  checkResumable(config, resumed.runConfig, classes, resumed.labels.classes, point.dir);
  // The checkpoint's preprocessing is the run's (conv1 was folded for it); a re-run of stats must not change it.
  if (JSON.stringify(resumed.preprocess) !== JSON.stringify(preparedPreprocess)) {
    log(
      `note: ${config.prepared}/preprocess.json changed since the run started; resuming with the run's own`,
    );
  }
  const saved = resumed.trainingState!;
  const state = splitAverageState(saved.moments);
  optimizer.setState({ step: saved.optimizerStep, moments: state.optimizer });
  tf.dispose(Object.values(state.optimizer));
  const { progress } = saved;
  log(
    `resuming ${config.out} from ${path.basename(point.dir)}: after epoch ${progress.epoch}, step ${progress.stepInEpoch} of epoch ${progress.epoch + 1}`,
  );
  return {
    complete: false,
    model: resumed.model,
    preprocess: resumed.preprocess,
    progress,
    history,
    averageState: state.average,
  };
}

/**
 * A resumed run must be the same run: same data, and the same value of every setting whose row in
 * core/checkpoint/run-settings.ts says `must-match` (model shape, optimisation, data order).
 */
function checkResumable(
  config: TrainConfig,
  saved: TrainConfig,
  classes: readonly string[],
  savedClasses: readonly string[],
  checkpointDir: string,
): void {
  const differing = resumeDifferences(saved, config);
  if (classes.join() !== savedClasses.join()) differing.unshift('prepared (classes) differ');
  if (differing.length > 0) {
    throw new UserError(
      `cannot resume ${config.out}: ${differing.join('; ')}. Resume with the original flags (see ${path.join(checkpointDir, CHECKPOINT_FILES.runConfig)}) or start a new --out.`,
    );
  }
}
