/**
 * `pnpm runs`' seed table: runs with the same recipe (every setting but the seed and where files go,
 * recipe.ts) are the seeds of one experiment, shown as mean ± standard deviation of their test top-1,
 * top-5 and macro F1 (the newest `pnpm evaluate --split test` report about each run) and best
 * validation top-1, with each run's wall time. docs/results.md, "Selection protocol": a recipe's published
 * figure is that mean ± sd over 3 seeds.
 */
import { differingSettings, type RunSummary } from './read-runs.ts';
import { recipeKey } from './recipe.ts';
import { duration, settingValue } from './runs-table.ts';

/** Mean and sample standard deviation (n − 1: the spread of one more seed); sd is null for one value. */
export interface Spread {
  mean: number;
  sd: number | null;
  n: number;
}

export interface RecipeSeeds {
  runs: RunSummary[];
  seeds: number[];
  testTop1: Spread | null;
  testTop5: Spread | null;
  testMacroF1: Spread | null;
  bestValTop1: Spread | null;
  /** Each run's wall time, or for a run without one on record its epochs' time (`wall: false`). */
  times: Array<{ seconds: number; wall: boolean }>;
  /** Reads of test on record over the recipe's runs (RUN/test-reads.json); one per run is the protocol. */
  testReads: number;
}

export function spreadOf(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  if (values.length === 1) return { mean, sd: null, n: 1 };
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(squares / (values.length - 1)), n: values.length };
}

/** The runs grouped by recipe, in the order of each recipe's first run. */
export function groupBySeed(runs: readonly RunSummary[]): RecipeSeeds[] {
  const groups = new Map<string, RunSummary[]>();
  for (const run of runs) {
    const key = recipeKey(run.config);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((members) => {
    const tested = members.flatMap((run) => (run.test ? [run.test] : []));
    const validated = members.flatMap((run) => (run.bestValTop1 === null ? [] : [run.bestValTop1]));
    return {
      runs: members,
      seeds: members.map((run) => Number(run.config.seed)),
      testTop1: spreadOf(tested.map((test) => test.top1)),
      testTop5: spreadOf(tested.map((test) => test.top5)),
      testMacroF1: spreadOf(tested.map((test) => test.macroF1)),
      bestValTop1: spreadOf(validated),
      times: members.map((run) =>
        run.wallSeconds === null
          ? { seconds: run.trainingSeconds, wall: false }
          : { seconds: run.wallSeconds, wall: true },
      ),
      testReads: members.reduce((sum, run) => sum + run.testReads, 0),
    };
  });
}

/** `88.64 ± 0.35%`, with `(2 of 3)` when not every run has the figure. */
function percentCell(spread: Spread | null, runs: number): string {
  if (!spread) return '–';
  const sd = spread.sd === null ? '' : ` ± ${(spread.sd * 100).toFixed(2)}`;
  return `${(spread.mean * 100).toFixed(2)}${sd}%${spread.n < runs ? ` (${spread.n} of ${runs})` : ''}`;
}

function scoreCell(spread: Spread | null, runs: number): string {
  if (!spread) return '–';
  const sd = spread.sd === null ? '' : ` ± ${spread.sd.toFixed(3)}`;
  return `${spread.mean.toFixed(3)}${sd}${spread.n < runs ? ` (${spread.n} of ${runs})` : ''}`;
}

/** The seed table, one line per recipe; the recipes' differing settings name them. */
export function formatSeedTable(recipes: readonly RecipeSeeds[]): string {
  const differing = differingSettings(recipes.map((recipe) => recipe.runs[0]!)).filter(
    (key) => key !== 'seed',
  );
  const header = [
    'runs',
    'seeds',
    'test top-1',
    'test top-5',
    'test macro F1',
    'best val top-1',
    'wall time per run',
    'test reads',
    'recipe',
  ];
  const rows = recipes.map((recipe) => {
    const size = recipe.runs.length;
    const recipeCell = differing
      .map((key) => `${key}=${settingValue(recipe.runs[0]!.config[key])}`)
      .join(' ');
    return [
      recipe.runs.map((run) => run.name).join(', '),
      recipe.seeds.join(','),
      percentCell(recipe.testTop1, size),
      percentCell(recipe.testTop5, size),
      scoreCell(recipe.testMacroF1, size),
      percentCell(recipe.bestValTop1, size),
      recipe.times.map(({ seconds, wall }) => `${duration(seconds)}${wall ? '' : ' (epochs)'}`).join(' / '),
      `${recipe.testReads}${recipe.testReads > size ? ' (more than one per run)' : ''}`,
      recipeCell || '–',
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
