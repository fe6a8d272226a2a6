#!/usr/bin/env -S npx tsx
import { packageVersion, runCommandLine } from '@food/core/run-command-line';
import { Command } from 'commander';
import { register as registerDemo } from './commands/demo.ts';

/**
 * `food-tools`: commands that drive the trainer and the server together, so neither package has to
 * know the other (`pnpm demo` runs `food-tools demo`). Each command lives in ./commands/<name>.ts.
 */
export function buildProgram(): Command {
  const program = new Command('food-tools')
    .description('Run the trainer and the server together: the end-to-end demo.')
    .version(packageVersion(import.meta.url), '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride();
  registerDemo(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

await runCommandLine(buildProgram(), process.argv);
