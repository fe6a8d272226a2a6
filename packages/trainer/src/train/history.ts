import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeToString } from 'fast-csv';

/** One row of `history.csv` / `history.json`: what a person watching a run wants per epoch. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valTop1: number;
  valTop5: number;
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
}

const COLUMNS: Array<keyof EpochRecord> = [
  'epoch',
  'trainLoss',
  'trainAccuracy',
  'valLoss',
  'valTop1',
  'valTop5',
  'learningRate',
  'seconds',
  'imagesPerSecond',
];

export async function readHistory(runDir: string): Promise<EpochRecord[]> {
  try {
    return JSON.parse(await readFile(path.join(runDir, 'history.json'), 'utf8')) as EpochRecord[];
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
  const rows = records.map((record) => COLUMNS.map((column) => record[column]));
  const csv = await writeToString([COLUMNS, ...rows]);
  await writeFile(path.join(runDir, 'history.csv'), `${csv}\n`);
  await writeFile(path.join(runDir, 'history.json'), `${JSON.stringify(records, null, 2)}\n`);
}
