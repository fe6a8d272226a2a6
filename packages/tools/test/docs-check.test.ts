import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anchorsOf,
  checkPage,
  docPages,
  findLinks,
  findPnpmCommands,
  flagsByCommand,
  headingAnchor,
  loadDocsContext,
} from '../src/docs-check.ts';
import { repoRoot } from './helpers/run-tools.ts';

const context = loadDocsContext(repoRoot);
const relative = (file: string) => path.relative(repoRoot, file);

// Reads the pages and docs/cli.md only: no command is spawned. docs/cli.md itself is kept current by
// write-cli-reference.int.test.ts, so the flags checked here are the ones the programs accept.
describe('the docs', () => {
  const pages = docPages(repoRoot);

  it('cover README.md and every page under docs/', () => {
    expect(pages.map(relative)).toEqual(
      expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/benchmarks.md', 'docs/cli.md']),
    );
  });

  it('know the --help of every script that runs a program (not docs:cli, the generator, nor the install hooks)', () => {
    const notCommands = new Set(['docs:cli', 'preinstall', 'install', 'postinstall']);
    const programs = Object.entries(context.scripts)
      .filter(([name, line]) => /\btsx\s/.test(line) && !notCommands.has(name))
      .map(([name]) => name);
    const known = programs.filter(
      (name) => context.scriptCommands.has(name) || context.scriptPrograms.has(name),
    );
    expect(known).toEqual(programs);
  });

  it.each(pages.map(relative))(
    '%s: every pnpm command exists with the flags its --help lists, every relative link resolves',
    (page) => {
      const file = path.join(repoRoot, page);
      const problems = checkPage(file, readFileSync(file, 'utf8'), context);
      expect(problems.map(({ line, message }) => `${page}:${line}: ${message}`)).toEqual([]);
    },
  );
});

describe('checkPage on a broken page', () => {
  const page = path.join(repoRoot, 'docs/broken-fixture.md');
  const broken = [
    '# A page',
    '',
    'Run `pnpm trian --prepared x`, then `pnpm train --prepared x --no-such-flag` and `pnpm trainer prepair`.',
    'See [the architecture](architecture.md), [nothing](missing.md), [a heading](#a-page) and',
    '[no heading](#nowhere), [cli](cli.md#food-trainer-nope), ![a picture](images/none.png).',
    '',
    '```sh',
    'pnpm trainer prepare --data d --out o \\',
    '  --clases 10   # the typo is on the continuation line',
    'npx --yes pnpm@10.34.8 install && pnpm run doctor --jsn | jq .ok',
    '```',
  ].join('\n');

  it('names every wrong command, flag, file and anchor with its line', () => {
    expect(checkPage(page, broken, context).map(({ line, message }) => `${line}: ${message}`)).toEqual([
      '3: `pnpm trian --prepared x`: `pnpm trian` is neither a package.json script nor a pnpm command nor an installed binary',
      '3: `pnpm train --prepared x --no-such-flag`: --no-such-flag: not an option of `food-trainer train` (docs/cli.md)',
      '3: `pnpm trainer prepair`: `food-trainer prepair` is not a command (docs/cli.md has no section for it)',
      '4: link missing.md: missing.md does not exist',
      '5: link #nowhere: this page has no heading with the anchor #nowhere',
      '5: link cli.md#food-trainer-nope: cli.md has no heading with the anchor #food-trainer-nope',
      '5: link images/none.png: images/none.png does not exist',
      '8: `pnpm trainer prepare --data d --out o --clases 10`: --clases: not an option of `food-trainer prepare` (docs/cli.md)',
      '10: `pnpm run doctor --jsn`: --jsn: not an option of `pnpm doctor` (docs/cli.md)',
    ]);
  });

  it('finds nothing once the page is fixed', () => {
    const fixed = broken
      .replace('trian', 'train')
      .replace(' --no-such-flag', '')
      .replace('prepair', 'prepare')
      .replace('[nothing](missing.md), ', '')
      .replace('#nowhere', '#a-page')
      .replace('food-trainer-nope', 'food-trainer-prepare')
      .replace('images/none.png', 'images/web-ui.png')
      .replace('--clases', '--classes')
      .replace('--jsn', '--json');
    expect(checkPage(page, fixed, context)).toEqual([]);
  });
});

describe('findPnpmCommands', () => {
  it('reads shell blocks, help examples and code spans, not output or other languages', () => {
    const markdown = [
      'Use `pnpm serve --port 0` or `npm test`.',
      '```text',
      'Examples:',
      '  $ pnpm runs --json',
      'pass  install  dependencies installed',
      '```',
      '```ts',
      "const cmd = 'pnpm nothing';",
      '```',
      '```',
      'FOO=1 pnpm bench; pnpm test # pnpm lint',
      '```',
    ].join('\n');
    expect(findPnpmCommands(markdown)).toEqual([
      { line: 1, text: 'pnpm serve --port 0' },
      { line: 4, text: 'pnpm runs --json' },
      { line: 11, text: 'pnpm test' },
    ]);
  });
});

describe('links and anchors', () => {
  it('skips links inside code and absolute URLs', () => {
    const markdown = '[a](b.md) `[c](d.md)` [web](https://x.org) <img src="e.png">\n```\n[f](g.md)\n```';
    expect(findLinks(markdown).map(({ text }) => text)).toEqual(['b.md', 'e.png']);
  });

  it("makes GitHub's anchors: punctuation dropped, duplicates numbered", () => {
    expect(headingAnchor('`pnpm train --preset cpu`: 88.6 % in 28.5 minutes')).toBe(
      'pnpm-train---preset-cpu-886--in-285-minutes',
    );
    expect(headingAnchor('pnpm bench:serve')).toBe('pnpm-benchserve');
    expect([...anchorsOf('# Run\n## Run\n```\n# not a heading\n```\n')]).toEqual(['run', 'run-1']);
  });
});

describe('flagsByCommand', () => {
  it('lists the flags of the Options section only', () => {
    const reference = [
      '### food-trainer stats',
      '',
      '```text',
      'Usage: food-trainer stats [options]',
      '',
      'Options:',
      '  --prepared <dir>  prepared folder (see --other in this description)',
      '  --no-progress     plain lines',
      '  -h, --help        display help for command',
      '',
      'Examples:',
      '  $ pnpm trainer stats --example',
      '```',
    ].join('\n');
    expect(flagsByCommand(reference)).toEqual(
      new Map([['food-trainer stats', new Set(['--prepared', '--no-progress', '-h', '--help'])]]),
    );
  });
});
