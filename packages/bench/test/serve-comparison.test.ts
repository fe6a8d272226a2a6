import { describe, expect, it } from 'vitest';
import { compareSaturation, comparisonLine, comparisonMarkdown } from '../src/serve-comparison.ts';

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
