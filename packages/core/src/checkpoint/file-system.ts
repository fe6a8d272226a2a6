import { mkdir, open, rename, rm } from 'node:fs/promises';

/**
 * The write operations a checkpoint save performs. Injectable so tests can simulate a full disk or
 * a crash at any step; production code uses `nodeFileSystem`.
 */
export interface CheckpointFileSystem {
  /** Creates (or truncates) `path`, writes `data` and fsyncs it before returning. */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Creates `path` and any missing parents. */
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or folder recursively; no error if it does not exist. */
  remove(path: string): Promise<void>;
  /** Makes renames inside `dir` durable (a no-op where directories cannot be fsynced, e.g. Windows). */
  syncDir(dir: string): Promise<void>;
}

export const nodeFileSystem: CheckpointFileSystem = {
  async writeFile(path, data) {
    const file = await open(path, 'w');
    try {
      await file.writeFile(data);
      // Without fsync a power loss after the rename can publish a folder of empty files.
      await file.sync();
    } finally {
      await file.close();
    }
  },
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  rename,
  async remove(path) {
    await rm(path, { recursive: true, force: true });
  },
  async syncDir(dir) {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(dir, 'r');
      await handle.sync();
    } catch (error) {
      // Windows and some network file systems cannot open or fsync a directory; the renames are
      // still atomic there, only their durability across a power loss is weaker.
      const code = (error as NodeJS.ErrnoException).code;
      if (!['EPERM', 'EISDIR', 'EINVAL', 'EBADF', 'EACCES', 'ENOTSUP'].includes(code ?? '')) throw error;
    } finally {
      await handle?.close();
    }
  },
};
