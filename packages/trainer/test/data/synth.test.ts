import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { decodeImageInfo } from '@food/core/preprocess/image';
import { describe, expect, it } from 'vitest';
import { readFood101Meta } from '../../src/data/food101-meta.ts';
import { synthClassNames, synthesizeDataset } from '../../src/data/synth.ts';
import { tempDir } from './temp-dir.ts';

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    ),
  );
  return nested.flat().sort();
}

describe('synthesizeDataset', () => {
  it('writes the official Food-101 layout with a 75:25 split per class', async () => {
    const out = path.join(await tempDir('synth'), 'set');
    const result = await synthesizeDataset({ outDir: out, classes: 3, imagesPerClass: 8, seed: 1 });
    expect(result).toEqual({ classes: ['apple_pie', 'baby_back_ribs', 'baklava'], train: 18, test: 6 });

    const meta = await readFood101Meta(out);
    expect(meta.classes).toEqual(result.classes);
    expect(await readFile(path.join(out, 'meta/labels.txt'), 'utf8')).toBe(
      'Apple pie\nBaby back ribs\nBaklava\n',
    );
    for (const className of meta.classes) {
      expect(meta.train.filter((e) => e.className === className)).toHaveLength(6);
      expect(meta.test.filter((e) => e.className === className)).toHaveLength(2);
    }
    // The JSON lists hold the same lines as the text lists, keyed by class.
    const trainJson = JSON.parse(await readFile(path.join(out, 'meta/train.json'), 'utf8'));
    const testJson = JSON.parse(await readFile(path.join(out, 'meta/test.json'), 'utf8'));
    expect(Object.values(trainJson).flat()).toEqual(meta.train.map((e) => `${e.className}/${e.id}`));
    expect(Object.values(testJson).flat()).toEqual(meta.test.map((e) => `${e.className}/${e.id}`));

    const listed = [...meta.train, ...meta.test].map((e) => `images/${e.className}/${e.id}.jpg`).sort();
    const files = await listFiles(out);
    expect(files.filter((f) => f.startsWith('images/'))).toEqual(listed);
    // Beside the official layout: what prepare and train read to flag the data (and its models) as synthetic.
    expect(JSON.parse(await readFile(path.join(out, 'synthetic.json'), 'utf8'))).toMatchObject({
      generator: 'pnpm trainer synth',
    });
    expect(files.filter((f) => f.startsWith('meta/'))).toEqual(
      ['classes.txt', 'labels.txt', 'test.json', 'test.txt', 'train.json', 'train.txt'].map(
        (f) => `meta/${f}`,
      ),
    );

    const sizes = new Set<string>();
    for (const image of listed) {
      const info = await decodeImageInfo(await readFile(path.join(out, image)));
      expect(info.format).toBe('jpeg');
      for (const side of [info.width, info.height]) {
        expect(side).toBeGreaterThanOrEqual(160);
        expect(side).toBeLessThanOrEqual(400);
      }
      sizes.add(`${info.width}x${info.height}`);
    }
    expect(sizes.size).toBeGreaterThan(listed.length / 2);
  });

  it('writes photos at Food-101 size on request (longer side 512, varied aspect ratios), saying how far it is', async () => {
    const out = path.join(await tempDir('synth-photos'), 'set');
    const photos = { longerSide: 512, quality: [75, 90] as [number, number] };
    const progress: number[] = [];
    await synthesizeDataset({
      ...{ outDir: out, classes: 2, imagesPerClass: 20, seed: 3, photos },
      onProgress: (written, total) => progress.push(written / total),
    });
    expect(progress).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) / 40));
    const meta = await readFood101Meta(out);
    const shapes = new Set<string>();
    for (const entry of [...meta.train, ...meta.test]) {
      const file = await readFile(path.join(out, 'images', entry.className, `${entry.id}.jpg`));
      const info = await decodeImageInfo(file);
      expect(Math.max(info.width, info.height)).toBe(512);
      shapes.add(`${info.width}x${info.height}`);
    }
    // Square photos are the most common, but not the only shape.
    expect(shapes.has('512x512')).toBe(true);
    expect(shapes.size).toBeGreaterThan(1);
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const root = await tempDir('synth-determinism');
    const options = { classes: 2, imagesPerClass: 4 };
    await synthesizeDataset({ ...options, outDir: path.join(root, 'a'), seed: 7 });
    await synthesizeDataset({ ...options, outDir: path.join(root, 'b'), seed: 7, concurrency: 1 });
    await synthesizeDataset({ ...options, outDir: path.join(root, 'c'), seed: 8 });
    const files = await listFiles(path.join(root, 'a'));
    expect(await listFiles(path.join(root, 'b'))).toEqual(files);
    for (const file of files) {
      const a = await readFile(path.join(root, 'a', file));
      expect(a.equals(await readFile(path.join(root, 'b', file))), file).toBe(true);
    }
    expect(await listFiles(path.join(root, 'c'))).not.toEqual(files);
  });

  it('refuses to write into an existing data set', async () => {
    const out = path.join(await tempDir('synth-existing'), 'set');
    await synthesizeDataset({ outDir: out, classes: 1, imagesPerClass: 4, seed: 1 });
    await expect(synthesizeDataset({ outDir: out, classes: 1, imagesPerClass: 4, seed: 1 })).rejects.toThrow(
      /already exists/,
    );
    expect((await stat(path.join(out, 'meta/classes.txt'))).isFile()).toBe(true);
  });

  it('names classes after Food-101 up to 101, then class_NNN', () => {
    expect(synthClassNames(2)).toEqual(['apple_pie', 'baby_back_ribs']);
    expect(synthClassNames(101)[100]).toBe('waffles');
    const many = synthClassNames(120);
    expect(many[0]).toBe('class_000');
    expect(many[119]).toBe('class_119');
  });
});
