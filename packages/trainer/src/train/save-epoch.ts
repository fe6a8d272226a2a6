import { rm, writeFile } from 'node:fs/promises';
import type { CheckpointMetrics, EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import { BEST, LATEST, runPaths } from '@food/core/checkpoint/run-layout';
import { type CheckpointContents, saveCheckpoint } from '@food/core/checkpoint/save-checkpoint';
import { updateLink } from '@food/core/checkpoint/update-link';
import { curvesSvg } from '../charts/training-curves.ts';
import { writeHistory } from './history.ts';
import { type TrainingRun, withValidatedWeights } from './training-run.ts';

/**
 * The checkpoint of the run as it stands: model, its typed parts, and what `--resume` needs. With
 * `--ema-decay`, call it inside `withValidatedWeights`: the model then holds the average, and the
 * training state the training weights.
 */
export function checkpointOf(run: TrainingRun, metrics: CheckpointMetrics): CheckpointContents {
  return {
    model: run.model,
    preprocess: run.preprocess,
    labels: run.labels,
    runConfig: run.config,
    metrics,
    trainingState: {
      progress: run.progress,
      optimizerStep: run.optimizer.iterations,
      moments: { ...run.optimizer.getState().moments, ...run.average?.trainingWeights() },
    },
  };
}

/**
 * After a completed epoch: its epoch-NNN checkpoint, then the history and curves, then the `latest` and
 * (when it improved) `best` copies, then pruning to `--keep-epochs`. In that order, a kill at any point
 * leaves a run that `--resume` repairs (resume-point.ts).
 */
export async function saveEpoch(run: TrainingRun, record: EpochRecord, improved: boolean): Promise<void> {
  const { config, progress } = run;
  const files = runPaths(config.out);
  const epochDir = files.epoch(record.epoch);
  await saveCheckpoint(
    epochDir,
    checkpointOf(run, { ...record, bestValTop1: progress.bestValTop1, bestEpoch: progress.bestEpoch }),
  );
  await writeHistory(config.out, run.history);
  // The run's training curves, redrawn each epoch: what the server's model card shows.
  await writeFile(files.curves, await curvesSvg(run.history));
  await updateLink(config.out, LATEST, epochDir);
  if (improved) await updateLink(config.out, BEST, epochDir);
  if (config.keepEpochs !== undefined && record.epoch > config.keepEpochs) {
    // best and latest are copies, so older epoch folders can go without breaking them.
    await rm(files.epoch(record.epoch - config.keepEpochs), { recursive: true, force: true });
  }
}

/** `latest` inside an epoch (a stop, --max-steps, a data failure): resumable from the next step. */
export async function saveMidEpoch(run: TrainingRun, startedAt: number): Promise<void> {
  const { progress } = run;
  progress.partialEpoch.seconds = (Date.now() - startedAt) / 1000;
  await withValidatedWeights(run, () =>
    saveCheckpoint(
      runPaths(run.config.out).latest,
      checkpointOf(run, { epoch: progress.epoch, stepInEpoch: progress.stepInEpoch }),
    ),
  );
}
