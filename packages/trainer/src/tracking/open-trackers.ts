/**
 * The tracking flags of `pnpm train` and what they open. Tracking is not a setting of the run: a run
 * resumed with other tracking flags trains the same, so none of this is in the run config.
 */
import path from 'node:path';
import type { BackendInfo } from '@food/core/backend';
import { UserError } from '@food/core/errors';
import { parsePositiveInteger } from '@food/core/parse-number';
import type { Command } from 'commander';
import type { TrainConfig } from '../train/run-config.ts';
import { openMlflowTracker, resolveTrackingUri } from './mlflow-tracker.ts';
import { openTensorboardTracker } from './tensorboard-tracker.ts';
import { combineTrackers, type Tracker } from './tracker.ts';

/** Optional, so commander's parsed flags (whose types cannot see defaults) fit. */
export interface TrackingFlags {
  mlflow?: string;
  mlflowRegister?: string;
  mlflowEvery?: number;
  tensorboard?: string;
}

export const DEFAULT_MLFLOW_EVERY = 10;

/** Adds --mlflow, --mlflow-register, --mlflow-every and --tensorboard to `pnpm train`. */
export function addTrackingOptions(command: Command): Command {
  return command
    .option(
      '--mlflow <uri>',
      'log the run to this MLflow tracking server (default: $MLFLOW_TRACKING_URI); --resume continues the same MLflow run',
    )
    .option('--mlflow-register <name>', 'with --mlflow: register the completed model under this name')
    .option(
      '--mlflow-every <steps>',
      'with --mlflow: log step metrics every N optimizer steps',
      parsePositiveInteger,
      DEFAULT_MLFLOW_EVERY,
    )
    .option(
      '--tensorboard <dir>',
      'write TensorBoard event files to DIR/<run name> (tensorboard --logdir DIR)',
    );
}

/** The trackers the flags ask for, as one (undefined when none). */
export async function openTrainingTrackers(
  flags: TrackingFlags,
  config: TrainConfig,
  backend: Pick<BackendInfo, 'name' | 'gpu'>,
  log: (line: string) => void,
): Promise<Tracker | undefined> {
  const trackers: Tracker[] = [];
  const trackingUri = resolveTrackingUri(flags.mlflow);
  if (flags.mlflowRegister && !trackingUri) {
    throw new UserError(
      '--mlflow-register needs an MLflow server: add --mlflow URI (or set MLFLOW_TRACKING_URI).',
    );
  }
  if (trackingUri) {
    trackers.push(
      openMlflowTracker({
        trackingUri,
        registerAs: flags.mlflowRegister,
        everySteps: flags.mlflowEvery ?? DEFAULT_MLFLOW_EVERY,
        config,
        resume: config.resume !== undefined && config.resume !== false,
        environment: { backend: backend.name, device: backend.gpu ? 'CUDA GPU' : 'CPU' },
        log,
      }),
    );
  }
  if (flags.tensorboard) {
    trackers.push(
      await openTensorboardTracker({
        root: flags.tensorboard,
        runName: path.basename(path.resolve(config.out)),
        log,
      }),
    );
  }
  return combineTrackers(trackers);
}
