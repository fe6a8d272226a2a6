#!/usr/bin/env -S npx tsx
import { buildCommandLine, isEntryPoint } from '@food/core/build-command-line';
import { runCommandLine } from '@food/core/run-command-line';
import type { Command } from 'commander';
import { register as registerLoadTest } from './commands/load-test.ts';
import { register as registerPredict } from './commands/predict.ts';
import { register as registerServe } from './commands/serve.ts';

/**
 * `food-server`: serve a checkpoint, classify files against a server, load-test it. Each command lives
 * in ./commands/<name>.ts; this file only wires them.
 */
export function buildProgram(): Command {
  return buildCommandLine({
    name: 'food-server',
    description: 'Serve a food classifier checkpoint over HTTP, and classify photos with it.',
    moduleUrl: import.meta.url,
    invocation: 'pnpm exec tsx packages/server/src/cli.ts',
    shortcuts: { serve: 'pnpm serve', predict: 'pnpm predict' },
    commands: [registerServe, registerPredict, registerLoadTest],
  });
}

// Only when run as the entry point, so tests can import buildProgram.
if (isEntryPoint(import.meta.url)) await runCommandLine(buildProgram(), process.argv);
