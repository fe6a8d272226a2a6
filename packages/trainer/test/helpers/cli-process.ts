/** The trainer CLI as a child process the test can watch and signal (kill -9, SIGTERM, a log line). */
import { type ChildProcess, spawn } from 'node:child_process';
import { repoRoot } from './run-trainer.ts';

export interface CliRun {
  child: ChildProcess;
  /** Everything the process has written to stderr so far. */
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `pnpm trainer ARGS` (cli.ts under tsx) from the repository root without waiting for it. */
export function startCli(args: string[]): CliRun {
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

/**
 * Resolves once stderr matches `pattern`; throws if the process exits first or the time runs out. It
 * looks every 5 ms so that a kill that follows lands close to the logged moment.
 */
export async function waitForLog(run: CliRun, pattern: RegExp, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.stderr())) {
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`never logged ${pattern}:\n${run.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
