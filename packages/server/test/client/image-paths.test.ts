import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandImagePaths } from '../../src/client/image-paths.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'image-paths-'));
  await mkdir(path.join(root, 'photos', 'nested'), { recursive: true });
  await mkdir(path.join(root, 'empty'));
  for (const name of ['ramen.JPG', 'apple_pie.png', 'notes.txt', 'nested/pho.jpg']) {
    await writeFile(path.join(root, 'photos', name), '');
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('expandImagePaths (pnpm predict DIR)', () => {
  it('replaces a folder with the images directly in it, sorted, and keeps files as given', async () => {
    const photos = path.join(root, 'photos');
    expect(await expandImagePaths([path.join(root, 'missing.jpg'), photos])).toEqual([
      path.join(root, 'missing.jpg'),
      path.join(photos, 'apple_pie.png'),
      path.join(photos, 'ramen.JPG'),
    ]);
  });

  it('says so when a folder holds no image', async () => {
    await expect(expandImagePaths([path.join(root, 'empty')])).rejects.toThrow(
      /empty is a folder with no images in it/,
    );
  });
});
