import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';

/** Extensions of the formats the server decodes (sharp): what `pnpm predict DIR` picks from a folder. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif', '.tif', '.tiff']);

/**
 * The files `pnpm predict` classifies: each argument that is a folder stands for the images directly
 * in it (by extension, sorted by name); any other argument is kept as given, so a missing file is
 * still reported against its own name.
 */
export async function expandImagePaths(args: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    if (!(await stat(arg).catch(() => undefined))?.isDirectory()) {
      files.push(arg);
      continue;
    }
    const images = (await readdir(arg, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
      .map((entry) => path.join(arg, entry.name))
      .sort();
    if (images.length === 0) {
      throw new UserError(
        `${arg} is a folder with no images in it (looked for ${[...IMAGE_EXTENSIONS].join(', ')}; subfolders are not searched).`,
        'FILE_UNREADABLE',
      );
    }
    files.push(...images);
  }
  return files;
}
