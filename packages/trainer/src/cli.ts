#!/usr/bin/env -S npx tsx
import { packageVersion, runCommandLine } from '@food/core/run-command-line';
import { Command } from 'commander';
import { commands } from './commands/index.ts';

/** `food-trainer`: every subcommand lives in ./commands/<name>.ts; this file only wires them. */
export function buildProgram(): Command {
  const program = new Command('food-trainer')
    .description('Prepare Food-101 data, train, evaluate and export a ResNet-50 food classifier.')
    .version(packageVersion(import.meta.url), '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride();
  for (const register of commands) register(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

await runCommandLine(buildProgram(), process.argv);
