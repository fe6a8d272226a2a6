import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import type { TrainingProgress } from '@food/core/checkpoint/training-state';
import type { Labels } from '@food/core/labels';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import type * as tf from '@tensorflow/tfjs';
import type { ProgressMode } from '../progress.ts';
import type { Tracker } from '../tracking/tracker.ts';
import type { AdamL2 } from './adam.ts';
import type { BatchSource } from './batch-source.ts';
import type { GpuMemory } from './choose-micro-batch.ts';
import type { LrSchedule } from './lr-schedule.ts';
import type { TrainConfig } from './run-config.ts';
import type { ModelBatch, StepResult } from './train-step.ts';
import type { WeightAverage } from './weight-average.ts';

export interface TrainingHooks {
  log: (line: string) => void;
  /** Polled after every step: true finishes the step, saves `latest` and returns (SIGINT). */
  shouldStop: () => boolean;
  progress: ProgressMode;
  /** The GPU's free memory before TensorFlow started, for `--accumulate auto` (nvidia-smi). */
  gpu?: GpuMemory;
  /** MLflow and TensorBoard (--mlflow, --tensorboard): told of every step and epoch. */
  tracker?: Tracker;
}

export interface TrainingOutcome {
  /** already-complete: `--resume` found the run's last epoch done; nothing was trained. */
  status: 'completed' | 'stopped' | 'max-steps' | 'already-complete';
  epochsCompleted: number;
  globalStep: number;
  bestValTop1: number;
  bestEpoch: number;
  history: EpochRecord[];
}

/** Everything the steps of a run share: what runTraining set up, and the progress they advance. */
export interface TrainingRun {
  config: TrainConfig;
  hooks: TrainingHooks;
  /** The whole model: what checkpoints hold. */
  model: tf.LayersModel;
  /** What the optimizer updates and validation runs: the model, or its tail above a frozen trunk. */
  trained: tf.LayersModel;
  optimizer: AdamL2;
  /** One optimizer step on a batch (micro-batched, with the OOM retry); the batch is not disposed. */
  step: (batch: ModelBatch) => StepResult;
  source: BatchSource;
  /** Images in the validation split (with `--limit`, the subset), for the progress bar. */
  validationImages: number;
  schedule: LrSchedule;
  preprocess: PreprocessConfig;
  labels: Labels;
  progress: TrainingProgress;
  history: EpochRecord[];
  /** `--ema-decay`: the average of the trained weights, which validation and checkpoints use. */
  average?: WeightAverage;
}

/** Runs `use` with the model holding what validation and checkpoints see: the average, when there is one. */
export function withValidatedWeights<T>(
  run: Pick<TrainingRun, 'average'>,
  use: () => Promise<T>,
): Promise<T> {
  return run.average ? run.average.withAverage(use) : use();
}

/** `--max-steps`: one rule for the checks before, inside and after an epoch. */
export function reachedMaxSteps(run: Pick<TrainingRun, 'config' | 'progress'>): boolean {
  return run.config.maxSteps !== undefined && run.progress.globalStep >= run.config.maxSteps;
}
