/**
 * `pnpm evaluate --split test` on a run's checkpoint: the read goes on the run's record
 * (RUN/test-reads.json), and a second read of test for the same recipe and seed (this run again, or a
 * run beside it in the same folder trained with the same settings) is warned about before it starts.
 * Choosing between test results (epochs, TTA, re-runs) selects on test; docs/results.md, "Selection
 * protocol", says how a recipe is chosen on validation instead.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { runDirOf, runPaths } from '@food/core/checkpoint/run-layout';
import { readTestReads, recordTestRead, type TestRead } from '@food/core/checkpoint/test-reads';
import { recipeKey } from '../runs/recipe.ts';

export interface EarlierRead {
  /** The run folder whose record holds the read. */
  run: string;
  read: TestRead;
}

/**
 * The test reads on record for the recipe and seed of the run that holds `checkpointDir`: its own and
 * those of the runs beside it with the same settings. Undefined when the checkpoint is not in a run folder.
 */
export async function earlierTestReads(checkpointDir: string): Promise<EarlierRead[] | undefined> {
  const runDir = runDirOf(checkpointDir);
  if (!(await isFolder(runPaths(runDir).latest))) return undefined;
  const identity = await recipeAndSeed(runDir);
  const earlier: EarlierRead[] = [];
  for (const run of await runsBeside(runDir)) {
    if (run !== runDir && (await recipeAndSeed(run).catch(() => undefined)) !== identity) continue;
    for (const read of await readTestReads(run)) earlier.push({ run, read });
  }
  return earlier;
}

/** The warning before a test read that has been made before; undefined for the first. */
export function secondReadWarning(
  checkpointDir: string,
  earlier: readonly EarlierRead[],
): string | undefined {
  if (earlier.length === 0) return undefined;
  const reads = earlier.map(
    ({ run, read }) =>
      `${path.join(run, read.checkpoint)} on ${read.evaluatedAt} (tta ${read.tta}) → ${read.report}`,
  );
  return (
    `warning: test was already read ${earlier.length} time${earlier.length === 1 ? '' : 's'} for the recipe and seed of ${checkpointDir}: ${reads.join('; ')}. ` +
    'Choosing between test results selects on test: choose epochs, TTA and recipes on validation (`pnpm evaluate --split val`), and read test once per final run. This read is recorded too.'
  );
}

/** Adds this read to the record of the run that holds `checkpointDir`. */
export async function recordRunTestRead(
  checkpointDir: string,
  read: Omit<TestRead, 'checkpoint'>,
): Promise<void> {
  await recordTestRead(runDirOf(checkpointDir), {
    checkpoint: path.basename(path.resolve(checkpointDir)),
    ...read,
  });
}

async function recipeAndSeed(runDir: string): Promise<string> {
  const { runConfig } = await readCheckpointMetadata(runPaths(runDir).latest);
  return `${recipeKey(runConfig)} seed ${runConfig.seed}`;
}

/** Every run folder (a folder with latest/) in the folder that holds `runDir`, `runDir` included. */
async function runsBeside(runDir: string): Promise<string[]> {
  const parent = path.dirname(runDir);
  const entries = await readdir(parent, { withFileTypes: true });
  const runs: string[] = [];
  for (const entry of entries.filter((candidate) => candidate.isDirectory())) {
    const run = path.join(parent, entry.name);
    if (await isFolder(runPaths(run).latest)) runs.push(run);
  }
  return runs;
}

async function isFolder(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
