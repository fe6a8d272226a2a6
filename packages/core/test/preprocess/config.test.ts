import { describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESS, withCropSize } from '../../src/preprocess/config.ts';

describe('withCropSize', () => {
  it("keeps the recipe's 256:224 resize-to-crop ratio for another --image-size", () => {
    expect(withCropSize(DEFAULT_PREPROCESS, 112)).toMatchObject({ cropSize: 112, resizeShorterSide: 128 });
    expect(withCropSize(DEFAULT_PREPROCESS, 32)).toMatchObject({ cropSize: 32, resizeShorterSide: 37 });
    expect(withCropSize(DEFAULT_PREPROCESS, 224)).toBe(DEFAULT_PREPROCESS);
    expect(withCropSize(DEFAULT_PREPROCESS, 112).mean).toEqual(DEFAULT_PREPROCESS.mean);
  });
});
