import type { Command } from 'commander';
import { runCommandLine } from '../run-command-line.ts';

export interface CommandLineResult {
  stderr: string;
  /** The exit code runCommandLine set (undefined: it set none, the process would exit 0). */
  exitCode: number | undefined;
}

/**
 * Runs `PROGRAM ARGS` in-process through runCommandLine, as the CLIs' entry points run it, and returns
 * what it wrote to stderr and the exit code it set. process.stderr.write and process.exitCode are put
 * back afterwards, so a failing command does not fail the test process.
 */
export async function runCommandLineCaptured(program: Command, args: string[]): Promise<CommandLineResult> {
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((text: string | Uint8Array) => {
    stderr += String(text);
    return true;
  }) as typeof process.stderr.write;
  const exitCode = process.exitCode;
  try {
    await runCommandLine(program, ['node', program.name(), ...args]);
    return { stderr, exitCode: process.exitCode as number | undefined };
  } finally {
    process.stderr.write = write;
    process.exitCode = exitCode;
  }
}
