import path from 'node:path';

/**
 * The folder `pnpm evaluate --out REPORT` writes, and the names every reader uses for it
 * (docs/architecture.md, "Evaluation report folder"). Only `metrics.json` is read back by programs
 * (`pnpm runs`, the server's model card through `--report`); the rest is for people and spreadsheets.
 */
export const REPORT_FILES = {
  /** `EvaluationMetrics` (evaluation-metrics.ts), written and read by report-metrics-file.ts. */
  metrics: 'metrics.json',
  /** image, label, predicted class and every probability, one row per image. */
  predictionsCsv: 'predictions.csv',
  perClassCsv: 'per-class.csv',
  confusionCsv: 'confusion.csv',
  /** The confusion matrix as a chart; the model card serves it. */
  confusion: 'confusion.svg',
  /** The run's training curves; absent when the checkpoint is not inside a run folder. */
  curves: 'curves.svg',
  /** `--save-probabilities`: every probability at full float32 precision. */
  probabilities: 'probabilities.json',
  html: 'report.html',
  markdown: 'report.md',
} as const;

/** Every path of the report folder `reportDir`. */
export function reportPaths(reportDir: string): Record<keyof typeof REPORT_FILES, string> {
  const entries = Object.entries(REPORT_FILES).map(([key, name]) => [key, path.join(reportDir, name)]);
  return Object.fromEntries(entries) as Record<keyof typeof REPORT_FILES, string>;
}
