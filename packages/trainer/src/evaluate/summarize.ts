/**
 * Headline metrics of a set of predictions, and the majority-class baseline, with the core metric
 * functions (scikit-learn definitions), so metrics.json can be recomputed from predictions.csv.
 */
import { classificationMetrics } from '@food/core/metrics/classification-metrics';
import { confusionMatrix } from '@food/core/metrics/confusion-matrix';
import { topK, topKAccuracy } from '@food/core/metrics/top-k';
import type { MajorityBaseline, MetricsSummary, PerClassSummary } from '@food/core/report/evaluation-metrics';
import type { ImagePrediction } from './predict-split.ts';

export const TOP_K = 5;

export interface Summary {
  metrics: MetricsSummary;
  /** Rows true class, columns predicted class. */
  confusion: number[][];
  /** Predicted (top-1) class index per image. */
  predicted: number[];
}

/** The top-1 class: `topK`'s order (ties go to the lower index), the same order the top-5 lists use. */
export function predictedClass(probabilities: ArrayLike<number>): number {
  return topK(probabilities, 1)[0].index;
}

export function summarizePredictions(
  predictions: readonly ImagePrediction[],
  classes: readonly string[],
): Summary {
  const labels = predictions.map((prediction) => prediction.label);
  const predicted = predictions.map((prediction) => predictedClass(prediction.probabilities));
  const confusion = confusionMatrix(labels, predicted, classes.length);
  const top5Accuracy = topKAccuracy(
    predictions.map((prediction) => prediction.probabilities),
    labels,
    TOP_K,
  );
  return { metrics: metricsFromConfusion(confusion, classes, top5Accuracy), confusion, predicted };
}

export function metricsFromConfusion(
  confusion: number[][],
  classes: readonly string[],
  top5Accuracy: number,
): MetricsSummary {
  const metrics = classificationMetrics(confusion);
  const perClass: Record<string, PerClassSummary> = {};
  for (const [index, name] of classes.entries()) {
    const { precision, recall, f1, support } = metrics.perClass[index];
    perClass[name] = { precision, recall, f1, support };
  }
  return {
    numImages: confusion.reduce((sum, row) => sum + row.reduce((rowSum, count) => rowSum + count, 0), 0),
    accuracy: metrics.accuracy,
    top5Accuracy,
    precision: metrics.precision,
    recall: metrics.recall,
    f1: metrics.f1,
    perClass,
  };
}

/**
 * What a model that ignores the image scores: always answer the training split's most frequent class
 * (and its 5 most frequent classes for top-5), scored on the evaluated images.
 */
export function majorityBaseline(
  trainLabels: readonly number[],
  evaluatedLabels: readonly number[],
  classes: readonly string[],
): MajorityBaseline {
  const counts = new Array<number>(classes.length).fill(0);
  for (const label of trainLabels) counts[label]++;
  const ranked = topK(counts, Math.min(TOP_K, classes.length)).map((entry) => entry.index);
  const confusion = confusionMatrix(
    evaluatedLabels,
    evaluatedLabels.map(() => ranked[0]),
    classes.length,
  );
  const top5Hits = evaluatedLabels.filter((label) => ranked.includes(label)).length;
  const top5Accuracy = evaluatedLabels.length === 0 ? 0 : top5Hits / evaluatedLabels.length;
  return {
    majorityClass: classes[ranked[0]],
    top5Classes: ranked.map((index) => classes[index]),
    metrics: metricsFromConfusion(confusion, classes, top5Accuracy),
  };
}
