import { runPaths } from '@food/core/checkpoint/run-layout';
import { RUN_SETTINGS } from '@food/core/checkpoint/run-settings';
import { parsePositiveInteger } from '@food/core/parse-number';
import { type Command, Option } from 'commander';
import { BEST_EXPORTS, type BestExport, exportBest } from '../export/export-best.ts';
import { NO_PROGRESS_HELP, progressMode } from '../progress.ts';
import { addTrackingOptions, openTrainingTrackers, type TrackingFlags } from '../tracking/open-trackers.ts';
import { PRESET_SUMMARIES, presetBackendWarning, TRAIN_PRESETS } from '../train/presets.ts';
import type { TrainConfig } from '../train/run-config.ts';
import { runTraining, type TrainingOutcome } from '../train/run-training.ts';
import { startTrainingBackend } from '../train/start-backend.ts';
import { addSettingOptions, presetFlags, runConfigOf } from './train-options.ts';

export const DEFAULT_WEIGHTS: string = RUN_SETTINGS.weights.default;

/** The flags of `pnpm train` that are not settings of the run (they are not saved in its config). */
interface CommandFlags {
  preset?: keyof typeof TRAIN_PRESETS;
  threads?: number;
  progress: boolean;
  export: BestExport;
  /** The tracking flags (tracking/open-trackers.ts): where to report the run, not settings of it. */
  mlflow?: TrackingFlags['mlflow'];
  mlflowRegister?: TrackingFlags['mlflowRegister'];
  mlflowEvery?: TrackingFlags['mlflowEvery'];
  tensorboard?: TrackingFlags['tensorboard'];
}

const AFTER_HELP = `
Defaults are the recipe: Adam lr 1e-5 with L2 weight decay 5e-4 on every trainable parameter (the head
included), softmax cross-entropy, 14 epochs, batch 128, 224 px. Checkpoints go to OUT/epoch-NNN, OUT/latest
and OUT/best (by validation top-1); history.csv/json record every epoch. A completed run exports OUT/best.onnx and
OUT/best.int8.onnx (kept only if the int8 guard passes it on the validation split: top-1 within 0.5 points of
float32, top-1 agreement >= 98 %; OUT/best.int8.guard.json records both figures), which pnpm serve and
pnpm evaluate then run on ONNX Runtime. Ctrl-C (or SIGTERM, which then exits 143)
finishes the current step, saves OUT/latest and prints the command that resumes.

Examples:
  $ pnpm train --prepared data/prepared/seed50 --out checkpoints/seed50            # the recipe, on a GPU
  $ pnpm train --prepared data/prepared/seed50 --out checkpoints/seed50 --resume
  $ pnpm train --prepared data/prepared/seed50 --out checkpoints/seed50 --resume auto  # a Job that restarts
  $ pnpm train --preset cpu --prepared data/prepared/food10 --out checkpoints/food10-cpu  # CPU fine-tune
  $ pnpm train --prepared data/prepared/synth --out checkpoints/tiny --weights none \\
      --width 0.125 --blocks 1,1,1,1 --image-size 64 --lr 1e-3 --epochs 3 --batch-size 16`;

/** `--preset`: each preset's purpose and the flags it stands for. */
function presetOption(): Option {
  const presets = Object.entries(TRAIN_PRESETS).map(
    ([name, fields]) =>
      `${name}: ${PRESET_SUMMARIES[name as keyof typeof TRAIN_PRESETS]} (${presetFlags(fields)})`,
  );
  return new Option(
    '--preset <name>',
    `a measured recipe (docs/results.md) whose settings replace the defaults; flags you give still win. ${presets.join('; ')}`,
  ).choices(Object.keys(TRAIN_PRESETS));
}

