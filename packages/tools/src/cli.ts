#!/usr/bin/env -S npx tsx
import { buildCommandLine, isEntryPoint } from '@food/core/build-command-line';
import { runCommandLine } from '@food/core/run-command-line';
import type { Command } from 'commander';
import { register as registerDemo } from './commands/demo.ts';

/**
 * `food-tools`: commands that drive the trainer and the server together, so neither package has to
 * know the other (`pnpm demo` runs `food-tools demo`). Each command lives in ./commands/<name>.ts.
 */
export function buildProgram(): Command {
  return buildCommandLine({
    name: 'food-tools',
    description: 'Run the trainer and the server together: the end-to-end demo.',
    moduleUrl: import.meta.url,
    invocation: 'pnpm exec tsx packages/tools/src/cli.ts',
    shortcuts: { demo: 'pnpm demo' },
    commands: [registerDemo],
  });
}

// Only when run as the entry point, so tests can import buildProgram.
if (isEntryPoint(import.meta.url)) await runCommandLine(buildProgram(), process.argv);
