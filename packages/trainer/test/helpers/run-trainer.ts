import path from 'node:path';
import { runTsCli } from '@food/core/spawn-captured';
import { Command } from 'commander';
import { vi } from 'vitest';

export const repoRoot = path.resolve(import.meta.dirname, '../../../..');

export interface TrainerRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a user would (`pnpm trainer ARGS` runs this), from the repository root. */
export async function runTrainer(...args: string[]): Promise<TrainerRun> {
  const run = await runTsCli('packages/trainer/src/cli.ts', args, { cwd: repoRoot });
  if (run.error) throw run.error;
  return { status: run.code, stdout: run.stdout, stderr: run.stderr };
}

export interface InProcessRun {
  stdout: string;
  stderr: string;
  error?: unknown;
}

/**
 * The given commands on a program built like cli.ts builds it, run in-process (fast), with commander's
 * output and process.stdout captured; a thrown error is returned rather than thrown.
 */
export async function runCommandsInProcess(
  registers: ReadonlyArray<(program: Command) => void>,
  args: string[],
): Promise<InProcessRun> {
  const captured = { stdout: '', stderr: '' };
  const program = new Command('food-trainer').exitOverride();
  for (const register of registers) register(program);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({
      writeOut: (text) => {
        captured.stdout += text;
      },
      writeErr: (text) => {
        captured.stderr += text;
      },
    });
  }
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
    captured.stdout += String(text);
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return captured;
  } catch (error) {
    return { ...captured, error };
  } finally {
    write.mockRestore();
  }
}
