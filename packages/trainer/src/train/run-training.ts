import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recoverFolder } from '@food/core/checkpoint/atomic-folder';
import type { CheckpointMetrics } from '@food/core/checkpoint/epoch-metrics';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import { BEST, LATEST, runPaths } from '@food/core/checkpoint/run-layout';
import { saveCheckpoint } from '@food/core/checkpoint/save-checkpoint';
import { newTrainingProgress, type TrainingProgress } from '@food/core/checkpoint/training-state';
import { updateLink } from '@food/core/checkpoint/update-link';
import { UserError } from '@food/core/errors';
import { useInferenceStatsWhenFrozen } from '@food/core/model/batch-norm';
import { buildResNet50, countParameters, setTrainableScope } from '@food/core/model/resnet50';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import * as tf from '@tensorflow/tfjs';
import { missingStats, readManifest, readPreparedPreprocess } from '../data/prepared-set.ts';
import { spreadSubset } from '../data/spread-subset.ts';
import { curvesSvg } from '../evaluate/charts.ts';
import { createProgress, type ProgressMode } from '../progress.ts';
import { AdamL2 } from './adam.ts';
import { createBatchSource } from './batch-source.ts';
import { checkOutputFolder } from './check-output.ts';
import { chooseMicroBatch, type GpuMemory } from './choose-micro-batch.ts';
import { chooseStart } from './choose-start.ts';
import { evaluateModel } from './evaluate-model.ts';
import { type EpochRecord, readHistory, writeHistory } from './history.ts';
import { loadPretrainedBackbone } from './load-pretrained.ts';
import { type LrSchedule, learningRateAt, shouldStopEarly } from './lr-schedule.ts';
import { createMicroBatchRunner } from './micro-batch-runner.ts';
import { trainableParameters } from './parameters.ts';
import { historyUpTo, repairRunLinks } from './resume-point.ts';
import type { TrainConfig } from './run-config.ts';
import { splitModelAt } from './split-model.ts';
import { trainStep } from './train-step.ts';

