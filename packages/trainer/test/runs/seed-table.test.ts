import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { readEvaluationMetrics } from '@food/core/report/report-metrics-file';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerEvaluate } from '../../src/commands/evaluate.ts';
import { register as registerRuns } from '../../src/commands/runs.ts';
import { readRuns } from '../../src/runs/read-runs.ts';
import { formatSeedTable, groupBySeed, spreadOf } from '../../src/runs/seed-table.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { tinyTrainConfig, usePreparedSynth } from '../fixtures/prepared-synth.ts';
import { runCommandsInProcess } from '../helpers/run-trainer.ts';

const quiet = { log: () => {}, shouldStop: () => false, progress: false as const };

describe('spreadOf', () => {
  it('gives the mean and the sample standard deviation (n − 1), none for one value', () => {
    const spread = spreadOf([0.8, 0.9, 1.0])!;
    expect(spread.mean).toBeCloseTo(0.9, 12);
    expect(spread.sd).toBeCloseTo(0.1, 12);
    expect(spread.n).toBe(3);
    expect(spreadOf([0.5])).toEqual({ mean: 0.5, sd: null, n: 1 });
    expect(spreadOf([])).toBeNull();
  });
});

describe('pnpm runs: the seed table', () => {
  beforeAll(async () => {
    await initBackend('wasm', () => {});
  });
  const synth = usePreparedSynth({ classes: 2, imagesPerClass: 8 });
  const runsDir = () => path.join(synth().root, 'runs');
  const reportsDir = () => path.join(synth().root, 'reports');
  const report = (name: string) => path.join(reportsDir(), `${name}-test`);

  beforeAll(async () => {
    // Real runs and reports, written by the trainer and `pnpm evaluate`: one recipe over three seeds (the
    // third not evaluated on test), and another recipe (another learning rate) run once.
    const train = (name: string, seed: number, learningRate = 1e-2) =>
      runTraining(
        tinyTrainConfig(synth(), path.join('runs', name), { epochs: 1, augment: false, seed, learningRate }),
        quiet,
      );
    await train('a-seed1', 1);
    await train('a-seed2', 2);
    await train('a-seed3', 3);
    await train('b-seed1', 1, 1e-3);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const name of ['a-seed1', 'a-seed2', 'b-seed1']) {
        const { error } = await runCommandsInProcess(
          [registerEvaluate],
          [
            'evaluate',
            ...['--checkpoint', path.join(runsDir(), name, 'best'), '--prepared', synth().prepared],
            ...['--backend', 'wasm', '--no-progress', '--out', report(name)],
          ],
        );
        if (error) throw error;
      }
    } finally {
      stderr.mockRestore();
    }
  }, 180_000);

  it('groups the runs that differ only in --seed, with mean ± sd of the test reports and validation', async () => {
    const recipes = groupBySeed(await readRuns(runsDir(), reportsDir()));
    expect(recipes.map((recipe) => recipe.runs.map((run) => run.name))).toEqual([
      ['a-seed1', 'a-seed2', 'a-seed3'],
      ['b-seed1'],
    ]);
    const [a, b] = recipes;
    expect(a!.seeds).toEqual([1, 2, 3]);
    // The figures are the reports' own, read back here by the reports' reader.
    const metrics = await Promise.all(
      ['a-seed1', 'a-seed2'].map((name) => readEvaluationMetrics(report(name))),
    );
    expect(a!.testTop1).toEqual(spreadOf(metrics.map((m) => m.accuracy)));
    expect(a!.testTop5).toEqual(spreadOf(metrics.map((m) => m.top5Accuracy)));
    expect(a!.testMacroF1).toEqual(spreadOf(metrics.map((m) => m.f1.macro)));
    expect(a!.testTop1!.n).toBe(2);
    expect(a!.bestValTop1).toEqual(spreadOf(a!.runs.map((run) => run.bestValTop1!)));
    expect(a!.bestValTop1!.n).toBe(3);
    // Wall time: the epochs and the start-up before the first step, both on the run's record.
    expect(a!.times).toEqual(a!.runs.map((run) => ({ seconds: run.wallSeconds, wall: true })));
    for (const run of a!.runs) expect(run.wallSeconds!).toBeGreaterThan(run.trainingSeconds);
    expect(a!.testReads).toBe(2);
    expect(b!.testTop1).toEqual({ mean: expect.any(Number), sd: null, n: 1 });

    const lines = formatSeedTable(recipes).trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^runs\s+seeds\s+test top-1\s+test top-5\s+test macro F1\s+best val top-1\s+wall time per run\s+test reads\s+recipe$/,
    );
    const top1 = a!.testTop1!;
    expect(lines[1]).toContain(`${(top1.mean * 100).toFixed(2)} ± ${(top1.sd! * 100).toFixed(2)}% (2 of 3)`);
    expect(lines[1]).toMatch(/^a-seed1, a-seed2, a-seed3\s+1,2,3\s.*\s2\s+learningRate=0.01$/);
    expect(lines[2]).toMatch(/^b-seed1\s+1\s.*\s1\s+learningRate=0.001$/);
  });

  it('is printed by pnpm runs below the runs table', async () => {
    const { stdout, error } = await runCommandsInProcess(
      [registerRuns],
      ['runs', '--dir', runsDir(), '--reports', reportsDir()],
    );
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/\nseeds of each recipe \(mean ± sd over the runs\):\nruns\s+seeds\s+test top-1/);
    expect(stdout).toMatch(/\na-seed1, a-seed2, a-seed3\s+1,2,3\s/);
  });
});
