/** `pnpm evaluate --mlflow URI --tensorboard DIR`: the evaluation where the training run was tracked. */
import type { Command } from 'commander';
import type { EvaluationOutcome } from '../evaluate/run-evaluation.ts';
import { runNameOf } from '../evaluate/run-evaluation.ts';
import { logEvaluationToMlflow } from './mlflow-evaluation.ts';
import { resolveTrackingUri } from './mlflow-tracker.ts';
import { tensorboardRunDir, writeEvaluationSummary } from './tensorboard-tracker.ts';

export interface EvaluationTrackingFlags {
  mlflow?: string;
  tensorboard?: string;
}

export function addEvaluationTrackingOptions(command: Command): Command {
  return command
    .option(
      '--mlflow <uri>',
      'log the scores and the report to the MLflow run that trained the checkpoint (default: $MLFLOW_TRACKING_URI)',
    )
    .option(
      '--tensorboard <dir>',
      "write the scores and the confusion matrix (an image) to DIR/<run name>, beside the run's training curves",
    );
}

export async function trackEvaluation(
  flags: EvaluationTrackingFlags,
  evaluation: {
    checkpoint: string;
    prepared: string;
    split: string;
    out: string;
    outcome: EvaluationOutcome;
  },
  log: (line: string) => void,
): Promise<void> {
  const { metrics, files, confusion } = evaluation.outcome;
  const scores = {
    top1: metrics.accuracy,
    top5: metrics.top5Accuracy,
    macro_f1: metrics.f1.macro,
    macro_precision: metrics.precision.macro,
    macro_recall: metrics.recall.macro,
  };
  if (flags.tensorboard) {
    const runName = runNameOf(evaluation.checkpoint);
    writeEvaluationSummary({
      root: flags.tensorboard,
      runName,
      split: evaluation.split,
      step: 0,
      metrics: { top1: scores.top1, top5: scores.top5, macroF1: scores.macro_f1 },
      confusion,
    });
    log(
      `tensorboard: ${evaluation.split} scores and confusion matrix in ${tensorboardRunDir(flags.tensorboard, runName)}`,
    );
  }
  const trackingUri = resolveTrackingUri(flags.mlflow);
  if (trackingUri) {
    await logEvaluationToMlflow({ ...evaluation, trackingUri, files, metrics: scores, log });
  }
}
