import { BACKEND_CHOICES_HELP, type BackendName, parseBackendName } from '@food/core/backend';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { TRAINABLE_SCOPES, type TrainableScope } from '@food/core/model/resnet50';
import { parseNonNegativeInteger, parsePositiveInteger } from '@food/core/parse-number';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BEST_EXPORTS, type BestExport, exportBest } from '../export/export-best.ts';
import { progressMode } from '../progress.ts';
import { addTrackingOptions, openTrainingTrackers, type TrackingFlags } from '../tracking/open-trackers.ts';
import { DEFAULT_FEATURE_CACHE } from '../train/feature-cache.ts';
import { LR_SCHEDULES } from '../train/lr-schedule.ts';
import { type PresetFields, presetBackendWarning, TRAIN_PRESETS } from '../train/presets.ts';
import { RECIPE_DEFAULTS, type TrainConfig } from '../train/run-config.ts';
import { runTraining } from '../train/run-training.ts';
import { startTrainingBackend } from '../train/start-backend.ts';

export const DEFAULT_WEIGHTS = 'data/weights/resnet50-imagenet';

function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number > 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}".`);
  }
  return number;
}

function parseNonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !(number >= 0) || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}".`);
  }
  return number;
}

/** `--resume` alone is true; `--resume auto` starts the run when --out holds no checkpoint. */
function parseResume(value: string): boolean | 'auto' {
  if (value === 'auto') return value;
  throw new InvalidArgumentError(`expected "auto" or nothing, got "${value}".`);
}

function parseAccumulate(value: string): number | 'auto' {
  return value === 'auto' ? value : parsePositiveInteger(value);
}

function parseLabelSmoothing(value: string): number {
  const number = parseNonNegativeNumber(value);
  if (number >= 1) throw new InvalidArgumentError(`expected a number from 0 to below 1, got "${value}".`);
  return number;
}

function parseScope(value: string): TrainableScope {
  if ((TRAINABLE_SCOPES as readonly string[]).includes(value)) return value as TrainableScope;
  throw new InvalidArgumentError(`expected one of ${TRAINABLE_SCOPES.join(', ')}.`);
}

function parseBlocks(value: string): [number, number, number, number] {
  const blocks = value.split(',').map(Number);
  if (blocks.length !== 4 || !blocks.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new InvalidArgumentError(`expected four positive integers such as 3,4,6,3, got "${value}".`);
  }
  return blocks as [number, number, number, number];
}

/** commander's options: TrainConfig's fields, some under shorter flag names, plus CLI-only ones. */
type TrainFlags = Omit<
  TrainConfig,
  'learningRate' | 'widthMultiplier' | 'blocksPerStage' | 'loaderConcurrency'
> & {
  lr: number;
  width: number;
  blocks: [number, number, number, number];
  threads?: number;
  progress: boolean;
  export: BestExport;
  preset?: keyof typeof TRAIN_PRESETS;
  /** The tracking flags (tracking/open-trackers.ts): not settings of the run. */
  mlflow?: TrackingFlags['mlflow'];
  mlflowRegister?: TrackingFlags['mlflowRegister'];
  mlflowEvery?: TrackingFlags['mlflowEvery'];
  tensorboard?: TrackingFlags['tensorboard'];
};

