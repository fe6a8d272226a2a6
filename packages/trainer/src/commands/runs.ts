import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { UserError } from '@food/core/errors';
import type { Command } from 'commander';
import { comparisonCurvesSvg, timeToAccuracySvg } from '../runs/compare-charts.ts';
import { renderComparePage } from '../runs/compare-html.ts';
import { differingSettings, readRun, readRuns, readTestReports } from '../runs/read-runs.ts';
import { formatRunsTable } from '../runs/runs-table.ts';
import { formatSeedTable, groupBySeed } from '../runs/seed-table.ts';

interface RunsFlags {
  dir: string;
  reports: string;
  json: boolean;
}

/** `compare`'s own --out, and --dir/--reports from `runs` (given before or after `compare`). */
interface CompareFlags extends RunsFlags {
  out?: string;
}

export function register(program: Command): void {
  const runs = program
    .command('runs')
    .description(
      'List the training runs in a folder: epochs, best validation and test top-1, time, and the settings that differ.',
    )
    .option('--dir <dir>', 'folder holding the runs (each a `pnpm train --out` folder)', 'checkpoints')
    .option('--reports <dir>', 'folder holding `pnpm evaluate` reports, searched for test results', 'reports')
    .option(
      '--json',
      'print JSON (every setting of every run) instead of the table (through pnpm: `pnpm -s runs --json`)',
      false,
    )
    .addHelpText(
      'after',
      `
A run is a folder with a latest/ checkpoint. Test top-1 comes from the newest \`pnpm evaluate --split test\`
report (under --reports) about a checkpoint of that run. Run it from the folder \`pnpm evaluate\` ran in
(the repository root): reports name their checkpoint by the path they were given.
Runs that differ only in --seed (and where their files go) are one recipe: when a recipe has several, a
second table gives the mean ± standard deviation over them of test top-1, top-5 and macro F1 and of best
validation top-1, each run's time, and the reads of test on the runs' records (one per run is the
protocol: docs/results.md, "Selection protocol").

Examples:
  $ pnpm runs
  $ pnpm -s runs --dir checkpoints --json    # -s: no pnpm header on stdout, for jq
  $ pnpm runs compare seed50 seed50-lr3e-5 --out reports/seed50-vs-lr.html
  $ pnpm runs compare checkpoints/a checkpoints/b     # writes reports/compare-a-vs-b.html`,
    )
    .action(async (flags: RunsFlags) => {
      const found = await readRuns(flags.dir, flags.reports);
      if (flags.json) {
        const differing = differingSettings(found);
        const rows = found.map(({ history: _history, ...run }) => ({
          ...run,
          differences: Object.fromEntries(differing.map((key) => [key, run.config[key]])),
        }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(found.length === 0 ? `no runs in ${flags.dir}\n` : formatRunsTable(found));
      const recipes = groupBySeed(found);
      if (recipes.some((recipe) => recipe.runs.length > 1)) {
        process.stdout.write(
          `\nseeds of each recipe (mean ± sd over the runs):\n${formatSeedTable(recipes)}`,
        );
      }
    });

  runs
    .command('compare')
    .description('Write one HTML page comparing runs: curves overlaid, settings side by side, test metrics.')
    .argument('<runs...>', 'run folders, or run names inside `runs --dir`')
    .option('--out <file>', 'the HTML page to write (default: REPORTS/compare-RUN1-vs-RUN2.html)')
    .action(async (names: string[], _options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<CompareFlags>();
      const reports = await readTestReports(flags.reports);
      const compared = [];
      for (const name of names) compared.push(await readRun(locateRun(name, flags.dir), reports));
      const page = renderComparePage(compared, {
        curves: await comparisonCurvesSvg(compared),
        timeToAccuracy: await timeToAccuracySvg(compared),
      });
      const out = flags.out ?? defaultComparePage(flags.reports, compared);
      await mkdir(path.dirname(path.resolve(out)), { recursive: true });
      await writeFile(out, page);
      process.stdout.write(`wrote ${out}: ${compared.map((run) => run.name).join(', ')}\n`);
    });
}

/** Where `runs compare` writes without --out: beside the evaluation reports, named for the runs. */
function defaultComparePage(reportsDir: string, runs: ReadonlyArray<{ name: string }>): string {
  return path.join(reportsDir, `compare-${runs.map((run) => run.name).join('-vs-')}.html`);
}

/** A run given as a folder, or by name inside `dir`. */
function locateRun(name: string, dir: string): string {
  if (existsSync(runPaths(name).latest)) return name;
  const inDir = path.join(dir, name);
  if (existsSync(runPaths(inDir).latest)) return inDir;
  throw new UserError(
    `no run "${name}": neither ${name} nor ${inDir} holds a latest/ checkpoint. \`pnpm runs --dir ${dir}\` lists the runs there.`,
  );
}
