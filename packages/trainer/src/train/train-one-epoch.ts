import { runPaths } from '@food/core/checkpoint/run-layout';
import * as tf from '@tensorflow/tfjs';
import { createProgress } from '../progress.ts';
import { type EvaluationSummary, evaluateModel } from './evaluate-model.ts';
import { learningRateAt } from './lr-schedule.ts';
import { saveMidEpoch } from './save-epoch.ts';
import { reachedMaxSteps, type TrainingRun } from './training-run.ts';

export interface EpochTraining {
  /** complete: the epoch's last step was taken; otherwise `latest` holds the steps taken so far. */
  end: 'complete' | 'stopped' | 'max-steps';
  /** When the epoch started (earlier sessions of a resumed epoch included), for its timings. */
  startedAt: number;
  trainSeconds: number;
}

/**
 * Trains the rest of epoch `progress.epoch + 1`, from step `progress.stepInEpoch`, in the seeded order.
 * After each step it asks whether to stop (Ctrl-C, SIGTERM, --max-steps); stopping inside the epoch saves
 * `latest` so `--resume` continues with the next step.
 */
export async function trainOneEpoch(run: TrainingRun): Promise<EpochTraining> {
  const { progress, source, hooks } = run;
  const startedAt = Date.now() - progress.partialEpoch.seconds * 1000;
  const bar = createProgress(
    `epoch ${progress.epoch + 1}/${run.config.epochs}`,
    source.trainBatchesPerEpoch,
    hooks.progress,
  );
  bar.tick(progress.stepInEpoch);
  let stepping = false;
  try {
    for await (const batch of source.train(progress.epoch, progress.stepInEpoch)) {
      stepping = true;
      try {
        run.optimizer.learningRate = learningRateAt(run.schedule, progress.globalStep);
        const result = run.step(batch);
        recordStep(run, result);
        hooks.tracker?.step({
          ...result,
          globalStep: progress.globalStep,
          learningRate: run.optimizer.learningRate,
        });
      } finally {
        tf.dispose([batch.inputs, batch.labels]);
      }
      stepping = false;
      const partial = progress.partialEpoch;
      bar.tick(1, {
        loss: (partial.lossSum / partial.steps).toFixed(4),
        acc: (partial.correct / partial.examples).toFixed(3),
      });
      const stopAsked = hooks.shouldStop();
      const end = reachedMaxSteps(run) ? 'max-steps' : stopAsked ? 'stopped' : undefined;
      if (end && progress.stepInEpoch < source.trainBatchesPerEpoch) {
        bar.stop();
        await saveMidEpoch(run, startedAt);
        return { end, startedAt, trainSeconds: (Date.now() - startedAt) / 1000 };
      }
    }
  } catch (error) {
    // The data failed (a file vanished or went corrupt mid-run), not a step: the state is consistent,
    // so keep the epoch's finished steps. A failed step may have half-updated the weights: not saved.
    if (!stepping && progress.stepInEpoch > 0) {
      await saveMidEpoch(run, startedAt);
      hooks.log(
        `saved ${runPaths(run.config.out).latest} after step ${progress.globalStep}; fix the cause, then continue with --resume`,
      );
    }
    throw error;
  }
  bar.stop();
  return { end: 'complete', startedAt, trainSeconds: (Date.now() - startedAt) / 1000 };
}

/** The validation pass after an epoch (centre crop, batch norm in inference mode). */
export async function validate(run: TrainingRun): Promise<EvaluationSummary> {
  const bar = createProgress('validate', run.validationImages, run.hooks.progress);
  const summary = await evaluateModel(run.trained, run.source.validation(), run.labels.classes.length, (n) =>
    bar.tick(n),
  );
  bar.stop();
  return summary;
}

function recordStep(run: TrainingRun, result: { loss: number; correct: number; examples: number }): void {
  const { progress } = run;
  const partial = progress.partialEpoch;
  partial.lossSum += result.loss;
  partial.steps += 1;
  partial.correct += result.correct;
  partial.examples += result.examples;
  progress.stepInEpoch += 1;
  progress.globalStep += 1;
}
