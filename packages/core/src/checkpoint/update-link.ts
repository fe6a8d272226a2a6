import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFolderAtomically } from './atomic-folder.ts';
import { CheckpointError, corruptCheckpoint } from './checkpoint-error.ts';
import { checksumOf, readChecksums } from './checksums.ts';
import { type CheckpointFileSystem, nodeFileSystem } from './file-system.ts';
import { CHECKPOINT_FILES } from './layout.ts';
import type { RunCopyName } from './run-layout.ts';
import { writeFailed } from './save-checkpoint.ts';

/**
 * Points `RUN/latest` or `RUN/best` at a checkpoint folder of the run.
 *
 * They are full copies, not symlinks. Symlinks need privileges on Windows, are dropped or left
 * dangling by Docker volume copies, zip archives and most cloud sync tools, and a `best` symlink
 * breaks when old epoch-NNN folders are pruned. A copy costs one model's worth of disk and ~1 s per
 * epoch, and is written like a checkpoint: verified against the source's checksums while copying,
 * then swapped in atomically, so a reader sees the old or the new copy, never a mix.
 */
export async function updateLink(
  runDir: string,
  name: RunCopyName,
  targetDir: string,
  options: { fileSystem?: CheckpointFileSystem } = {},
): Promise<void> {
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const linkDir = path.join(runDir, name);
  if (path.resolve(linkDir) === path.resolve(targetDir)) {
    throw new Error(`updateLink: ${targetDir} is already ${name}; pass an epoch-NNN folder`);
  }
  const checksums = await readChecksums(targetDir);
  const sizeBytes = Object.values(checksums.files).reduce((sum, file) => sum + file.bytes, 0);
  try {
    await writeFolderAtomically(
      linkDir,
      async (tmp) => {
        for (const [file, expected] of Object.entries(checksums.files)) {
          const bytes = await readFile(path.join(targetDir, file)).catch((error: unknown) => {
            throw corruptCheckpoint(targetDir, file, 'cannot be read', error);
          });
          const actual = checksumOf(bytes);
          if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) {
            throw corruptCheckpoint(targetDir, file, 'does not match its sha256 in checksums.json');
          }
          await fileSystem.writeFile(path.join(tmp, file), bytes);
        }
        const checksumsFile = path.join(targetDir, CHECKPOINT_FILES.checksums);
        await fileSystem.writeFile(path.join(tmp, CHECKPOINT_FILES.checksums), await readFile(checksumsFile));
      },
      fileSystem,
    );
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw writeFailed(linkDir, error, sizeBytes);
  }
}
