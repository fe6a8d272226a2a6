/**
 * The evaluation report's metrics.json (`pnpm evaluate`): its type and its validation. Not to be confused
 * with a checkpoint's metrics.json (`core/checkpoint/epoch-metrics.ts`): this one carries
 * `format: "food-evaluation-report/1"`, and each parser names the other file when given it.
 */
import type { Averages } from '../metrics/classification-metrics.ts';

/** The `format` field written since the field exists; reports written before it have the same shape. */
export const EVALUATION_REPORT_FORMAT = 'food-evaluation-report/1';

export const REPORT_SPLITS = ['train', 'val', 'test'] as const;
export type ReportSplit = (typeof REPORT_SPLITS)[number];

/** `--tta`: `flip` scores each image as the mean softmax of its centre crop and its mirror. */
export const TTA_MODES = ['none', 'flip'] as const;
export type TtaMode = (typeof TTA_MODES)[number];

export interface PerClassSummary {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface MetricsSummary {
  numImages: number;
  /** Top-1. */
  accuracy: number;
  /** Top-5 (every class counts when there are fewer than 5). */
  top5Accuracy: number;
  precision: Averages;
  recall: Averages;
  f1: Averages;
  /** By class name, in class order. */
  perClass: Record<string, PerClassSummary>;
}

export interface MajorityBaseline {
  /** The training split's most frequent class (ties: the first in class order), predicted for every image. */
  majorityClass: string;
  /** The 5 most frequent training classes, the baseline's top-5 list for every image. */
  top5Classes: string[];
  metrics: MetricsSummary;
}

/** Another checkpoint scored on the same images (`--compare`). */
export interface ComparedCheckpoint {
  checkpoint: string;
  parameters: number;
  sizeBytes: number;
  metrics: MetricsSummary;
}

export interface LatencyStats {
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
}

/** Single-image latency: what one request to the server costs on this backend, without batching. */
export interface LatencyReport {
  batchSize: 1;
  /** Images timed, and untimed runs before them (the first calls compile kernels / fill caches). */
  samples: number;
  warmupRuns: number;
  /** preprocessImage (decode, resize, crop, normalise) + engine.predict; file reading excluded. */
  endToEnd: LatencyStats;
  /** engine.predict only. */
  model: LatencyStats;
  note: string;
}

/** What an evaluation report's metrics.json holds (the file adds `format`). */
export interface EvaluationMetrics extends MetricsSummary {
  checkpoint: string;
  prepared: string;
  split: ReportSplit;
  /** `--limit`: only N images, spread evenly over the split, were evaluated. */
  limit: number | null;
  backend: string;
  tta: TtaMode;
  /** Number of weights, BatchNorm statistics included. */
  parameters: number;
  /** The checkpoint folder's files on disk. */
  sizeBytes: number;
  latency: LatencyReport;
  /** The batched pass over the split: decoding overlapped with the model, as `--batch-size`. */
  throughput: { batchSize: number; seconds: number; imagesPerSecond: number };
  baselines: { majorityClass: MajorityBaseline; compare: ComparedCheckpoint | null };
  definitions: string;
  evaluatedAt: string;
}

/** The text of metrics.json: the format first, so a reader (or a person) knows the file at a glance. */
export function encodeEvaluationMetrics(metrics: EvaluationMetrics): string {
  return `${JSON.stringify({ format: EVALUATION_REPORT_FORMAT, ...metrics }, null, 2)}\n`;
}

/**
 * Reads a parsed metrics.json of a report; throws an Error saying what is wrong. A report written before
 * `format` and `tta` existed loads as one of this format evaluated without test-time augmentation.
 */
export function parseEvaluationMetrics(value: unknown): EvaluationMetrics {
  if (!isRecord(value)) throw new Error('is not a JSON object');
  const { format, ...fields } = value;
  if (format === undefined && ('valTop1' in value || 'stepInEpoch' in value)) {
    throw new Error("is a checkpoint's metrics.json (written by pnpm train), not an evaluation report's");
  }
  if (format !== undefined && format !== EVALUATION_REPORT_FORMAT) {
    throw new Error(`has format ${JSON.stringify(format)}; this version reads ${EVALUATION_REPORT_FORMAT}`);
  }
  const metrics = { ...fields, tta: fields.tta ?? 'none' };
  const problems = reportProblems(metrics);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return metrics as unknown as EvaluationMetrics;
}

const AVERAGES = ['precision', 'recall', 'f1'].flatMap((name) => [`${name}.macro`, `${name}.weighted`]);
const SUMMARY_NUMBERS = ['numImages', 'accuracy', 'top5Accuracy', ...AVERAGES];
const LATENCY_NUMBERS = ['samples', 'warmupRuns'].concat(
  ...['endToEnd', 'model'].map((part) => ['p50Ms', 'p95Ms', 'meanMs'].map((stat) => `${part}.${stat}`)),
);

function reportProblems(metrics: Record<string, unknown>): string[] {
  const problems = [
    ...wrongFields(
      metrics,
      ['checkpoint', 'prepared', 'backend', 'definitions', 'evaluatedAt'],
      isString,
      'strings',
    ),
    ...wrongFields(metrics, ['parameters', 'sizeBytes'], isNumber, 'numbers'),
    ...wrongFields(
      metrics,
      LATENCY_NUMBERS.map((field) => `latency.${field}`),
      isNumber,
      'numbers',
    ),
    ...wrongFields(
      metrics,
      ['batchSize', 'seconds', 'imagesPerSecond'].map((field) => `throughput.${field}`),
      isNumber,
      'numbers',
    ),
    ...wrongFields(metrics, ['limit'], (value) => value === null || isNumber(value), 'a number or null'),
    ...wrongFields(
      metrics,
      ['split'],
      (value) => (REPORT_SPLITS as readonly unknown[]).includes(value),
      REPORT_SPLITS.join(' or '),
    ),
    ...wrongFields(
      metrics,
      ['tta'],
      (value) => (TTA_MODES as readonly unknown[]).includes(value),
      TTA_MODES.join(' or '),
    ),
    ...summaryProblems(metrics, ''),
    ...wrongFields(metrics, ['baselines.majorityClass.majorityClass'], isString, 'a string'),
    ...summaryProblems(metrics, 'baselines.majorityClass.metrics.'),
  ];
  const compare = fieldAt(metrics, 'baselines.compare');
  if (compare !== null) {
    problems.push(
      ...wrongFields(
        metrics,
        ['baselines.compare.checkpoint'],
        isString,
        'a string or baselines.compare null',
      ),
    );
    problems.push(...summaryProblems(metrics, 'baselines.compare.metrics.'));
  }
  return problems;
}

/** The headline numbers and the per-class table of a MetricsSummary found at `prefix`. */
function summaryProblems(metrics: Record<string, unknown>, prefix: string): string[] {
  const problems = wrongFields(
    metrics,
    SUMMARY_NUMBERS.map((field) => prefix + field),
    isNumber,
    'numbers',
  );
  const perClass = fieldAt(metrics, `${prefix}perClass`);
  const rows = isRecord(perClass) ? Object.values(perClass) : [];
  const goodRow = (row: unknown) =>
    isRecord(row) && ['precision', 'recall', 'f1', 'support'].every((field) => isNumber(row[field]));
  if (!isRecord(perClass) || !rows.every(goodRow)) {
    problems.push(`${prefix}perClass must map each class to its precision, recall, f1 and support`);
  }
  return problems;
}

/** One problem naming every field at `paths` (dotted) that fails `check`, or none. */
function wrongFields(
  metrics: Record<string, unknown>,
  paths: readonly string[],
  check: (value: unknown) => boolean,
  expected: string,
): string[] {
  const wrong = paths.filter((field) => !check(fieldAt(metrics, field)));
  return wrong.length === 0 ? [] : [`${wrong.join(', ')} must be ${expected}`];
}

function fieldAt(value: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown) => typeof value === 'string';
const isNumber = (value: unknown) => typeof value === 'number';
