import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { readTestReads } from '@food/core/checkpoint/test-reads';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerEvaluate } from '../../src/commands/evaluate.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { runCommandsInProcess } from '../helpers/run-trainer.ts';

const quiet = { log: () => {}, shouldStop: () => false, progress: false as const };

describe('pnpm evaluate --split test: the record of test reads', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 2, imagesPerClass: 8 });
  const runsDir = () => path.join(synth().root, 'runs');
  const runDir = (name: string) => path.join(runsDir(), name);

  /** `pnpm evaluate` in-process; its stderr (the warning) captured. */
  async function evaluate(checkpoint: string, split = 'test') {
    let stderr = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      stderr += String(text);
      return true;
    });
    try {
      const { error } = await runCommandsInProcess(
        [registerEvaluate],
        [
          'evaluate',
          ...['--checkpoint', checkpoint, '--prepared', synth().prepared, '--split', split],
          ...['--backend', 'wasm', '--no-progress'],
          ...[
            '--out',
            path.join(
              synth().root,
              'reports',
              `${path.basename(path.dirname(checkpoint))}-${path.basename(checkpoint)}-${split}`,
            ),
          ],
        ],
      );
      if (error) throw error;
    } finally {
      write.mockRestore();
    }
    return stderr;
  }

  beforeAll(async () => {
    // Real runs, written by the trainer: two of one recipe and seed in two folders, one of another seed.
    const run = (name: string, seed: number) =>
      runTraining(
        tinyTrainConfig(synth(), path.join('runs', name), { epochs: 1, augment: false, seed }),
        quiet,
      );
    await run('first', 1);
    await run('again', 1);
    await run('other-seed', 2);
  }, 120_000);

  it('records the first read of a run without a warning, and warns on a second read of the same run', async () => {
    expect(await evaluate(path.join(runDir('first'), 'best'))).not.toMatch(/warning/);
    const [read] = await readTestReads(runDir('first'));
    expect(read).toMatchObject({ checkpoint: 'best', tta: 'none', limit: null });
    expect(read!.report).toMatch(/first-best-test$/);

    // Another epoch of the same run: choosing between them would select on test.
    const second = await evaluate(path.join(runDir('first'), 'epoch-001'));
    expect(second).toContain(
      `warning: test was already read 1 time for the recipe and seed of ${path.join(runDir('first'), 'epoch-001')}: ${path.join(runDir('first'), 'best')} on ${read!.evaluatedAt} (tta none)`,
    );
    expect(second).toMatch(/choose epochs, TTA and recipes on validation/);
    expect((await readTestReads(runDir('first'))).map((entry) => entry.checkpoint)).toEqual([
      'best',
      'epoch-001',
    ]);
  }, 120_000);

  it('warns for a run beside it with the same recipe and seed, not for another seed nor for validation', async () => {
    expect(await evaluate(path.join(runDir('again'), 'best'))).toMatch(
      /warning: test was already read 2 times for the recipe and seed of .*again.best/,
    );
    expect(await evaluate(path.join(runDir('other-seed'), 'best'))).not.toMatch(/warning/);
    expect(await readTestReads(runDir('other-seed'))).toHaveLength(1);
    await evaluate(path.join(runDir('other-seed'), 'best'), 'val');
    expect(await readTestReads(runDir('other-seed'))).toHaveLength(1);
  }, 120_000);

  it('names a damaged record and what to do', async () => {
    const file = path.join(runDir('other-seed'), 'test-reads.json');
    const kept = await readFile(file, 'utf8');
    await writeFile(file, '{ "not": "a list" }');
    await expect(readTestReads(runDir('other-seed'))).rejects.toThrow(
      /test-reads\.json is not a list of test reads .*restore it from a backup, or delete it/,
    );
    await writeFile(file, kept);
  });
});
