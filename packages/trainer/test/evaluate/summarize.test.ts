import { describe, expect, it } from 'vitest';
import type { ImagePrediction } from '../../src/evaluate/predict-split.ts';
import { majorityBaseline, predictedClass, summarizePredictions } from '../../src/evaluate/summarize.ts';

const classes = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('majorityBaseline', () => {
  it("always answers the training split's most frequent class (ties: first in class order)", () => {
    const train = [1, 1, 2, 2, 0, 3, 4, 5, 5];
    const evaluated = [0, 1, 1, 2, 5, 4];
    const baseline = majorityBaseline(train, evaluated, classes);
    expect(baseline.majorityClass).toBe('b');
    expect(baseline.top5Classes).toEqual(['b', 'c', 'f', 'a', 'd']);
    expect(baseline.metrics.accuracy).toBeCloseTo(2 / 6, 12);
    expect(baseline.metrics.top5Accuracy).toBeCloseTo(5 / 6, 12);
    // sklearn: precision of b = 2/6, recall 1, f1 = 0.5; the other present classes score 0.
    expect(baseline.metrics.perClass.b).toEqual({ precision: 2 / 6, recall: 1, f1: 0.5, support: 2 });
    expect(baseline.metrics.f1.macro).toBeCloseTo(0.5 / 5, 12); // 5 classes present (a, b, c, e, f)
    expect(baseline.metrics.numImages).toBe(6);
  });
});

describe('summarizePredictions', () => {
  it('scores top-1 by the first of topK (ties to the lower index) and top-5 by membership', () => {
    const prediction = (label: number, probabilities: number[]): ImagePrediction => ({
      image: `${label}.jpg`,
      label,
      probabilities: Float32Array.from(probabilities),
    });
    expect(predictedClass([0.3, 0.3, 0.4])).toBe(2);
    expect(predictedClass([0.4, 0.2, 0.4])).toBe(0);
    const { metrics, confusion, predicted } = summarizePredictions(
      [
        prediction(0, [0.9, 0.02, 0.02, 0.02, 0.02, 0.02]),
        prediction(1, [0.5, 0.05, 0.1, 0.1, 0.1, 0.15]), // b is 6th: outside the top 5
        prediction(2, [0.5, 0.06, 0.3, 0.05, 0.05, 0.04]),
      ],
      classes,
    );
    expect(predicted).toEqual([0, 0, 0]);
    expect(confusion[0][0] + confusion[1][0] + confusion[2][0]).toBe(3);
    expect(metrics.accuracy).toBeCloseTo(1 / 3, 12);
    expect(metrics.top5Accuracy).toBeCloseTo(2 / 3, 12);
    expect(Object.keys(metrics.perClass)).toEqual(classes);
  });
});
