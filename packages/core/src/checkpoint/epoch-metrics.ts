import { EVALUATION_REPORT_FORMAT } from '../report/evaluation-metrics.ts';

/** One row of the run's history (history.json / history.csv): what a person watching a run wants per epoch. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valTop1: number;
  valTop5: number;
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
}

export const EPOCH_RECORD_FIELDS: ReadonlyArray<keyof EpochRecord> = [
  'epoch',
  'trainLoss',
  'trainAccuracy',
  'valLoss',
  'valTop1',
  'valTop5',
  'learningRate',
  'seconds',
  'imagesPerSecond',
];

/** metrics.json of a completed epoch (epoch-NNN, and `best`/`latest` copied from one): its history row and the run's best so far. */
export interface EpochMetrics extends EpochRecord {
  bestValTop1: number;
  bestEpoch: number;
}

/** metrics.json of `latest` saved inside an epoch (Ctrl-C, SIGTERM, --max-steps): nothing validated yet. */
export interface PartialEpochMetrics {
  /** Epochs fully completed. */
  epoch: number;
  stepInEpoch: number;
}

export type CheckpointMetrics = EpochMetrics | PartialEpochMetrics;

export function isEpochMetrics(metrics: CheckpointMetrics): metrics is EpochMetrics {
  return 'valTop1' in metrics;
}

/** The history row inside an epoch's metrics. */
export function epochRecordOf(metrics: EpochMetrics): EpochRecord {
  const { bestValTop1: _best, bestEpoch: _bestEpoch, ...record } = metrics;
  return record;
}

/** Reads a parsed metrics.json; throws an Error saying which field is wrong. */
export function parseCheckpointMetrics(value: unknown): CheckpointMetrics {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not a JSON object');
  }
  const metrics = value as Record<string, unknown>;
  if (metrics.format === EVALUATION_REPORT_FORMAT || ('evaluatedAt' in metrics && !('epoch' in metrics))) {
    throw new Error("is an evaluation report's metrics.json (written by pnpm evaluate), not a checkpoint's");
  }
  const numbers = (fields: readonly string[]) => {
    const bad = fields.filter((field) => typeof metrics[field] !== 'number');
    if (bad.length > 0) throw new Error(`${bad.join(', ')} must be numbers`);
  };
  if (!Number.isInteger(metrics.epoch)) throw new Error('epoch must be an integer');
  if ('valTop1' in metrics) {
    numbers([...EPOCH_RECORD_FIELDS, 'bestValTop1', 'bestEpoch']);
    return metrics as unknown as EpochMetrics;
  }
  if (!Number.isInteger(metrics.stepInEpoch)) {
    throw new Error("neither an epoch's metrics (valTop1, ...) nor a mid-epoch save (stepInEpoch)");
  }
  return { epoch: metrics.epoch as number, stepInEpoch: metrics.stepInEpoch as number };
}
