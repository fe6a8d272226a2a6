import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BACKEND_CHOICES_HELP, type BackendName, initBackend, parseBackendName } from '@food/core/backend';
import { resolveRunConfig } from '@food/core/checkpoint/run-config';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { parsePositiveInteger } from '@food/core/parse-number';
import { reportPaths } from '@food/core/report/report-layout';
import { tsxArgs } from '@food/core/spawn-captured';
import {
  computeTrainingStats,
  DEMO_FINE_TUNE,
  exportBest,
  NO_PROGRESS_HELP,
  prepareDataset,
  progressMode,
  runEvaluation,
  runTraining,
  synthesizeDataset,
  type TrainConfig,
} from '@food/trainer/pipeline';
import type { Command } from 'commander';
import { checkDemoInputs } from './demo-preflight.ts';
import { ReplaceOnSuccess } from './replace-on-success.ts';

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
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
The demo owns data/<workdir>, checkpoints/<workdir> and reports/<workdir>. It checks its flags, paths
and port first, and replaces the previous demo's folders only once the new run succeeded.

Examples:
  $ pnpm demo                                              # synthetic data, small model, UI on :5000
  $ pnpm demo --no-serve                                   # stop after the evaluation report
  $ pnpm demo --data ../shared/data/food10 --weights ../shared/weights/resnet50-imagenet   # a real food model
  $ pnpm demo --data ../shared/data/food10 --checkpoint checkpoints/food10-stage5/best`,
    )
    .action(async (flags: DemoFlags) => runDemo(flags));
}

/** The demo's folders under data/, checkpoints/ and reports/, and how it reports its steps. */
interface DemoContext {
  dataDir: string;
  prepared: string;
  runDir: string;
  reportDir: string;
  folders: ReplaceOnSuccess;
  step: (what: string) => void;
  log: (line: string) => void;
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const classes = await checkDemoInputs(flags);
  const started = Date.now();
  const dataDir = path.join('data', flags.workdir);
  const context: DemoContext = {
    dataDir,
    prepared: path.join(dataDir, 'prepared'),
    runDir: path.join('checkpoints', flags.workdir),
    reportDir: path.join('reports', flags.workdir),
    folders: new ReplaceOnSuccess(),
    step: (what) => process.stderr.write(`\n▶ ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`),
    log: (line) => process.stderr.write(`  ${line}\n`),
  };
  // The demo's model is tiny: a thread pool's hand-offs cost more than its ops (measured: 1.1 vs 7.6 ms
  // per image at 2 threads), so wasm runs single-threaded here.
  await initBackend(flags.backend, context.log, { wasmThreads: 1 });
  // The previous demo's folders come back if anything below fails.
  const checkpoint = await context.folders.run(async () => {
    await prepareDemoData(flags, classes, context);
    const trained = flags.checkpoint ?? (await trainDemoModel(flags, classes, context));
    await evaluateDemo(trained, flags, context);
    return trained;
  });
  if (!flags.serve) {
    context.step('done');
    return;
  }
  context.step(`serving ${checkpoint} at http://127.0.0.1:${flags.port} (Ctrl-C to stop)`);
  await serve(checkpoint, context.reportDir, flags.port, flags.backend);
}

/** Synthetic images unless --data, then the splits in data/<workdir>/prepared. */
async function prepareDemoData(flags: DemoFlags, classes: number, context: DemoContext): Promise<void> {
  const { step, log } = context;
  let dataRoot = flags.data;
  if (!dataRoot) {
    step(`generating ${classes} synthetic food classes`);
    dataRoot = path.join(context.dataDir, 'food');
    await context.folders.clear(dataRoot);
    const synth = await synthesizeDataset({ outDir: dataRoot, classes, imagesPerClass: 80, seed: 42 });
    log(`${synth.train + synth.test} JPEGs in ${dataRoot} (${synth.classes.join(', ')})`);
  }
  step('preparing splits');
  await context.folders.clear(context.prepared);
  const { manifest } = await prepareDataset({
    dataRoot,
    outDir: context.prepared,
    selection: { count: classes },
    seed: 42,
    valFraction: 0.1,
    showProgress: progressMode(flags.progress),
  });
  log(
    `${manifest.classes.length} classes: train ${manifest.counts.train}, val ${manifest.counts.val}, test ${manifest.counts.test}`,
  );
}

