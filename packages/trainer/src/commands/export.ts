import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { resolveRunFolder } from '@food/core/checkpoint/run-folder';
import { defaultOnnxPath } from '@food/core/checkpoint/run-layout';
import { UserError } from '@food/core/errors';
import { parseNonNegativeInteger, parsePositiveInteger } from '@food/core/parse-number';
import { type Command, Option } from 'commander';
import { describeGuard, exportGuardedInt8 } from '../export/export-guarded-int8.ts';
import {
  type CalibrationSource,
  type ExportOnnxResult,
  exportCheckpointToOnnx,
} from '../export/export-onnx.ts';
import { createProgress, NO_PROGRESS_HELP, type Progress, progressMode } from '../progress.ts';

interface ExportFlags {
  checkpoint: string;
  format: 'onnx';
  out?: string;
  quantize?: 'int8';
  calibration?: string;
  calibrationImages: number;
  seed: number;
  threads: number;
  force: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description(
      'Export a checkpoint to ONNX (float32, or int8 calibrated on training images) for the ONNX Runtime engine ' +
        '(`--engine onnx`). BatchNorm is folded into the convolutions; preprocessing and labels travel as metadata.',
    )
    .requiredOption(
      '--checkpoint <dir>',
      'checkpoint folder, e.g. checkpoints/RUN/best (a run folder means its best)',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['onnx']).default('onnx'))
    .option('--out <file>', 'output file (default: beside the checkpoint, DIR.onnx or DIR.int8.onnx)')
    .addOption(
      new Option('--quantize <type>', 'static quantisation (QDQ, per-channel int8 weights)').choices([
        'int8',
      ]),
    )
    .option(
      '--calibration <dir>',
      'prepared data set whose training split calibrates --quantize, e.g. data/prepared/food10',
    )
    .option('--calibration-images <n>', 'training images used for calibration', parsePositiveInteger, 200)
    .option('--seed <n>', 'seed of the calibration sample', parseNonNegativeInteger, 0)
    .option(
      '--threads <n>',
      'ONNX Runtime threads for calibration',
      parsePositiveInteger,
      availableParallelism(),
    )
    .option(
      '--force',
      'keep the int8 export without the guard (which keeps it only if, on the validation split of --calibration, its top-1 is within 0.5 points of float32 and agrees with float32 on >= 98 % of images)',
      false,
    )
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
Serve or evaluate the result with --engine onnx (it looks for DIR.onnx unless told otherwise).
--quantize int8 runs the int8 guard on the validation split of --calibration and writes its figures and
decision to OUT.guard.json (DIR.int8.guard.json); a refused int8 file is removed (exit code 1).

Examples:
  $ pnpm trainer export --checkpoint checkpoints/food10/best --format onnx
  $ pnpm trainer export --checkpoint checkpoints/food10/best --format onnx --out model.onnx
  $ pnpm trainer export --checkpoint checkpoints/food10/best --format onnx --quantize int8 \\
      --calibration data/prepared/food10 --calibration-images 200 --out model.int8.onnx`,
    )
    .action(async (flags: ExportFlags) => exportCommand(flags));
}

async function exportCommand(flags: ExportFlags): Promise<void> {
  // Reading the checkpoint's weights needs a tfjs backend; nothing heavy runs on it.
  if (flags.force && !flags.quantize) {
    throw new UserError(
      '--force skips the int8 guard, so it needs --quantize int8; drop --force for a float32 export.',
      'EXPORT_FORCE_WITHOUT_INT8',
    );
  }
  await initBackend('cpu', () => {});
  const { dir: checkpoint, note } = await resolveRunFolder(flags.checkpoint);
  if (note) process.stderr.write(`${note}\n`);
  const out = flags.out ?? defaultOnnxPath(checkpoint, flags.quantize);
  let bar: Progress | undefined;
  let shown = 0;
  const calibration = flags.calibration
    ? { prepared: flags.calibration, images: flags.calibrationImages, seed: flags.seed }
    : undefined;
  const onCalibrationProgress = (done: number, total: number) => {
    bar ??= createProgress('calibration', total, progressMode(flags.progress));
    bar.tick(done - shown);
    shown = done;
  };
  const exported =
    flags.quantize && calibration
      ? await exportInt8(checkpoint, out, calibration, flags, onCalibrationProgress)
      : await exportCheckpointToOnnx({
          checkpoint,
          out,
          quantize: flags.quantize,
          calibration,
          intraOpThreads: flags.threads,
          onCalibrationProgress,
        });
  bar?.stop();
  if (!exported) return;
  process.stdout.write(
    `wrote ${exported.out}: ${(exported.bytes / 1e6).toFixed(1)} MB, ${exported.nodes} nodes` +
      `${exported.quantized ? ', int8 QDQ' : ', float32'}\n`,
  );
}

/** int8 behind the guard, judged against a float32 export of the same checkpoint made for the purpose. */
async function exportInt8(
  checkpoint: string,
  out: string,
  calibration: CalibrationSource,
  flags: ExportFlags,
  onCalibrationProgress: (done: number, total: number) => void,
): Promise<ExportOnnxResult | undefined> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'food-export-'));
  try {
    const float32 = path.join(scratch, 'float32.onnx');
    if (!flags.force) await exportCheckpointToOnnx({ checkpoint, out: float32 });
    const guarded = await exportGuardedInt8({
      checkpoint,
      float32,
      out,
      calibration,
      force: flags.force,
      intraOpThreads: flags.threads,
      onCalibrationProgress,
    });
    process.stderr.write(`${describeGuard(guarded)}\n`);
    if (guarded.kept) return guarded.export;
    process.stderr.write('Keep the float32 export, or pass --force to keep int8 anyway.\n');
    process.exitCode = 1;
    return undefined;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
