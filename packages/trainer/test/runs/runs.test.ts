import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@food/core/backend';
import { UserError } from '@food/core/errors';
import { readEvaluationMetrics } from '@food/core/report/report-metrics-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/commands/runs.ts';
import { runEvaluation } from '../../src/evaluate/run-evaluation.ts';
import { comparisonCurvesSvg, timeToAccuracySvg } from '../../src/runs/compare-charts.ts';
import { renderComparePage } from '../../src/runs/compare-html.ts';
import { differingSettings, type RunSummary, readRuns, readTestReports } from '../../src/runs/read-runs.ts';
import { duration, formatRunsTable } from '../../src/runs/runs-table.ts';
import { readHistory } from '../../src/train/history.ts';
import type { TrainConfig } from '../../src/train/run-config.ts';
import { runTraining } from '../../src/train/run-training.ts';
import { createPreparedSynth, type PreparedSynth, tinyTrainConfig } from '../fixtures/prepared-synth.ts';
import { runCommandsInProcess } from '../helpers/run-trainer.ts';

const quiet = { log: () => {}, shouldStop: () => false, progress: false };

let synth: PreparedSynth;
let runsDir: string;
let reportsDir: string;
let runs: RunSummary[];

/** Three real runs (the trainer writes them): two complete ones that differ in learning rate, one stopped early. */
beforeAll(async () => {
  await initBackend('wasm', () => {});
  synth = await createPreparedSynth({ classes: 3, imagesPerClass: 12 });
  runsDir = path.join(synth.root, 'checkpoints');
  reportsDir = path.join(synth.root, 'reports');
  const config = (name: string, overrides: Partial<TrainConfig>): TrainConfig =>
    tinyTrainConfig(synth, path.join('checkpoints', name), {
      learningRate: 1e-2,
      augment: false,
      ...overrides,
    });
  await runTraining(config('fast', {}), quiet);
  await runTraining(config('slow', { learningRate: 1e-3 }), quiet);
  await runTraining(config('stopped', { maxSteps: 1 }), quiet);
  // Not runs: a folder without a latest/ checkpoint, and a file.
  await mkdir(path.join(runsDir, 'notes'));
  await writeFile(path.join(runsDir, 'README.md'), 'runs go here\n');
  await runEvaluation(
    {
      checkpoint: path.join(runsDir, 'fast', 'best'),
      prepared: synth.prepared,
      split: 'test',
      out: path.join(reportsDir, 'fast-test'),
      batchSize: 8,
      latencySamples: 2,
    },
    { log: () => {}, progress: false },
  );
  runs = await readRuns(runsDir, reportsDir);
}, 240_000);

afterAll(async () => {
  if (synth) await rm(synth.root, { recursive: true, force: true });
});

const runNamed = (name: string) => runs.find((run) => run.name === name)!;

