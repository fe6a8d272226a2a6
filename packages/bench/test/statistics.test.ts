import { describe, expect, it } from 'vitest';
import { median, summarize, timeRuns } from '../src/statistics.ts';

describe('median', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('rejects an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports median, min, max and the number of runs', () => {
    expect(summarize([10, 30, 20])).toEqual({ median: 20, min: 10, max: 30, runs: 3 });
  });

  it('rejects non-finite timings instead of reporting NaN', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(/non-finite/);
  });
});

describe('timeRuns', () => {
  it('runs the warm-up untimed, then returns one sample per timed run', async () => {
    let calls = 0;
    const seen: number[] = [];
    const samples = await timeRuns(
      () => {
        calls++;
      },
      { runs: 3, warmUp: 2, onRun: (index) => seen.push(index) },
    );
    expect(calls).toBe(5);
    expect(samples).toHaveLength(3);
    expect(samples.every((ms) => ms >= 0)).toBe(true);
    expect(seen).toEqual([0, 1, 2]);
  });
});
