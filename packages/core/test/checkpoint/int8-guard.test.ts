import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forcedRecord,
  guardRecord,
  judgeInt8,
  readInt8Guard,
  writeInt8Guard,
} from '../../src/checkpoint/int8-guard.ts';
import { int8GuardPath } from '../../src/checkpoint/run-layout.ts';

describe('judgeInt8', () => {
  // 200 images: one image is 0.5 points, four disagreements are exactly 2 % (98 % agreement).
  it('keeps int8 exactly at both limits', () => {
    const verdict = judgeInt8({ images: 200, float32Correct: 150, int8Correct: 149, agreeing: 196 });
    expect(verdict.decision).toBe('kept');
    expect(verdict.reason).toBe(
      'int8 top-1 74.50 % vs float32 75.00 % and top-1 agreement 98.00 %, on 200 validation images',
    );
    expect(verdict.figures).toMatchObject({ float32Top1: 0.75, int8Top1: 0.745, agreement: 0.98 });
  });

  it('refuses int8 one image past the top-1 limit', () => {
    const verdict = judgeInt8({ images: 200, float32Correct: 150, int8Correct: 148, agreeing: 200 });
    expect(verdict.decision).toBe('refused');
    expect(verdict.reason).toBe(
      "int8 top-1 74.00 % is 1.00 points below float32's 75.00 % (the limit is 0.5), on 200 validation images",
    );
  });

  it('refuses int8 one image past the agreement limit, even with the same top-1', () => {
    const verdict = judgeInt8({ images: 200, float32Correct: 150, int8Correct: 150, agreeing: 195 });
    expect(verdict.decision).toBe('refused');
    expect(verdict.reason).toBe(
      "int8 agrees with float32's top-1 on 97.50 % of images (the limit is 98.00 %), on 200 validation images",
    );
  });

  it('names both problems when both limits fail', () => {
    const { reason } = judgeInt8({ images: 10, float32Correct: 8, int8Correct: 5, agreeing: 6 });
    expect(reason).toMatch(/30\.00 points below.*; int8 agrees .* on 60\.00 % of images/);
  });

  it('accepts an int8 that scores better than float32', () => {
    const verdict = judgeInt8({ images: 100, float32Correct: 50, int8Correct: 52, agreeing: 98 });
    expect(verdict.decision).toBe('kept');
  });

  it('refuses without validation images, and says what to do', () => {
    const verdict = judgeInt8({ images: 0, float32Correct: 0, int8Correct: 0, agreeing: 0 });
    expect(verdict.decision).toBe('refused');
    expect(verdict.reason).toMatch(/no images.*--val-fraction.*--force/);
    expect(verdict.figures.agreement).toBeNull();
  });
});

describe('the guard record', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'int8-guard-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lives beside the int8 export', () => {
    expect(int8GuardPath('/runs/a/best.int8.onnx')).toBe('/runs/a/best.int8.guard.json');
  });

  it('reads back what the writer wrote, and undefined when absent', async () => {
    const file = path.join(dir, 'best.int8.guard.json');
    expect(await readInt8Guard(file)).toBeUndefined();
    const record = guardRecord('abc', { images: 8, float32Correct: 4, int8Correct: 4, agreeing: 8 });
    await writeInt8Guard(file, record);
    expect(await readInt8Guard(file)).toEqual(record);
    await writeInt8Guard(file, forcedRecord('abc'));
    expect(await readInt8Guard(file)).toMatchObject({ decision: 'forced', figures: null });
  });

  it('refuses a file that is not a record, naming it and the next step', async () => {
    const file = path.join(dir, 'broken.guard.json');
    await writeFile(file, '{"format":"food-int8-guard/1","decision":"maybe"}');
    await expect(readInt8Guard(file)).rejects.toThrow(
      /broken\.guard\.json is not an int8 guard record.*export again/,
    );
  });
});