export function register(program: Command): void {
  const train = program
    .command('train')
    .description('Fine-tune ResNet-50 (ImageNet backbone, new Glorot-normal head) on a prepared split.')
    .requiredOption('--prepared <dir>', 'prepared folder (manifest.json + preprocess.json)')
    .requiredOption('--out <dir>', 'run folder: checkpoints/RUN')
    .addOption(
      new Option(
        '--preset <name>',
        'a measured recipe (docs/results.md) whose settings replace the defaults; flags you give still win. cpu: the best food10 fine-tune found for a 2-core CPU',
      ).choices(Object.keys(TRAIN_PRESETS)),
    )
    .option('--lr <rate>', 'Adam learning rate', parsePositiveNumber, RECIPE_DEFAULTS.learningRate)
    .option(
      '--weight-decay <l2>',
      'L2 penalty added to the gradient (PyTorch Adam)',
      parseNonNegativeNumber,
      RECIPE_DEFAULTS.weightDecay,
    )
    .option('--epochs <n>', 'epochs', parsePositiveInteger, RECIPE_DEFAULTS.epochs)
    .addOption(
      new Option(
        '--lr-schedule <name>',
        'constant (the recipe) or cosine: annealed per step to 0 at the last epoch',
      ).choices(LR_SCHEDULES),
    )
    .option(
      '--warmup-epochs <n>',
      'linear warm-up to --lr over N epochs (fractions allowed; default 0)',
      parseNonNegativeNumber,
    )
    .option(
      '--label-smoothing <eps>',
      'cross-entropy label smoothing, 0 to < 1 (default 0)',
      parseLabelSmoothing,
    )
    .option(
      '--patience <n>',
      'stop after N epochs without a better validation top-1 (default: run every epoch)',
      parsePositiveInteger,
    )
    .option(
      '--batch-size <n>',
      'images per optimizer step (effective batch)',
      parsePositiveInteger,
      RECIPE_DEFAULTS.batchSize,
    )
    .option(
      '--accumulate <k|auto>',
      'split each batch into K micro-batches (less memory, same effective batch); auto: plan from GPU memory',
      parseAccumulate,
      RECIPE_DEFAULTS.accumulate,
    )
    .option(
      '--image-size <px>',
      'crop size fed to the model',
      parsePositiveInteger,
      RECIPE_DEFAULTS.imageSize,
    )
    .option(
      '--seed <n>',
      'seed for the head initialisation, data order and augmentation',
      parseNonNegativeInteger,
      RECIPE_DEFAULTS.seed,
    )
    .option(
      '--weights <path|none>',
      'imported ImageNet backbone, or none for random initialisation',
      DEFAULT_WEIGHTS,
    )
    .option('--backend <name>', BACKEND_CHOICES_HELP, parseBackendName, 'auto' as BackendName)
    .option('--threads <n>', 'threads for the wasm backend (default: every core)', parsePositiveInteger)
    .option(
      '--trainable <scope>',
      `what trains: ${TRAINABLE_SCOPES.join(' | ')}; the rest is frozen`,
      parseScope,
      RECIPE_DEFAULTS.trainable as TrainableScope,
    )
    .option(
      '--cache-features',
      'with a frozen trunk: run it once per image and train on cached features (CPU fine-tunes)',
      false,
    )
    .option(
      '--feature-views <k>',
      'with --cache-features: also cache K augmented views (random resized crop + flip) of each training image; each epoch draws one of the K + 1',
      parseNonNegativeInteger,
    )
    .option(
      '--feature-cache-dir <dir>',
      'where --cache-features keeps its caches (keyed by weights, data, preprocessing and views; reused by later runs)',
      DEFAULT_FEATURE_CACHE,
    )
    .option('--no-augment', 'no random resized crop / flip (centre crop only)')
    .option(
      '--resume [auto]',
      'continue the run in --out from its newest intact checkpoint; with "auto", start it when --out has none',
      parseResume,
      false,
    )
    .option('--overwrite', 'start over in an --out that holds checkpoints, deleting them', false)
    .option(
      '--keep-epochs <n>',
      'keep only the newest N epoch-NNN folders (best and latest stay)',
      parsePositiveInteger,
    )
    .option('--max-steps <n>', 'stop after N optimizer steps (resumable)', parsePositiveInteger)
    .option(
      '--limit <n>',
      'use only N images of each split, spread over its classes (quick runs)',
      parsePositiveInteger,
    )
    .option(
      '--width <multiplier>',
      'width multiplier (small models for tests)',
      parsePositiveNumber,
      RECIPE_DEFAULTS.widthMultiplier,
    )
    .option('--blocks <a,b,c,d>', 'blocks per stage', parseBlocks, [...RECIPE_DEFAULTS.blocksPerStage] as [
      number,
      number,
      number,
      number,
    ])
    .option(
      '--deterministic',
      'TF_DETERMINISTIC_OPS=1: bit-identical GPU runs (slower); wasm and cpu always are',
      false,
    )
    .addOption(
      new Option(
        '--export <kind>',
        'when the run completes, export best for ONNX Runtime: float32 (best.onnx), int8 (also best.int8.onnx, calibrated on the training split) or none',
      )
        .choices(BEST_EXPORTS)
        .default('float32'),
    )
    .option('--no-progress', 'progress as plain lines (every 5% or 30 s), no bar')
    .addHelpText(
      'after',
      `
Defaults are the recipe: Adam lr 1e-5 with L2 weight decay 5e-4 on every trainable parameter (the head
included), softmax cross-entropy, 14 epochs, batch 128, 224 px. Checkpoints go to OUT/epoch-NNN, OUT/latest
and OUT/best (by validation top-1); history.csv/json record every epoch. A completed run exports OUT/best.onnx,
which pnpm serve and pnpm evaluate then run on ONNX Runtime. Ctrl-C (or SIGTERM, which then exits 143)
finishes the current step, saves OUT/latest and prints the command that resumes.

Examples:
  $ pnpm train --prepared data/prepared/seed50 --out checkpoints/seed50            # the recipe, on a GPU
  $ pnpm train --prepared data/prepared/seed50 --out checkpoints/seed50 --resume
  $ pnpm train --prepared data/prepared/seed50 --out checkpoints/seed50 --resume auto  # a Job that restarts
  $ pnpm train --preset cpu --prepared data/prepared/food10 --out checkpoints/food10-cpu  # CPU fine-tune
  $ pnpm train --prepared data/prepared/synth --out checkpoints/tiny --weights none \\
      --width 0.125 --blocks 1,1,1,1 --image-size 64 --lr 1e-3 --epochs 3 --batch-size 16`,
    )
    .action(async (parsed: TrainFlags, command: Command) => {
      const flags = withPreset(parsed, command);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const { backend, gpu } = await startTrainingBackend({
        requested: flags.backend,
        threads: flags.threads,
        deterministic: flags.deterministic === true,
        wholeNetworkOnImages: flags.trainable === 'all' && !flags.cacheFeatures,
        log,
      });
      const backendWarning = presetBackendWarning(flags.preset, backend.name);
      if (backendWarning) log(backendWarning);
      const {
        lr,
        width,
        blocks,
        threads: _threads,
        progress: _progress,
        export: exportKind,
        mlflow,
        mlflowRegister,
        mlflowEvery,
        tensorboard,
        ...shared
      } = flags;
      const config: TrainConfig = {
        ...shared,
        learningRate: lr,
        widthMultiplier: width,
        blocksPerStage: blocks,
      };
      // Ctrl-C, and SIGTERM (docker stop, a preempted Kubernetes pod): finish the step, save latest.
      let stoppedBy: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stoppedBy) process.exit(signal === 'SIGTERM' ? 143 : 130);
        stoppedBy = signal;
        process.stderr.write(
          `\n${signal}: stopping after the current step (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to abort without saving)…\n`,
        );
      };
      const tracker = await openTrainingTrackers(
        { mlflow, mlflowRegister, mlflowEvery, tensorboard },
        config,
        backend,
        log,
      );
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let outcome: Awaited<ReturnType<typeof runTraining>> | undefined;
      try {
        outcome = await runTraining(config, {
          log,
          shouldStop: () => stoppedBy !== undefined,
          progress: progressMode(flags.progress),
          gpu,
          tracker,
        });
        const resumeCommand = `pnpm train ${withoutFlags(process.argv.slice(3), ['--resume', '--overwrite'], ['--max-steps']).join(' ')} --resume`;
        if (outcome.status === 'already-complete') {
          process.stdout.write(
            `already complete: ${flags.out} has finished all ${outcome.epochsCompleted} epochs (best val top-1 ${outcome.bestValTop1.toFixed(4)} at epoch ${outcome.bestEpoch}); nothing to train. Raise --epochs to train further.\n`,
          );
        } else if (outcome.status === 'completed') {
          await exportBest({
            runDir: flags.out,
            kind: exportKind,
            prepared: flags.prepared,
            log,
          });
          process.stdout.write(
            `done: ${outcome.epochsCompleted} epochs, best val top-1 ${outcome.bestValTop1.toFixed(4)} at epoch ${outcome.bestEpoch}; best model in ${runPaths(flags.out).best}\n`,
          );
        } else {
          // A Job's pod stopped by SIGTERM must not exit 0, or the Job counts as done and never restarts.
          if (stoppedBy === 'SIGTERM') process.exitCode = 143;
          process.stdout.write(
            `${outcome.status === 'stopped' ? 'stopped' : `reached --max-steps ${flags.maxSteps}`} after step ${outcome.globalStep}; saved ${runPaths(flags.out).latest}. Continue with:\n  ${resumeCommand}\n`,
          );
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await tracker?.finish({ status: outcome?.status ?? 'failed', runDir: flags.out });
      }
    });
  addTrackingOptions(train);
}

/** The preset's fields for every flag left at its default (a flag on the command line wins). */
export function withPreset(flags: TrainFlags, command: Command): TrainFlags {
  if (!flags.preset) return flags;
  const preset: PresetFields = TRAIN_PRESETS[flags.preset];
  const merged = { ...flags } as Record<string, unknown>;
  for (const [field, value] of Object.entries(preset)) {
    const flag = field === 'learningRate' ? 'lr' : field;
    const source = command.getOptionValueSource(flag);
    if (source === undefined || source === 'default') merged[flag] = value;
  }
  return merged as TrainFlags;
}

/** argv without the named switches and without the named options and their values (`--max-steps 3`). */
function withoutFlags(argv: readonly string[], switches: string[], options: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [name] = argv[i].split('=');
    if (switches.includes(argv[i])) {
      if (argv[i] === '--resume' && argv[i + 1] === 'auto') i++;
      continue;
    }
    if (options.includes(name)) {
      if (!argv[i].includes('=')) i++;
      continue;
    }
    kept.push(argv[i]);
  }
  return kept;
}
