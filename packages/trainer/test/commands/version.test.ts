import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runTrainer } from '../helpers/run-trainer.ts';

describe('food-trainer --version', () => {
  it("prints the trainer package's version and exits 0", async () => {
    const { version } = JSON.parse(
      await readFile(path.join(repoRoot, 'packages/trainer/package.json'), 'utf8'),
    );
    const run = await runTrainer('--version');
    expect([run.status, run.stdout]).toEqual([0, `${version}\n`]);
  });
});
