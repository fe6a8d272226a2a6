import { describe, expect, it } from 'vitest';
import { percentile } from '../../src/evaluate/latency.ts';

describe('percentile', () => {
  it("matches numpy.percentile's default linear interpolation", () => {
    // numpy.percentile([15, 20, 35, 40, 50], [50, 95, 0, 100, 30]) = [35, 48, 15, 50, 23]
    const values = [40, 15, 50, 35, 20];
    expect(percentile(values, 50)).toBe(35);
    expect(percentile(values, 95)).toBeCloseTo(48, 12);
    expect(percentile(values, 0)).toBe(15);
    expect(percentile(values, 100)).toBe(50);
    expect(percentile(values, 30)).toBeCloseTo(23, 12);
    expect(percentile([7], 95)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});
