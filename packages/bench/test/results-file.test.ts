import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report.ts';
import { parseResults, serializeResults } from '../src/results-file.ts';
import { results } from './fixture.ts';

describe('results file', () => {
  it('round-trips, so --render writes the same report as the run did', () => {
    const original = results();
    const restored = parseResults(serializeResults(original));
    expect(restored).toEqual(original);
    expect(renderReport(restored)).toBe(renderReport(original));
  });

  it('rejects JSON that is not a results file', () => {
    expect(() => parseResults('{"hello": 1}')).toThrow(/not a results file/);
  });
});
