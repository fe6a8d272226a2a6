import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import { describe, expect, it } from 'vitest';
import type { ListEntry } from '../../src/data/food101-meta.ts';
import { readMetaLists } from '../../src/data/food101-meta.ts';
import { planSplits } from '../../src/data/prepare.ts';
import { redrawSplit, splitDataset } from '../../src/data/split.ts';

const officialMeta = SHARED_DATA.food101Meta;
const hasOfficialMeta = existsSync(path.join(officialMeta, 'classes.txt'));
if (!hasOfficialMeta) console.warn(`skipping official-list tests: ${officialMeta} is absent`);

const entries = (className: string, count: number, first = 1000): ListEntry[] =>
  Array.from({ length: count }, (_, i) => ({ className, id: String(first + i) }));

describe('splitDataset', () => {
  const classes = ['a', 'b', 'c'];
  const trainList = [...entries('a', 50), ...entries('b', 23), ...entries('c', 7), ...entries('z', 9)];
  const testList = [...entries('a', 5, 5000), ...entries('b', 4, 5000), ...entries('c', 3, 5000)];
  const split = (seed: number, list = trainList) =>
    splitDataset({ classes, trainList: list, testList, seed, valFraction: 0.1 });

  it('holds out round(n × fraction) of each class and keeps the official test list', () => {
    const { train, val, test } = split(1);
    const count = (items: typeof train, label: number) => items.filter((e) => e.label === label).length;
    expect([0, 1, 2].map((label) => count(val, label))).toEqual([5, 2, 1]);
    expect([0, 1, 2].map((label) => count(train, label))).toEqual([45, 21, 6]);
    expect([0, 1, 2].map((label) => count(test, label))).toEqual([5, 4, 3]);
    // Class z is not selected; nothing of it leaks in.
    expect([...train, ...val, ...test].every((e) => !e.image.includes('/z/'))).toBe(true);
    const images = [...train, ...val, ...test].map((e) => e.image);
    expect(new Set(images).size).toBe(images.length);
    expect(train[0]).toEqual({ image: 'images/a/1000.jpg', label: 0 });
  });

  it('depends on the seed, not on the order of the list', () => {
    const shuffled = [...trainList].reverse();
    expect(split(1, shuffled)).toEqual(split(1));
    expect(split(2).val).not.toEqual(split(1).val);
  });

  it("keeps a class's split when other classes change", () => {
    const alone = splitDataset({ classes: ['b'], trainList, testList, seed: 1, valFraction: 0.1 });
    const together = split(1);
    expect(alone.val.map((e) => e.image)).toEqual(
      together.val.filter((e) => e.label === 1).map((e) => e.image),
    );
  });

  it('rejects a class without training images and a fraction outside (0, 1)', () => {
    expect(() => splitDataset({ classes: ['q'], trainList, testList, seed: 1, valFraction: 0.1 })).toThrow(
      /class q has no images/,
    );
    expect(() => splitDataset({ classes, trainList, testList, seed: 1, valFraction: 1 })).toThrow(/\(0, 1\)/);
  });

  it.skipIf(!hasOfficialMeta)(
    'seed50 on the official lists: 750/250 per class, 10% stratified val',
    async () => {
      const meta = await readMetaLists(officialMeta);
      const { classes: picked, splits } = planSplits(meta, { preset: 'seed50' }, 42, 0.1);
      expect(picked).toHaveLength(50);
      for (let label = 0; label < 50; label++) {
        const train = splits.train.filter((e) => e.label === label).length;
        const val = splits.val.filter((e) => e.label === label).length;
        const test = splits.test.filter((e) => e.label === label).length;
        expect(train + val).toBe(750);
        expect(test).toBe(250);
        expect(Math.abs(val - 0.1 * 750)).toBeLessThanOrEqual(1);
      }
      const officialTest = new Set(meta.test.map((e) => `images/${e.className}/${e.id}.jpg`));
      expect(splits.test.every((e) => officialTest.has(e.image))).toBe(true);
      expect([...splits.train, ...splits.val].some((e) => officialTest.has(e.image))).toBe(false);
      // Same inputs, same result.
      expect(planSplits(meta, { preset: 'seed50' }, 42, 0.1)).toEqual({ classes: picked, splits });
    },
  );
});

describe('redrawSplit (pnpm train --val-fraction)', () => {
  const classes = ['a', 'b', 'c'];
  // Ids whose order as text differs from their order as paths ("12" < "12-", "12-.jpg" < "12.jpg").
  const odd = ['12', '12-', '7', '70', '700'].map((id) => ({ className: 'c', id }));
  const trainList = [...entries('a', 50), ...entries('b', 23), ...entries('c', 7), ...odd];
  const testList = [...entries('a', 5, 5000), ...entries('b', 4, 5000), ...entries('c', 3, 5000)];
  const prepared = splitDataset({ classes, trainList, testList, seed: 42, valFraction: 0.1 });
  const redraw = (seed: number, valFraction: number) =>
    redrawSplit({ classes, train: prepared.train, val: prepared.val, seed, valFraction });

  it("with prepare's seed and fraction is prepare's split, entry for entry", () => {
    const { train, val } = redraw(42, 0.1);
    expect(val).toEqual(prepared.val);
    expect(train).toEqual(prepared.train);
  });

  it('holds out round(n × fraction) of each class, another set for another seed, from the same photos', () => {
    const { train, val } = redraw(7, 0.3);
    const count = (items: typeof train, label: number) => items.filter((e) => e.label === label).length;
    // a: 50, b: 23, c: 12 training photos.
    expect([0, 1, 2].map((label) => count(val, label))).toEqual([15, 7, 4]);
    const images = (items: typeof train) => items.map((e) => e.image).sort();
    expect(images([...train, ...val])).toEqual(images([...prepared.train, ...prepared.val]));
    expect(redraw(8, 0.3).val).not.toEqual(val);
    expect(redraw(7, 0.3)).toEqual({ train, val });
    // Test is not an input: no test photo can reach training or validation.
    const test = new Set(prepared.test.map((e) => e.image));
    expect([...train, ...val].some((e) => test.has(e.image))).toBe(false);
  });

  it('rejects a fraction outside (0, 1)', () => {
    expect(() => redraw(1, 0)).toThrow(/\(0, 1\)/);
  });
});
