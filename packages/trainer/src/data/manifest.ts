import path from 'node:path';
import { UserError } from '@food/core/errors';
import type { MetaSource, SourceChecksum } from './food101-meta.ts';
import type { DatasetSplits, SplitEntry } from './split.ts';

export type SplitName = keyof DatasetSplits;
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** A file that prepare found missing or undecodable and left out (only with --skip-corrupt). */
export interface SkippedImage {
  image: string;
  split: SplitName;
  reason: string;
}

export type SplitCounts = Record<SplitName, number>;

/**
 * `data/prepared/NAME/manifest.json`. `dataRoot` is stored as an absolute path (resolved from the
 * working directory when prepare ran), so train/stats/evaluate find the images from any working
 * directory; a prepared folder moved to another machine needs the data at the same path (or re-running
 * prepare, which gives the same splits for the same seed). Image paths are relative to `dataRoot`.
 */
export interface PreparedManifest {
  version: 1;
  dataRoot: string;
  seed: number;
  valFraction: number;
  /** Sorted class names; label index = position. */
  classes: string[];
  splits: DatasetSplits;
  sources: Record<MetaSource, SourceChecksum>;
  counts: SplitCounts & { perClass: Record<string, SplitCounts> };
  skipped: SkippedImage[];
  /** Present (true) only when the data root is a `trainer synth` set (synthetic-marker.ts). */
  synthetic?: true;
}

/**
 * Stable text: keys in declaration order (callers build the object in that order), no timestamps,
 * one split entry per line so the file stays diffable and small for 75k images.
 */
export function formatManifest(manifest: PreparedManifest): string {
  const text = JSON.stringify(manifest, null, 2);
  return `${text.replace(
    /\{\n\s+"image": ("(?:[^"\\]|\\.)*"),\n\s+"label": (\d+)\n\s+\}/g,
    '{ "image": $1, "label": $2 }',
  )}\n`;
}

export function countSplits(classes: readonly string[], splits: DatasetSplits): PreparedManifest['counts'] {
  const perClass: Record<string, SplitCounts> = {};
  for (const name of classes) perClass[name] = { train: 0, val: 0, test: 0 };
  for (const split of SPLIT_NAMES) {
    for (const { label } of splits[split]) perClass[classes[label]][split] += 1;
  }
  return { train: splits.train.length, val: splits.val.length, test: splits.test.length, perClass };
}

function invalid(file: string, why: string): never {
  throw new UserError(
    `${file} is not a valid prepared manifest: ${why}. Re-create it with \`pnpm trainer prepare --data DIR --out ${path.dirname(file)}\`.`,
    'MANIFEST_INVALID',
  );
}

function checkEntries(file: string, split: string, entries: unknown, classCount: number): SplitEntry[] {
  if (!Array.isArray(entries)) invalid(file, `splits.${split} is not an array`);
  entries.forEach((entry: unknown, index) => {
    const { image, label } = (entry ?? {}) as Partial<SplitEntry>;
    if (typeof image !== 'string' || image.includes('..') || path.isAbsolute(image)) {
      invalid(file, `splits.${split}[${index}].image must be a relative path inside the data root`);
    }
    if (!Number.isInteger(label) || (label as number) < 0 || (label as number) >= classCount) {
      invalid(file, `splits.${split}[${index}].label must be an integer in [0, ${classCount})`);
    }
  });
  return entries as SplitEntry[];
}

/** Validates the text of a manifest file; every problem is a UserError that says how to fix it. */
export function parseManifest(text: string, file: string): PreparedManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    invalid(file, `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null) invalid(file, 'not a JSON object');
  const manifest = value as Partial<PreparedManifest>;
  if (manifest.version !== 1) invalid(file, `unsupported version ${String(manifest.version)} (expected 1)`);
  if (typeof manifest.dataRoot !== 'string' || manifest.dataRoot === '') invalid(file, 'dataRoot is missing');
  if (!Number.isInteger(manifest.seed)) invalid(file, 'seed must be an integer');
  const fraction = manifest.valFraction;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))
    invalid(file, 'valFraction must be in (0, 1)');
  const classes = manifest.classes;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
    invalid(file, 'classes must be a non-empty array of names');
  }
  if (classes.some((name, i) => i > 0 && !(classes[i - 1] < name)))
    invalid(file, 'classes must be sorted and unique');
  if (typeof manifest.splits !== 'object' || manifest.splits === null) invalid(file, 'splits is missing');
  for (const split of SPLIT_NAMES) checkEntries(file, split, manifest.splits[split], classes.length);
  const counts = manifest.counts;
  for (const split of SPLIT_NAMES) {
    if (counts?.[split] !== manifest.splits[split].length) {
      invalid(file, `counts.${split} does not match splits.${split} (edited by hand?)`);
    }
  }
  if (!Array.isArray(manifest.skipped)) invalid(file, 'skipped must be an array');
  if (manifest.synthetic !== undefined && manifest.synthetic !== true)
    invalid(file, 'synthetic must be true or absent');
  return manifest as PreparedManifest;
}
