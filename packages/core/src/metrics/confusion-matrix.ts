/** Rows are true classes, columns predicted classes (scikit-learn's `confusion_matrix` layout). */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  numClasses: number,
): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    matrix[checkLabel(yTrue[i], numClasses, 'yTrue', i)][checkLabel(yPred[i], numClasses, 'yPred', i)]++;
  }
  return matrix;
}

export interface ConfusedPair {
  trueClass: number;
  predictedClass: number;
  count: number;
  /** count / support of the true class: how often that class is mistaken for this one. */
  fractionOfTrue: number;
}

/**
 * The `n` largest off-diagonal cells (count > 0), largest first; ties by true class, then predicted
 * class, so reports are stable.
 */
export function mostConfusedPairs(confusion: number[][], n: number): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  for (const [trueClass, row] of confusion.entries()) {
    const support = row.reduce((sum, count) => sum + count, 0);
    for (const [predictedClass, count] of row.entries()) {
      if (predictedClass !== trueClass && count > 0) {
        pairs.push({ trueClass, predictedClass, count, fractionOfTrue: count / support });
      }
    }
  }
  pairs.sort((a, b) => b.count - a.count || a.trueClass - b.trueClass || a.predictedClass - b.predictedClass);
  return pairs.slice(0, Math.max(0, n));
}

export function checkLabel(label: number, numClasses: number, name: string, index: number): number {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new RangeError(`${name}[${index}] = ${label} is not a class index in 0..${numClasses - 1}`);
  }
  return label;
}
