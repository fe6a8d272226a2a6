import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cleanWorkDir,
  type MeasuredStep,
  measuredRates,
  prepareWorkDir,
  WORK_DIR_MARKER,
} from '../../src/scale/run-scale.ts';
import type { ScaleOptions, StepName } from '../../src/scale/scale-plan.ts';

describe('the work folder', () => {
  it('is marked on first use, and --clean removes only a folder bench:scale marked', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'scale-work-'));
    const work = path.join(root, 'work');
    await prepareWorkDir(work);
    expect(existsSync(path.join(work, WORK_DIR_MARKER))).toBe(true);
    await prepareWorkDir(work);
    expect(await cleanWorkDir(work)).toBe(true);
    expect(existsSync(work)).toBe(false);
    expect(await cleanWorkDir(work)).toBe(false);

    const someoneElses = path.join(root, 'photos');
    await mkdir(someoneElses);
    await writeFile(path.join(someoneElses, 'holiday.jpg'), 'x');
    await expect(prepareWorkDir(someoneElses)).rejects.toThrow(/did not write; choose an empty --work-dir/);
    await expect(cleanWorkDir(someoneElses)).rejects.toThrow(/not removing it/);
    expect(existsSync(path.join(someoneElses, 'holiday.jpg'))).toBe(true);
  });
});

describe('measuredRates', () => {
  it("divides photo counts by wall time, the cache and full network net of start-up, the preset at the trainer's rate", () => {
    const walls: Partial<Record<StepName, number>> = {
      'prepare-all': 10,
      stats: 4,
      'loader-epoch': 2,
      'preset-start': 20,
      'feature-cache': 120,
      'preset-steps': 70,
      'full-start': 30,
      'full-steps': 130,
      evaluate: 50,
    };
    const steps = Object.entries(walls).map(
      ([name, wallSeconds]) => ({ name, wallSeconds }) as unknown as MeasuredStep,
    );
    const counts = {
      allImages: 1000,
      subsetTrain: 400,
      subsetVal: 40,
      subsetTest: 250,
      featureEntries: 500,
      featureCacheBytes: 1_000_000,
      presetImagesPerSecond: 64,
    };
    const options = { presetSteps: 51, fullSteps: 11, fullBatch: 8 } as ScaleOptions;
    expect(measuredRates(steps, counts, options, 2)).toEqual({
      cores: 2,
      prepare: 100,
      stats: 100,
      loader: 200,
      featureCache: 5,
      featureEntryBytes: 2000,
      presetStepSeconds: 0.5,
      fullTrain: 0.8,
      evaluate: 5,
    });
  });
});
