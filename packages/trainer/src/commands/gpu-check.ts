import { parsePositiveInteger } from '@food/core/parse-number';
import { type Command, InvalidArgumentError } from 'commander';
import { formatGpuCheck } from '../gpu-check/format-result.ts';
import { runGpuCheck } from '../gpu-check/run-gpu-check.ts';

interface GpuCheckFlags {
  json?: boolean;
  workDir?: string;
  steps?: number;
  imageSize?: number;
  width?: number;
  blocks?: [number, number, number, number];
  batchSize?: number;
  doctor: boolean;
}

export function register(program: Command): void {
  program
    .command('gpu-check')
    .description(
      'First command on a new GPU box (pnpm gpu:check): the doctor, 100 ResNet-50 steps at 224 px with images/s and peak GPU memory, save/SIGKILL/resume, and the checkpoint on the GPU against ONNX Runtime. Without a GPU: the same on the CPU, smaller.',
    )
    .option('--json', 'print the results as JSON instead of one screen of lines')
    .option(
      '--work-dir <dir>',
      'keep the synthetic data and the run here (default: a temporary folder, removed)',
    )
    .option('--steps <n>', 'training steps (default 100 on a GPU, 12 on the CPU)', parsePositiveInteger)
    .option('--image-size <px>', 'image size (default 224 on a GPU, 96 on the CPU)', parsePositiveInteger)
    .option('--width <multiplier>', 'width multiplier (default 1 on a GPU, 0.25 on the CPU)', parseWidth)
    .option('--blocks <a,b,c,d>', 'blocks per stage (default 3,4,6,3)', parseBlocks)
    .option('--batch-size <n>', 'batch size (default 128 on a GPU, 32 on the CPU)', parsePositiveInteger)
    .option('--no-doctor', 'skip the doctor (it has its own command: pnpm run doctor)')
    .action(async (flags: GpuCheckFlags) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const result = await runGpuCheck({
        overrides: overridesOf(flags),
        workDir: flags.workDir,
        log,
        ...(flags.doctor ? {} : { doctor: null }),
      });
      process.stdout.write(
        flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatGpuCheck(result)}\n`,
      );
      process.exitCode = result.ok ? 0 : 1;
    });
}

function overridesOf(flags: GpuCheckFlags) {
  const { steps, imageSize, width, blocks, batchSize } = flags;
  return Object.fromEntries(
    Object.entries({ steps, imageSize, width, blocks, batchSize }).filter(([, value]) => value !== undefined),
  );
}

function parseWidth(value: string): number {
  const width = Number(value);
  if (value.trim() === '' || !(width > 0 && width <= 1)) {
    throw new InvalidArgumentError(
      `expected a multiplier above 0 and at most 1, such as 0.25, got "${value}".`,
    );
  }
  return width;
}

/** As `pnpm train --blocks` parses it. */
function parseBlocks(value: string): [number, number, number, number] {
  const blocks = value.split(',').map(Number);
  if (blocks.length !== 4 || !blocks.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new InvalidArgumentError(`expected four positive integers such as 3,4,6,3, got "${value}".`);
  }
  return blocks as [number, number, number, number];
}
