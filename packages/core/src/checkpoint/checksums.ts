import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { corruptCheckpoint } from './checkpoint-error.ts';
import { CHECKPOINT_FILES, REQUIRED_FILES } from './layout.ts';

export interface FileChecksum {
  sha256: string;
  bytes: number;
}

/** `checksums.json`: sha256 and size of every other file of the checkpoint. */
export interface Checksums {
  files: Record<string, FileChecksum>;
}

export function checksumOf(data: Uint8Array): FileChecksum {
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.byteLength };
}

/** Streams the file so a 100 MB weights.bin is hashed without a second copy in memory. */
export async function hashFile(file: string): Promise<FileChecksum> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export async function computeChecksums(dir: string, names: readonly string[]): Promise<Checksums> {
  const files: Record<string, FileChecksum> = {};
  for (const name of [...names].sort()) files[name] = await hashFile(path.join(dir, name));
  return { files };
}

export async function readChecksums(dir: string): Promise<Checksums> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(dir, CHECKPOINT_FILES.checksums), 'utf8'));
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'is missing (the save never finished)'
        : 'is not valid JSON';
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.checksums, why, error);
  }
  const files = (parsed as Partial<Checksums> | null)?.files;
  if (typeof files !== 'object' || files === null) {
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.checksums, 'has no "files" object');
  }
  for (const [name, entry] of Object.entries(files)) {
    const valid =
      name === path.basename(name) &&
      name !== CHECKPOINT_FILES.checksums &&
      typeof entry?.sha256 === 'string' &&
      Number.isInteger(entry.bytes) &&
      entry.bytes >= 0;
    if (!valid) throw corruptCheckpoint(dir, CHECKPOINT_FILES.checksums, `has an invalid entry "${name}"`);
  }
  for (const name of REQUIRED_FILES) {
    if (!(name in files)) throw corruptCheckpoint(dir, name, 'is not listed in checksums.json');
  }
  if (CHECKPOINT_FILES.trainingState in files !== CHECKPOINT_FILES.optimizer in files) {
    throw corruptCheckpoint(
      dir,
      CHECKPOINT_FILES.checksums,
      `lists only one of ${CHECKPOINT_FILES.trainingState} and ${CHECKPOINT_FILES.optimizer}`,
    );
  }
  return { files };
}

/**
 * Checks every listed file's size, and the sha256 of those `shouldHash` selects (hashing is the
 * expensive part: ~0.5 s for ResNet-50's weights). Throws a CheckpointError naming the first bad file.
 */
export async function verifyChecksums(
  dir: string,
  checksums: Checksums,
  shouldHash: (name: string) => boolean = () => true,
): Promise<void> {
  for (const [name, expected] of Object.entries(checksums.files)) {
    const file = path.join(dir, name);
    let bytes: number;
    try {
      bytes = (await stat(file)).size;
    } catch (error) {
      throw corruptCheckpoint(dir, name, 'is missing', error);
    }
    if (bytes < expected.bytes) {
      throw corruptCheckpoint(dir, name, `is truncated (${bytes} of ${expected.bytes} bytes)`);
    }
    if (bytes > expected.bytes) {
      throw corruptCheckpoint(dir, name, `has ${bytes} bytes where checksums.json says ${expected.bytes}`);
    }
    if (shouldHash(name) && (await hashFile(file)).sha256 !== expected.sha256) {
      throw corruptCheckpoint(dir, name, 'does not match its sha256 in checksums.json');
    }
  }
}
