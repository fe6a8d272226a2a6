import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';

/** The three official list files that decide classes and splits, keyed as they appear in manifests. */
export const META_SOURCES = ['meta/classes.txt', 'meta/train.txt', 'meta/test.txt'] as const;
export type MetaSource = (typeof META_SOURCES)[number];

export interface SourceChecksum {
  sha256: string;
  lines: number;
}

/** An entry of meta/train.txt or meta/test.txt: `<class>/<id>`, no extension. */
export interface ListEntry {
  className: string;
  id: string;
}

export interface Food101Meta {
  /** In file order (the official file is not in byte order: `cheesecake` precedes `cheese_plate`). */
  classes: string[];
  train: ListEntry[];
  test: ListEntry[];
  sources: Record<MetaSource, SourceChecksum>;
}

// Class names and ids become path segments; refusing anything else keeps a hostile list from
// pointing outside `images/`.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Path of an entry's image relative to the data root, as the official layout stores it. */
export function imagePathOf(entry: ListEntry): string {
  return `images/${entry.className}/${entry.id}.jpg`;
}

/** "apple_pie" → "Apple pie": the rule every line of the official meta/labels.txt follows. */
export function readableName(className: string): string {
  const words = className.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Non-empty lines; the official test.txt has no final newline and train.txt has one. */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

export function parseListEntry(line: string, source: string, lineNumber: number): ListEntry {
  const parts = line.split('/');
  if (parts.length !== 2 || !NAME.test(parts[0]) || !NAME.test(parts[1])) {
    throw new UserError(
      `${source} line ${lineNumber}: expected "<class>/<id>" (letters, digits, _ . -), got "${line}". ` +
        'Is this an official Food-101 meta list?',
      'META_INVALID',
    );
  }
  return { className: parts[0], id: parts[1] };
}

async function readSource(metaDir: string, source: MetaSource): Promise<{ text: string; sha256: string }> {
  const file = path.join(metaDir, path.basename(source));
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new UserError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error}). ` +
        '--data must be a Food-101 folder holding images/ and meta/ (see `pnpm trainer download` or `pnpm trainer synth`).',
      'META_MISSING',
    );
  }
  return { text: bytes.toString('utf8'), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Reads and checks meta/classes.txt, train.txt and test.txt of a Food-101 folder. */
export async function readFood101Meta(dataRoot: string): Promise<Food101Meta> {
  const info = await stat(dataRoot).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UserError(
      `data set folder ${dataRoot} does not exist. Pass the Food-101 folder (the one holding images/ and meta/), ` +
        'e.g. --data ../shared/data/food10, or fetch it with `pnpm trainer download --out DIR`.',
      'DATA_MISSING',
    );
  }
  return readMetaLists(path.join(dataRoot, 'meta'));
}

/** The same from a folder holding the list files themselves (such as a copy of the official meta/). */
export async function readMetaLists(metaDir: string): Promise<Food101Meta> {
  const [classesFile, trainFile, testFile] = await Promise.all(
    META_SOURCES.map((source) => readSource(metaDir, source)),
  );
  const classes = splitLines(classesFile.text);
  classes.forEach((name, index) => {
    if (!NAME.test(name)) {
      throw new UserError(`meta/classes.txt line ${index + 1}: invalid class name "${name}"`, 'META_INVALID');
    }
  });
  const duplicateClass = classes.find((name, index) => classes.indexOf(name) !== index);
  if (duplicateClass) throw new UserError(`meta/classes.txt lists "${duplicateClass}" twice`, 'META_INVALID');

  const known = new Set(classes);
  const seen = new Map<string, string>();
  const parseList = (text: string, source: MetaSource): ListEntry[] =>
    splitLines(text).map((line, index) => {
      const entry = parseListEntry(line, source, index + 1);
      if (!known.has(entry.className)) {
        throw new UserError(
          `${source} line ${index + 1}: class "${entry.className}" is not in meta/classes.txt`,
          'META_INVALID',
        );
      }
      // An image in both splits (or twice in one) would leak test data into training.
      const previous = seen.get(line);
      if (previous)
        throw new UserError(`${line} is listed in ${previous} and again in ${source}`, 'META_INVALID');
      seen.set(line, source);
      return entry;
    });

  const train = parseList(trainFile.text, 'meta/train.txt');
  const test = parseList(testFile.text, 'meta/test.txt');
  const lineCounts = [classes.length, train.length, test.length];
  const files = [classesFile, trainFile, testFile];
  const sources = Object.fromEntries(
    META_SOURCES.map((source, index) => [source, { sha256: files[index].sha256, lines: lineCounts[index] }]),
  ) as Record<MetaSource, SourceChecksum>;
  return { classes, train, test, sources };
}
