import { describe, expect, it } from 'vitest';
import {
  parseRunConfig,
  type ResolvedRunConfig,
  resolveRunConfig,
  resumeDifferences,
  runDefaults,
  type SettingName,
} from '../../src/checkpoint/run-config.ts';
import { RUN_SETTINGS } from '../../src/checkpoint/run-settings.ts';

/** run-config.json as the trainer wrote it before the settings table (no lrSchedule, featureViews, …). */
const WRITTEN_BEFORE = {
  prepared: 'data/prepared/food10',
  out: 'checkpoints/food10',
  learningRate: 0.0003,
  weightDecay: 0.0005,
  epochs: 8,
  batchSize: 32,
  accumulate: 'auto',
  imageSize: 224,
  seed: 42,
  weights: 'data/weights/resnet50-imagenet',
  backend: 'tensorflow',
  trainable: 'stage5',
  cacheFeatures: true,
  augment: true,
  widthMultiplier: 1,
  blocksPerStage: [3, 4, 6, 3],
  preprocess: { version: 1 },
};

describe('parseRunConfig', () => {
  it('reads a run-config.json written before the table, with the defaults it trained with', () => {
    const config = parseRunConfig(WRITTEN_BEFORE);
    expect(config).toMatchObject({ learningRate: 0.0003, trainable: 'stage5', accumulate: 'auto' });
    expect(config).toMatchObject({
      lrSchedule: 'constant',
      warmupEpochs: 0,
      labelSmoothing: 0,
      featureViews: 0,
    });
    expect(config).not.toHaveProperty('preprocess');
    expect(config.gradClipNorm).toBeUndefined();
  });

  it('keeps fields it does not know, and a bound added for new runs does not make a checkpoint unreadable', () => {
    expect(parseRunConfig({ ...WRITTEN_BEFORE, imageSize: 8, note: 'x' })).toMatchObject({
      imageSize: 8,
      note: 'x',
    });
  });

  it('names a missing or mistyped field', () => {
    const { prepared: _, ...withoutPrepared } = WRITTEN_BEFORE;
    expect(() => parseRunConfig(withoutPrepared)).toThrow('prepared is missing');
    expect(() => parseRunConfig({ ...WRITTEN_BEFORE, epochs: '8' })).toThrow(
      'epochs has the wrong type: "8"',
    );
    expect(() => parseRunConfig([])).toThrow('not a JSON object');
  });
});

describe('resolveRunConfig', () => {
  it("fills the table's defaults (the recipe) and keeps what is given", () => {
    const config = resolveRunConfig({ prepared: 'p', out: 'o', epochs: 3 });
    expect(config).toMatchObject({ learningRate: 1e-5, batchSize: 128, epochs: 3, imageSize: 224 });
    expect(config).toMatchObject({
      featureCacheDir: 'data/feature-cache',
      accumulate: 'auto',
      augment: true,
    });
  });

  it('a bad value is one line naming the flag', () => {
    expect(() => resolveRunConfig({ prepared: 'p', out: 'o', imageSize: 10 })).toThrow(
      /^--image-size: expected an integer ≥ 32 \(ResNet-50 halves it five times\), got 10\.$/,
    );
    expect(() => resolveRunConfig({ prepared: 'p', out: 'o', labelSmoothing: 1 })).toThrow(
      /--label-smoothing/,
    );
    expect(() => resolveRunConfig({ out: 'o' } as never)).toThrow('--prepared is missing');
  });

  it('hands out fresh defaults', () => {
    runDefaults().blocksPerStage!.push(9);
    expect(resolveRunConfig({ prepared: 'p', out: 'o' }).blocksPerStage).toEqual([3, 4, 6, 3]);
  });
});

describe('resumeDifferences', () => {
  const saved = resolveRunConfig({ prepared: 'p', out: 'o', gradClipNorm: 1, limit: 10 });
  const names = Object.keys(RUN_SETTINGS) as SettingName[];
  /** A value of `name` other than `saved`'s. */
  const other = (name: SettingName): unknown => {
    const value = saved[name];
    if (typeof value === 'number') return value + 1;
    if (typeof value === 'boolean') return !value;
    if (Array.isArray(value)) return [...value].reverse().map((n) => n + 1);
    return name === 'lrSchedule' ? 'cosine' : name === 'trainable' ? 'head' : `${String(value)}-other`;
  };

  it("lists every setting whose row says must-match, and only those: the table's resume column", () => {
    for (const name of names) {
      const differences = resumeDifferences(saved, { ...saved, [name]: other(name) } as ResolvedRunConfig);
      const mustMatch = RUN_SETTINGS[name].resume === 'must-match';
      expect([name, differences.length]).toEqual([name, mustMatch ? 1 : 0]);
      if (mustMatch) expect(differences[0]).toMatch(new RegExp(`^${name} was `));
    }
  });

  it('lets --accumulate differ (the effective batch is the same) but not --grad-clip-norm', () => {
    expect(resumeDifferences(saved, { ...saved, accumulate: 4 })).toEqual([]);
    expect(resumeDifferences(saved, { ...saved, gradClipNorm: 2 })).toEqual(['gradClipNorm was 1, now 2']);
  });
});
