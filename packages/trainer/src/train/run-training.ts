import path from 'node:path';
import { recoverFolder } from '@food/core/checkpoint/atomic-folder';
import type { EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { UserError } from '@food/core/errors';
import { useInferenceStatsWhenFrozen } from '@food/core/model/batch-norm';
import { useFusedBatchNormInTraining } from '@food/core/model/fused-batch-norm';
import { countParameters, frozenBoundaryLayer, setTrainableScope } from '@food/core/model/resnet50';
import { withCropSize } from '@food/core/preprocess/config';
import { useFusedKernels } from '@food/core/tensorflow-ops';
import * as tf from '@tensorflow/tfjs';
import type { PreparedManifest } from '../data/manifest.ts';
import { missingStats, readManifest, readPreparedPreprocess } from '../data/prepared-set.ts';
import { describeRunSplit, runSplit } from '../data/run-split.ts';
import { spreadSubset } from '../data/spread-subset.ts';
import { createProgress } from '../progress.ts';
import { AdamL2 } from './adam.ts';
import { type BatchSource, type BatchSourceOptions, createBatchSource } from './batch-source.ts';
import { checkOutputFolder } from './check-output.ts';
import { chooseMicroBatch } from './choose-micro-batch.ts';
import { chooseStart } from './choose-start.ts';
import type { EvaluationSummary } from './evaluate-model.ts';
import { shouldStopEarly } from './lr-schedule.ts';
import { createMicroBatchRunner } from './micro-batch-runner.ts';
import { mixBatch } from './mixup.ts';
import { trainableParameters } from './parameters.ts';
import type { TrainConfig } from './run-config.ts';
import { saveEpoch } from './save-epoch.ts';
import { splitModelAt } from './split-model.ts';
import { type RunStart, resumeRun, startNewRun } from './start-run.ts';
import { trainOneEpoch, validate } from './train-one-epoch.ts';
import { type ModelBatch, type StepResult, trainStep } from './train-step.ts';
import {
  reachedMaxSteps,
  type TrainingHooks,
  type TrainingOutcome,
  type TrainingRun,
  withValidatedWeights,
} from './training-run.ts';
import { createWeightAverage, type WeightAverage } from './weight-average.ts';

export type { TrainingHooks, TrainingOutcome };

/**
 * The whole of `pnpm train`, as torchvision's reference `main`: set the run up (new or resumed), then per
 * epoch trainOneEpoch, validate, saveEpoch, until the last epoch, a stop, early stopping or --max-steps.
 * A resumed run continues from its newest verified checkpoint (resume-point.ts) with the Adam moments,
 * the step inside the epoch and the seeded data order, so it ends with the weights an uninterrupted run
 * would have.
 */
export async function runTraining(requested: TrainConfig, hooks: TrainingHooks): Promise<TrainingOutcome> {
  const began = Date.now();
  const manifest = await readManifest(requested.prepared);
  const config = withSyntheticData(requested, manifest);
  const prepared = await readPreparedPreprocess(config.prepared);
  if (!prepared) throw missingStats(config.prepared);
  const classes = manifest.classes;
  const split = runSplit(manifest, config);
  hooks.log(describeRunSplit(split, config));
  const trainSamples = spreadSubset(split.train, config.limit);
  const valSamples = spreadSubset(split.val, config.limit);
  if (trainSamples.length === 0) {
    throw new UserError(`${config.prepared} has no training images; run \`pnpm trainer prepare\` again.`);
  }

  // A crash between the two renames that replace `latest` leaves it under a temporary name: repair first.
  await recoverFolder(runPaths(config.out).latest);
  useFusedKernels(config.fusedKernels);
  const optimizer = new AdamL2({ learningRate: config.learningRate, weightDecay: config.weightDecay });
  const preprocess = withCropSize(prepared, config.imageSize);
  const point = await chooseStart(config, hooks.log);
  const start = point
    ? await resumeRun(config, point, classes, preprocess, optimizer, hooks.log)
    : await startNewRun(config, classes, preprocess, hooks.log);
  if (start.complete) {
    optimizer.dispose();
    return outcomeOf('already-complete', start);
  }
  const { run, dispose } = await setUpRun(config, hooks, start, optimizer, {
    dataRoot: manifest.dataRoot,
    trainSamples,
    valSamples,
    classes,
  });
  run.progress.setupSeconds = (run.progress.setupSeconds ?? 0) + (Date.now() - began) / 1000;
  try {
    if (reachedMaxSteps(run)) {
      hooks.log(
        `already ${run.progress.globalStep} steps (--max-steps ${config.maxSteps}); raise it to train further`,
      );
      return outcomeOf('max-steps', run);
    }
    while (run.progress.epoch < config.epochs) {
      const training = await trainOneEpoch(run);
      if (training.end !== 'complete') return outcomeOf(training.end, run);
      const { record } = await withValidatedWeights(run, async () => {
        const validation = await validate(run);
        const closed = closeEpoch(run, validation, training.startedAt, training.trainSeconds);
        await saveEpoch(run, closed.record, closed.improved);
        return closed;
      });
      hooks.tracker?.epoch(record);
      const stop = stopAfterEpoch(run);
      if (stop) return outcomeOf(stop, run);
    }
    return outcomeOf('completed', run);
  } finally {
    dispose();
  }
}

/**
 * A run on `trainer synth` data records so in run-config.json (the model card warns it is no food
 * model), unless the caller already said what its data is (`pnpm demo`).
 */
function withSyntheticData(config: TrainConfig, manifest: PreparedManifest): TrainConfig {
  if (config.dataset || !manifest.synthetic) return config;
  return { ...config, dataset: { name: path.basename(path.resolve(config.prepared)), synthetic: true } };
}

/**
 * The model made trainable (`--trainable`: frozen layers, a split at the frozen trunk), the step with its
 * micro-batching, and the batches. `dispose` releases them and the optimizer.
 */
async function setUpRun(
  config: TrainConfig,
  hooks: TrainingHooks,
  start: RunStart,
  optimizer: AdamL2,
  data: Pick<BatchSourceOptions, 'dataRoot' | 'trainSamples' | 'valSamples'> & { classes: string[] },
): Promise<{ run: TrainingRun; dispose: () => void }> {
  const { model } = start;
  setTrainableScope(model, config.trainable);
  useInferenceStatsWhenFrozen(model);
  useFusedBatchNormInTraining(model);
  hooks.log(
    `model: ${countParameters(model).toLocaleString('en')} parameters, ${countParameters(model, 'trainable').toLocaleString('en')} trainable (${config.trainable})`,
  );
  // float32 weights plus Adam's two moments per trainable weight.
  await checkOutputFolder(config.out, 4 * (countParameters(model) + 2 * countParameters(model, 'trainable')));

  const split =
    config.trainable === 'all'
      ? undefined
      : splitModelAt(model, frozenBoundaryLayer(model, config.trainable));
  const trained = split?.tail ?? model;
  const microBatcher = createMicroBatchRunner({
    microBatch: chooseMicroBatch(config, trained, hooks.gpu, hooks.log),
    model: trained,
    optimizer,
    log: hooks.log,
  });
  const parameters = trainableParameters(trained);
  const { classes, ...samples } = data;
  const source = await openBatchSource(config, hooks, {
    ...samples,
    numClasses: classes.length,
    preprocess: start.preprocess,
    trunk: split?.trunk,
  });
  const average =
    config.emaDecay === undefined
      ? undefined
      : createWeightAverage(trained, config.emaDecay, start.averageState);
  tf.dispose(Object.values(start.averageState ?? {}));
  const run: TrainingRun = {
    config,
    hooks,
    model,
    trained,
    optimizer,
    step: stepOf(config, {
      microBatcher,
      train: (parts) => trainStep(trained, optimizer, parameters, parts, classes.length, config),
      progress: start.progress,
      numClasses: classes.length,
      average,
    }),
    source,
    validationImages: samples.valSamples.length,
    schedule: { ...config, stepsPerEpoch: source.trainBatchesPerEpoch },
    preprocess: start.preprocess,
    labels: { classes },
    progress: start.progress,
    history: start.history,
    average,
  };
  const dispose = () => {
    source.dispose();
    average?.dispose();
    optimizer.dispose();
    // tfjs counts a reference per layer call: the tail's calls of the shared layers are released with the
    // tail, the rest with the model (the trunk made no calls of its own).
    split?.tail.dispose();
    model.dispose();
  };
  return { run, dispose };
}

/**
 * One optimizer step on a batch: blended with itself first (`--mixup`), micro-batched (with the OOM
 * retry), then the weight average updated (`--ema-decay`). The batch is not disposed.
 */
function stepOf(
  config: TrainConfig,
  parts: {
    microBatcher: ReturnType<typeof createMicroBatchRunner>;
    train: (microBatches: ModelBatch[]) => StepResult;
    progress: TrainingRun['progress'];
    numClasses: number;
    average: WeightAverage | undefined;
  },
): TrainingRun['step'] {
  return (batch) => {
    const mixed =
      config.mixupAlpha === undefined
        ? batch
        : mixBatch(batch, {
            alpha: config.mixupAlpha,
            seed: config.seed,
            step: parts.progress.globalStep,
            numClasses: parts.numClasses,
          });
    try {
      const result = parts.microBatcher.step(mixed, parts.train);
      parts.average?.update();
      return result;
    } finally {
      if (mixed !== batch) tf.dispose([mixed.inputs, mixed.labels, mixed.targets!]);
    }
  };
}

/** The epoch's history row; advances the progress to the next epoch and records a new best. */
function closeEpoch(
  run: TrainingRun,
  validation: EvaluationSummary,
  startedAt: number,
  trainSeconds: number,
): { record: EpochRecord; improved: boolean } {
  const { progress, hooks } = run;
  const partial = progress.partialEpoch;
  const record: EpochRecord = {
    epoch: progress.epoch + 1,
    trainLoss: partial.lossSum / Math.max(1, partial.steps),
    trainAccuracy: partial.correct / Math.max(1, partial.examples),
    valLoss: validation.loss,
    valTop1: validation.top1,
    valTop5: validation.top5,
    learningRate: run.optimizer.learningRate,
    seconds: (Date.now() - startedAt) / 1000,
    imagesPerSecond: partial.examples / trainSeconds,
  };
  run.history.push(record);
  progress.epoch = record.epoch;
  progress.stepInEpoch = 0;
  progress.partialEpoch = { lossSum: 0, steps: 0, correct: 0, examples: 0, seconds: 0 };
  // Without validation images every epoch is "best", so `best` always exists for evaluate and serve.
  const improved = validation.examples === 0 || validation.top1 > progress.bestValTop1;
  if (validation.examples === 0) hooks.log('no validation images: best is the latest epoch');
  if (improved) {
    progress.bestValTop1 = validation.top1;
    progress.bestEpoch = record.epoch;
  }
  hooks.log(
    `epoch ${record.epoch}: train loss ${record.trainLoss.toFixed(4)} acc ${record.trainAccuracy.toFixed(3)} | val loss ${record.valLoss.toFixed(4)} top1 ${record.valTop1.toFixed(3)} top5 ${record.valTop5.toFixed(3)} | ${record.seconds.toFixed(1)} s, ${record.imagesPerSecond.toFixed(1)} img/s`,
  );
  return { record, improved };
}

/** Why the run ends after a saved epoch (a stop, early stopping, --max-steps), or undefined to go on. */
function stopAfterEpoch(run: TrainingRun): TrainingOutcome['status'] | undefined {
  const { config, progress, hooks } = run;
  if (hooks.shouldStop()) return 'stopped';
  if (shouldStopEarly(config.patience, progress.epoch, progress.bestEpoch)) {
    hooks.log(
      `early stop: no better val top-1 for ${config.patience} epochs (best: epoch ${progress.bestEpoch})`,
    );
    return 'completed';
  }
  return reachedMaxSteps(run) ? 'max-steps' : undefined;
}

function outcomeOf(
  status: TrainingOutcome['status'],
  run: Pick<TrainingRun, 'progress' | 'history'>,
): TrainingOutcome {
  const { epoch, globalStep, bestValTop1, bestEpoch } = run.progress;
  return { status, epochsCompleted: epoch, globalStep, bestValTop1, bestEpoch, history: run.history };
}

/** The run's batches: decoded images, or the feature cache of a frozen trunk (built here on first use). */
async function openBatchSource(
  config: TrainConfig,
  hooks: TrainingHooks,
  data: Pick<
    BatchSourceOptions,
    'dataRoot' | 'trainSamples' | 'valSamples' | 'preprocess' | 'numClasses' | 'trunk'
  >,
): Promise<BatchSource> {
  let cacheProgress: ReturnType<typeof createProgress> | undefined;
  const source = await createBatchSource({
    ...config,
    ...data,
    // On cached features augmentation is the cached views: --no-augment means none, the centre crop only.
    featureViews: config.augment ? config.featureViews : 0,
    onCachePlan: (message) => hooks.log(`feature cache: ${message}`),
    onCacheStart: (images) => {
      cacheProgress = createProgress('features (onnxruntime)', images, hooks.progress);
    },
    onCacheProgress: (images) => cacheProgress?.tick(images),
    onCacheReady: (dir, reused) => hooks.log(`feature cache: ${dir}${reused ? ' (reused)' : ''}`),
  });
  cacheProgress?.stop();
  return source;
}
