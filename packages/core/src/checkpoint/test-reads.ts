/**
 * RUN/test-reads.json: the run's record of every `pnpm evaluate --split test` of one of its checkpoints
 * (docs/results.md, "Selection protocol"). A recipe is chosen on validation; test is read once per final
 * run, so a second read (another epoch, TTA on or off, the same checkpoint again) is on record, and
 * `pnpm evaluate` warns before it. The one writer and the one reader of the file.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { runPaths } from './run-layout.ts';

export interface TestRead {
  /** The checkpoint folder's name inside the run: `best`, `epoch-003`. */
  checkpoint: string;
  /** The report folder `pnpm evaluate --out` wrote, as it was given. */
  report: string;
  tta: string;
  /** `--limit`, or null for the whole split. */
  limit: number | null;
  evaluatedAt: string;
}

/** The run's test reads, oldest first; none when the file is absent. Throws naming the file when it is bad. */
export async function readTestReads(runDir: string): Promise<TestRead[]> {
  const file = runPaths(runDir).testReads;
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return [];
  const value = parseJson(text);
  if (!Array.isArray(value) || !value.every(isTestRead)) {
    throw new UserError(
      `${file} is not a list of test reads (written by pnpm evaluate --split test): restore it from a backup, or delete it, losing the record of which checkpoints were read on test.`,
      'TEST_READS_CORRUPT',
    );
  }
  return value;
}

/** Adds `read` to the run's record (written under a temporary name, then renamed); returns the new list. */
export async function recordTestRead(runDir: string, read: TestRead): Promise<TestRead[]> {
  const reads = [...(await readTestReads(runDir)), read];
  const file = runPaths(runDir).testReads;
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(reads, null, 2)}\n`);
  await rename(temporary, file);
  return reads;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isTestRead(value: unknown): value is TestRead {
  if (typeof value !== 'object' || value === null) return false;
  const read = value as Record<string, unknown>;
  return (
    typeof read.checkpoint === 'string' &&
    typeof read.report === 'string' &&
    typeof read.tta === 'string' &&
    (read.limit === null || typeof read.limit === 'number') &&
    typeof read.evaluatedAt === 'string'
  );
}
