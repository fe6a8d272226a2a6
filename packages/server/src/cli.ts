#!/usr/bin/env -S npx tsx
import { pathToFileURL } from 'node:url';
import { packageVersion, runCommandLine } from '@food/core/run-command-line';
import { Command } from 'commander';
import { register as registerLoadTest } from './commands/load-test.ts';
import { register as registerPredict } from './commands/predict.ts';
import { register as registerServe } from './commands/serve.ts';

/**
 * `food-server`: serve a checkpoint, classify files against a server, load-test it. Each command lives
 * in ./commands/<name>.ts; this file only wires them.
 */
export function buildProgram(): Command {
  const program = new Command('food-server')
    .description('Serve a food classifier checkpoint over HTTP, and classify photos with it.')
    .version(packageVersion(import.meta.url), '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride();
  for (const register of [registerServe, registerPredict, registerLoadTest]) register(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

// Only when run as the entry point, so tests can import buildProgram.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCommandLine(buildProgram(), process.argv);
}
