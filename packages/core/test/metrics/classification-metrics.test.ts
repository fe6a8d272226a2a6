import { describe, expect, it } from 'vitest';
import { classificationMetrics } from '../../src/metrics/classification-metrics.ts';
import { confusionMatrix, mostConfusedPairs } from '../../src/metrics/confusion-matrix.ts';

describe('confusionMatrix', () => {
  it('puts true classes in rows and predictions in columns', () => {
    expect(confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(confusionMatrix(new Int32Array([1]), new Int32Array([0]), 2)).toEqual([
      [0, 0],
      [1, 0],
    ]);
  });

  it('rejects labels outside 0..numClasses-1 and length mismatches', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/yTrue\[1\] = 3 is not a class index in 0\.\.2/);
    expect(() => confusionMatrix([0], [0.5], 3)).toThrow(/yPred\[0\]/);
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrow(/2 labels but yPred has 1/);
  });
});

describe('classificationMetrics', () => {
  it('matches hand-computed values', () => {
    const metrics = classificationMetrics(confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3));
    expect(metrics.accuracy).toBeCloseTo(4 / 6, 15);
    expect(metrics.perClass).toEqual([
      { precision: 0.5, recall: 0.5, f1: 0.5, support: 2, predicted: 2 },
      { precision: 2 / 3, recall: 1, f1: expect.closeTo(0.8, 15), support: 2, predicted: 3 },
      { precision: 1, recall: 0.5, f1: expect.closeTo(2 / 3, 15), support: 2, predicted: 1 },
    ]);
    expect(metrics.precision.macro).toBeCloseTo((0.5 + 2 / 3 + 1) / 3, 15);
    expect(metrics.recall.macro).toBeCloseTo(2 / 3, 15);
    expect(metrics.f1.macro).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 15);
    // Equal supports: weighted equals macro.
    expect(metrics.f1.weighted).toBeCloseTo(metrics.f1.macro, 15);
  });

  it('weights by support', () => {
    // Class 0: 3 samples, all right; class 1: 1 sample, predicted as 0.
    const metrics = classificationMetrics(confusionMatrix([0, 0, 0, 1], [0, 0, 0, 0], 2));
    expect(metrics.recall.weighted).toBeCloseTo((3 * 1 + 1 * 0) / 4, 15);
    expect(metrics.precision.weighted).toBeCloseTo((3 * 0.75) / 4, 15);
    expect(metrics.precision.macro).toBeCloseTo(0.75 / 2, 15);
  });

  it('gives precision 0 to a class that is never predicted, and keeps it in the averages', () => {
    const metrics = classificationMetrics(confusionMatrix([0, 1, 2, 2], [0, 1, 1, 1], 3));
    expect(metrics.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 2, predicted: 0 });
    expect(metrics.precision.macro).toBeCloseTo((1 + 1 / 3 + 0) / 3, 15);
    expect(metrics.recall.macro).toBeCloseTo((1 + 1 + 0) / 3, 15);
  });

  it('gives recall 0 to a predicted class with no support; keeps it in macro, not in weighted', () => {
    const metrics = classificationMetrics(confusionMatrix([0, 0, 1], [0, 2, 1], 3));
    expect(metrics.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0, predicted: 1 });
    expect(metrics.recall.macro).toBeCloseTo((0.5 + 1 + 0) / 3, 15);
    expect(metrics.recall.weighted).toBeCloseTo((2 * 0.5 + 1) / 3, 15);
  });

  it('leaves classes absent from both labels and predictions out of the macro averages', () => {
    const metrics = classificationMetrics(confusionMatrix([0, 1], [0, 1], 50));
    expect(metrics.precision.macro).toBe(1);
    expect(metrics.recall.macro).toBe(1);
    expect(metrics.f1.macro).toBe(1);
    expect(metrics.perClass).toHaveLength(50);
    expect(metrics.perClass[49]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0, predicted: 0 });
  });

  it('handles a split with a single class', () => {
    const right = classificationMetrics(confusionMatrix([3, 3, 3], [3, 3, 3], 5));
    expect([right.accuracy, right.precision.macro, right.recall.macro, right.f1.weighted]).toEqual([
      1, 1, 1, 1,
    ]);
    const wrong = classificationMetrics(confusionMatrix([3, 3, 3], [1, 1, 1], 5));
    expect([wrong.accuracy, wrong.precision.macro, wrong.recall.macro, wrong.f1.macro]).toEqual([0, 0, 0, 0]);
  });

  it('returns zeros, not NaN, for an empty evaluation', () => {
    const metrics = classificationMetrics(confusionMatrix([], [], 3));
    expect([metrics.accuracy, metrics.precision.macro, metrics.f1.weighted]).toEqual([0, 0, 0]);
  });

  it('rejects a non-square matrix', () => {
    expect(() => classificationMetrics([[1, 2]])).toThrow(/square/);
  });
});

describe('mostConfusedPairs', () => {
  it('lists off-diagonal cells, largest first, ties by true then predicted class', () => {
    const confusion = [
      [5, 2, 0],
      [3, 1, 2],
      [2, 0, 9],
    ];
    expect(mostConfusedPairs(confusion, 3)).toEqual([
      { trueClass: 1, predictedClass: 0, count: 3, fractionOfTrue: 0.5 },
      { trueClass: 0, predictedClass: 1, count: 2, fractionOfTrue: 2 / 7 },
      { trueClass: 1, predictedClass: 2, count: 2, fractionOfTrue: 1 / 3 },
    ]);
    expect(mostConfusedPairs(confusion, 100)).toHaveLength(4);
    expect(mostConfusedPairs([[4]], 5)).toEqual([]);
  });
});
