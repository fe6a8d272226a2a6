import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BACKEND_CHOICES_HELP, type BackendName, initBackend, parseBackendName } from '@food/core/backend';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { UserError } from '@food/core/errors';
import { parsePositiveInteger } from '@food/core/parse-number';
import { reportPaths } from '@food/core/report/report-layout';
import { tsxArgs } from '@food/core/spawn-captured';
import {
  computeTrainingStats,
  DEFAULT_FEATURE_CACHE,
  DEMO_FINE_TUNE,
  exportBest,
  prepareDataset,
  progressMode,
  RECIPE_DEFAULTS,
  runEvaluation,
  runTraining,
  synthesizeDataset,
  type TrainConfig,
} from '@food/trainer/pipeline';
import type { Command } from 'commander';

interface DemoFlags {
  data?: string;
  weights?: string;
  classes?: number;
  checkpoint?: string;
  workdir: string;
  epochs?: number;
  imageSize: number;
  serve: boolean;
  port: number;
  backend: BackendName;
  progress: boolean;
}

/** The server CLI's file, found through @food/server's `exports` like any dependency's (no path into it). */
const SERVER_CLI = createRequire(import.meta.url).resolve('@food/server/cli');

/**
 * `pnpm demo`: the whole product end to end. Without --weights: synthetic images and a small ResNet
 * trained from scratch in about a minute (the UI says it is not a food model). With --data and --weights:
 * a real food model, the ImageNet ResNet-50 fine-tuned on the photos by the fast CPU path (frozen trunk
 * on ONNX Runtime, cached features), evaluated on the official test split, exported and served.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the whole pipeline on synthetic (or your) data and open the web UI.')
    .option('--data <dir>', 'a Food-101-layout folder to use instead of generated synthetic images')
    .option(
      '--weights <dir>',
      'ImageNet ResNet-50 weights (e.g. ../shared/weights/resnet50-imagenet, or data/weights/resnet50-imagenet after `pnpm trainer import-weights`): fine-tune a real model on --data',
    )
    .option(
      '--classes <n>',
      'classes to sample (default: 6 synthetic ones; every class of --data with --weights)',
      parsePositiveInteger,
    )
    .option('--checkpoint <dir>', 'evaluate and serve this checkpoint instead of training one')
    .option('--workdir <name>', 'name of the demo folders under data/, checkpoints/ and reports/', 'demo')
    .option(
      '--epochs <n>',
      'training epochs (default: 10 for the small model, the fine-tune recipe with --weights)',
      parsePositiveInteger,
    )
    .option('--image-size <px>', 'crop size of the small model', parsePositiveInteger, 64)
    .option('--no-serve', 'stop after the report instead of starting the server (smoke runs, CI)')
    .option('--port <port>', 'server port', parsePositiveInteger, 5000)
    .option('--backend <name>', BACKEND_CHOICES_HELP, parseBackendName, 'auto' as BackendName)
    .option('--no-progress', 'progress as plain lines (every 5% or 30 s), no bar')
    .addHelpText(
      'after',
      `
The demo owns data/<workdir>, checkpoints/<workdir> and reports/<workdir> and recreates them on each run.

Examples:
  $ pnpm demo                                              # synthetic data, small model, UI on :5000
  $ pnpm demo --no-serve                                   # stop after the evaluation report
  $ pnpm demo --data ../shared/data/food10 --weights ../shared/weights/resnet50-imagenet   # a real food model
  $ pnpm demo --data ../shared/data/food10 --checkpoint checkpoints/food10-stage5/best`,
    )
    .action(runDemo);
}

/** How the demo reports progress: a numbered step with the elapsed time, and indented detail lines. */
interface DemoOutput {
  step: (what: string) => void;
  log: (line: string) => void;
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const started = Date.now();
  const output: DemoOutput = {
    step: (what) => process.stderr.write(`\n▶ ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`),
    log: (line) => process.stderr.write(`  ${line}\n`),
  };
  const { step, log } = output;
  const dataDir = path.join('data', flags.workdir);
  const prepared = path.join(dataDir, 'prepared');
  const reportDir = path.join('reports', flags.workdir);
  // The demo's model is tiny: a thread pool's hand-offs cost more than its ops (measured: 1.1 vs 7.6 ms
  // per image at 2 threads), so wasm runs single-threaded here.
  await initBackend(flags.backend, log, { wasmThreads: 1 });
  await rm(prepared, { recursive: true, force: true });
  await rm(reportDir, { recursive: true, force: true });

  if (flags.weights !== undefined && !flags.data && !flags.checkpoint) {
    throw new UserError(
      '--weights fine-tunes on real photos: pass them with --data (a Food-101-layout folder such as ../shared/data/food10).',
      'DEMO_NEEDS_DATA',
    );
  }
  const classes = flags.classes ?? (flags.data ? await countClasses(flags.data) : 6);
  const dataRoot = flags.data ?? (await synthesizeDemoData(path.join(dataDir, 'food'), classes, output));

  step('preparing splits');
  const { manifest } = await prepareDataset({
    dataRoot,
    outDir: prepared,
    selection: { count: classes },
    seed: 42,
    valFraction: 0.1,
    showProgress: progressMode(flags.progress),
  });
  log(
    `${manifest.classes.length} classes: train ${manifest.counts.train}, val ${manifest.counts.val}, test ${manifest.counts.test}`,
  );
  const checkpoint = flags.checkpoint ?? (await trainDemoModel(flags, prepared, classes, output));

