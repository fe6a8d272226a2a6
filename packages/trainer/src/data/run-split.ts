/**
 * The training and validation images of a run (docs/results.md, "Selection protocol"): the prepared
 * folder's split, or with `--val-fraction` that folder's training images split again with the run's
 * `--seed`. The test split is never an input: nothing a run chooses with (its best epoch, early
 * stopping) can see it, and `pnpm evaluate --split val` scores the run's own validation images.
 */
import type { PreparedManifest } from './manifest.ts';
import { redrawSplit, type SplitEntry } from './split.ts';

export interface RunSplitSettings {
  seed: number;
  /** `--val-fraction`: absent, the prepared folder's split as listed. */
  valFraction?: number;
}

export interface RunSplit {
  train: SplitEntry[];
  val: SplitEntry[];
}

export function runSplit(
  manifest: Pick<PreparedManifest, 'classes' | 'splits'>,
  settings: RunSplitSettings | undefined,
): RunSplit {
  const { train, val } = manifest.splits;
  if (settings?.valFraction === undefined) return { train, val };
  return redrawSplit({
    classes: manifest.classes,
    train,
    val,
    seed: settings.seed,
    valFraction: settings.valFraction,
  });
}

/** The prepared manifest with the run's train and val splits in place of the listed ones; test as listed. */
export function withRunSplit<T extends Pick<PreparedManifest, 'classes' | 'splits'>>(
  manifest: T,
  settings: RunSplitSettings | undefined,
): T {
  return { ...manifest, splits: { ...manifest.splits, ...runSplit(manifest, settings) } };
}

/**
 * The standard error of a top-1 of `accuracy` measured on `images` photos, in points (binomial:
 * √(p(1 − p)/n)): what a difference between two runs on that split must exceed to mean anything.
 */
export function standardErrorPoints(accuracy: number, images: number): number {
  return images === 0 ? Number.NaN : 100 * Math.sqrt((accuracy * (1 - accuracy)) / images);
}

/** The line `pnpm train` prints about its validation split. */
export function describeRunSplit(split: RunSplit, settings: RunSplitSettings): string {
  const origin =
    settings.valFraction === undefined
      ? "the prepared folder's split"
      : `redrawn with --seed ${settings.seed} at --val-fraction ${settings.valFraction}`;
  const error = standardErrorPoints(0.87, split.val.length).toFixed(1);
  return `split: ${split.train.length.toLocaleString('en')} training and ${split.val.length.toLocaleString('en')} validation photos, ${origin} (a validation top-1 near 87 % has a standard error of ${error} points); test is not read`;
}
