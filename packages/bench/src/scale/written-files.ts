/**
 * The files a bench:scale run wrote, with their sizes: each file on its own line, except in a folder of
 * many files (101 class folders of photos, a feature cache), which is one line with its count and total.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface WrittenEntry {
  /** Relative to the listed root; a folder ends in `/`. */
  path: string;
  bytes: number;
  files: number;
}

/** A folder holding more files than this (at any depth) is listed as one line. */
const FOLDER_LINE_ABOVE = 12;

export async function folderTotals(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = await folderTotals(full);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += (await stat(full)).size;
      files += 1;
    }
  }
  return { bytes, files };
}

export async function listWrittenFiles(root: string, relative = ''): Promise<WrittenEntry[]> {
  const dir = path.join(root, relative);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const listed: WrittenEntry[] = [];
  for (const entry of entries) {
    const name = path.posix.join(relative, entry.name);
    if (entry.isFile()) {
      listed.push({ path: name, bytes: (await stat(path.join(root, name))).size, files: 1 });
    } else if (entry.isDirectory()) {
      const totals = await folderTotals(path.join(root, name));
      if (totals.files > FOLDER_LINE_ABOVE) listed.push({ path: `${name}/`, ...totals });
      else listed.push(...(await listWrittenFiles(root, name)));
    }
  }
  return listed;
}
