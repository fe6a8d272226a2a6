import type { EvaluationMetrics, MetricsSummary } from '@food/core/report/evaluation-metrics';
import { writeEvaluationMetrics } from '@food/core/report/report-metrics-file';

/** A two-class summary with the given headline numbers (the per-class rows are not what the card shows). */
function summary(accuracy: number, top5Accuracy: number, macroF1: number): MetricsSummary {
  const row = { precision: accuracy, recall: accuracy, f1: macroF1, support: 4 };
  return {
    numImages: 8,
    accuracy,
    top5Accuracy,
    precision: { macro: accuracy, weighted: accuracy },
    recall: { macro: accuracy, weighted: accuracy },
    f1: { macro: macroF1, weighted: macroF1 },
    perClass: { apple_pie: row, ramen: row },
  };
}

/** metrics.json of an evaluation report, written by core's report writer (`pnpm evaluate` writes it too). */
export async function writeEvaluationReport(
  reportDir: string,
  fields: Pick<EvaluationMetrics, 'split' | 'accuracy' | 'top5Accuracy'> &
    Partial<Pick<EvaluationMetrics, 'checkpoint' | 'evaluatedAt'>> & { macroF1: number },
): Promise<void> {
  const latencyStats = { p50Ms: 12, p95Ms: 15, meanMs: 13 };
  const metrics: EvaluationMetrics = {
    ...summary(fields.accuracy, fields.top5Accuracy, fields.macroF1),
    checkpoint: fields.checkpoint ?? 'checkpoints/tiny-run/best',
    prepared: 'data/prepared/tiny',
    split: fields.split,
    limit: null,
    backend: 'cpu',
    tta: 'none',
    parameters: 1000,
    sizeBytes: 4000,
    latency: {
      batchSize: 1,
      samples: 3,
      warmupRuns: 3,
      endToEnd: latencyStats,
      model: latencyStats,
      note: '',
    },
    throughput: { batchSize: 8, seconds: 1, imagesPerSecond: 8 },
    baselines: {
      majorityClass: {
        majorityClass: 'apple_pie',
        top5Classes: ['apple_pie', 'ramen'],
        metrics: summary(0.5, 1, 0.33),
      },
      compare: null,
    },
    definitions: 'scikit-learn definitions',
    evaluatedAt: fields.evaluatedAt ?? '2026-12-01T00:00:00.000Z',
  };
  await writeEvaluationMetrics(reportDir, metrics);
}