export function register(program: Command): void {
  const command = program
    .command('train')
    .description('Fine-tune ResNet-50 (ImageNet backbone, new Glorot-normal head) on a prepared split.');
  // The settings' options come from the table (core/checkpoint/run-settings.ts), in its order.
  addSettingOptions(command, [
    { after: 'out', option: presetOption() },
    {
      after: 'backend',
      option: new Option('--threads <n>', 'threads for the wasm backend (default: every core)').argParser(
        parsePositiveInteger,
      ),
    },
    {
      after: 'deterministic',
      option: new Option(
        '--export <kind>',
        'when the run completes, export best for ONNX Runtime: int8 (best.onnx, and best.int8.onnx calibrated on the training split, kept only if on the validation split its top-1 is within 0.5 points of float32 and agrees with it on >= 98 % of images; best.int8.guard.json records why), float32 (best.onnx) or none',
      )
        .choices(BEST_EXPORTS)
        .default('int8'),
    },
    {
      after: 'deterministic',
      option: new Option('--no-progress', NO_PROGRESS_HELP),
    },
  ]);
  addTrackingOptions(command);
  command.addHelpText('after', AFTER_HELP).action(trainCommand);
}

/** `pnpm train`: the run config from the flags, the backend, the run, then what happened and what next. */
async function trainCommand(flags: CommandFlags, command: Command): Promise<void> {
  const config = runConfigOf(command, flags.preset);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { backend, gpu } = await startTrainingBackend({
    requested: config.backend,
    threads: flags.threads,
    deterministic: config.deterministic,
    wholeNetworkOnImages: config.trainable === 'all' && !config.cacheFeatures,
    log,
  });
  const backendWarning = presetBackendWarning(flags.preset, backend.name);
  if (backendWarning) log(backendWarning);
  const tracker = await openTrainingTrackers(flags, config, backend, log);
  const signals = stopOnSignals();
  let outcome: TrainingOutcome | undefined;
  try {
    outcome = await runTraining(config, {
      log,
      shouldStop: () => signals.stoppedBy() !== undefined,
      progress: progressMode(flags.progress),
      gpu,
      tracker,
    });
    if (outcome.status === 'completed') {
      await exportBest({ runDir: config.out, kind: flags.export, prepared: config.prepared, log });
    }
    // A Job's pod stopped by SIGTERM must not exit 0, or the Job counts as done and never restarts.
    const interrupted = outcome.status === 'stopped' || outcome.status === 'max-steps';
    if (interrupted && signals.stoppedBy() === 'SIGTERM') process.exitCode = 143;
    process.stdout.write(outcomeLine(outcome, config));
  } finally {
    signals.release();
    await tracker?.finish({ status: outcome?.status ?? 'failed', runDir: config.out });
  }
}

/**
 * Ctrl-C, and SIGTERM (docker stop, a preempted Kubernetes pod): finish the step, save latest. A second
 * signal aborts without saving.
 */
function stopOnSignals(): { stoppedBy: () => NodeJS.Signals | undefined; release: () => void } {
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) process.exit(signal === 'SIGTERM' ? 143 : 130);
    stoppedBy = signal;
    process.stderr.write(
      `\n${signal}: stopping after the current step (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to abort without saving)…\n`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stoppedBy: () => stoppedBy,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** What the run did, and for a stopped one the command that continues it. */
function outcomeLine(outcome: TrainingOutcome, config: TrainConfig): string {
  if (outcome.status === 'already-complete') {
    return `already complete: ${config.out} has finished all ${outcome.epochsCompleted} epochs (best val top-1 ${outcome.bestValTop1.toFixed(4)} at epoch ${outcome.bestEpoch}); nothing to train. Raise --epochs to train further.\n`;
  }
  if (outcome.status === 'completed') {
    return `done: ${outcome.epochsCompleted} epochs, best val top-1 ${outcome.bestValTop1.toFixed(4)} at epoch ${outcome.bestEpoch}; best model in ${runPaths(config.out).best}\n`;
  }
  const resumeCommand = `pnpm train ${withoutFlags(process.argv.slice(3), ['--resume', '--overwrite'], ['--max-steps']).join(' ')} --resume`;
  return `${outcome.status === 'stopped' ? 'stopped' : `reached --max-steps ${config.maxSteps}`} after step ${outcome.globalStep}; saved ${runPaths(config.out).latest}. Continue with:\n  ${resumeCommand}\n`;
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
