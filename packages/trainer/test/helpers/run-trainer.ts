import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { vi } from 'vitest';

export const repoRoot = path.resolve(import.meta.dirname, '../../../..');

export interface TrainerRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a user would (`pnpm trainer ARGS` runs this), from the repository root. */
export function runTrainer(...args: string[]): Promise<TrainerRun> {
  return runCliEntry('packages/trainer/src/cli.ts', ...args);
}

/** `node --import tsx ENTRY ARGS` from the repository root, as the root package.json's scripts run a CLI. */
export function runCliEntry(entry: string, ...args: string[]): Promise<TrainerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
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
