#!/usr/bin/env -S npx tsx
/**
 * `pnpm run doctor [--gpu]` (`pnpm -s run doctor --json` for scripts): is this machine ready to train, on
 * its GPU or, without one, on the CPU? One line per check (pass, warn, fail, skip) with what it found and,
 * when not passing, the command that fixes it. Exits 1 when any check fails; a warn never does (the
 * training image runs the doctor first).
 */
import { Command } from 'commander';
import { formatReport, toReport } from './check-result.ts';
import { runDoctor } from './run-doctor.ts';

const program = new Command('doctor')
  .description(
    'Check that this machine can train: Node, install, libtensorflow, driver, each GPU, each CUDA library (dlopen), a real step, data.',
  )
  .option(
    '--gpu',
    'fail unless TensorFlow can train on a GPU (without it, a machine with no GPU is ready for CPU training)',
  )
  .option(
    '--json',
    'print { ok, checks: [{ name, status, detail, fix }] } instead of lines (through pnpm: `pnpm -s run doctor --json`)',
  )
  .option('--prepared <dir>', 'the prepared data set to check (default: any under data/prepared)')
  .option(
    '--weights <dir>',
    'the imported ImageNet weights to check (default: data/weights/resnet50-imagenet)',
  )
  .action(async (flags: { json?: boolean; gpu?: boolean; prepared?: string; weights?: string }) => {
    if (!flags.json) {
      process.stderr.write('doctor: checking (a first TensorFlow step on a new GPU can take minutes)…\n');
    }
    const checks = await runDoctor({
      prepared: flags.prepared,
      weights: flags.weights,
      requireGpu: flags.gpu,
    });
    const report = toReport(checks);
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    process.exitCode = report.ok ? 0 : 1;
  });

await program.parseAsync();
