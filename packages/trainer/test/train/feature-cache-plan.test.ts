import { describe, expect, it } from 'vitest';
import { checkFreeSpace, planFeatureCache } from '../../src/train/feature-cache-plan.ts';

// Round numbers, so the expected sizes read exactly (food10's stage-5 trunk has 200,704 values per image).
const input = { images: 1250, featureSize: 100_000, featureViews: 3 } as const;

describe('planFeatureCache', () => {
  it('sizes every view at 2 bytes per value (float16) or 4 (float32)', () => {
    const half = planFeatureCache({ ...input, precision: 'float16' });
    expect(half.bytesPerEntry).toBe(200_000);
    // Every photo (training and validation, so any split of them reuses the cache): 1,250 centre crops +
    // 3 × 1,250 views = 5,000 entries.
    expect(half.bytes).toBe(5000 * 200_000);
    expect(half.views).toBe(3);
    expect(half.message).toBe('3 views need 1.0 GB at float16 (0.20 MB per image and view)');
    expect(planFeatureCache({ ...input, precision: 'float32' }).bytes).toBe(2 * half.bytes);
  });

  it('caches as many views as the budget holds, and says so', () => {
    // Centre crops 0.25 GB + 0.25 GB per view: 0.8 GB holds 2 views.
    const plan = planFeatureCache({ ...input, precision: 'float16', maxGb: 0.8 });
    expect(plan.views).toBe(2);
    expect(plan.bytes).toBe(0.75e9);
    expect(plan.message).toBe(
      '3 views need 1.0 GB at float16 (0.20 MB per image and view); budget 0.8 GB: caching 2 views (0.8 GB)',
    );
    expect(planFeatureCache({ ...input, precision: 'float16', maxGb: 0.3 }).views).toBe(0);
    expect(planFeatureCache({ ...input, precision: 'float16', maxGb: 100 }).views).toBe(3);
  });

  it('refuses a budget below the centre crops, naming their size', () => {
    expect(() => planFeatureCache({ ...input, precision: 'float32', maxGb: 0.4 })).toThrow(
      "The feature cache's centre crops alone need 0.5 GB, over --feature-cache-max-gb 0.4: raise the budget, use --feature-cache-precision float16, or train on fewer images (--limit).",
    );
    expect(() => planFeatureCache({ ...input, precision: 'float16', maxGb: 0.2 })).toThrow(
      "The feature cache's centre crops alone need 0.3 GB, over --feature-cache-max-gb 0.2: raise the budget, or train on fewer images (--limit).",
    );
  });
});

describe('checkFreeSpace', () => {
  it('passes when the files to write fit, and refuses in one line naming both sizes otherwise', () => {
    expect(() => checkFreeSpace('/cache', 5e9, 5e9, 5e9)).not.toThrow();
    // 2 GB already written, 6 GB more to write, 3.26 GB free: a budget of 5.2 GB would fit.
    expect(() => checkFreeSpace('/cache', 6e9, 8e9, 3.26e9)).toThrow(
      'The feature cache needs 6.0 GB more in /cache, but its disk has 3.3 GB free: free space, pass --feature-cache-dir on a larger disk, or cap it with --feature-cache-max-gb 5.2.',
    );
  });
});
