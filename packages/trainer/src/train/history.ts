import { readFile, writeFile } from 'node:fs/promises';
import { EPOCH_RECORD_FIELDS, type EpochRecord } from '@food/core/checkpoint/epoch-metrics';
import { runPaths } from '@food/core/checkpoint/run-layout';
import { writeToString } from 'fast-csv';

export type { EpochRecord };

/** The run's history.json; empty before the first epoch completes. */
export async function readHistory(runDir: string): Promise<EpochRecord[]> {
  try {
    return JSON.parse(await readFile(runPaths(runDir).historyJson, 'utf8')) as EpochRecord[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Rewrites both files from the full record list, keeping only epochs up to the last one given: a resumed
 * run drops rows of epochs it is about to redo.
 */
export async function writeHistory(runDir: string, records: readonly EpochRecord[]): Promise<void> {
  const rows = records.map((record) => EPOCH_RECORD_FIELDS.map((column) => record[column]));
  const csv = await writeToString([EPOCH_RECORD_FIELDS, ...rows]);
  const files = runPaths(runDir);
  await writeFile(files.historyCsv, `${csv}\n`);
  await writeFile(files.historyJson, `${JSON.stringify(records, null, 2)}\n`);
}
