import { describe, expect, it } from 'vitest';
import { compareSaturation, comparisonLine, comparisonMarkdown } from '../src/serve-comparison.ts';
import { levelsMarkdown } from '../src/serve-levels.ts';

const ours = { connections: 4, rps: 21.2, p50: 180, p99: 260 };
const reference = { connections: 2, rps: 10.3, p50: 190, p99: 410 };

describe('serve comparison', () => {
  it('puts both sides and ours/reference on one line', () => {
    const comparison = compareSaturation(ours, reference);
    expect(comparison.ratio).toBeCloseTo(21.2 / 10.3, 12);
    expect(comparisonLine(comparison, 'Flask + PyTorch')).toBe(
      'ours 21.2 req/s at 4 conn. (p50 180 / p99 260 ms) vs Flask + PyTorch 10.3 req/s at 2 conn. ' +
        '(p50 190 / p99 410 ms): ours/reference 2.06×',
    );
  });

  it('renders a table for docs/benchmarks.md', () => {
    const markdown = comparisonMarkdown(
      compareSaturation({ ...ours, rps: 263 }, reference),
      'Flask + PyTorch 1.13',
    );
    expect(markdown).toContain('| ours (`pnpm serve`) | 263 req/s at 4 conn. | 180 / 260 ms |');
    expect(markdown).toContain('| Flask + PyTorch 1.13 | 10.3 req/s at 2 conn. | 190 / 410 ms |');
    expect(markdown).toContain('ours / reference: **25.53×** requests per second.');
  });

  it('says so when the reference answered nothing, rather than print Infinity', () => {
    const comparison = compareSaturation(ours, { ...reference, rps: 0 });
    expect(comparisonLine(comparison, 'Flask')).toMatch(
      /ours\/reference – \(the reference answered nothing\)$/,
    );
  });
});

describe('serve levels table', () => {
  const level = (connections: number, rps: number, stages: Record<string, number> = {}) => ({
    connections,
    rps,
    answers: rps * 4,
    p50: 10 * connections,
    p99: 30 * connections,
    stages,
  });

  it('puts both servers at 1, 4 and 8 connections side by side with the ratio and our stages', () => {
    const ours = {
      name: 'ours',
      levels: [
        level(1, 50, { preprocess: 2.5, queue: 0.1, run: 15, batch: 1 }),
        level(4, 60, { preprocess: 3, queue: 20, run: 40, batch: 1.5 }),
        level(8, 62),
      ],
    };
    const reference = { name: 'Flask', levels: [level(1, 10), level(4, 11), level(8, 0)] };
    const markdown = levelsMarkdown(ours, reference);
    expect(markdown).toContain(
      '| 1 | 50.0 | 10 / 30 | 2.5 / 0.1 / 15.0 (batch 1.0) | 10.0 | 10 / 30 | **5.00×** |',
    );
    expect(markdown).toContain(
      '| 4 | 60.0 | 40 / 120 | 3.0 / 20.0 / 40.0 (batch 1.5) | 11.0 | 40 / 120 | **5.45×** |',
    );
    // A reference that answered nothing gives no ratio rather than Infinity; no stages, a dash.
    expect(markdown).toContain('| 8 | 62.0 | 80 / 240 | – | 0.0 | 80 / 240 | – |');
  });

  it('leaves the reference columns empty when it did not run', () => {
    const markdown = levelsMarkdown({ name: 'ours', levels: [level(1, 50)] }, undefined);
    expect(markdown).toContain('| 1 | 50.0 | 10 / 30 | – | – | – | – |');
  });
});
