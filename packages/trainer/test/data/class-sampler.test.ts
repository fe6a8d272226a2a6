import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DATA } from '@food/core/testing/shared-data';
import { describe, expect, it } from 'vitest';
import {
  describeSelection,
  SEED50_CLASSES,
  sampleClasses,
  selectClasses,
  sortClassNames,
} from '../../src/data/class-sampler.ts';
import { readMetaLists } from '../../src/data/food101-meta.ts';
import { FOOD101_CLASSES } from '../../src/data/synth.ts';

const officialMeta = SHARED_DATA.food101Meta;
const hasOfficialMeta = existsSync(path.join(officialMeta, 'classes.txt'));
if (!hasOfficialMeta) console.warn(`skipping official-list tests: ${officialMeta} is absent`);

describe('sampleClasses', () => {
  const names = Array.from({ length: 30 }, (_, i) => `food_${String(i).padStart(2, '0')}`);

  it('returns sorted, distinct names, the same for the same seed whatever the input order', () => {
    const picked = sampleClasses(names, 7, 3);
    expect(picked).toHaveLength(7);
    expect(new Set(picked).size).toBe(7);
    expect(picked).toEqual(sortClassNames(picked));
    expect(sampleClasses([...names].reverse(), 7, 3)).toEqual(picked);
    expect(sampleClasses(names, 7, 4)).not.toEqual(picked);
  });

  it('takes every class when asked for all of them, and refuses more', () => {
    expect(sampleClasses(names, 30, 99)).toEqual(names);
    expect(() => sampleClasses(names, 31, 1)).toThrow(/more classes than the data set has \(30/);
  });

  it.skipIf(!hasOfficialMeta)('golden: --classes 10 --seed 42 on the official list', async () => {
    const meta = await readMetaLists(officialMeta);
    // A change here changes every prepared data set: only accept it on purpose.
    expect(sampleClasses(meta.classes, 10, 42)).toEqual([
      'cheesecake',
      'churros',
      'donuts',
      'escargots',
      'french_fries',
      'french_toast',
      'frozen_yogurt',
      'lobster_bisque',
      'pancakes',
      'tiramisu',
    ]);
  });
});

describe('selectClasses', () => {
  it('sorts a --class-list and lists every unknown name', () => {
    expect(selectClasses(['b', 'a', 'c'], { list: ['c', 'a'] }, 1)).toEqual(['a', 'c']);
    expect(() => selectClasses(['a', 'b'], { list: ['a', 'pizza', 'sushi'] }, 1)).toThrow(
      /--class-list: 2 class\(es\) not in .*: pizza, sushi/,
    );
    expect(() => selectClasses(['a', 'b'], { list: ['a', 'a'] }, 1)).toThrow(/more than once/);
    expect(() => selectClasses(['a', 'b'], { list: [] }, 1)).toThrow(/names no classes/);
  });

  it('lists the preset classes a data set lacks', () => {
    const available = SEED50_CLASSES.filter((name) => name !== 'ramen' && name !== 'tacos');
    expect(() => selectClasses(available, { preset: 'seed50' }, 42)).toThrow(
      /preset seed50: 2 class.*ramen, tacos/,
    );
    expect(() => selectClasses(available, { preset: 'nope' }, 42)).toThrow(/unknown preset "nope"/);
  });

  it.skipIf(!hasOfficialMeta)('resolves seed50 on the official list to its 50 classes', async () => {
    const meta = await readMetaLists(officialMeta);
    const classes = selectClasses(meta.classes, { preset: 'seed50' }, 42);
    expect(classes).toHaveLength(50);
    expect(classes).toEqual(sortClassNames(SEED50_CLASSES));
    // The preset ignores the seed.
    expect(selectClasses(meta.classes, { preset: 'seed50' }, 7)).toEqual(classes);
  });
});

describe('describeSelection (what prepare prints)', () => {
  it('tells a fixed preset from a seeded sample', () => {
    expect(describeSelection({ preset: 'seed50' }, 50, 42)).toMatch(
      /--preset seed50, a fixed list of 50 classes \(not sampled/,
    );
    expect(describeSelection({ count: 50 }, 50, 42)).toMatch(/^classes: 50 sampled with --seed 42 /);
    expect(describeSelection({ list: ['a', 'b'] }, 2, 42)).toBe('classes: the 2 named by --class-list');
  });

  it('the preset is not the seeded sample of the same size (the README says they share 27 classes)', () => {
    const sampled = sampleClasses(FOOD101_CLASSES, 50, 42);
    expect(sampled.filter((name) => SEED50_CLASSES.includes(name))).toHaveLength(27);
  });
});
