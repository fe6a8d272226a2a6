import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';

/**
 * Checks, before the first step, that `out` can take a checkpoint: the folder can be created and
 * written, and its disk has room for one checkpoint of `checkpointBytes`. Otherwise the first save,
 * a whole epoch later, would be the first to notice.
 */
export async function checkOutputFolder(out: string, checkpointBytes: number): Promise<void> {
  const probe = path.join(out, `.write-check-${process.pid}`);
  try {
    await mkdir(out, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new UserError(
      `cannot write checkpoints to --out ${out}: ${whyUnwritable(error)}. Choose a writable folder for --out (or fix its permissions); nothing has been trained yet.`,
    );
  }
  const { bavail, bsize } = await statfs(out);
  const free = bavail * bsize;
  if (free < checkpointBytes) {
    throw new UserError(
      `--out ${out} has ${megabytes(free)} MB free, but one checkpoint of this model needs about ${megabytes(checkpointBytes)} MB (${megabytes(2 * checkpointBytes)} MB while latest is replaced). Free disk space or choose --out on another disk; nothing has been trained yet.`,
    );
  }
}

function whyUnwritable(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the path is a file, not a folder';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return (error as Error).message;
  }
}

const megabytes = (bytes: number) => Math.ceil(bytes / 1e6).toLocaleString('en');
