#!/usr/bin/env -S npx tsx
/**
 * `pnpm bench`: measures the CPU paths (ResNet-50 forward and train step on wasm, inference throughput,
 * preprocessing, per-backend, PyTorch reference) and writes docs/benchmarks.md.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@food/core/errors';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { renderReport } from './report.ts';
import { parseResults, serializeResults } from './results-file.ts';
import { type BenchResults, formatDuration, runBench, SECTIONS, type Section } from './run-bench.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function parseRuns(value: string): number {
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    throw new InvalidArgumentError(
      'Give a whole number of runs from 1 to 100 (3 or more for a median worth reporting).',
    );
  }
  return runs;
}

export function parseBatches(value: string): number[] {
  const batches = value.split(',').map((item) => Number(item.trim()));
  if (
    batches.length === 0 ||
    batches.some((batch) => !Number.isInteger(batch) || batch < 1 || batch > 1024)
  ) {
    throw new InvalidArgumentError('Give whole batch sizes from 1 to 1024, separated by commas, e.g. 8,32.');
  }
  return batches;
}

export function parseSections(value: string): Section[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `Unknown section "${unknown.join(', ') || value}". Choose from: ${SECTIONS.join(', ')}.`,
    );
  }
  return names as Section[];
}

export function buildBenchProgram(): Command {
  return new Command('bench')
    .description(
      'Measure training, inference and preprocessing speed on this machine and write docs/benchmarks.md.',
    )
    .option(
      '--quick',
      'tiny model and few images: checks the harness in seconds (numbers are not meaningful)',
      false,
    )
    .option('--out <file>', 'where to write the report', path.join(REPO_ROOT, 'docs/benchmarks.md'))
    .option(
      '--runs <n>',
      'timed runs per measurement, after one warm-up run (default 3; 1 with --quick)',
      parseRuns,
    )
    .option('--only <sections>', `comma-separated subset of: ${SECTIONS.join(', ')}`, parseSections)
    .option('--json <file>', 'also write the raw results as JSON (re-render later with --render)')
    .option('--render <file>', 'measure nothing: write the report from a --json results file')
    .option(
      '--train-batches <list>',
      'comma-separated training batches instead of the default 8,32 (e.g. 8 on a loaded machine)',
      parseBatches,
    )
    .option('--note <text>', 'a sentence for the report header, e.g. what else ran on the machine')
    .option(
      '--data-root <dir>',
      'Food-101-layout folder with images/<class>/*.jpg',
      path.resolve(REPO_ROOT, '../shared/data/food10'),
    )
    .addHelpText(
      'after',
      `
Each measurement runs in its own Node process: a run that exhausts the 4 GiB wasm heap is reported as
"out of memory" instead of ending the bench. PyTorch (Debian python3-torch, /usr/bin/python3) runs the
same network for the ratio column; without it those rows say "not measured".

Examples:
  pnpm bench                                  # everything, ~15-25 min on 2 cores; writes docs/benchmarks.md
  pnpm bench --only forward,train --runs 5    # model timings only
  pnpm bench --note "CI runner, nothing else running"
  pnpm bench --quick --out /tmp/bench.md      # tiny model, seconds: checks the harness
  pnpm bench --json /tmp/bench.json           # keep the raw numbers ...
  pnpm bench --render /tmp/bench.json         # ... and rewrite docs/benchmarks.md from them`,
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage and examples)');
}

interface BenchFlags {
  quick: boolean;
  out: string;
  runs?: number;
  only?: Section[];
  dataRoot: string;
  note?: string;
  trainBatches?: number[];
  json?: string;
  render?: string;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildBenchProgram();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
  const flags = program.opts<BenchFlags>();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const results = flags.render
      ? await readResults(flags.render)
      : await runBench({
          quick: flags.quick,
          runs: flags.runs ?? (flags.quick ? 1 : 3),
          sections: new Set(flags.only ?? SECTIONS),
          dataRoot: path.resolve(flags.dataRoot),
          note: flags.note,
          trainBatches: flags.trainBatches,
          log,
        });
    if (flags.json) await writeFileIn(flags.json, serializeResults(results));
    await writeFileIn(flags.out, renderReport(results) + (await keptSections(flags.out)));
    log(
      `bench: wrote ${flags.out}${flags.render ? ` from ${flags.render}` : ` (${formatDuration(results.seconds)})`}`,
    );
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    log(`error: ${error.message}`);
    process.exitCode = 1;
  }
}

async function readResults(file: string): Promise<BenchResults> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `Cannot read ${file} (${(error as NodeJS.ErrnoException).code}). Pass a file written by --json.`,
    );
  }
  try {
    return parseResults(text);
  } catch (error) {
    throw new UserError(
      `${file} is not a bench results file (${(error as Error).message}). Pass a file written by --json.`,
    );
  }
}

async function writeFileIn(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await main(process.argv);

/**
 * Sections that other tools own in the same file (`<!-- NAME:start -->` … `<!-- NAME:end -->`, e.g.
 * `pnpm bench:serve`'s), kept when this report is rewritten.
 */
async function keptSections(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  const sections = existing.match(/<!-- ([\w-]+):start -->[\s\S]*?<!-- \1:end -->/g) ?? [];
  return sections.map((section) => `\n${section}\n`).join('');
}