  step('evaluating on the test split');
  const { metrics } = await runEvaluation(
    { checkpoint, prepared, split: 'test', out: reportDir, batchSize: 32, engine: 'auto' },
    { log, progress: progressMode(flags.progress) },
  );
  log(
    `accuracy ${metrics.accuracy.toFixed(3)}, top-5 ${metrics.top5Accuracy.toFixed(3)}, macro F1 ${metrics.f1.macro.toFixed(3)}`,
  );
  log(`report: ${reportPaths(reportDir).html}`);

  if (!flags.serve) {
    step('done');
    return;
  }
  step(`serving ${checkpoint} at http://127.0.0.1:${flags.port} (Ctrl-C to stop)`);
  await serve(checkpoint, reportDir, flags.port, flags.backend);
}

/** Generated food-like classes in the Food-101 layout, for a demo without --data. */
async function synthesizeDemoData(
  dataRoot: string,
  classes: number,
  { step, log }: DemoOutput,
): Promise<string> {
  step(`generating ${classes} synthetic food classes`);
  await rm(dataRoot, { recursive: true, force: true });
  const synth = await synthesizeDataset({ outDir: dataRoot, classes, imagesPerClass: 80, seed: 42 });
  log(`${synth.train + synth.test} JPEGs in ${dataRoot} (${synth.classes.join(', ')})`);
  return dataRoot;
}

/** Channel statistics, then training (and with --weights an ONNX export); returns the `best` checkpoint. */
async function trainDemoModel(
  flags: DemoFlags,
  prepared: string,
  classes: number,
  { step, log }: DemoOutput,
): Promise<string> {
  const runDir = path.join('checkpoints', flags.workdir);
  step('computing channel statistics of the training split');
  const { config } = await computeTrainingStats({
    preparedDir: prepared,
    showProgress: progressMode(flags.progress),
  });
  log(
    `mean ${config.mean.map((v) => v.toFixed(3)).join(', ')}; std ${config.std.map((v) => v.toFixed(3)).join(', ')}`,
  );
  await rm(runDir, { recursive: true, force: true });
  const real = flags.weights !== undefined;
  const trainConfig = demoTrainConfig(flags, prepared, runDir, classes);
  step(
    real
      ? `fine-tuning the ImageNet ResNet-50 (${trainConfig.trainable}: frozen trunk on ONNX Runtime, cached features, ${trainConfig.epochs} epochs)`
      : `training a small ResNet (${trainConfig.epochs} epochs, ${flags.imageSize} px, random initialisation, synthetic images: not a food model)`,
  );
  const outcome = await runTraining(trainConfig, {
    log,
    shouldStop: () => false,
    progress: progressMode(flags.progress),
  });
  log(`best validation top-1 ${outcome.bestValTop1.toFixed(3)} at epoch ${outcome.bestEpoch}`);
  if (real) {
    step('exporting best for ONNX Runtime');
    await exportBest({ runDir, kind: 'float32', prepared, log });
  }
  return runPaths(runDir).best;
}

/** With --weights the fine-tune recipe on the real photos; without, a small ResNet from scratch. */
function demoTrainConfig(flags: DemoFlags, prepared: string, runDir: string, classes: number): TrainConfig {
  const dataset = flags.data
    ? { name: path.basename(path.resolve(flags.data)), synthetic: false }
    : { name: `${classes} synthetic classes`, synthetic: true };
  if (flags.weights !== undefined) {
    return {
      ...RECIPE_DEFAULTS,
      ...DEMO_FINE_TUNE,
      epochs: flags.epochs ?? DEMO_FINE_TUNE.epochs,
      prepared,
      out: runDir,
      weights: flags.weights,
      backend: flags.backend,
      // Outside data/<workdir>, which the demo recreates: a second demo reuses the features.
      featureCacheDir: DEFAULT_FEATURE_CACHE,
      // Each epoch folder holds the whole ResNet-50 (~100 MB): best and latest are enough here.
      keepEpochs: 1,
      dataset,
    };
  }
  return {
    ...RECIPE_DEFAULTS,
    prepared,
    out: runDir,
    learningRate: 3e-3,
    epochs: flags.epochs ?? 10,
    batchSize: 16,
    imageSize: flags.imageSize,
    weights: 'none',
    backend: flags.backend,
    widthMultiplier: 1 / 8,
    blocksPerStage: [1, 1, 1, 1],
    dataset,
  };
}

/** Classes of a Food-101-layout folder (meta/classes.txt), so a real demo uses them all by default. */
async function countClasses(dataRoot: string): Promise<number> {
  const file = path.join(dataRoot, 'meta', 'classes.txt');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UserError(`${file} is missing: --data must be a Food-101-layout folder.`, 'DEMO_NOT_FOOD101');
  });
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

/** The server is its own package: run its CLI as a child process rather than importing it. */
function serve(checkpoint: string, report: string, port: number, backend: BackendName): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [
      'serve',
      '--checkpoint',
      checkpoint,
      '--report',
      report,
      '--port',
      String(port),
      '--backend',
      backend,
    ];
    const child = spawn(process.execPath, tsxArgs(SERVER_CLI, args), { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', () => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve();
    });
  });
}
