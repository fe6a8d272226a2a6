import { availableParallelism } from 'node:os';
import { initBackend } from '@food/core/backend';
import { resolveRunFolder } from '@food/core/checkpoint/run-folder';
import { defaultOnnxPath } from '@food/core/checkpoint/run-layout';
import { parseNonNegativeInteger, parsePositiveInteger } from '@food/core/parse-number';
import { type Command, Option } from 'commander';
import { exportCheckpointToOnnx } from '../export/export-onnx.ts';
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
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
Serve or evaluate the result with --engine onnx (it looks for DIR.onnx unless told otherwise).

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
  await initBackend('cpu', () => {});
  const { dir: checkpoint, note } = await resolveRunFolder(flags.checkpoint);
  if (note) process.stderr.write(`${note}\n`);
  const out = flags.out ?? defaultOnnxPath(checkpoint, flags.quantize);
  let bar: Progress | undefined;
  let shown = 0;
  const result = await exportCheckpointToOnnx({
    checkpoint,
    out,
    quantize: flags.quantize,
    calibration: flags.calibration
      ? { prepared: flags.calibration, images: flags.calibrationImages, seed: flags.seed }
      : undefined,
    intraOpThreads: flags.threads,
    onCalibrationProgress: (done, total) => {
      bar ??= createProgress('calibration', total, progressMode(flags.progress));
      bar.tick(done - shown);
      shown = done;
    },
  });
  bar?.stop();
  process.stdout.write(
    `wrote ${result.out}: ${(result.bytes / 1e6).toFixed(1)} MB, ${result.nodes} nodes` +
      `${result.quantized ? ', int8 QDQ' : ', float32'}\n`,
  );
}
