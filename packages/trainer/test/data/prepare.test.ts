import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PrepareOptions, prepareDataset } from '../../src/data/prepare.ts';
import { readManifest } from '../../src/data/prepared-set.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { extremePng } from './extreme-png.ts';
import { tempDir } from './temp-dir.ts';

describe('prepareDataset', () => {
  let root: string;
  let data: string;
  const options = (outDir: string, extra: Partial<PrepareOptions> = {}): PrepareOptions => ({
    dataRoot: data,
    outDir,
    selection: { count: 3 },
    seed: 42,
    valFraction: 0.1,
    ...extra,
  });

  beforeAll(async () => {
    root = await tempDir('prepare');
    data = path.join(root, 'data');
    await synthesizeDataset({ outDir: data, classes: 4, imagesPerClass: 12, seed: 3 });
  });

  it('writes a byte-identical manifest for the same inputs and seed', async () => {
    const first = await prepareDataset(options(path.join(root, 'a')));
    await prepareDataset(options(path.join(root, 'b')));
    const text = await readFile(first.manifestPath, 'utf8');
    expect(await readFile(path.join(root, 'b/manifest.json'), 'utf8')).toBe(text);

    const manifest = await readManifest(path.join(root, 'a'));
    expect(manifest).toEqual(first.manifest);
    expect(Object.keys(manifest)).toEqual([
      'version',
      'dataRoot',
      'seed',
      'valFraction',
      'classes',
      'splits',
      'sources',
      'counts',
      'skipped',
      'synthetic',
    ]);
    expect(manifest.dataRoot).toBe(path.resolve(data));
    expect(manifest.classes).toHaveLength(3);
    // 9 training-list images per class: round(0.9) = 1 to val; 3 test images per class.
    expect([manifest.counts.train, manifest.counts.val, manifest.counts.test]).toEqual([24, 3, 9]);
    expect(manifest.counts.perClass[manifest.classes[0]]).toEqual({ train: 8, val: 1, test: 3 });
    expect(manifest.sources['meta/train.txt'].lines).toBe(36);
    expect(manifest.skipped).toEqual([]);

    await prepareDataset(options(path.join(root, 'c'), { seed: 43 }));
    expect(await readFile(path.join(root, 'c/manifest.json'), 'utf8')).not.toBe(text);
  });

  it('records a trainer synth set as synthetic, and no other', async () => {
    expect((await prepareDataset(options(path.join(root, 'synth')))).manifest.synthetic).toBe(true);
    await rm(path.join(data, 'synthetic.json'));
    try {
      const { manifest, manifestPath } = await prepareDataset(options(path.join(root, 'real')));
      expect(manifest).not.toHaveProperty('synthetic');
      expect(await readFile(manifestPath, 'utf8')).not.toContain('synthetic');
    } finally {
      await writeFile(path.join(data, 'synthetic.json'), '{}\n');
    }
  });

  it('stops on missing and corrupt images, listing them; --skip-corrupt records them', async () => {
    const dirty = path.join(root, 'dirty');
    await synthesizeDataset({ outDir: dirty, classes: 2, imagesPerClass: 8, seed: 5 });
    const lines = (await readFile(path.join(dirty, 'meta/train.txt'), 'utf8')).trim().split('\n');
    const [missing, garbage, truncated] = lines.map((line) => `images/${line}.jpg`);
    await rm(path.join(dirty, missing));
    await writeFile(path.join(dirty, garbage), 'not a jpeg at all');
    const bytes = await readFile(path.join(dirty, truncated));
    await writeFile(path.join(dirty, truncated), bytes.subarray(0, bytes.length >> 1));

    const prepare = (extra: Partial<PrepareOptions>) =>
      prepareDataset({
        ...options(path.join(root, 'dirty-out')),
        dataRoot: dirty,
        selection: { count: 2 },
        ...extra,
      });
    const error = await prepare({}).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/3 of 16 images .* missing or cannot be decoded/);
    for (const image of [missing, garbage, truncated]) expect((error as Error).message).toContain(image);
    expect((error as Error).message).toContain(`${missing}: missing`);
    expect((error as Error).message).toContain('--skip-corrupt');

    // A header-only check cannot see the truncation.
    const headerOnly = await prepare({ check: 'header' }).catch((e: Error) => e);
    expect((headerOnly as Error).message).toMatch(/^2 of 16 images/);

    const { manifest } = await prepare({ skipCorrupt: true });
    expect(manifest.skipped.map((s) => s.image).sort()).toEqual([missing, garbage, truncated].sort());
    expect(manifest.skipped.find((s) => s.image === missing)).toMatchObject({ reason: 'missing' });
    const kept = [...manifest.splits.train, ...manifest.splits.val].map((e) => e.image);
    for (const image of [missing, garbage, truncated]) expect(kept).not.toContain(image);
    expect(manifest.counts.train + manifest.counts.val).toBe(12 - 3);
  });

  it('rejects what preprocessing rejects: a valid 1,400,000×1 PNG, naming the file', async () => {
    const thin = path.join(root, 'thin');
    await synthesizeDataset({ outDir: thin, classes: 2, imagesPerClass: 8, seed: 6 });
    const [line] = (await readFile(path.join(thin, 'meta/train.txt'), 'utf8')).trim().split('\n');
    const image = `images/${line}.jpg`;
    await writeFile(path.join(thin, image), await extremePng(1_400_000, 1));
    await expect(
      prepareDataset({ ...options(path.join(root, 'thin-out')), dataRoot: thin, selection: { count: 2 } }),
    ).rejects.toThrow(new RegExp(`1 of 16 images .*\\n  ${image}: `));
  });

  it('gives a clear error for a missing data set folder', async () => {
    await expect(
      prepareDataset(options(path.join(root, 'x'), { dataRoot: path.join(root, 'nope') })),
    ).rejects.toThrow(/data set folder .*nope does not exist/);
  });

  it('removes a preprocess.json that described another training split', async () => {
    const out = path.join(root, 'restats');
    await prepareDataset(options(out));
    await writeFile(path.join(out, 'preprocess.json'), '{}');
    expect((await prepareDataset(options(out))).removedStaleStats).toBe(false);
    expect(await readFile(path.join(out, 'preprocess.json'), 'utf8')).toBe('{}');
    expect((await prepareDataset(options(out, { seed: 1 }))).removedStaleStats).toBe(true);
    await expect(readFile(path.join(out, 'preprocess.json'))).rejects.toThrow(/ENOENT/);
  });
});
