/** The tracking tests' training runs: the real CLI on a tiny model, 2 steps per epoch. */
import { type ChildProcess, spawn } from 'node:child_process';
import type { PreparedSynth } from '../fixtures/prepared-synth.ts';
import { repoRoot } from '../helpers/run-trainer.ts';

export function tinyTrainArgs(
  synth: PreparedSynth,
  out: string,
  epochs: number,
  ...extra: string[]
): string[] {
  return [
    'train',
    ...['--prepared', synth.prepared, '--out', out, '--weights', 'none'],
    ...['--width', '0.0625', '--blocks', '1,1,1,1', '--image-size', '32', '--lr', '3e-3'],
    ...['--batch-size', '8', '--limit', '16', '--epochs', String(epochs), '--backend', 'wasm'],
    '--no-progress',
    ...extra,
  ];
}

export interface CliRun {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function runCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/trainer/src/cli.ts', ...args], {
    cwd: repoRoot,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exit = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, stderr: () => stderr, exit };
}

export async function waitForLog(run: CliRun, pattern: RegExp, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.stderr())) {
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`never logged ${pattern}:\n${run.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
