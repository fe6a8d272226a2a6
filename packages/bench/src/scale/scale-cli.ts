#!/usr/bin/env -S npx tsx
/**
 * `pnpm bench:scale`: Food-101 at full size. Generates 101 classes × 1,000 synthetic photos at Food-101's
 * size in a work folder outside the repository, runs prepare, stats, the loader, the feature cache, the
 * preset's and the full network's training steps, export and evaluate, each measured, and writes
 * docs/scale.md with the figures and projected wall times.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@food/core/errors';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { cleanWorkDir, runScaleBench } from './run-scale.ts';
import type { ScaleOptions } from './scale-plan.ts';
import { renderScaleReport } from './scale-report.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const DEFAULT_OUT = 'docs/scale.md';
/** As the help shows it (docs/cli.md is the same on every machine); resolved against the home folder. */
const DEFAULT_WORK_DIR = '~/.cache/food101-bench-scale';
const DEFAULT_WEIGHTS = 'data/weights/resnet50-imagenet';
/** Assumed for the GPU projections, which say so: no GPU measured it. */
const DEFAULT_GPU_IMAGES_PER_SECOND = 1000;

export const SCALE_DEFAULTS: ScaleOptions = {
  workDir: DEFAULT_WORK_DIR,
  classes: 101,
  perClass: 1000,
  subsetClasses: 50,
  seed: 42,
  featureSlice: 800,
  presetSteps: 200,
  fullSteps: 200,
  fullBatch: 8,
  weights: DEFAULT_WEIGHTS,
  quick: false,
};

const wholeNumber = (flag: string, min: number, max: number) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}; got "${value}".`);
  }
  return number;
};

export function buildScaleProgram(): Command {
  const d = SCALE_DEFAULTS;
  return new Command('bench:scale')
    .description(
      `Generate a Food-101-size synthetic set outside the repository, measure every pipeline step on it (wall time, peak RSS, disk) and write ${DEFAULT_OUT} with projected wall times.`,
    )
    .option('--work-dir <dir>', `where the generated set and the run's outputs live (default: ${d.workDir})`)
    .option(
      '--classes <n>',
      'classes to generate and prepare (Food-101: 101)',
      wholeNumber('--classes', 2, 101),
      d.classes,
    )
    .option(
      '--per-class <n>',
      'photos per class, 75:25 train:test (Food-101: 1000)',
      wholeNumber('--per-class', 8, 1000),
      d.perClass,
    )
    .option(
      '--subset-classes <n>',
      'classes of the second prepare, which training and evaluation use (the recipe: 50)',
      wholeNumber('--subset-classes', 2, 101),
      d.subsetClasses,
    )
    .option(
      '--feature-slice <n>',
      'training images (and validation images) whose features --preset cpu caches',
      wholeNumber('--feature-slice', 2, 100_000),
      d.featureSlice,
    )
    .option(
      '--preset-steps <n>',
      'training steps of --preset cpu',
      wholeNumber('--preset-steps', 2, 100_000),
      d.presetSteps,
    )
    .option(
      '--full-steps <n>',
      'training steps of the full network',
      wholeNumber('--full-steps', 2, 100_000),
      d.fullSteps,
    )
    .option(
      '--full-batch <n>',
      'photos per step of the full network (smaller: less memory, same photos/s)',
      wholeNumber('--full-batch', 1, 256),
      d.fullBatch,
    )
    .option(
      '--weights <dir|none>',
      `ImageNet weights for both trainings (default: ${DEFAULT_WEIGHTS} when present, else none)`,
    )
    .option(
      '--gpu-images-per-second <n>',
      'the GPU training rate the GPU projections assume (not measured)',
      wholeNumber('--gpu-images-per-second', 1, 1_000_000),
      DEFAULT_GPU_IMAGES_PER_SECOND,
    )
    .option(
      '--quick',
      'tiny network at 64 px: checks the harness in seconds (training figures mean nothing)',
      false,
    )
    .option('--out <file>', `report to write (default: ${DEFAULT_OUT})`)
    .option('--clean', 'remove the work folder (the generated set and every output) and stop', false)
    .addHelpText(
      'after',
      `
The generated set is kept in the work folder and reused by later runs of the same size; each run replaces
its outputs there. The full size (the default) needs about 7 GB for the photos (72 KB each: the synthetic
grain compresses less than Food-101's 5 GB) and about 5 GB for the outputs.

Examples:
  $ nice -n 10 pnpm bench:scale                                    # 101 x 1000 photos, writes ${DEFAULT_OUT}
  $ nice -n 10 pnpm bench:scale --classes 101 --per-class 40 --out reports/scale.md
  $ pnpm bench:scale --clean`,
    );
}

function resolveOptions(flags: Record<string, unknown>): ScaleOptions {
  const d = SCALE_DEFAULTS;
  const weightsFlag = flags.weights as string | undefined;
  const defaultWeights = path.resolve(REPO_ROOT, DEFAULT_WEIGHTS);
  const options: ScaleOptions = {
    workDir: path.resolve(
      (flags.workDir as string | undefined) ?? path.join(homedir(), DEFAULT_WORK_DIR.slice('~/'.length)),
    ),
    classes: flags.classes as number,
    perClass: flags.perClass as number,
    subsetClasses: flags.subsetClasses as number,
    seed: d.seed,
    featureSlice: flags.featureSlice as number,
    presetSteps: flags.presetSteps as number,
    fullSteps: flags.fullSteps as number,
    fullBatch: flags.fullBatch as number,
    weights:
      weightsFlag === 'none' || (!weightsFlag && (flags.quick || !existsSync(defaultWeights)))
        ? 'none'
        : path.resolve(weightsFlag ?? defaultWeights),
    quick: flags.quick as boolean,
  };
  if (options.subsetClasses > options.classes) {
    throw new UserError(
      `--subset-classes ${options.subsetClasses} is more than --classes ${options.classes}; give at most ${options.classes}.`,
    );
  }
  return options;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildScaleProgram().exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  const flags = program.opts();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const options = resolveOptions(flags);
    if (flags.clean) {
      const removed = await cleanWorkDir(options.workDir);
      log(removed ? `removed ${options.workDir}` : `${options.workDir} does not exist; nothing to remove`);
      return 0;
    }
    const results = await runScaleBench(options, log);
    const out = path.resolve(REPO_ROOT, (flags.out as string | undefined) ?? DEFAULT_OUT);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, renderScaleReport(results, SCALE_DEFAULTS, flags.gpuImagesPerSecond as number));
    log(`wrote ${out}`);
    return results.skipped.length > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UserError) {
      log(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
