/**
 * `pnpm bench:serve`'s fixed levels: requests/s and p50/p99 at 1, 4 and 8 connections, for our server
 * and the reference in one run, with our per-stage times (Server-Timing), as a table for
 * docs/benchmarks.md.
 */
import { type ClosedLoopLatency, closedLoopLatency } from './closed-loop.ts';

export const LEVELS = [1, 4, 8] as const;

/** Answers each level waits for past its seconds: percentiles of 2 answers say nothing. */
const MIN_ANSWERS = 20;

export interface LevelsRun {
  name: string;
  levels: ClosedLoopLatency[];
}

/**
 * Closed-loop clients at each level for `seconds` (and until 20 answers), after `seconds` of warm-up at
 * the highest level.
 */
export async function measureLevels(
  name: string,
  url: string,
  request: { payload: Buffer; headers: Record<string, string> },
  seconds: number,
): Promise<LevelsRun> {
  await closedLoopLatency(`${url}/api/predict`, request, LEVELS[LEVELS.length - 1], seconds);
  const levels: ClosedLoopLatency[] = [];
  for (const connections of LEVELS) {
    const level = await closedLoopLatency(`${url}/api/predict`, request, connections, seconds, MIN_ANSWERS);
    levels.push(level);
    console.log(`${name} ${levelLine(level)}`);
  }
  return { name, levels };
}

const rate = (rps: number) => (rps >= 100 ? rps.toFixed(0) : rps.toFixed(1));
const ms = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(1));

/** Our stages, mean ms per request: decode + resize, queue, batch run (mean batch size). */
export function stagesText(stages: Record<string, number>): string {
  if (stages.run === undefined) return '–';
  const batch = stages.batch === undefined ? '' : ` (batch ${stages.batch.toFixed(1)})`;
  return `${ms(stages.preprocess)} / ${ms(stages.queue)} / ${ms(stages.run)}${batch}`;
}

export function levelLine(level: ClosedLoopLatency): string {
  const stages = level.stages.run === undefined ? '' : `, stages ${stagesText(level.stages)} ms`;
  return `${String(level.connections).padStart(2)} connections: ${rate(level.rps).padStart(6)} req/s, p50 ${level.p50} ms, p99 ${level.p99} ms${stages}`;
}

/** One row per level: both servers side by side and ours / reference in requests per second. */
export function levelsMarkdown(ours: LevelsRun, reference: LevelsRun | undefined): string {
  const rows = ours.levels.map((level, index) => {
    const other = reference?.levels[index];
    const ratio = other && other.rps > 0 ? `**${(level.rps / other.rps).toFixed(2)}×**` : '–';
    const side = (point: ClosedLoopLatency | undefined) =>
      point ? `${rate(point.rps)} | ${point.p50} / ${point.p99}` : '– | –';
    return `| ${level.connections} | ${side(level)} | ${stagesText(level.stages)} | ${side(other)} | ${ratio} |`;
  });
  return [
    `| connections | ${ours.name}: req/s | p50 / p99 ms | stages: preprocess / queue / run ms | ${reference?.name ?? 'reference'}: req/s | p50 / p99 ms | ours / reference |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
