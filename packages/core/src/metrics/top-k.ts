import { checkLabel } from './confusion-matrix.ts';

export interface RankedClass {
  index: number;
  probability: number;
}

/**
 * The `k` most probable classes, most probable first. Ties are broken by the lower class index (a
 * stable order: probability descending, then index ascending), and NaN ranks last, so the same
 * probabilities always give the same list.
 */
export function topK(probabilities: ArrayLike<number>, k: number): RankedClass[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const ranked = Array.from(probabilities, (probability, index) => ({ index, probability }));
  ranked.sort((a, b) => {
    const aNaN = Number.isNaN(a.probability);
    const bNaN = Number.isNaN(b.probability);
    if (aNaN || bNaN) return aNaN === bNaN ? a.index - b.index : aNaN ? 1 : -1;
    return b.probability - a.probability || a.index - b.index;
  });
  return ranked.slice(0, k);
}

/**
 * Fraction of samples whose true class is among `topK(probabilities, k)`.
 *
 * Ties follow `topK` (the lower index wins), so this agrees with the top-k lists users see.
 * scikit-learn's `top_k_accuracy_score` breaks ties the other way (its reversed stable argsort
 * lets the higher index win), and Keras' `in_top_k` counts every tied class as inside the top k;
 * the three agree whenever no tie straddles the k-th place, which is the case for real softmax
 * outputs.
 */
export function topKAccuracy(
  probabilities: ArrayLike<ArrayLike<number>>,
  yTrue: ArrayLike<number>,
  k: number,
): number {
  if (probabilities.length !== yTrue.length) {
    throw new RangeError(`${probabilities.length} probability rows but ${yTrue.length} labels`);
  }
  if (yTrue.length === 0) return 0;
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const label = checkLabel(yTrue[i], probabilities[i].length, 'yTrue', i);
    if (topK(probabilities[i], k).some((ranked) => ranked.index === label)) hits++;
  }
  return hits / yTrue.length;
}
