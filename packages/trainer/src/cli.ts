#!/usr/bin/env -S npx tsx
import { UserError } from '@food/core/errors';
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.ts';

/** `food-trainer`: every subcommand lives in ./commands/<name>.ts; this file only wires them. */
export function buildProgram(): Command {
  const program = new Command('food-trainer')
    .description('Prepare Food-101 data, train, evaluate and export a ResNet-50 food classifier.')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride();
  for (const register of commands) register(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help text); only the exit code is left.
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

await main(process.argv);