export interface TrainingHooks {
  log: (line: string) => void;
  /** Polled after every step: true finishes the step, saves `latest` and returns (SIGINT). */
  shouldStop: () => boolean;
  progress: ProgressMode;
  /** The GPU's free memory before TensorFlow started, for `--accumulate auto` (nvidia-smi). */
  gpu?: GpuMemory;
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

/**
 * The whole of `pnpm train`: builds (or resumes) the model, then for each epoch trains, validates,
 * records history and writes checkpoints. A resumed run continues from its newest verified checkpoint
 * (resume-point.ts) with the Adam moments, the step inside the epoch and the seeded data order, so it
 * ends with the weights an uninterrupted run would have.
 */
export async function runTraining(config: TrainConfig, hooks: TrainingHooks): Promise<TrainingOutcome> {
  const manifest = await readManifest(config.prepared);
  const prepared = await readPreparedPreprocess(config.prepared);
  if (!prepared) throw missingStats(config.prepared);
  let preprocess = withImageSize(prepared, config.imageSize);
  const classes = manifest.classes;
  const trainSamples = spreadSubset(manifest.splits.train, config.limit);
  const valSamples = spreadSubset(manifest.splits.val, config.limit);
  if (trainSamples.length === 0) {
    throw new UserError(`${config.prepared} has no training images; run \`pnpm trainer prepare\` again.`);
  }

  const run = runPaths(config.out);
  const latestDir = run.latest;
  // A crash between the two renames that replace `latest` leaves it under a temporary name: repair first.
  await recoverFolder(latestDir);
  const optimizer = new AdamL2({ learningRate: config.learningRate, weightDecay: config.weightDecay });
  let model: tf.LayersModel;
  let state: TrainingProgress;
  let history: EpochRecord[];
  const resumeFrom = await chooseStart(config, hooks.log);
  if (resumeFrom) {
    await repairRunLinks(config.out, resumeFrom, hooks.log);
    history = await historyUpTo(config.out, await readHistory(config.out), resumeFrom.state.epoch);
    if (resumeFrom.state.epoch >= config.epochs && resumeFrom.state.stepInEpoch === 0) {
      optimizer.dispose();
      const { epoch, globalStep, bestValTop1, bestEpoch } = resumeFrom.state;
      return {
        status: 'already-complete',
        epochsCompleted: epoch,
        globalStep,
        bestValTop1,
        bestEpoch,
        history,
      };
    }
    const resumed = await loadCheckpoint(resumeFrom.dir, { withTrainingState: true });
    checkResumable(config, resumed.runConfig, classes, resumed.labels.classes, resumeFrom.dir);
    model = resumed.model;
    // The checkpoint's preprocessing is the run's (conv1 was folded for it); a re-run of stats must not change it.
    if (JSON.stringify(resumed.preprocess) !== JSON.stringify(preprocess)) {
      hooks.log(
        `note: ${config.prepared}/preprocess.json changed since the run started; resuming with the run's own`,
      );
    }
    preprocess = resumed.preprocess;
    const saved = resumed.trainingState!;
    state = saved.progress;
    optimizer.setState({ step: saved.optimizerStep, moments: saved.moments });
    tf.dispose(Object.values(saved.moments));
    hooks.log(
      `resuming ${config.out} from ${path.basename(resumeFrom.dir)}: after epoch ${state.epoch}, step ${state.stepInEpoch} of epoch ${state.epoch + 1}`,
    );
  } else {
    model = buildResNet50({
      numClasses: classes.length,
      inputSize: preprocess.cropSize,
      widthMultiplier: config.widthMultiplier,
      blocksPerStage: config.blocksPerStage,
      seed: config.seed,
    });
    if (config.weights !== 'none') {
      const report = await loadPretrainedBackbone(model, config.weights, preprocess);
      hooks.log(report);
    }
    state = newTrainingProgress();
    history = [];
  }
  setTrainableScope(model, config.trainable);
  useInferenceStatsWhenFrozen(model);
  hooks.log(
    `model: ${countParameters(model).toLocaleString('en')} parameters, ${countParameters(model, 'trainable').toLocaleString('en')} trainable (${config.trainable})`,
  );

  // float32 weights plus Adam's two moments per trainable weight.
  await checkOutputFolder(config.out, 4 * (countParameters(model) + 2 * countParameters(model, 'trainable')));

  const split =
    config.trainable === 'all' ? undefined : splitModelAt(model, boundaryLayer(model, config.trainable));
  const trained = split?.tail ?? model;
  const microBatcher = createMicroBatchRunner({
    microBatch: chooseMicroBatch(config, trained, hooks.gpu, hooks.log),
    model: trained,
    optimizer,
    log: hooks.log,
  });
  const parameters = trainableParameters(trained);
  let cacheProgress: ReturnType<typeof createProgress> | undefined;
  const source = await createBatchSource({
    dataRoot: manifest.dataRoot,
    trainSamples,
    valSamples,
    preprocess,
    batchSize: config.batchSize,
    numClasses: classes.length,
    seed: config.seed,
    augment: config.augment && !(config.cacheFeatures && split),
    concurrency: config.loaderConcurrency,
    trunk: split?.trunk,
    cacheFeatures: config.cacheFeatures,
    featureCacheRoot: config.featureCacheDir ?? path.join(config.prepared, 'feature-cache'),
    featureViews: config.featureViews,
    onCacheStart: (images) => {
      cacheProgress = createProgress('features (onnxruntime)', images, hooks.progress);
    },
    onCacheProgress: (images) => cacheProgress?.tick(images),
    onCacheReady: (dir, reused) => hooks.log(`feature cache: ${dir}${reused ? ' (reused)' : ''}`),
  });
  cacheProgress?.stop();

  const labels = { classes };
  const checkpointOf = (metrics: CheckpointMetrics) => ({
    model,
    preprocess,
    labels,
    runConfig: config,
    metrics,
    trainingState: {
      progress: state,
      optimizerStep: optimizer.iterations,
      moments: optimizer.getState().moments,
    },
  });

  const schedule: LrSchedule = {
    name: config.lrSchedule ?? 'constant',
    baseRate: config.learningRate,
    warmupEpochs: config.warmupEpochs ?? 0,
    epochs: config.epochs,
    stepsPerEpoch: source.trainBatchesPerEpoch,
  };
  let status: TrainingOutcome['status'] = 'completed';
  const reachedMaxSteps = () => config.maxSteps !== undefined && state.globalStep >= config.maxSteps;
  try {
    if (reachedMaxSteps()) {
      hooks.log(
        `already ${state.globalStep} steps (--max-steps ${config.maxSteps}); raise it to train further`,
      );
      status = 'max-steps';
      return outcome();
    }
    while (state.epoch < config.epochs) {
      const epoch = state.epoch + 1;
      const startedAt = Date.now() - state.partialEpoch.seconds * 1000;
      const bar = createProgress(
        `epoch ${epoch}/${config.epochs}`,
        source.trainBatchesPerEpoch,
        hooks.progress,
      );
      bar.tick(state.stepInEpoch);
      let stepping = false;
      try {
        for await (const batch of source.train(state.epoch, state.stepInEpoch)) {
          stepping = true;
          let result: ReturnType<typeof trainStep>;
          try {
            optimizer.learningRate = learningRateAt(schedule, state.globalStep);
            result = microBatcher.step(batch, (parts) =>
              trainStep(trained, optimizer, parameters, parts, classes.length, config.labelSmoothing),
            );
          } finally {
            tf.dispose([batch.inputs, batch.labels]);
          }
          stepping = false;
          const partial = state.partialEpoch;
          partial.lossSum += result.loss;
          partial.steps += 1;
          partial.correct += result.correct;
          partial.examples += result.examples;
          state.stepInEpoch += 1;
          state.globalStep += 1;
          bar.tick(1, {
            loss: (partial.lossSum / partial.steps).toFixed(4),
            acc: (partial.correct / partial.examples).toFixed(3),
          });
          const hitMaxSteps = reachedMaxSteps();
          if (hooks.shouldStop() || hitMaxSteps) {
            bar.stop();
            partial.seconds = (Date.now() - startedAt) / 1000;
            if (state.stepInEpoch < source.trainBatchesPerEpoch) {
              await saveCheckpoint(
                latestDir,
                checkpointOf({ epoch: state.epoch, stepInEpoch: state.stepInEpoch }),
              );
              status = hitMaxSteps ? 'max-steps' : 'stopped';
              return outcome();
            }
          }
        }
      } catch (error) {
        // The data failed (a file vanished or went corrupt mid-run), not a step: the state is consistent,
        // so keep the epoch's finished steps. A failed step may have half-updated the weights: not saved.
        if (!stepping && state.stepInEpoch > 0) {
          state.partialEpoch.seconds = (Date.now() - startedAt) / 1000;
          await saveCheckpoint(
            latestDir,
            checkpointOf({ epoch: state.epoch, stepInEpoch: state.stepInEpoch }),
          );
          hooks.log(
            `saved ${latestDir} after step ${state.globalStep}; fix the cause, then continue with --resume`,
          );
        }
        throw error;
      }
      bar.stop();

      const trainSeconds = (Date.now() - startedAt) / 1000;
      const valBar = createProgress('validate', valSamples.length, hooks.progress);
      const validation = await evaluateModel(trained, source.validation(), classes.length, (n) =>
        valBar.tick(n),
      );
      valBar.stop();
      const partial = state.partialEpoch;
      const record: EpochRecord = {
        epoch,
        trainLoss: partial.lossSum / Math.max(1, partial.steps),
        trainAccuracy: partial.correct / Math.max(1, partial.examples),
        valLoss: validation.loss,
        valTop1: validation.top1,
        valTop5: validation.top5,
        learningRate: optimizer.learningRate,
        seconds: (Date.now() - startedAt) / 1000,
        imagesPerSecond: partial.examples / trainSeconds,
      };
      history.push(record);
      state.epoch = epoch;
      state.stepInEpoch = 0;
      state.partialEpoch = { lossSum: 0, steps: 0, correct: 0, examples: 0, seconds: 0 };
      // Without validation images every epoch is "best", so `best` always exists for evaluate and serve.
      const improved = validation.examples === 0 || validation.top1 > state.bestValTop1;
      if (validation.examples === 0) hooks.log('no validation images: best is the latest epoch');
      if (improved) {
        state.bestValTop1 = validation.top1;
        state.bestEpoch = epoch;
      }
      hooks.log(
        `epoch ${epoch}: train loss ${record.trainLoss.toFixed(4)} acc ${record.trainAccuracy.toFixed(3)} | val loss ${record.valLoss.toFixed(4)} top1 ${record.valTop1.toFixed(3)} top5 ${record.valTop5.toFixed(3)} | ${record.seconds.toFixed(1)} s, ${record.imagesPerSecond.toFixed(1)} img/s`,
      );

      const epochDir = run.epoch(epoch);
      await saveCheckpoint(
        epochDir,
        checkpointOf({ ...record, bestValTop1: state.bestValTop1, bestEpoch: state.bestEpoch }),
      );
      await writeHistory(config.out, history);
      // The run's training curves, redrawn each epoch: what the server's model card shows.
      await writeFile(run.curves, await curvesSvg(history));
      await updateLink(config.out, LATEST, epochDir);
      if (improved) await updateLink(config.out, BEST, epochDir);
      if (config.keepEpochs !== undefined) {
        // best and latest are copies, so older epoch folders can go without breaking them.
        if (epoch > config.keepEpochs)
          await rm(run.epoch(epoch - config.keepEpochs), { recursive: true, force: true });
      }

      if (hooks.shouldStop()) {
        status = 'stopped';
        break;
      }
      if (shouldStopEarly(config.patience, epoch, state.bestEpoch)) {
        hooks.log(
          `early stop: no better val top-1 for ${config.patience} epochs (best: epoch ${state.bestEpoch})`,
        );
        break;
      }
      if (config.maxSteps !== undefined && state.globalStep >= config.maxSteps) {
        status = 'max-steps';
        break;
      }
    }
    return outcome();
  } finally {
    source.dispose();
    optimizer.dispose();
    // tfjs counts a reference per layer call: the tail's calls of the shared layers are released with the
    // tail, the rest with the model (the trunk made no calls of its own).
    split?.tail.dispose();
    model.dispose();
  }

  function outcome(): TrainingOutcome {
    return {
      status,
      epochsCompleted: state.epoch,
      globalStep: state.globalStep,
      bestValTop1: state.bestValTop1,
      bestEpoch: state.bestEpoch,
      history,
    };
  }
}

/** The last layer of the frozen part: the stage output before the first trainable layer. */
function boundaryLayer(model: tf.LayersModel, scope: TrainConfig['trainable']): string {
  const lastOf = (prefix: string) => {
    const names = model.layers
      .map((layer) => layer.name)
      .filter((name) => name.startsWith(prefix) && name.endsWith('_out'));
    return names[names.length - 1];
  };
  switch (scope) {
    case 'head':
      return 'avg_pool';
    case 'stage5':
      return lastOf('conv4_');
    case 'stage4+':
      return lastOf('conv3_');
    default:
      throw new Error(`no boundary for scope ${scope}`);
  }
}

/** `--image-size` other than the config's crop keeps the recipe's 256:224 resize-to-crop ratio. */
function withImageSize(config: PreprocessConfig, imageSize: number): PreprocessConfig {
  if (imageSize === config.cropSize) return config;
  return {
    ...config,
    cropSize: imageSize,
    resizeShorterSide: Math.round((imageSize * config.resizeShorterSide) / config.cropSize),
  };
}

/** A resumed run must be the same run: same data, same model shape, same optimisation settings. */
function checkResumable(
  config: TrainConfig,
  saved: TrainConfig,
  classes: readonly string[],
  savedClasses: readonly string[],
  checkpointDir: string,
): void {
  const mustMatch: Array<keyof TrainConfig> = [
    'learningRate',
    'weightDecay',
    'batchSize',
    'accumulate',
    'imageSize',
    'seed',
    'trainable',
    'cacheFeatures',
    'featureViews',
    'lrSchedule',
    'warmupEpochs',
    'labelSmoothing',
    'augment',
    'limit',
    'widthMultiplier',
    'blocksPerStage',
  ];
  const differing: string[] = mustMatch.filter(
    (key) => JSON.stringify(saved[key]) !== JSON.stringify(config[key]),
  );
  if (classes.join() !== savedClasses.join()) differing.unshift('prepared (classes)');
  if (differing.length > 0) {
    throw new UserError(
      `cannot resume ${config.out}: ${differing.map((key) => `${key} was ${JSON.stringify(saved[key as keyof TrainConfig])}, now ${JSON.stringify(config[key as keyof TrainConfig])}`).join('; ')}. Resume with the original flags (see ${path.join(checkpointDir, 'run-config.json')}) or start a new --out.`,
    );
  }
}
