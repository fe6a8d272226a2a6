/** What the HTML and Markdown reports are rendered from (metrics.json's type is core's EvaluationMetrics). */
import type { ConfusedPair } from '@food/core/metrics/confusion-matrix';
import type { EvaluationMetrics } from '@food/core/report/evaluation-metrics';

export interface PairExample {
  image: string;
  /** Probability the model gave the (wrong) predicted class. */
  confidence: number;
  /** JPEG data URI; absent if the image could not be read again. */
  thumbnail?: string;
}

export interface ConfusedPairReport extends ConfusedPair {
  trueName: string;
  predictedName: string;
  examples: PairExample[];
}

export interface ReportInput {
  runName: string;
  metrics: EvaluationMetrics;
  confusedPairs: ConfusedPairReport[];
  confusionSvg: string;
  /** Null when the run has no history.json; `curvesNote` says why. */
  curvesSvg: string | null;
  curvesNote: string;
}