describe('readRuns', () => {
  it('lists the folders with a latest/ checkpoint, by name', () => {
    expect(runs.map((run) => run.name)).toEqual(['fast', 'slow', 'stopped']);
  });

  it("reads epochs, the best epoch and the training time from the run's own files", async () => {
    const fast = runNamed('fast');
    const history = await readHistory(path.join(runsDir, 'fast'));
    expect(fast).toMatchObject({ epochsDone: 2, epochsPlanned: 2, stepsIntoNextEpoch: 0 });
    const best = history.reduce((a, b) => (b.valTop1 > a.valTop1 ? b : a));
    expect(fast.bestValTop1).toBe(best.valTop1);
    expect(fast.bestEpoch).toBe(best.epoch);
    expect(fast.trainingSeconds).toBeCloseTo(
      history.reduce((sum, record) => sum + record.seconds, 0),
      9,
    );
    expect(fast.config).toMatchObject({ learningRate: 1e-2, epochs: 2 });
  });

  it('a run stopped inside its first epoch has no best yet, and says how far it got', () => {
    expect(runNamed('stopped')).toMatchObject({
      epochsDone: 0,
      epochsPlanned: 2,
      stepsIntoNextEpoch: 1,
      bestValTop1: null,
      bestEpoch: null,
      trainingSeconds: 0,
    });
  });

  it("takes test top-1 from the evaluate report about the run's checkpoint, and only that run's", async () => {
    const metrics = await readEvaluationMetrics(path.join(reportsDir, 'fast-test'));
    expect(runNamed('fast').test).toMatchObject({
      top1: metrics.accuracy,
      top5: metrics.top5Accuracy,
      macroF1: metrics.f1.macro,
      numImages: metrics.numImages,
      dir: path.join(reportsDir, 'fast-test'),
    });
    expect(runNamed('slow').test).toBeNull();
  });

  it('names the settings that differ, leaving out --out and --resume', () => {
    expect(differingSettings(runs).sort()).toEqual(['learningRate', 'maxSteps']);
    expect(differingSettings([runNamed('fast'), runNamed('slow')])).toEqual(['learningRate']);
  });

  it('leaves out where and how a run was started, and an absent setting equals its default', () => {
    const config = { ...runNamed('fast').config };
    for (const key of ['featureCacheDir', 'overwrite', 'keepEpochs', 'loaderConcurrency', 'lrSchedule']) {
      delete config[key];
    }
    const here: RunSummary = { ...runNamed('fast'), config };
    const elsewhere: RunSummary = {
      ...here,
      name: 'elsewhere',
      config: {
        ...config,
        featureCacheDir: 'data/feature-cache',
        overwrite: true,
        keepEpochs: 1,
        loaderConcurrency: 4,
        lrSchedule: 'constant',
        warmupEpochs: 0,
        labelSmoothing: 0,
      },
    };
    expect(differingSettings([here, elsewhere])).toEqual([]);
    const warmer = { ...elsewhere, config: { ...elsewhere.config, warmupEpochs: 1 } };
    expect(differingSettings([here, warmer])).toEqual(['warmupEpochs']);
  });

  it("skips a report folder without metrics.json, and names one whose metrics.json is a checkpoint's", async () => {
    const others = path.join(synth.root, 'other-reports');
    await mkdir(path.join(others, 'empty'), { recursive: true });
    expect(await readTestReports(others)).toEqual([]);
    await mkdir(path.join(others, 'copied-checkpoint'));
    const checkpointMetrics = path.join(runsDir, 'fast', 'best', 'metrics.json');
    await writeFile(
      path.join(others, 'copied-checkpoint', 'metrics.json'),
      await readFile(checkpointMetrics),
    );
    await expect(readTestReports(others)).rejects.toThrow(
      `${path.join(others, 'copied-checkpoint', 'metrics.json')} is a checkpoint's metrics.json`,
    );
  });

  it('says what to do when the folder does not exist', async () => {
    await expect(readRuns(path.join(synth.root, 'nowhere'), reportsDir)).rejects.toThrow(UserError);
    await expect(readRuns(path.join(synth.root, 'nowhere'), reportsDir)).rejects.toThrow(/--dir/);
  });
});

describe('the runs table', () => {
  it('has a line per run with epochs, best and test top-1, time and the differing settings', () => {
    const lines = formatRunsTable(runs).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run\s+epochs\s+best val top-1\s+test top-1\s+time\s+differing settings$/);
    const fast = runNamed('fast');
    expect(lines[1]).toMatch(
      new RegExp(
        `^fast\\s+2/2\\s+${(fast.bestValTop1! * 100).toFixed(1)}% \\(epoch ${fast.bestEpoch}\\)\\s+${(fast.test!.top1 * 100).toFixed(1)}%\\s+.+\\s+learningRate=0.01 maxSteps=–$`,
      ),
    );
    expect(lines[2]).toMatch(/^slow\s+2\/2\s+.*\s–\s+.*learningRate=0.001 maxSteps=–$/);
    expect(lines[3]).toMatch(/^stopped\s+0\/2 \(\+1 steps\)\s+–\s+–\s+0 s\s+learningRate=0.01 maxSteps=1$/);
  });

  it('formats durations for people', () => {
    expect([duration(42.4), duration(185), duration(3725)]).toEqual(['42 s', '3 min 05 s', '1 h 02 min']);
  });
});

