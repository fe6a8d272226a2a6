/**
 * Precision, recall and F1 with scikit-learn's definitions (`precision_recall_fscore_support`,
 * `zero_division=0`, `labels` = classes present in y_true or y_pred), so our reports can be checked
 * against a reference implementation (test/metrics cross-checks with sklearn to 1e-12).
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of the class. */
  support: number;
  /** Number of samples predicted as the class. */
  predicted: number;
}

export interface Averages {
  /** Unweighted mean over the classes present (support > 0 or predicted > 0). */
  macro: number;
  /** Mean weighted by support. */
  weighted: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  precision: Averages;
  recall: Averages;
  f1: Averages;
  /** One entry per class index, absent classes included (all zeros). */
  perClass: ClassMetrics[];
}

/** From a confusion matrix (rows true, columns predicted). Every 0/0 counts as 0. */
export function classificationMetrics(confusion: number[][]): ClassificationMetrics {
  const numClasses = confusion.length;
  if (numClasses === 0 || confusion.some((row) => row.length !== numClasses)) {
    throw new RangeError('confusion must be a non-empty square matrix');
  }
  const divide = (numerator: number, denominator: number) =>
    denominator === 0 ? 0 : numerator / denominator;

  let total = 0;
  let correct = 0;
  const perClass: ClassMetrics[] = confusion.map((row, c) => {
    const truePositives = row[c];
    const support = row.reduce((sum, count) => sum + count, 0);
    const predicted = confusion.reduce((sum, otherRow) => sum + otherRow[c], 0);
    total += support;
    correct += truePositives;
    const precision = divide(truePositives, predicted);
    const recall = divide(truePositives, support);
    // sklearn 1.2's form; newer versions use 2tp / (2tp + fp + fn), equal up to rounding (1e-16).
    const f1 = divide(2 * precision * recall, precision + recall);
    return { precision, recall, f1, support, predicted };
  });

  // sklearn leaves a class out of the averages only when it is absent from both y_true and y_pred.
  const present = perClass.filter((metrics) => metrics.support > 0 || metrics.predicted > 0);
  const average = (key: 'precision' | 'recall' | 'f1'): Averages => ({
    macro: divide(
      present.reduce((sum, metrics) => sum + metrics[key], 0),
      present.length,
    ),
    weighted: divide(
      present.reduce((sum, metrics) => sum + metrics[key] * metrics.support, 0),
      total,
    ),
  });
  return {
    accuracy: divide(correct, total),
    precision: average('precision'),
    recall: average('recall'),
    f1: average('f1'),
    perClass,
  };
}
