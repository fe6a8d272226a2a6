/**
 * The int8 guard: an int8 export is kept only when, on the validation split, its top-1 is within
 * 0.5 points of the float32 export's and its top-1 agrees with float32's on at least 98 % of the
 * images. This module owns the decision and its record, `RUN/best.int8.guard.json` (run-layout.ts,
 * int8GuardPath): the trainer writes it, the server reads it for the model card.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.ts';

export const INT8_GUARD_FORMAT = 'food-int8-guard/1';

/** The guard's limits: top-1 may drop by at most this many points; agreement is a fraction of images. */
export const INT8_GUARD_LIMITS = { maxTop1DropPoints: 0.5, minAgreement: 0.98 } as const;

/** What running both exports over the validation split counted. */
export interface Int8GuardCounts {
  images: number;
  /** Images whose float32 top-1 is the true label. */
  float32Correct: number;
  int8Correct: number;
  /** Images where int8's top-1 class is float32's. */
  agreeing: number;
}

/** The counts and the figures the guard judges, as fractions of `images` (null with no images). */
export interface Int8GuardFigures extends Int8GuardCounts {
  split: 'val';
  float32Top1: number | null;
  int8Top1: number | null;
  agreement: number | null;
}

/** `kept`: int8 passed; `refused`: int8 was removed; `forced`: `--force` skipped the guard. */
export type Int8GuardDecision = 'kept' | 'refused' | 'forced';

export interface Int8GuardRecord {
  format: typeof INT8_GUARD_FORMAT;
  /** sha256 of the checkpoint's weights.bin the exports were made from: a stale record is ignored. */
  weightsSha256: string;
  decision: Int8GuardDecision;
  /** One sentence: the figures against the limits, or why the guard refused, or that it was skipped. */
  reason: string;
  /** Null when the guard was skipped (`forced`). */
  figures: Int8GuardFigures | null;
  limits: { maxTop1DropPoints: number; minAgreement: number };
}

// Counts are whole images; the tolerance only absorbs the rounding of the division at a limit.
const EPSILON = 1e-9;

const percent = (value: number) => `${(value * 100).toFixed(2)} %`;

/** Judges the counts against INT8_GUARD_LIMITS. */
export function judgeInt8(counts: Int8GuardCounts): {
  decision: 'kept' | 'refused';
  reason: string;
  figures: Int8GuardFigures;
} {
  const { images } = counts;
  const share = (count: number) => (images > 0 ? count / images : null);
  const figures: Int8GuardFigures = {
    split: 'val',
    ...counts,
    float32Top1: share(counts.float32Correct),
    int8Top1: share(counts.int8Correct),
    agreement: share(counts.agreeing),
  };
  if (images === 0) {
    return {
      decision: 'refused',
      reason:
        'the validation split has no images, so int8 cannot be checked against float32; prepare the data set with a validation split (--val-fraction) or export with --force',
      figures,
    };
  }
  const { maxTop1DropPoints, minAgreement } = INT8_GUARD_LIMITS;
  const drop = ((counts.float32Correct - counts.int8Correct) / images) * 100;
  const agreement = counts.agreeing / images;
  const problems: string[] = [];
  if (drop > maxTop1DropPoints + EPSILON) {
    problems.push(
      `int8 top-1 ${percent(counts.int8Correct / images)} is ${drop.toFixed(2)} points below float32's ` +
        `${percent(counts.float32Correct / images)} (the limit is ${maxTop1DropPoints})`,
    );
  }
  if (agreement < minAgreement - EPSILON) {
    problems.push(
      `int8 agrees with float32's top-1 on ${percent(agreement)} of images (the limit is ${percent(minAgreement)})`,
    );
  }
  const where = `${images} validation images`;
  if (problems.length > 0)
    return { decision: 'refused', reason: `${problems.join('; ')}, on ${where}`, figures };
  return {
    decision: 'kept',
    reason:
      `int8 top-1 ${percent(counts.int8Correct / images)} vs float32 ${percent(counts.float32Correct / images)} ` +
      `and top-1 agreement ${percent(agreement)}, on ${where}`,
    figures,
  };
}

/** The record of a guard that ran. */
export function guardRecord(weightsSha256: string, counts: Int8GuardCounts): Int8GuardRecord {
  return {
    format: INT8_GUARD_FORMAT,
    weightsSha256,
    ...judgeInt8(counts),
    limits: { ...INT8_GUARD_LIMITS },
  };
}

/** The record of `--force`: int8 kept without a check. */
export function forcedRecord(weightsSha256: string): Int8GuardRecord {
  return {
    format: INT8_GUARD_FORMAT,
    weightsSha256,
    decision: 'forced',
    reason: 'the guard was skipped (--force): int8 was not checked against float32',
    figures: null,
    limits: { ...INT8_GUARD_LIMITS },
  };
}

/** The one writer of the record. */
export async function writeInt8Guard(file: string, record: Int8GuardRecord): Promise<void> {
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * The one reader: undefined when there is no record; a UserError naming the file when it is not one
 * (a hand-edited or truncated file must not show made-up figures on the model card).
 */
export async function readInt8Guard(file: string): Promise<Int8GuardRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isGuardRecord(value)) {
    throw new UserError(
      `${file} is not an int8 guard record (${INT8_GUARD_FORMAT}). Delete it and export again: ` +
        '`pnpm trainer export --checkpoint RUN/best --quantize int8 --calibration data/prepared/NAME`.',
      'INT8_GUARD_CORRUPT',
    );
  }
  // The fractions are derived from the counts, never taken from the file.
  const { figures } = value;
  return {
    ...value,
    figures:
      figures &&
      judgeInt8({
        images: figures.images,
        float32Correct: figures.float32Correct,
        int8Correct: figures.int8Correct,
        agreeing: figures.agreeing,
      }).figures,
  };
}

function isGuardRecord(value: unknown): value is Int8GuardRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<Int8GuardRecord>;
  const figures = record.figures;
  const isCount = (count: unknown) => Number.isInteger(count) && (count as number) >= 0;
  return (
    record.format === INT8_GUARD_FORMAT &&
    typeof record.weightsSha256 === 'string' &&
    (record.decision === 'kept' || record.decision === 'refused' || record.decision === 'forced') &&
    typeof record.reason === 'string' &&
    typeof record.limits?.maxTop1DropPoints === 'number' &&
    typeof record.limits?.minAgreement === 'number' &&
    (figures === null ||
      (typeof figures === 'object' &&
        figures !== undefined &&
        [figures.images, figures.float32Correct, figures.int8Correct, figures.agreeing].every(isCount)))
  );
}
