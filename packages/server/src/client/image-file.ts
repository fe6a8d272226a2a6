import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';

/** An image file's bytes for an upload; a missing or unreadable file is the user's to fix, so a UserError. */
export async function readImageFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `${file}: no such file; check the path.` : `${file}: cannot read (${code}).`,
      'FILE_UNREADABLE',
    );
  }
}

/** The media type `load-test` posts a file as, by its extension. */
export function imageContentType(file: string): string {
  const extension = path.extname(file).toLowerCase().slice(1);
  const types: Record<string, string> = {
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    png: 'image/png',
    webp: 'image/webp',
    gif: 'image/gif',
  };
  return types[extension] ?? 'application/octet-stream';
}
