import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCliReference } from '../src/write-cli-reference.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

// Spawns every command's --help (a dozen Node processes that load TensorFlow.js): about a minute.
describe('docs/cli.md', () => {
  it('is the current --help of every command (run `pnpm docs:cli` after changing a flag)', async () => {
    const committed = await readFile(path.join(repoRoot, 'docs/cli.md'), 'utf8');
    const current = await generateCliReference();
    expect(current, 'docs/cli.md is stale: run `pnpm docs:cli` and commit the result').toBe(committed);
  });
});
