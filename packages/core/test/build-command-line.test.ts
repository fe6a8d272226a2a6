import { UserError } from '@food/core/errors';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildCommandLine, isEntryPoint } from '../src/build-command-line.ts';
import { runCommandLineCaptured } from '../src/testing/command-line-stderr.ts';

function registerFit(program: Command): void {
  const fit = program
    .command('fit')
    .description('fit a model')
    .requiredOption('--data <dir>', 'the data')
    .option('--epochs <n>', 'epochs', '3')
    .action(() => {
      throw new UserError('no data at /nowhere. Pass --data.');
    });
  fit
    .command('resume')
    .option('--from <dir>', 'a run')
    .action(() => {});
}

const build = () =>
  buildCommandLine({
    name: 'food-test',
    description: 'a test program',
    moduleUrl: import.meta.url,
    invocation: 'pnpm food',
    shortcuts: { fit: 'pnpm fit' },
    commands: [registerFit],
  });

/** stderr of `food-test ARGS` run through runCommandLine, and the exit code it set. */
const run = (...args: string[]) => runCommandLineCaptured(build(), args);

describe('buildCommandLine: a bad flag is two lines, not the whole help', () => {
  it('an unknown option: the error, then where the options are (the shortcut the user typed)', async () => {
    const { stderr, exitCode } = await run('fit', '--data', 'd', '--epoch', '4');
    expect(stderr).toBe(
      "error: unknown option '--epoch'\n(Did you mean --epochs?)\nRun 'pnpm fit --help' for the options and commands.\n",
    );
    expect(exitCode).toBe(1);
  });

  it('a missing required option, an unknown command, a nested command', async () => {
    expect((await run('fit')).stderr).toBe(
      "error: required option '--data <dir>' not specified\nRun 'pnpm fit --help' for the options and commands.\n",
    );
    expect((await run('fitt')).stderr).toMatch(
      /^error: unknown command 'fitt'\n.*\nRun 'pnpm food --help' for the commands\.\n$/,
    );
    expect((await run('fit', '--data', 'd', 'resume', '--to', 'x')).stderr).toBe(
      "error: unknown option '--to'\nRun 'pnpm fit resume --help' for the options.\n",
    );
  });

  it('a UserError is one `error:` line (the same spelling as commander), exit 1', async () => {
    const { stderr, exitCode } = await run('fit', '--data', 'd');
    expect(stderr).toBe('error: no data at /nowhere. Pass --data.\n');
    expect(exitCode).toBe(1);
  });
});

describe('isEntryPoint', () => {
  it('is false for a module that was imported, not run', () => {
    expect(isEntryPoint(import.meta.url)).toBe(false);
  });
});
