/** Which food10 photos `pnpm bench:browser` classifies: a prepared data set's test split, classes in turn. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface LabelledPhoto {
  file: string;
  label: string;
}

interface ManifestSplits {
  dataRoot: string;
  classes: string[];
  splits: { test?: Array<{ image: string; label: number }> };
}

/**
 * `count` photos of the test split, taking one of each class in turn (the first of each, then the
 * second, ...), so a smaller count still covers every class and the same count always gives the same
 * photos. Fewer when the split holds fewer.
 */
export function pickTestPhotos(manifest: ManifestSplits, count: number): LabelledPhoto[] {
  const byClass = manifest.classes.map(() => [] as string[]);
  for (const { image, label } of manifest.splits.test ?? []) byClass[label]?.push(image);
  const picked: LabelledPhoto[] = [];
  for (let round = 0; picked.length < count; round++) {
    const before = picked.length;
    for (const [label, images] of byClass.entries()) {
      const image = images[round];
      if (image !== undefined && picked.length < count)
        picked.push({ file: path.resolve(manifest.dataRoot, image), label: manifest.classes[label]! });
    }
    if (picked.length === before) break;
  }
  return picked;
}

/** Reads `PREPARED/manifest.json`; throws a message that says how to make one. */
export async function readTestPhotos(prepared: string, count: number): Promise<LabelledPhoto[]> {
  const file = path.join(prepared, 'manifest.json');
  let manifest: ManifestSplits;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as ManifestSplits;
  } catch (error) {
    throw new Error(
      `cannot read ${file} (${(error as Error).message}); prepare food10 first ` +
        '(`pnpm trainer prepare`, see README) or pass --prepared DIR',
    );
  }
  const photos = pickTestPhotos(manifest, count);
  if (photos.length === 0)
    throw new Error(`${file} has no test photos; pass a prepared set with a test split`);
  return photos;
}
