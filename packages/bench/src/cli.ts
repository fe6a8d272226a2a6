#!/usr/bin/env -S npx tsx
/**
 * `pnpm bench`: measures the CPU paths (ResNet-50 forward and train step on wasm, inference throughput,
 * preprocessing, per-backend, PyTorch reference) and writes reports/benchmarks.md. The committed
 * docs/benchmarks.md changes only with `--write-docs`: a run on a loaded laptop must not silently replace
 * the published figures.
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
/** Defaults relative to the repository root, as the help shows them (docs/cli.md is the same on every clone). */
const DEFAULT_OUT = 'reports/benchmarks.md';
const DOCS_PAGE = 'docs/benchmarks.md';
const DEFAULT_DATA_ROOT = '../shared/data/food10';

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
      `Measure training, inference and preprocessing speed on this machine and write ${DEFAULT_OUT} (${DOCS_PAGE} with --write-docs).`,
    )
    .option(
      '--quick',
      'tiny model and few images: checks the harness in seconds (numbers are not meaningful)',
      false,
    )
    .option('--out <file>', `where to write the report (default: ${DEFAULT_OUT})`)
    .option('--write-docs', `rewrite the committed ${DOCS_PAGE} instead (not with --out)`, false)
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
      `Food-101-layout folder with images/<class>/*.jpg (default: ${DEFAULT_DATA_ROOT}, from the repository root)`,
    )
    .addHelpText(
      'after',
      `
Each measurement runs in its own Node process: a run that exhausts the 4 GiB wasm heap is reported as
"out of memory" instead of ending the bench. PyTorch (Debian python3-torch, /usr/bin/python3) runs the
same network for the ratio column; without it those rows say "not measured".

Examples:
  pnpm bench                                  # everything, ~15-25 min on 2 cores; writes ${DEFAULT_OUT}
  pnpm bench --write-docs                     # the same, and replaces ${DOCS_PAGE} (commit it)
  pnpm bench --only forward,train --runs 5    # model timings only
  pnpm bench --note "CI runner, nothing else running"
  pnpm bench --quick --out /tmp/bench.md      # tiny model, seconds: checks the harness
  pnpm bench --json /tmp/bench.json           # keep the raw numbers ...
  pnpm bench --render /tmp/bench.json         # ... and write the report from them`,
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage and examples)');
}

interface BenchFlags {
  quick: boolean;
  out?: string;
  writeDocs: boolean;
  runs?: number;
  only?: Section[];
  dataRoot?: string;
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
    const out = reportPath(flags);
    const results = flags.render
      ? await readResults(flags.render)
      : await runBench({
          quick: flags.quick,
          runs: flags.runs ?? (flags.quick ? 1 : 3),
          sections: new Set(flags.only ?? SECTIONS),
          dataRoot: flags.dataRoot
            ? path.resolve(flags.dataRoot)
            : path.resolve(REPO_ROOT, DEFAULT_DATA_ROOT),
          note: flags.note,
          trainBatches: flags.trainBatches,
          log,
        });
    if (flags.json) await writeFileIn(flags.json, serializeResults(results));
    await writeFileIn(out, renderReport(results) + (await keptSections(out)));
    log(
      `bench: wrote ${path.relative(process.cwd(), out) || out}${flags.render ? ` from ${flags.render}` : ` (${formatDuration(results.seconds)})`}` +
        (flags.writeDocs ? '' : `; ${DOCS_PAGE} is unchanged (--write-docs replaces it)`),
    );
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    log(`error: ${error.message}`);
    process.exitCode = 1;
  }
}

/** The report's file: `--out`, the committed page with `--write-docs`, else reports/benchmarks.md. */
export function reportPath(flags: Pick<BenchFlags, 'out' | 'writeDocs'>): string {
  if (flags.out !== undefined && flags.writeDocs) {
    throw new UserError(`--out and --write-docs both name the report's file: pass one of them.`);
  }
  if (flags.out !== undefined) return path.resolve(flags.out);
  return path.join(REPO_ROOT, flags.writeDocs ? DOCS_PAGE : DEFAULT_OUT);
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
