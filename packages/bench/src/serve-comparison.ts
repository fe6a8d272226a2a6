/** The line of `pnpm bench:serve` that sets our server's saturation beside the reference's, as a ratio. */

/** One side's saturation step: answered predictions/s (autocannon) and p50/p99 (closed-loop clients). */
export interface SaturationPoint {
  connections: number;
  rps: number;
  p50: number;
  p99: number;
}

export interface ServeComparison {
  ours: SaturationPoint;
  reference: SaturationPoint;
  /** ours / reference requests per second: above 1 is faster than the reference. */
  ratio: number;
}

export function compareSaturation(ours: SaturationPoint, reference: SaturationPoint): ServeComparison {
  return { ours, reference, ratio: reference.rps > 0 ? ours.rps / reference.rps : Number.POSITIVE_INFINITY };
}

const rate = (rps: number) => (rps >= 100 ? rps.toFixed(0) : rps.toFixed(1));
const side = (point: SaturationPoint) =>
  `${rate(point.rps)} req/s at ${point.connections} conn. (p50 ${point.p50} / p99 ${point.p99} ms)`;
const ratioText = (ratio: number) =>
  Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '– (the reference answered nothing)';

/** For the terminal: one line with both sides and the ratio. */
export function comparisonLine(comparison: ServeComparison, referenceName: string): string {
  return `ours ${side(comparison.ours)} vs ${referenceName} ${side(comparison.reference)}: ours/reference ${ratioText(comparison.ratio)}`;
}

/** For docs/benchmarks.md: a table row per side and the ratio. */
export function comparisonMarkdown(comparison: ServeComparison, referenceName: string): string {
  const row = (name: string, point: SaturationPoint) =>
    `| ${name} | ${rate(point.rps)} req/s at ${point.connections} conn. | ${point.p50} / ${point.p99} ms |`;
  return [
    '| server | saturation | p50 / p99 at saturation |',
    '| --- | --- | --- |',
    row('ours (`pnpm serve`)', comparison.ours),
    row(referenceName, comparison.reference),
    '',
    `ours / reference: **${ratioText(comparison.ratio)}** requests per second.`,
  ].join('\n');
}
