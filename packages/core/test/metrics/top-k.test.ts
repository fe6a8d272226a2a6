import { describe, expect, it } from 'vitest';
import { topK, topKAccuracy } from '../../src/metrics/top-k.ts';

describe('topK', () => {
  it('orders by probability, most probable first', () => {
    expect(topK(new Float32Array([0.1, 0.6, 0.3]), 2)).toEqual([
      { index: 1, probability: expect.closeTo(0.6, 6) },
      { index: 2, probability: expect.closeTo(0.3, 6) },
    ]);
    expect(topK([0.5, 0.5], 5)).toHaveLength(2);
  });

  it('breaks ties by the lower class index and ranks NaN last', () => {
    const tied = [0.05, 0.2, 0.2, 0.05, 0.2, 0.05, 0.2, 0.05];
    expect(topK(tied, 5).map((ranked) => ranked.index)).toEqual([1, 2, 4, 6, 0]);
    expect(topK([Number.NaN, 0.1, Number.NaN, 0.9], 4).map((ranked) => ranked.index)).toEqual([3, 1, 0, 2]);
  });

  it('rejects k < 1', () => {
    expect(() => topK([1], 0)).toThrow(/k must be a positive integer/);
  });
});

describe('topKAccuracy', () => {
  it('counts a hit when the true class is in the top k', () => {
    const probabilities = [
      [0.7, 0.2, 0.1],
      [0.1, 0.3, 0.6],
      [0.3, 0.4, 0.3],
    ];
    expect(topKAccuracy(probabilities, [0, 1, 2], 1)).toBeCloseTo(1 / 3, 15);
    // Sample 3: classes 0 and 2 tie for 2nd place; class 0 (the lower index) takes it.
    expect(topKAccuracy(probabilities, [0, 1, 2], 2)).toBeCloseTo(2 / 3, 15);
    expect(topKAccuracy(probabilities, [0, 1, 2], 3)).toBe(1);
  });

  it('resolves ties at the top-5 boundary deterministically (lower index wins)', () => {
    // Ten equally likely classes: the top 5 are classes 0..4.
    const uniform = [new Float32Array(10).fill(0.1)];
    expect(topKAccuracy(uniform, [4], 5)).toBe(1);
    expect(topKAccuracy(uniform, [5], 5)).toBe(0);
    // Four clear winners, then a three-way tie for 5th place between classes 2, 5 and 7.
    const boundary = [[0.01, 0.2, 0.05, 0.2, 0.2, 0.05, 0.2, 0.05, 0.04, 0.2]];
    expect(topK(boundary[0], 5).map((ranked) => ranked.index)).toEqual([1, 3, 4, 6, 9]);
    expect(topKAccuracy(boundary, [9], 5)).toBe(1);
    expect(topKAccuracy(boundary, [2], 5)).toBe(0);
    const boundaryTie = [[0.3, 0.3, 0.1, 0.1, 0.1, 0.1]];
    expect(topKAccuracy(boundaryTie, [2], 3)).toBe(1);
    expect(topKAccuracy(boundaryTie, [3], 3)).toBe(0);
  });

  it('validates its inputs', () => {
    expect(() => topKAccuracy([[0.5, 0.5]], [2], 1)).toThrow(/yTrue\[0\] = 2/);
    expect(() => topKAccuracy([[0.5, 0.5]], [0, 1], 1)).toThrow(/1 probability rows but 2 labels/);
    expect(topKAccuracy([], [], 5)).toBe(0);
  });
});