/** Channel statistics, then training and the ONNX export (float32, and int8 where the guard keeps it); returns `best`. */
async function trainDemoModel(flags: DemoFlags, classes: number, context: DemoContext): Promise<string> {
  const { step, log, runDir } = context;
  step('computing channel statistics of the training split');
  const { config } = await computeTrainingStats({
    preparedDir: context.prepared,
    showProgress: progressMode(flags.progress),
  });
  log(
    `mean ${config.mean.map((v) => v.toFixed(3)).join(', ')}; std ${config.std.map((v) => v.toFixed(3)).join(', ')}`,
  );
  await context.folders.clear(runDir);
  const trainConfig = demoTrainConfig(flags, classes, context);
  step(
    flags.weights !== undefined
      ? `fine-tuning the ImageNet ResNet-50 (${trainConfig.trainable}: frozen trunk on ONNX Runtime, cached features, ${trainConfig.epochs} epochs)`
      : `training a small ResNet (${trainConfig.epochs} epochs, ${flags.imageSize} px, random initialisation, synthetic images: not a food model)`,
  );
  const outcome = await runTraining(trainConfig, {
    log,
    shouldStop: () => false,
    progress: progressMode(flags.progress),
  });
  log(`best validation top-1 ${outcome.bestValTop1.toFixed(3)} at epoch ${outcome.bestEpoch}`);
  // As `pnpm train` does: float32, and int8 where the guard passes it, so `pnpm serve` runs ONNX Runtime.
  step('exporting best for ONNX Runtime (float32, and int8 behind the accuracy guard)');
  await exportBest({ runDir, kind: 'int8', prepared: context.prepared, log });
  return runPaths(runDir).best;
}

/** With --weights the fast fine-tune recipe on real photos; without, a small net from scratch. */
function demoTrainConfig(flags: DemoFlags, classes: number, context: DemoContext): TrainConfig {
  const common = { prepared: context.prepared, out: context.runDir, backend: flags.backend };
  const dataset = flags.data
    ? { name: path.basename(path.resolve(flags.data)), synthetic: false }
    : { name: `${classes} synthetic classes`, synthetic: true };
  if (flags.weights !== undefined) {
    return resolveRunConfig({
      ...DEMO_FINE_TUNE,
      ...common,
      epochs: flags.epochs ?? DEMO_FINE_TUNE.epochs,
      weights: flags.weights,
      // featureCacheDir: the default, outside data/<workdir>, which the demo recreates, so a second demo
      // reuses the features.
      // Each epoch folder holds the whole ResNet-50 (~100 MB): best and latest are enough here.
      keepEpochs: 1,
      dataset,
    });
  }
  return resolveRunConfig({
    ...common,
    learningRate: 3e-3,
    epochs: flags.epochs ?? 10,
    batchSize: 16,
    imageSize: flags.imageSize,
    weights: 'none',
    widthMultiplier: 1 / 8,
    blocksPerStage: [1, 1, 1, 1],
    dataset,
  });
}

async function evaluateDemo(checkpoint: string, flags: DemoFlags, context: DemoContext): Promise<void> {
  const { step, log, reportDir } = context;
  step('evaluating on the test split');
  await context.folders.clear(reportDir);
  const { metrics } = await runEvaluation(
    { checkpoint, prepared: context.prepared, split: 'test', out: reportDir, batchSize: 32, engine: 'auto' },
    { log, progress: progressMode(flags.progress) },
  );
  log(
    `accuracy ${metrics.accuracy.toFixed(3)}, top-5 ${metrics.top5Accuracy.toFixed(3)}, macro F1 ${metrics.f1.macro.toFixed(3)}`,
  );
  log(`report: ${reportPaths(reportDir).html}`);
}

/** The server is its own package: run its CLI as a child process rather than importing it. */
function serve(checkpoint: string, report: string, port: number, backend: BackendName): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      tsxArgs(SERVER_CLI, [
        'serve',
        '--checkpoint',
        checkpoint,
        '--report',
        report,
        '--port',
        String(port),
        '--backend',
        backend,
      ]),
      { stdio: 'inherit' },
    );
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
