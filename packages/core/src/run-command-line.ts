/**
 * How every command line (food-trainer, food-server, food-tools) ends: the exit code and message for each
 * failure. In core although it is CLI code: all three share it, and trainer and server share only core.
 */
import { readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { UserError } from './errors.ts';

/**
 * Parses `argv` with `program` (built with `exitOverride()`) and runs its action. A commander error
 * (bad flag, --help) was already printed by commander: only its exit code is set. A UserError (bad
 * input, missing file) prints `error: message` and exits 1. Anything else is a bug and throws with
 * its stack.
 */
export async function runCommandLine(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof UserError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

/** `--version`: the version in the package.json above the CLI module at `moduleUrl`. */
export function packageVersion(moduleUrl: string): string {
  const file = new URL('../package.json', moduleUrl);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
