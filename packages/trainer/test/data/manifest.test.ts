import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countSplits, formatManifest, type PreparedManifest } from '../../src/data/manifest.ts';
import { readManifest } from '../../src/data/prepared-set.ts';
import { tempDir } from './temp-dir.ts';

function sampleManifest(): PreparedManifest {
  const classes = ['a', 'b'];
  const splits = {
    train: [
      { image: 'images/a/1.jpg', label: 0 },
      { image: 'images/b/2.jpg', label: 1 },
    ],
    val: [{ image: 'images/a/3.jpg', label: 0 }],
    test: [{ image: 'images/b/4.jpg', label: 1 }],
  };
  const source = { sha256: '0'.repeat(64), lines: 2 };
  return {
    version: 1,
    dataRoot: '/data/food',
    seed: 1,
    valFraction: 0.1,
    classes,
    splits,
    sources: { 'meta/classes.txt': source, 'meta/train.txt': source, 'meta/test.txt': source },
    counts: countSplits(classes, splits),
    skipped: [],
  };
}

async function writeManifest(dir: string, value: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'manifest.json'), typeof value === 'string' ? value : JSON.stringify(value));
  return dir;
}

describe('manifest', () => {
  it('formats one entry per line and reads back what it wrote', async () => {
    const manifest = sampleManifest();
    const text = formatManifest(manifest);
    expect(text).toContain('      { "image": "images/a/1.jpg", "label": 0 },\n');
    expect(JSON.parse(text)).toEqual(manifest);
    const dir = await writeManifest(path.join(await tempDir('manifest'), 'ok'), text);
    expect(await readManifest(dir)).toEqual(manifest);
    expect(manifest.counts.perClass).toEqual({
      a: { train: 1, val: 1, test: 0 },
      b: { train: 1, val: 0, test: 1 },
    });
  });

  it('explains what is wrong and how to fix it', async () => {
    const root = await tempDir('manifest-bad');
    await expect(readManifest(path.join(root, 'none'))).rejects.toThrow(
      /no manifest.json in .*trainer prepare/,
    );
    await expect(readManifest(await writeManifest(path.join(root, 'json'), '{'))).rejects.toThrow(/not JSON/);
    const bad = (name: string, edit: (m: PreparedManifest) => void) => {
      const manifest = sampleManifest();
      edit(manifest);
      return writeManifest(path.join(root, name), manifest).then(readManifest);
    };
    await expect(bad('version', (m) => Object.assign(m, { version: 2 }))).rejects.toThrow(
      /unsupported version 2/,
    );
    await expect(bad('label', (m) => (m.splits.train[0].label = 5))).rejects.toThrow(
      /splits.train\[0\].label/,
    );
    await expect(bad('escape', (m) => (m.splits.test[0].image = '../x.jpg'))).rejects.toThrow(
      /relative path/,
    );
    await expect(bad('count', (m) => (m.counts.val = 9))).rejects.toThrow(/counts.val does not match/);
    await expect(bad('order', (m) => (m.classes = ['b', 'a']))).rejects.toThrow(/sorted/);
    await expect(bad('fraction', (m) => (m.valFraction = 0))).rejects.toThrow(/valFraction/);
  });
});