describe('the comparison page', () => {
  it('overlays the curves as SVG, marks the differing settings and shows the test metrics, with no script or network', async () => {
    const compared = [runNamed('fast'), runNamed('slow')];
    const svg = await comparisonCurvesSvg(compared);
    expect(svg).toMatch(/^<svg/);
    // One line per run and split in each of the two panels.
    expect(svg.match(/aria-roledescription="line mark container"/g)).toHaveLength(2 * 2 * 2);
    const timeToAccuracy = await timeToAccuracySvg(compared);
    const page = renderComparePage(compared, { curves: svg, timeToAccuracy });
    expect(page).toContain(svg);
    expect(page).toContain(timeToAccuracy);
    expect(page).toMatch(
      /<tr class="differs"><th scope="row"><span class="mark" title="differs">≠<\/span> learningRate<\/th>/,
    );
    expect(page).toMatch(/<tr><th scope="row">seed<\/th>/);
    expect(page).toContain(`${(runNamed('fast').test!.top1 * 100).toFixed(1)}%`);
    expect(page).toContain('no test report');
    expect(page).not.toMatch(/<script|<link|src="http/);
  });
});

describe('the time-to-accuracy chart', () => {
  it("puts each epoch's validation top-1 at the minutes the run had spent, setup included", async () => {
    const fast = runNamed('fast');
    const svg = await timeToAccuracySvg([fast, runNamed('slow'), runNamed('stopped')]);
    // A line for each run with finished epochs: the stopped run has none.
    expect(svg.match(/aria-roledescription="line mark container"/g)).toHaveLength(2);
    const last = fast.history.at(-1)!;
    expect(fast.wallSeconds).not.toBeNull();
    expect(svg).toContain(
      `fast, epoch ${last.epoch} at ${(fast.wallSeconds! / 60).toFixed(1)} min: ${last.valTop1.toFixed(4)}`,
    );
    const setupMinutes = (fast.wallSeconds! - fast.trainingSeconds) / 60;
    const first = fast.history[0]!;
    expect(svg).toContain(
      `fast, epoch 1 at ${(setupMinutes + first.seconds / 60).toFixed(1)} min: ${first.valTop1.toFixed(4)}`,
    );
  });

  it('leaves out runs whose setup time is not on record', async () => {
    const svg = await timeToAccuracySvg([{ ...runNamed('fast'), wallSeconds: null }]);
    expect(svg).not.toContain('line mark container');
  });
});

describe('pnpm runs (CLI)', () => {
  it('--json lists every run with its settings and the differences', async () => {
    const result = await runCommandsInProcess(
      [register],
      ['runs', '--dir', runsDir, '--reports', reportsDir, '--json'],
    );
    expect(result.error).toBeUndefined();
    const listed = JSON.parse(result.stdout) as Array<RunSummary & { differences: Record<string, unknown> }>;
    expect(listed.map((run) => run.name)).toEqual(['fast', 'slow', 'stopped']);
    expect(listed[1].differences).toEqual({ learningRate: 1e-3 });
    expect(listed[0].test?.top1).toBe(runNamed('fast').test?.top1);
    expect(listed[0]).not.toHaveProperty('history');
  });

  it('compare writes one HTML page with the chart; runs given by name or by folder', async () => {
    const out = path.join(synth.root, 'compare', 'page.html');
    const result = await runCommandsInProcess(
      [register],
      [
        'runs',
        'compare',
        'fast',
        path.join(runsDir, 'slow'),
        '--dir',
        runsDir,
        '--reports',
        reportsDir,
        '--out',
        out,
      ],
    );
    expect(result.error).toBeUndefined();
    expect(result.stdout).toContain(`wrote ${out}: fast, slow`);
    const page = await readFile(out, 'utf8');
    expect(page).toMatch(/<figure class="chart"><svg/);
  });

  it('compare without --out writes beside the reports and says where', async () => {
    const result = await runCommandsInProcess(
      [register],
      ['runs', 'compare', 'fast', 'slow', '--dir', runsDir, '--reports', reportsDir],
    );
    expect(result.error).toBeUndefined();
    const out = path.join(reportsDir, 'compare-fast-vs-slow.html');
    expect(result.stdout).toContain(`wrote ${out}: fast, slow`);
    expect(await readFile(out, 'utf8')).toMatch(/<figure class="chart"><svg/);
  });

  it('compare names the run it cannot find and how to list them', async () => {
    const result = await runCommandsInProcess(
      [register],
      ['runs', 'compare', 'fast', 'notes', '--dir', runsDir, '--out', path.join(synth.root, 'x.html')],
    );
    expect(result.error).toBeInstanceOf(UserError);
    expect((result.error as Error).message).toMatch(/no run "notes".*pnpm runs --dir/);
  });
});
