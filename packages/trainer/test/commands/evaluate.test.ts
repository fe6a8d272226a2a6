import path from 'node:path';
import type { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { register as registerEvaluate } from '../../src/commands/evaluate.ts';
import { usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { runCommandsInProcess, runTrainer } from '../helpers/run-trainer.ts';

/** The command on a program built like cli.ts builds it, in-process, output captured. */
function evaluate(...args: string[]) {
  return runCommandsInProcess([registerEvaluate], ['evaluate', ...args]);
}

describe('evaluate command', () => {
  const synth = usePreparedSynth({ classes: 2, imagesPerClass: 6 });

  it('--help shows examples', async () => {
    const { stdout, error } = await evaluate('--help');
    expect((error as CommanderError).code).toBe('commander.helpDisplayed');
    expect(stdout).toMatch(/Examples:\n\s+\$ pnpm evaluate --checkpoint /);
  });

  it.each([
    [['--checkpoint', 'c', '--prepared', 'p', '--split', 'dev'], /--split.*expected one of train, val, test/],
    [
      ['--checkpoint', 'c', '--prepared', 'p', '--batch-size', '0'],
      /--batch-size.*expected a positive integer/,
    ],
    [['--checkpoint', 'c', '--prepared', 'p', '--limit', 'many'], /--limit.*expected an integer/],
    [['--checkpoint', 'c', '--prepared', 'p', '--backend', 'tpu'], /--backend.*Unknown backend "tpu"/],
    [
      ['--checkpoint', 'c', '--prepared', 'p', '--engine', 'tensorrt'],
      /--engine.*Unknown engine "tensorrt"\. Choose one of: auto, tfjs, onnx\./,
    ],
    [['--checkpoint', 'c', '--prepared', 'p', '--tta', 'crops'], /--tta.*expected one of none, flip/],
    [['--prepared', 'p'], /required option '--checkpoint <dir>' not specified/],
    [['--checkpoint', 'c', '--prepared', 'p', '--colour'], /unknown option '--colour'/],
  ])('rejects %j with a message', async (args, message) => {
    const { stderr, error } = await evaluate(...args);
    expect((error as CommanderError).exitCode).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('exits 1 with a CheckpointError message when the checkpoint is missing', async () => {
    const missing = path.join(synth().root, 'checkpoints', 'gone', 'best');
    const { status, stderr } = await runTrainer(
      'evaluate',
      '--checkpoint',
      missing,
      '--prepared',
      synth().prepared,
      '--backend',
      'wasm',
      '--out',
      path.join(synth().root, 'report'),
    );
    expect(status).toBe(1);
    expect(stderr).toContain(`error: No checkpoint at ${missing}: it does not exist.`);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('exits 1 when the prepared folder has no manifest', async () => {
    const { status, stderr } = await runTrainer(
      'evaluate',
      '--checkpoint',
      'x',
      '--prepared',
      synth().root,
      '--backend',
      'wasm',
    );
    expect(status).toBe(1);
    expect(stderr).toMatch(/error: no manifest.json in .*Create the prepared data set first/);
  }, 60_000);
});
