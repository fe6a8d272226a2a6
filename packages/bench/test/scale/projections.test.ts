import { describe, expect, it } from 'vitest';
import {
  allProjections,
  food101Split,
  type MeasuredRates,
  projectGpu,
  projectPresetCpu,
  type RecipeSettings,
} from '../../src/scale/projections.ts';

const RATES: MeasuredRates = {
  cores: 2,
  prepare: 100,
  stats: 50,
  loader: 200,
  featureCache: 10,
  featureEntryBytes: 401_408,
  presetStepSeconds: 0.5,
  fullTrain: 2,
  evaluate: 25,
};
const RECIPE: RecipeSettings = {
  presetViews: 3,
  presetEpochs: 8,
  presetBatch: 32,
  gpuEpochs: 14,
  gpuImagesPerSecond: 1000,
};

describe('projections from measured rates', () => {
  it('uses the official split: 675 train, 75 validation, 250 test photos per class', () => {
    expect(food101Split(50)).toEqual({ train: 33_750, val: 3_750, test: 12_500 });
  });

  it('adds up --preset cpu phase by phase at the measured cores, and says which rate each comes from', () => {
    const projection = projectPresetCpu(50, 2, RATES, RECIPE);
    // Every photo, validation included, has its centre crop and 3 views.
    const entries = (33_750 + 3_750) * 4;
    const steps = 8 * Math.ceil(33_750 / 32);
    const phases = Object.fromEntries(projection.phases.map((phase) => [phase.name, phase.seconds]));
    expect(phases).toEqual({
      prepare: 50_000 / 100,
      stats: 33_750 / 50,
      'feature cache': entries / 10,
      training: steps * 0.5,
      validation: (8 * 3_750 * 0.5) / 32,
      evaluate: 12_500 / 25,
    });
    expect(projection.seconds).toBeCloseTo(
      500 + 675 + entries / 10 + steps * 0.5 + (8 * 3_750 * 0.5) / 32 + 500,
      6,
    );
    expect(projection.diskBytes).toBe(entries * 401_408);
    expect(projection.phases.find((phase) => phase.name === 'feature cache')!.from).toBe(
      'feature cache 10.0 entries/s',
    );
  });

  it('scales linearly with cores', () => {
    const two = projectPresetCpu(101, 2, RATES, RECIPE).seconds;
    expect(projectPresetCpu(101, 16, RATES, RECIPE).seconds).toBeCloseTo(two / 8, 6);
    expect(projectPresetCpu(101, 64, RATES, RECIPE).seconds).toBeCloseTo(two / 32, 6);
  });

  it('trains the GPU recipe at the slower of the assumed GPU and the loader on every core but two', () => {
    const images = 14 * (33_750 + 3_750);
    const training = (cores: number) =>
      projectGpu(50, cores, RATES, RECIPE).phases.find((phase) => phase.name === 'training')!;
    // 2 cores: one decode core at 100 photos/s per core.
    expect(training(2).seconds).toBeCloseTo(images / 100, 6);
    expect(training(2).from).toMatch(/^loader 200\.0 photos\/s \(1 decode core\)/);
    // 64 cores: 62 decode cores would give 6,200 photos/s; the assumed GPU's 1,000 is the limit.
    expect(training(64).seconds).toBeCloseTo(images / 1000, 6);
    expect(training(64).from).toMatch(/assumed GPU .* \(not measured\)/);
  });

  it('projects both recipes for 50 and 101 classes at 2, 16 and 64 cores', () => {
    const all = allProjections(RATES, RECIPE);
    expect(all.map((p) => `${p.recipe}:${p.classes}:${p.cores}`)).toEqual([
      'preset-cpu:50:2',
      'preset-cpu:50:16',
      'preset-cpu:50:64',
      'preset-cpu:101:2',
      'preset-cpu:101:16',
      'preset-cpu:101:64',
      'gpu:50:2',
      'gpu:50:16',
      'gpu:50:64',
      'gpu:101:2',
      'gpu:101:16',
      'gpu:101:64',
    ]);
  });
});
