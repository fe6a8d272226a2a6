/** The text table of `pnpm runs`: one line per run, and the settings that differ between them. */
import { percent } from '../evaluate/format.ts';
import { differingSettings, type RunSummary } from './read-runs.ts';

/** `1 h 02 min`, `3 min 05 s`, `42 s`. */
export function duration(seconds: number): string {
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${String(total % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A setting's value in one table cell: arrays as `3,4,6,3`, objects shortened (the JSON has them). */
export function settingValue(value: unknown): string {
  if (value === undefined) return '–';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object' && value !== null) return '{…}';
  return String(value);
}

export function epochsCell(run: RunSummary): string {
  const partial = run.stepsIntoNextEpoch > 0 ? ` (+${run.stepsIntoNextEpoch} steps)` : '';
  return `${run.epochsDone}/${run.epochsPlanned}${partial}`;
}

export function formatRunsTable(runs: readonly RunSummary[]): string {
  const differing = differingSettings(runs);
  const header = ['run', 'epochs', 'best val top-1', 'test top-1', 'time', 'differing settings'];
  const rows = runs.map((run) => [
    run.name,
    epochsCell(run),
    run.bestValTop1 === null ? '–' : `${percent(run.bestValTop1)} (epoch ${run.bestEpoch})`,
    run.test ? percent(run.test.top1) : '–',
    duration(run.trainingSeconds),
    differing.map((key) => `${key}=${settingValue(run.config[key])}`).join(' ') || '–',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
