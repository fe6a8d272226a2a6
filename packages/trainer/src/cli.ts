#!/usr/bin/env -S npx tsx
import { buildCommandLine, isEntryPoint } from '@food/core/build-command-line';
import { runCommandLine } from '@food/core/run-command-line';
import type { Command } from 'commander';
import { commands } from './commands/index.ts';

/** `food-trainer`: every subcommand lives in ./commands/<name>.ts; this file only wires them. */
export function buildProgram(): Command {
  return buildCommandLine({
    name: 'food-trainer',
    description: 'Prepare Food-101 data, train, evaluate and export a ResNet-50 food classifier.',
    moduleUrl: import.meta.url,
    invocation: 'pnpm trainer',
    shortcuts: { train: 'pnpm train', evaluate: 'pnpm evaluate', runs: 'pnpm runs' },
    commands,
  });
}

// Only when run as the entry point, so tests can import buildProgram.
if (isEntryPoint(import.meta.url)) await runCommandLine(buildProgram(), process.argv);
