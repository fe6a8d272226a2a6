import { UserError } from '@food/core/errors';
import seedrandom from 'seedrandom';
import { imagePathOf, type ListEntry } from './food101-meta.ts';

/** One labelled image of a split; `image` is relative to the data root. */
export interface SplitEntry {
  image: string;
  label: number;
}

export interface DatasetSplits {
  train: SplitEntry[];
  val: SplitEntry[];
  test: SplitEntry[];
}

export interface SplitOptions {
  /** Sorted class names; a class's label is its index here. */
  classes: readonly string[];
  /** Entries of the official meta/train.txt (any classes; others are ignored). */
  trainList: readonly ListEntry[];
  /** Entries of the official meta/test.txt. */
  testList: readonly ListEntry[];
  seed: number;
  /** Share of each class's official training images held out for validation, in (0, 1). */
  valFraction: number;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function groupIds(list: readonly ListEntry[], classes: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>(classes.map((name) => [name, []]));
  for (const entry of list) groups.get(entry.className)?.push(entry.id);
  // Sorting first makes the split independent of the list's line order.
  for (const ids of groups.values()) ids.sort(byCodeUnit);
  return groups;
}

/**
 * The official test list becomes the test split; each class's official training images are split
 * train/val with a seeded shuffle, holding out round(n × valFraction) of them (stratified, so every class
 * keeps its share). Each class gets its own random stream, so a class's split does not change when other
 * classes are added or removed. Pure: works on the meta lists alone, no image is touched.
 */
export function splitDataset(options: SplitOptions): DatasetSplits {
  const { classes, seed, valFraction } = options;
  if (!(valFraction > 0 && valFraction < 1))
    throw new UserError(`valFraction must be in (0, 1), got ${valFraction}`);
  const trainIds = groupIds(options.trainList, classes);
  const testIds = groupIds(options.testList, classes);
  const splits: DatasetSplits = { train: [], val: [], test: [] };
  classes.forEach((className, label) => {
    const entry = (id: string): SplitEntry => ({ image: imagePathOf({ className, id }), label });
    const ids = trainIds.get(className)!;
    if (ids.length === 0) {
      throw new UserError(`class ${className} has no images in meta/train.txt, so it cannot be trained`);
    }
    const { val, train } = holdOut(ids, `val-split:${seed}:${className}`, valFraction);
    splits.val.push(...val.sort(byCodeUnit).map(entry));
    splits.train.push(...train.sort(byCodeUnit).map(entry));
    splits.test.push(...testIds.get(className)!.map(entry));
  });
  return splits;
}

/** A seeded Fisher–Yates shuffle of `sorted`, its first round(n × valFraction) held out. */
function holdOut<T>(sorted: readonly T[], stream: string, valFraction: number): { val: T[]; train: T[] } {
  const items = [...sorted];
  const random = seedrandom(stream);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  const valCount = Math.round(items.length * valFraction);
  return { val: items.slice(0, valCount), train: items.slice(valCount) };
}

export interface RedrawOptions {
  classes: readonly string[];
  /** The prepared folder's train and val splits: together, its official training images. */
  train: readonly SplitEntry[];
  val: readonly SplitEntry[];
  seed: number;
  valFraction: number;
}

/**
 * `pnpm train --val-fraction`: the prepared training images (train and val together) split again,
 * with the run's seed and fraction, as `splitDataset` splits the official list; the test split is not
 * an input, so a run cannot select on it. With prepare's seed and fraction, and no image skipped, it is
 * prepare's split. Image paths share their class's `images/<class>/` prefix, so sorting by path without
 * its extension sorts by id, as prepare does.
 */
export function redrawSplit(options: RedrawOptions): Pick<DatasetSplits, 'train' | 'val'> {
  const { classes, seed, valFraction } = options;
  if (!(valFraction > 0 && valFraction < 1))
    throw new UserError(`valFraction must be in (0, 1), got ${valFraction}`);
  const sortKey = (entry: SplitEntry) => entry.image.replace(/\.[^./]*$/, '');
  const byId = (a: SplitEntry, b: SplitEntry) => byCodeUnit(sortKey(a), sortKey(b));
  const redrawn: Pick<DatasetSplits, 'train' | 'val'> = { train: [], val: [] };
  classes.forEach((className, label) => {
    const pool = [...options.train, ...options.val].filter((entry) => entry.label === label).sort(byId);
    const { val, train } = holdOut(pool, `val-split:${seed}:${className}`, valFraction);
    redrawn.val.push(...val.sort(byId));
    redrawn.train.push(...train.sort(byId));
  });
  return redrawn;
}
