import { describe, expect, it } from 'vitest';
import { parseFlags } from '../src/browser-bench.ts';
import { browserMarkdown, type PhotoResult, quantile, summarisePhotos } from '../src/browser-figures.ts';
import { pickTestPhotos } from '../src/browser-photos.ts';
import { replaceSection } from '../src/docs-section.ts';

const manifest = {
  dataRoot: '/data/food10',
  classes: ['apple_pie', 'baklava', 'ramen'],
  splits: {
    test: [
      { image: 'images/apple_pie/1.jpg', label: 0 },
      { image: 'images/apple_pie/2.jpg', label: 0 },
      { image: 'images/apple_pie/3.jpg', label: 0 },
      { image: 'images/baklava/1.jpg', label: 1 },
      { image: 'images/ramen/1.jpg', label: 2 },
      { image: 'images/ramen/2.jpg', label: 2 },
    ],
  },
};

describe('bench:browser photos', () => {
  it('takes one photo of each class in turn, so a few photos still cover every class', () => {
    expect(pickTestPhotos(manifest, 4)).toEqual([
      { file: '/data/food10/images/apple_pie/1.jpg', label: 'apple_pie' },
      { file: '/data/food10/images/baklava/1.jpg', label: 'baklava' },
      { file: '/data/food10/images/ramen/1.jpg', label: 'ramen' },
      { file: '/data/food10/images/apple_pie/2.jpg', label: 'apple_pie' },
    ]);
  });

  it('stops at the split when more photos are asked for than it holds', () => {
    const photos = pickTestPhotos(manifest, 100);
    expect(photos).toHaveLength(6);
    expect(new Set(photos.map((photo) => photo.file)).size).toBe(6);
  });
});

describe('bench:browser figures', () => {
  const result = (label: string, device: string, server: string, deviceMs: number): PhotoResult => ({
    label,
    device,
    server,
    deviceMs,
  });

  it('counts agreement with the server and each side against the true class', () => {
    const summary = summarisePhotos([
      result('a', 'a', 'a', 40),
      result('a', 'b', 'a', 10),
      result('b', 'b', 'b', 20),
      result('b', 'a', 'c', 30),
    ]);
    expect(summary).toEqual({
      photos: 4,
      msPerPhoto: { median: 20, p90: 40, first: 40 },
      agreeing: 2,
      agreement: 0.5,
      deviceTop1: 0.5,
      serverTop1: 0.75,
    });
  });

  it('takes nearest-rank quantiles and answers 0 for no values', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile([5, 1, 4, 2, 3], 0.9)).toBe(5);
    expect(quantile([], 0.5)).toBe(0);
  });

  it('writes a table with bytes, times and the agreement', () => {
    const markdown = browserMarkdown(
      {
        checkpoint: 'checkpoints/food10/best',
        precision: 'int8',
        modelFileBytes: 24_102_422,
        browser: 'Chromium 156',
        threads: 2,
        firstLoad: { modelBytes: 24_102_800, runtimeBytes: 14_340_631, ms: 1834.2 },
        cachedLoad: { modelBytes: 0, runtimeBytes: 1_900, ms: 612 },
        ...summarisePhotos([result('a', 'a', 'a', 61), result('b', 'b', 'a', 75)]),
        loadAverage: [1, 0.5, 0.25],
      },
      '2026-12-06 08:00 UTC',
    );
    expect(markdown).toContain('| first (empty cache) | 24.1 MB | 14.3 MB | 1,834 ms |');
    expect(markdown).toContain('| again (new page, from the caches) | 0.000 MB | 0.002 MB | 612 ms |');
    expect(markdown).toContain(
      '| median 61 ms, p90 75 ms, first 61 ms | 1 / 2 (50.0 %) | 100.0 % | 50.0 % |',
    );
    expect(markdown).toContain('the int8 model (24.1 MB), 2 food10 test photos');
  });
});

describe('bench:browser flags', () => {
  it('needs a checkpoint and a positive photo count, one line each', () => {
    expect(() => parseFlags([])).toThrow(/^--checkpoint DIR is required/);
    expect(() => parseFlags(['--checkpoint', 'c', '--photos', '0'])).toThrow(/^--photos: /);
    expect(parseFlags(['--checkpoint', 'c', '--photos', '12', '--write-docs']).options).toMatchObject({
      checkpoint: 'c',
      photos: 12,
      writeDocs: true,
      prepared: 'data/prepared/food10',
    });
  });
});

describe('docs sections', () => {
  it('replaces only its own section and keeps the rest of the page', () => {
    const page = '# B\n\nintro\n\n<!-- x:start -->\nold\n<!-- x:end -->\n\ntail\n';
    expect(replaceSection(page, 'x', 'new\n')).toBe(
      '# B\n\nintro\n\n<!-- x:start -->\nnew\n<!-- x:end -->\n\ntail\n',
    );
  });

  it('appends the section when the page has none', () => {
    expect(replaceSection('# B\n', 'x', 'body')).toBe('# B\n\n<!-- x:start -->\nbody\n<!-- x:end -->\n');
  });
});
