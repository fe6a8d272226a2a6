import path from 'node:path';
import { BACKEND_CHOICES_HELP, type BackendName, parseBackendName } from '@food/core/backend';
import { resolveRunFolder } from '@food/core/checkpoint/run-folder';
import { ENGINE_CHOICES, type EngineChoice } from '@food/core/engine/resolve-engine';
import { parsePositiveInteger } from '@food/core/parse-number';
import { reportPaths } from '@food/core/report/report-layout';
import { type Command, InvalidArgumentError } from 'commander';
import { SPLIT_NAMES, type SplitName } from '../data/manifest.ts';
import { runEvaluation, runNameOf } from '../evaluate/run-evaluation.ts';
import { earlierTestReads, recordRunTestRead, secondReadWarning } from '../evaluate/test-read-guard.ts';
import { TTA_MODES, type TtaMode } from '../evaluate/test-time-augmentation.ts';
import { NO_PROGRESS_HELP, progressMode } from '../progress.ts';
import {
  addEvaluationTrackingOptions,
  type EvaluationTrackingFlags,
  trackEvaluation,
} from '../tracking/track-evaluation.ts';

function parseTta(value: string): TtaMode {
  if ((TTA_MODES as readonly string[]).includes(value)) return value as TtaMode;
  throw new InvalidArgumentError(`expected one of ${TTA_MODES.join(', ')}.`);
}

function parseSplit(value: string): SplitName {
  if ((SPLIT_NAMES as readonly string[]).includes(value)) return value as SplitName;
  throw new InvalidArgumentError(`expected one of ${SPLIT_NAMES.join(', ')}.`);
}

function parseEngineChoice(value: string): EngineChoice {
  if ((ENGINE_CHOICES as readonly string[]).includes(value)) return value as EngineChoice;
  throw new InvalidArgumentError(`Unknown engine "${value}". Choose one of: ${ENGINE_CHOICES.join(', ')}.`);
}

interface EvaluateFlags extends EvaluationTrackingFlags {
  checkpoint: string;
  prepared: string;
  split: SplitName;
  out?: string;
  batchSize: number;
  backend: BackendName;
  threads?: number;
  limit?: number;
  compare?: string;
  engine: EngineChoice;
  onnxModel?: string;
  saveProbabilities: boolean;
  tta: TtaMode;
  progress: boolean;
}

export function register(program: Command): void {
  const evaluate = program
    .command('evaluate')
    .description(
      'Score a checkpoint on a prepared split: metrics.json, predictions/per-class/confusion csv, SVG charts, report.html and report.md.',
    )
    .requiredOption(
      '--checkpoint <dir>',
      'checkpoint folder, e.g. checkpoints/RUN/best (a run folder means its best)',
    )
    .requiredOption('--prepared <dir>', 'prepared data set (manifest.json) with the same classes')
    .option('--split <name>', SPLIT_NAMES.join(' | '), parseSplit, 'test' as SplitName)
    .option('--out <dir>', 'report folder (default: reports/<run name>-<split>)')
    .option('--batch-size <n>', 'images per model call', parsePositiveInteger, 32)
    .option('--backend <name>', BACKEND_CHOICES_HELP, parseBackendName, 'auto' as BackendName)
    .option(
      '--threads <n>',
      'threads for the wasm backend or ONNX Runtime (default: every core)',
      parsePositiveInteger,
    )
    .option(
      '--limit <n>',
      'only N images, spread evenly over the split (all classes keep their share)',
      parsePositiveInteger,
    )
    .option(
      '--engine <name>',
      'auto (the ONNX export beside the checkpoint, int8 first, else tfjs) | tfjs (on --backend) | onnx (ONNX Runtime)',
      parseEngineChoice,
      'auto' as EngineChoice,
    )
    .option(
      '--onnx-model <file>',
      'the exported model (default: auto tries CHECKPOINT.int8.onnx, then CHECKPOINT.onnx; onnx: CHECKPOINT.onnx)',
    )
    .option(
      '--tta <mode>',
      'test-time augmentation: none | flip (mean softmax of each centre crop and its mirror; doubles evaluation time)',
      parseTta,
      'none' as TtaMode,
    )
    .option('--compare <dir>', 'another checkpoint to score on the same images, shown as a baseline')
    .option(
      '--save-probabilities',
      'also write probabilities.json (every probability, full precision)',
      false,
    )
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
Uses the checkpoint's own preprocess.json and labels.json; the prepared set's classes must be the same.
The report compares the model with always answering the training split's most frequent class, and with
--compare's checkpoint. Latency is measured on 20 images, one at a time, after 3 warm-up runs.
--split val and train are the run's own (a run trained with --val-fraction drew them with its seed).
--split test on a checkpoint of a run is recorded in RUN/test-reads.json, and a second read of test for
the same recipe and seed is warned about: choose on validation, read test once per final run
(docs/results.md, "Selection protocol").

Examples:
  $ pnpm evaluate --checkpoint checkpoints/seed50/best --prepared data/prepared/seed50
  $ pnpm evaluate --checkpoint checkpoints/food10-stage5/best --prepared data/prepared/food10 \\
      --split test --out reports/food10-stage5-test --backend wasm
  $ pnpm evaluate --checkpoint checkpoints/seed50/best --prepared data/prepared/seed50 \\
      --compare checkpoints/seed50/epoch-003 --limit 500`,
    )
    .action(evaluateCommand);
  addEvaluationTrackingOptions(evaluate);
}

/** `pnpm evaluate`: the report, its headline on stdout, then MLflow/TensorBoard when asked. */
async function evaluateCommand(flags: EvaluateFlags): Promise<void> {
  const { dir: checkpoint, note } = await resolveRunFolder(flags.checkpoint);
  if (note) process.stderr.write(`${note}\n`);
  const out = flags.out ?? path.join('reports', `${runNameOf(checkpoint)}-${flags.split}`);
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Undefined: not a test read, or a checkpoint outside a run folder (nothing to record it in).
  const earlier = flags.split === 'test' ? await earlierTestReads(checkpoint) : undefined;
  const warning = earlier && secondReadWarning(checkpoint, earlier);
  if (warning) log(warning);
  const outcome = await runEvaluation(
    {
      checkpoint,
      prepared: flags.prepared,
      split: flags.split,
      out,
      batchSize: flags.batchSize,
      limit: flags.limit,
      compare: flags.compare,
      engine: flags.engine,
      onnxModel: flags.onnxModel,
      threads: flags.threads,
      backend: flags.backend,
      saveProbabilities: flags.saveProbabilities,
      tta: flags.tta,
    },
    { log, progress: progressMode(flags.progress) },
  );
  const { metrics } = outcome;
  if (earlier) {
    const { tta, evaluatedAt } = metrics;
    await recordRunTestRead(checkpoint, { report: out, tta, limit: metrics.limit, evaluatedAt });
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${metrics.numImages} ${metrics.split} images: top-1 ${(metrics.accuracy * 100).toFixed(2)}%, ` +
      `top-5 ${(metrics.top5Accuracy * 100).toFixed(2)}%, macro F1 ${metrics.f1.macro.toFixed(4)} ` +
      `(majority class ${(metrics.baselines.majorityClass.metrics.accuracy * 100).toFixed(2)}%) in ${seconds.toFixed(1)} s\n` +
      `report: ${reportPaths(out).html}\n`,
  );
  await trackEvaluation(
    flags,
    { checkpoint, prepared: flags.prepared, split: flags.split, out, outcome },
    log,
  );
}
