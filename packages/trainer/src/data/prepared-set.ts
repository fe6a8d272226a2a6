import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import { type PreprocessConfig, parsePreprocessConfig } from '@food/core/preprocess/config';
import { formatManifest, type PreparedManifest, parseManifest } from './manifest.ts';

/**
 * A prepared data set, `data/prepared/NAME`: `manifest.json` (written by `prepare`: the splits) and
 * `preprocess.json` (written by `stats`: the training split's mean/std). This module is their one reader
 * and one writer; train, stats, evaluate and export read them through it.
 */
export const PREPARED_FILES = { manifest: 'manifest.json', preprocess: 'preprocess.json' } as const;

export function preparedPaths(dir: string) {
  return {
    manifest: path.join(dir, PREPARED_FILES.manifest),
    preprocess: path.join(dir, PREPARED_FILES.preprocess),
  };
}

/** Reads and validates `DIR/manifest.json`; every problem is a UserError that says how to fix it. */
export async function readManifest(dir: string): Promise<PreparedManifest> {
  const file = preparedPaths(dir).manifest;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw await missingManifest(dir);
  }
  return parseManifest(text, file);
}

/**
 * What to run when DIR holds no manifest. A raw Food-101 folder (images/ + meta/) is the usual mix-up:
 * the fix prepares it into its own folder with the classes it holds (`--preset seed50` needs all 101).
 */
async function missingManifest(dir: string): Promise<UserError> {
  const rawClasses = await countRawClasses(dir);
  if (rawClasses !== undefined) {
    return new UserError(
      `${dir} is a raw Food-101 folder (images/ and meta/), not a prepared data set. Prepare it first: ` +
        `\`pnpm trainer prepare --data ${dir} --out data/prepared/${path.basename(path.resolve(dir))} ` +
        `--classes ${rawClasses}\`, then pass that --out folder to --prepared.`,
      'MANIFEST_MISSING',
    );
  }
  return new UserError(
    `no ${PREPARED_FILES.manifest} in ${dir}. Create the prepared data set first: ` +
      `\`pnpm trainer prepare --data DIR --out ${dir} --preset seed50\`.`,
    'MANIFEST_MISSING',
  );
}

/** The classes listed in DIR/meta/classes.txt when DIR also has images/, else undefined. */
async function countRawClasses(dir: string): Promise<number | undefined> {
  const images = await stat(path.join(dir, 'images')).catch(() => undefined);
  if (!images?.isDirectory()) return undefined;
  const classes = await readFile(path.join(dir, 'meta', 'classes.txt'), 'utf8').catch(() => undefined);
  if (classes === undefined) return undefined;
  return classes.split('\n').filter((line) => line.trim() !== '').length;
}

/**
 * Writes `DIR/manifest.json` (stable text: the same splits give the same bytes). When it changed, the
 * preprocess.json beside it holds statistics of the old training split and is removed.
 */
export async function writeManifest(
  dir: string,
  manifest: PreparedManifest,
): Promise<{ file: string; removedStaleStats: boolean }> {
  const files = preparedPaths(dir);
  const text = formatManifest(manifest);
  const previous = await readFile(files.manifest, 'utf8').catch(() => undefined);
  await writeAtomically(files.manifest, text);
  let removedStaleStats = false;
  if (previous !== undefined && previous !== text) {
    removedStaleStats = (await readFile(files.preprocess).catch(() => undefined)) !== undefined;
    await rm(files.preprocess, { force: true });
  }
  return { file: files.manifest, removedStaleStats };
}

/**
 * `DIR/preprocess.json`, or undefined when `stats` has not written it yet (callers decide: `stats` starts
 * from the default geometry, `train` asks for `stats` first). An invalid file is a UserError.
 */
export async function readPreparedPreprocess(dir: string): Promise<PreprocessConfig | undefined> {
  const file = preparedPaths(dir).preprocess;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return parsePreprocessConfig(JSON.parse(text), file);
  } catch (error) {
    throw new UserError(
      `${file} is invalid (${(error as Error).message}). Run \`pnpm trainer stats --prepared ${dir}\` again (delete the file first to use the default geometry).`,
    );
  }
}

/** The error for a prepared set that `train` or `evaluate` needs the statistics of. */
export function missingStats(dir: string): UserError {
  return new UserError(
    `${preparedPaths(dir).preprocess} is missing: the training split's mean/std have not been computed. Run \`pnpm trainer stats --prepared ${dir}\` first.`,
  );
}

export async function writePreparedPreprocess(dir: string, config: PreprocessConfig): Promise<string> {
  const file = preparedPaths(dir).preprocess;
  await writeAtomically(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Written beside and renamed, so an interrupted run never leaves half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
