import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type CheckpointFileSystem, nodeFileSystem } from './file-system.ts';

/**
 * Replaces a whole folder so that a crash at any moment leaves either the old or the new complete
 * folder, never a mix. Siblings of `DIR` used on the way, named `.DIR.<stage>-<pid>-<random>`:
 *   tmp   being written (incomplete; deleted on failure or by the next recovery);
 *   ready fully written and fsynced (complete: renamed from tmp only after the last fsync);
 *   old   the previous DIR while the new one is renamed into place (complete).
 * A directory cannot be atomically renamed over another one on every platform (Windows), so the swap
 * is `DIR -> old`, `ready -> DIR`, remove old; `recoverFolder` repairs a crash between the renames.
 */

type Stage = 'tmp' | 'ready' | 'old';

interface Leftover {
  path: string;
  stage: Stage;
  pid: number;
  tag: string;
}

/** A sibling's name as `writeFolderAtomically` makes it: `.DIR.<stage>-<pid>-<random>`. */
function siblingName(folder: string, stage: Stage, tag: string): string {
  return `.${folder}.${stage}-${tag}`;
}

/**
 * The folder (DIR's base name) and stage of a sibling named as `writeFolderAtomically` names them, or
 * undefined for any other name: how a caller listing a parent tells which folders a crash left behind.
 */
export function parseSiblingName(
  name: string,
): { folder: string; stage: Stage; pid: number; tag: string } | undefined {
  const match = /^\.(.+)\.(tmp|ready|old)-((\d+)-[0-9a-f]+)$/.exec(name);
  if (!match) return undefined;
  return { folder: match[1]!, stage: match[2] as Stage, tag: match[3]!, pid: +match[4]! };
}

/** Tags of the writes this process has in flight, so recovery never deletes our own work. */
const inFlight = new Set<string>();

export async function writeFolderAtomically(
  dir: string,
  write: (tmpDir: string) => Promise<void>,
  fileSystem: CheckpointFileSystem = nodeFileSystem,
): Promise<void> {
  const parent = path.dirname(dir);
  await fileSystem.mkdir(parent);
  // Before writing: a previous crash may have left DIR only as a `.ready`/`.old` sibling.
  await recoverFolder(dir, fileSystem);

  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const sibling = (stage: Stage) => path.join(parent, siblingName(path.basename(dir), stage, tag));
  const [tmp, ready, old] = [sibling('tmp'), sibling('ready'), sibling('old')];
  inFlight.add(tag);
  try {
    try {
      await fileSystem.mkdir(tmp);
      await write(tmp);
      await fileSystem.syncDir(tmp);
      await fileSystem.rename(tmp, ready);
    } catch (error) {
      await fileSystem.remove(tmp).catch(() => undefined);
      throw error;
    }

    const hadOld = await exists(dir);
    try {
      if (hadOld) await fileSystem.rename(dir, old);
    } catch (error) {
      await fileSystem.remove(ready).catch(() => undefined);
      throw error;
    }
    try {
      await fileSystem.rename(ready, dir);
    } catch (error) {
      if (hadOld) await fileSystem.rename(old, dir).catch(() => undefined);
      await fileSystem.remove(ready).catch(() => undefined);
      throw error;
    }
    await fileSystem.syncDir(parent);
    // The new folder is in place; a failure to delete the old copy only wastes space until the
    // next recovery removes it.
    if (hadOld) await fileSystem.remove(old).catch(() => undefined);
  } finally {
    inFlight.delete(tag);
  }
}

/**
 * Finishes or rolls back what a crashed `writeFolderAtomically` left: if DIR is missing, the newest
 * complete sibling (`ready`, else `old`) becomes DIR; stale siblings are deleted. Siblings of a live
 * process (another writer mid-save) are left alone.
 */
export async function recoverFolder(
  dir: string,
  fileSystem: CheckpointFileSystem = nodeFileSystem,
): Promise<void> {
  const leftovers = (await findLeftovers(dir)).filter((leftover) => !isInFlight(leftover));
  if (leftovers.length === 0) return;
  if (!(await exists(dir))) {
    const complete = await newestFirst(leftovers.filter((leftover) => leftover.stage !== 'tmp'));
    const restore = complete.find((l) => l.stage === 'ready') ?? complete.find((l) => l.stage === 'old');
    if (restore) {
      await fileSystem.rename(restore.path, dir);
      leftovers.splice(leftovers.indexOf(restore), 1);
    }
  }
  for (const leftover of leftovers) await fileSystem.remove(leftover.path);
}

async function findLeftovers(dir: string): Promise<Leftover[]> {
  const parent = path.dirname(dir);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const leftovers: Leftover[] = [];
  for (const name of names) {
    const sibling = parseSiblingName(name);
    if (sibling?.folder !== path.basename(dir)) continue;
    const { stage, tag, pid } = sibling;
    leftovers.push({ path: path.join(parent, name), stage, tag, pid });
  }
  return leftovers;
}

function isInFlight(leftover: Leftover): boolean {
  // In a container the trainer is often pid 1 again after a restart, so our own pid only means
  // "in flight" for writes this process registered.
  if (leftover.pid === process.pid) return inFlight.has(leftover.tag);
  try {
    process.kill(leftover.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function newestFirst(leftovers: Leftover[]): Promise<Leftover[]> {
  const withTimes = await Promise.all(
    leftovers.map(async (leftover) => ({ leftover, mtime: (await stat(leftover.path)).mtimeMs })),
  );
  return withTimes.sort((a, b) => b.mtime - a.mtime).map(({ leftover }) => leftover);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
