import { runCommandLineCaptured } from '@food/core/testing/command-line-stderr';
import { buildProgram as buildServer } from '@food/server/cli';
import { buildProgram as buildTrainer } from '@food/trainer/cli';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram as buildTools } from '../src/cli.ts';

/** What `CLI ARGS` prints on stderr, run in-process through runCommandLine as the entry points run it. */
async function stderrOf(program: Command, args: string[]): Promise<string> {
  return (await runCommandLineCaptured(program, args)).stderr;
}

// The three CLIs share core's buildCommandLine: a bad flag is the error and where to get help, in the
// words the user typed (the root package.json's scripts), never the 50-70 lines of help.
describe('a bad flag in each CLI', () => {
  it.each([
    ['pnpm train', buildTrainer, ['train', '--prepared', 'p', '--bogus']],
    ['pnpm runs', buildTrainer, ['runs', '--bogus']],
    ['pnpm trainer prepare', buildTrainer, ['prepare', '--bogus']],
    ['pnpm predict', buildServer, ['predict', '--bogus', 'photo.jpg']],
    ['pnpm serve', buildServer, ['serve', '--bogus']],
    ['pnpm demo', buildTools, ['demo', '--bogus']],
  ])('%s: one error line and one help line', async (invocation, build, args) => {
    const lines = (await stderrOf(build(), args)).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: (unknown option '--bogus'|required option)/);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^Run '${invocation} --help' for the options( and commands)?\\.$`),
    );
    expect(lines.length).toBe(2);
  });
});
