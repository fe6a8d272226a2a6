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
    const ids = [...trainIds.get(className)!];
    if (ids.length === 0) {
      throw new UserError(`class ${className} has no images in meta/train.txt, so it cannot be trained`);
    }
    const random = seedrandom(`val-split:${seed}:${className}`);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const valCount = Math.round(ids.length * valFraction);
    splits.val.push(...ids.slice(0, valCount).sort(byCodeUnit).map(entry));
    splits.train.push(...ids.slice(valCount).sort(byCodeUnit).map(entry));
    splits.test.push(...testIds.get(className)!.map(entry));
  });
  return splits;
}
