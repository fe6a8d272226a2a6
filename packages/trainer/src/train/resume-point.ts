import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseSiblingName, recoverFolder } from '@food/core/checkpoint/atomic-folder';
import { readChecksums, verifyChecksums } from '@food/core/checkpoint/checksums';
import { epochRecordOf, isEpochMetrics } from '@food/core/checkpoint/epoch-metrics';
import { CHECKPOINT_FILES } from '@food/core/checkpoint/layout';
import { readCheckpointMetadata, readTrainingProgress } from '@food/core/checkpoint/load-checkpoint';
import {
  BEST,
  CHECKPOINT_FOLDER,
  epochDirName,
  LATEST,
  RUN_FILES,
  runPaths,
} from '@food/core/checkpoint/run-layout';
import type { TrainingProgress } from '@food/core/checkpoint/training-state';
import { updateLink } from '@food/core/checkpoint/update-link';
import type { EpochRecord } from './history.ts';

/**
 * Where a run continues after any stop, a `kill -9` included: the newest checkpoint folder of the run
 * whose files all match their checksums. `latest` is usually it, but a kill between saving `epoch-NNN`
 * and copying it to `latest` leaves `latest` one epoch behind or absent, and a corrupt `latest` must
 * not stop a run that has intact epoch folders.
 */
export interface ResumePoint {
  dir: string;
  state: TrainingProgress;
}

/** The checkpoint folders of the run in `out` (`latest`, `best`, `epoch-NNN`), after repairing torn swaps. */
export async function listRunCheckpoints(out: string): Promise<string[]> {
  const names = await readdir(out).catch(() => [] as string[]);
  // A kill between the two renames of a swap leaves a folder only as a `.NAME.ready-…` sibling.
  const swapped = names.flatMap((name) => parseSiblingName(name)?.folder ?? []);
  const checkpoints = [...names, ...swapped].filter((name) => CHECKPOINT_FOLDER.test(name));
  for (const name of new Set(checkpoints)) {
    await recoverFolder(path.join(out, name)).catch(() => undefined);
  }
  const folders = (await readdir(out).catch(() => [] as string[])).filter((name) =>
    CHECKPOINT_FOLDER.test(name),
  );
  // The order resuming prefers among equally new folders: latest, epoch folders newest first, best.
  const rank = (name: string) => (name === LATEST ? 0 : name === BEST ? 2 : 1);
  return folders.sort((a, b) => rank(a) - rank(b) || b.localeCompare(a));
}

/**
 * The newest (most optimizer steps) checkpoint of the run whose every file matches checksums.json;
 * undefined when there is none. Each folder passed over is logged with the reason.
 */
export async function findResumePoint(
  out: string,
  log: (line: string) => void,
): Promise<ResumePoint | undefined> {
  const candidates: ResumePoint[] = [];
  for (const name of await listRunCheckpoints(out)) {
    const dir = path.join(out, name);
    const state = await readTrainingProgress(dir);
    if (state) candidates.push({ dir, state });
    else log(`resume: passing over ${dir}: no readable ${CHECKPOINT_FILES.trainingState}`);
  }
  // Newest first; on a tie the listing's order decides (`latest` before the epoch folder it copies).
  candidates.sort((a, b) => b.state.globalStep - a.state.globalStep);
  for (const candidate of candidates) {
    try {
      await verifyChecksums(candidate.dir, await readChecksums(candidate.dir));
      return candidate;
    } catch (error) {
      log(`resume: passing over ${candidate.dir}: ${(error as Error).message}`);
    }
  }
  return undefined;
}

/**
 * After resuming from `point`, puts `latest` and `best` back where an uninterrupted run would have
 * them: a kill may have stopped the run before it copied the newest epoch to either.
 */
export async function repairRunLinks(out: string, point: ResumePoint, log: (line: string) => void) {
  const { latest, best } = runPaths(out);
  if (path.resolve(point.dir) !== path.resolve(latest)) {
    await updateLink(out, LATEST, point.dir);
    log(
      `resume: ${latest} was missing, behind or damaged; it now holds a copy of ${path.basename(point.dir)}`,
    );
  }
  const { bestEpoch } = point.state;
  if (bestEpoch === 0 || (await checkpointEpoch(best)) === bestEpoch) return;
  const bestSource = runPaths(out).epoch(bestEpoch);
  if ((await checkpointEpoch(bestSource)) !== bestEpoch) return;
  await updateLink(out, BEST, bestSource);
  log(`resume: ${best} now holds ${epochDirName(bestEpoch)}`);
}

/**
 * The history of the epochs up to the resumed one. history.json is written after the epoch's
 * checkpoint, so a kill in between loses the last row: it is rebuilt from the epoch folder's metrics.json.
 */
export async function historyUpTo(
  out: string,
  saved: readonly EpochRecord[],
  epoch: number,
): Promise<EpochRecord[]> {
  const history: EpochRecord[] = [];
  for (let e = 1; e <= epoch; e++) {
    const record = saved.find((row) => row.epoch === e) ?? (await savedEpochRecord(runPaths(out).epoch(e)));
    if (record) history.push(record);
  }
  return history;
}

/** For --overwrite: removes every checkpoint folder and history file of the run in `out`. */
export async function removeRun(out: string): Promise<string[]> {
  const names = await listRunCheckpoints(out);
  for (const name of [...names, ...Object.values(RUN_FILES)])
    await rm(path.join(out, name), { recursive: true, force: true });
  return names;
}

async function checkpointEpoch(dir: string): Promise<number | undefined> {
  const state = await readTrainingProgress(dir);
  return state && state.stepInEpoch === 0 ? state.epoch : undefined;
}

async function savedEpochRecord(dir: string): Promise<EpochRecord | undefined> {
  try {
    const { metrics } = await readCheckpointMetadata(dir);
    return isEpochMetrics(metrics) ? epochRecordOf(metrics) : undefined;
  } catch {
    return undefined;
  }
}
