import { UserError } from '@food/core/errors';
import seedrandom from 'seedrandom';

/** The project's 50-class subset of Food-101 (`--preset seed50`), fixed so every run trains the same task. */
// biome-ignore format: one long list reads better packed
export const SEED50_CLASSES: readonly string[] = [
  'tacos', 'hamburger', 'chocolate_cake', 'bread_pudding', 'creme_brulee', 'fried_rice', 'macarons',
  'bruschetta', 'lobster_bisque', 'garlic_bread', 'fried_calamari', 'deviled_eggs', 'gyoza', 'french_toast',
  'steak', 'omelette', 'pancakes', 'chicken_wings', 'samosa', 'spaghetti_bolognese', 'pizza', 'fish_and_chips',
  'crab_cakes', 'panna_cotta', 'baby_back_ribs', 'pork_chop', 'paella', 'bibimbap', 'huevos_rancheros',
  'takoyaki', 'seaweed_salad', 'onion_rings', 'hummus', 'foie_gras', 'risotto', 'chicken_curry', 'croque_madame',
  'falafel', 'lobster_roll_sandwich', 'peking_duck', 'shrimp_and_grits', 'donuts', 'mussels', 'edamame',
  'ceviche', 'grilled_salmon', 'hot_and_sour_soup', 'nachos', 'ramen', 'carrot_cake',
];

export const CLASS_PRESETS: Readonly<Record<string, readonly string[]>> = { seed50: SEED50_CLASSES };

/** How the user picked classes: exactly one of `--preset`, `--classes`, `--class-list`. */
export type ClassSelection = { preset: string } | { count: number } | { list: string[] };

/** Plain code-unit order: the label index of a class is its position in this order on every machine. */
export function sortClassNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Picks `count` classes with a seeded partial Fisher–Yates shuffle of the sorted available names, so the
 * choice depends only on the set of names and the seed (seedrandom's ARC4 gives the same stream on every
 * machine). Returns them sorted. Taking all available classes needs no randomness.
 */
export function sampleClasses(available: readonly string[], count: number, seed: number): string[] {
  if (!Number.isInteger(count) || count < 1)
    throw new UserError(`--classes must be a positive integer, got ${count}`);
  if (count > available.length) {
    throw new UserError(
      `--classes ${count} asks for more classes than the data set has (${available.length} in meta/classes.txt)`,
    );
  }
  const pool = sortClassNames(available);
  const random = seedrandom(`classes:${seed}`);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return sortClassNames(pool.slice(0, count));
}

/** Resolves a selection against the data set's classes; names it lacks are a UserError listing all of them. */
export function selectClasses(
  available: readonly string[],
  selection: ClassSelection,
  seed: number,
): string[] {
  if ('count' in selection) return sampleClasses(available, selection.count, seed);
  let wanted: readonly string[];
  let origin: string;
  if ('preset' in selection) {
    const preset = CLASS_PRESETS[selection.preset];
    if (!preset) {
      throw new UserError(
        `unknown preset "${selection.preset}"; known presets: ${Object.keys(CLASS_PRESETS).join(', ')}`,
      );
    }
    wanted = preset;
    origin = `preset ${selection.preset}`;
  } else {
    wanted = selection.list;
    origin = '--class-list';
  }
  if (wanted.length === 0) throw new UserError(`${origin} names no classes`);
  const duplicates = wanted.filter((name, index) => wanted.indexOf(name) !== index);
  if (duplicates.length > 0) throw new UserError(`${origin} names ${duplicates.join(', ')} more than once`);
  const known = new Set(available);
  const unknown = sortClassNames(wanted.filter((name) => !known.has(name)));
  if (unknown.length > 0) {
    throw new UserError(
      `${origin}: ${unknown.length} class(es) not in this data set's meta/classes.txt: ${unknown.join(', ')}. ` +
        `Available: ${sortClassNames(available).join(', ')}`,
      'UNKNOWN_CLASS',
    );
  }
  return sortClassNames(wanted);
}

/**
 * What `prepare` prints about the classes it used. `--preset seed50` and `--classes 50 --seed 42` are
 * easy to confuse: the first is a fixed list, the second a seeded sample (they share 27 classes).
 */
export function describeSelection(selection: ClassSelection, classCount: number, seed: number): string {
  if ('preset' in selection) {
    return `classes: --preset ${selection.preset}, a fixed list of ${classCount} classes (not sampled; --seed only shuffles the train/val split)`;
  }
  if ('count' in selection) {
    return `classes: ${classCount} sampled with --seed ${seed} (another seed picks other classes; --preset seed50 is a fixed list)`;
  }
  return `classes: the ${classCount} named by --class-list`;
}
