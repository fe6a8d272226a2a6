import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import seedrandom from 'seedrandom';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/png.ts';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '../../src/preprocess/config.ts';
import {
  augmentImage,
  DEFAULT_MAX_PIXELS,
  decodeImageInfo,
  ImageDecodeError,
  loadCroppedRgb,
  MAX_ASPECT_RATIO,
  normalizePixels,
  preprocessImage,
  randomResizedCropBox,
} from '../../src/preprocess/image.ts';
import { SHARED_DATA } from '../../src/testing/shared-data.ts';
import { makeBlankPng } from '../../src/testing/synthetic-images.ts';

const food10Images = SHARED_DATA.food10Images;

/** Small geometry keeps the tests fast; mean/std chosen so normalised values are easy by hand. */
const config: PreprocessConfig = {
  ...DEFAULT_PREPROCESS,
  resizeShorterSide: 200,
  cropSize: 100,
  mean: [0.5, 0.25, 0],
  std: [0.25, 0.5, 1],
};

type Rgb = [number, number, number];

function raw(
  width: number,
  height: number,
  pixel: (x: number, y: number) => Rgb,
  pageHeight?: number,
): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height, channels: 3, pageHeight } });
}

const constant = (rgb: Rgb) => (): Rgb => rgb;

/** 300×200: red encodes x, green encodes y, so every output pixel says where it came from. */
const gradient = (x: number, y: number): Rgb => [x % 256, y, 255 - (x % 256)];

function pixelAt(rgb: Uint8Array, size: number, x: number, y: number): Rgb {
  const offset = (y * size + x) * 3;
  return [rgb[offset], rgb[offset + 1], rgb[offset + 2]];
}

async function expectDecodeError(promise: Promise<unknown>, code: string): Promise<ImageDecodeError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ImageDecodeError);
  expect((error as ImageDecodeError).code).toBe(code);
  return error as ImageDecodeError;
}

describe('loadCroppedRgb geometry', () => {
  it('centre-crops without resampling when the shorter side already matches (golden pixels)', async () => {
    const png = await raw(300, 200, gradient).png().toBuffer();
    const rgb = await loadCroppedRgb(png, config);
    expect(rgb.length).toBe(100 * 100 * 3);
    // Crop offset: left (300 − 100) / 2 = 100, top (200 − 100) / 2 = 50.
    expect(pixelAt(rgb, 100, 0, 0)).toEqual(gradient(100, 50));
    expect(pixelAt(rgb, 100, 99, 0)).toEqual(gradient(199, 50));
    expect(pixelAt(rgb, 100, 37, 81)).toEqual(gradient(137, 131));
    expect(pixelAt(rgb, 100, 99, 99)).toEqual(gradient(199, 149));
  });

  it('normalises golden pixels by (p / 255 − mean) / std', async () => {
    const png = await raw(300, 200, gradient).png().toBuffer();
    const values = await preprocessImage(png, config);
    expect(values.length).toBe(100 * 100 * 3);
    // Output (0, 0) is source (100, 50) = RGB (100, 50, 155).
    expect(values[0]).toBeCloseTo((100 / 255 - 0.5) / 0.25, 6);
    expect(values[1]).toBeCloseTo((50 / 255 - 0.25) / 0.5, 6);
    expect(values[2]).toBeCloseTo(155 / 255, 6);
  });

  it('resizes the shorter side and keeps the aspect ratio (a wide gradient is not squashed)', async () => {
    // Red rises 0 → 255 left to right across 400 px. Shorter side 100 → 50 makes it 200×50;
    // the centre 50 columns are source columns 150..250, so red spans about 96..159, not 0..255.
    const wide = await raw(400, 100, (x) => [Math.round((x * 255) / 399), 0, 0])
      .png()
      .toBuffer();
    const rgb = await loadCroppedRgb(wide, { ...config, resizeShorterSide: 50, cropSize: 50 });
    const reds = Array.from({ length: 50 }, (_, x) => pixelAt(rgb, 50, x, 25)[0]);
    expect(reds[0]).toBeGreaterThanOrEqual(93);
    expect(reds[0]).toBeLessThanOrEqual(100);
    expect(reds[49]).toBeGreaterThanOrEqual(155);
    expect(reds[49]).toBeLessThanOrEqual(162);
    for (let x = 1; x < 50; x++) expect(reds[x]).toBeGreaterThanOrEqual(reds[x - 1]);
  });

  it('upscales an image smaller than the crop instead of padding it', async () => {
    const tiny = await raw(20, 10, constant([10, 200, 30]))
      .png()
      .toBuffer();
    const rgb = await loadCroppedRgb(tiny, config);
    expect(rgb.length).toBe(100 * 100 * 3);
    expect(pixelAt(rgb, 100, 0, 0)).toEqual([10, 200, 30]);
    expect(pixelAt(rgb, 100, 99, 99)).toEqual([10, 200, 30]);
  });

  it('is deterministic for the same bytes', async () => {
    const jpeg = await raw(300, 200, gradient).jpeg().toBuffer();
    const [a, b] = await Promise.all([preprocessImage(jpeg, config), preprocessImage(jpeg, config)]);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('EXIF orientation', () => {
  // The upright photo, and the same photo stored sideways with the tag that says how to turn it.
  const upright = () => raw(120, 90, gradient);
  for (const [orientation, storedRotation] of [
    [6, -90],
    [8, 90],
  ] as const) {
    it(`orientation ${orientation} gives the pixels of the upright image`, async () => {
      const uprightPng = await upright().png().toBuffer();
      const sideways = await sharp(uprightPng).rotate(storedRotation).png().toBuffer();
      const tagged = await sharp(sideways).withMetadata({ orientation }).png().toBuffer();
      expect((await sharp(tagged).metadata()).orientation).toBe(orientation);

      expect(await decodeImageInfo(tagged)).toEqual({ format: 'png', width: 120, height: 90 });
      const small = { ...config, resizeShorterSide: 64, cropSize: 56 };
      expect(await loadCroppedRgb(tagged, small)).toEqual(await loadCroppedRgb(uprightPng, small));
      const rng = () => seedrandom('orientation');
      expect(await augmentImage(tagged, small, rng())).toEqual(await augmentImage(uprightPng, small, rng()));
    });
  }
});

describe('colour spaces and formats become 8-bit sRGB RGB', () => {
  const small = { ...config, resizeShorterSide: 16, cropSize: 16 };
  const everyPixel = (rgb: Uint8Array) =>
    Array.from({ length: rgb.length / 3 }, (_, i) => pixelAt(rgb, 16, i % 16, 0));

  it('grayscale', async () => {
    const gray = await sharp(Buffer.alloc(32 * 32, 77), { raw: { width: 32, height: 32, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const rgb = await loadCroppedRgb(gray, small);
    expect(rgb.length).toBe(16 * 16 * 3);
    expect(new Set(rgb)).toEqual(new Set([77]));
  });

  it('CMYK JPEG', async () => {
    const cmyk = await raw(32, 32, constant([200, 40, 40]))
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const rgb = await loadCroppedRgb(cmyk, small);
    expect(rgb.length).toBe(16 * 16 * 3);
    const [r, g, b] = pixelAt(rgb, 16, 8, 8);
    // Round trip through the default CMYK profile is approximate; the colour must stay a red.
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it('PNG with alpha is composited onto white', async () => {
    const rgba = Buffer.alloc(32 * 32 * 4);
    for (let i = 0; i < 32 * 32; i++) rgba.set([255, 0, 0, i % 32 < 16 ? 0 : 255], i * 4);
    const png = await sharp(rgba, { raw: { width: 32, height: 32, channels: 4 } })
      .png()
      .toBuffer();
    const rgb = await loadCroppedRgb(png, small);
    expect(rgb.length).toBe(16 * 16 * 3);
    expect(pixelAt(rgb, 16, 0, 0)).toEqual([255, 255, 255]);
    expect(pixelAt(rgb, 16, 15, 0)).toEqual([255, 0, 0]);
  });

  it('16-bit PNG', async () => {
    const rows = Buffer.alloc(32 * (1 + 32 * 6));
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const offset = y * (1 + 32 * 6) + 1 + x * 6;
        rows.writeUInt16BE(40000, offset);
        rows.writeUInt16BE(65535, offset + 2);
        rows.writeUInt16BE(0, offset + 4);
      }
    }
    const png16 = encodePng(32, 32, rows, { bitDepth: 16 });
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const rgb = await loadCroppedRgb(png16, small);
    expect(rgb.length).toBe(16 * 16 * 3);
    // 40000 / 65535 · 255 = 155.6
    expect(everyPixel(rgb).every(([r, g, b]) => r === 156 && g === 255 && b === 0)).toBe(true);
  });

  it('palette PNG', async () => {
    const png = await raw(32, 32, (x) => (x < 16 ? [250, 0, 0] : [0, 0, 250]))
      .png({ palette: true, colours: 4 })
      .toBuffer();
    expect((await sharp(png).metadata()).isPalette).toBe(true);
    const rgb = await loadCroppedRgb(png, small);
    expect(rgb.length).toBe(16 * 16 * 3);
    expect(pixelAt(rgb, 16, 0, 8)).toEqual([250, 0, 0]);
    expect(pixelAt(rgb, 16, 15, 8)).toEqual([0, 0, 250]);
  });

  it('animated GIF uses the first frame', async () => {
    // Two 32×32 frames stacked vertically: red, then blue.
    const gif = await raw(32, 64, (_, y) => (y < 32 ? [255, 0, 0] : [0, 0, 255]), 32)
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const rgb = await loadCroppedRgb(gif, small);
    expect(rgb.length).toBe(16 * 16 * 3);
    expect(pixelAt(rgb, 16, 8, 8)).toEqual([255, 0, 0]);
  });
});

describe('decode errors', () => {
  it('zero bytes → IMAGE_EMPTY', async () => {
    await expectDecodeError(preprocessImage(new Uint8Array(0), config), 'IMAGE_EMPTY');
    await expectDecodeError(decodeImageInfo(new Uint8Array(0)), 'IMAGE_EMPTY');
  });

  it('a text file named .jpg → IMAGE_UNSUPPORTED, telling the user to re-export', async () => {
    const text = Buffer.from('<html>404 Not Found</html>\n');
    const error = await expectDecodeError(preprocessImage(text, config), 'IMAGE_UNSUPPORTED');
    expect(error.message).toMatch(/re-export the photo as JPEG or PNG/i);
  });

  it('SVG is refused rather than rasterised', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await expectDecodeError(decodeImageInfo(svg), 'IMAGE_UNSUPPORTED');
  });

  it('a truncated JPEG → IMAGE_CORRUPT instead of grey pixels', async () => {
    const jpeg = await raw(300, 200, gradient).jpeg().toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    // The header is intact, so the probe passes; decoding the pixels must fail.
    expect(await decodeImageInfo(truncated)).toMatchObject({ format: 'jpeg', width: 300, height: 200 });
    const error = await expectDecodeError(preprocessImage(truncated, config), 'IMAGE_CORRUPT');
    expect(error.message).toMatch(/truncated/);
    await expectDecodeError(augmentImage(truncated, config, seedrandom('x')), 'IMAGE_CORRUPT');
  });

  it('a small PNG declaring 50,000×50,000 → IMAGE_TOO_LARGE, from the header alone', async () => {
    const bomb = encodePng(50_000, 50_000, Buffer.alloc(1000));
    expect(bomb.length).toBeLessThan(200);
    // No timing assert (a loaded machine would fail it by chance): decodeImageInfo below reads only the header.
    const error = await expectDecodeError(preprocessImage(bomb, config), 'IMAGE_TOO_LARGE');
    expect(error.message).toContain('50000×50000');
    await expectDecodeError(decodeImageInfo(bomb), 'IMAGE_TOO_LARGE');
  });

  it('respects a caller-supplied maxPixels', async () => {
    const png = await raw(300, 200, gradient).png().toBuffer();
    await expectDecodeError(preprocessImage(png, config, { maxPixels: 59_999 }), 'IMAGE_TOO_LARGE');
    await expectDecodeError(
      augmentImage(png, config, seedrandom('x'), { maxPixels: 59_999 }),
      'IMAGE_TOO_LARGE',
    );
    expect(await preprocessImage(png, config, { maxPixels: 60_000 })).toHaveLength(100 * 100 * 3);
  });
});

describe('extreme geometries', () => {
  // Every declared width × height from 1 to 10^8 by powers of ten, the reviewer's cases (a 250-byte
  // 1,400,000×1 PNG answered 500; 1,000,000×1 was called "damaged or truncated") and the ratio's edges.
  const sides = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
  const geometries = [
    ...sides.flatMap((width) => sides.map((height) => [width, height])),
    [1_400_000, 1],
    [1, 39_000_000],
    [1_000_000, 1],
    [MAX_ASPECT_RATIO, 1],
    [MAX_ASPECT_RATIO + 1, 1],
    [3, 3 * MAX_ASPECT_RATIO + 1],
  ];

  /** What each geometry must give: the crop, or the one error that says what is wrong. */
  function expected(width: number, height: number): string {
    if (width * height > DEFAULT_MAX_PIXELS) return 'IMAGE_TOO_LARGE';
    if (Math.max(width, height) > MAX_ASPECT_RATIO * Math.min(width, height)) return 'IMAGE_TOO_THIN';
    return 'ok';
  }

  it('preprocesses each, or refuses it with IMAGE_TOO_LARGE or IMAGE_TOO_THIN naming its size', async () => {
    const outcomes: string[] = [];
    const wanted: string[] = [];
    for (const [width, height] of geometries) {
      const png = makeBlankPng(width, height);
      const outcome = await Promise.all([
        preprocessImage(png, config),
        augmentImage(png, config, seedrandom(`${width}x${height}`)),
      ]).then(
        ([evaluated, augmented]) =>
          evaluated.length === 100 * 100 * 3 && augmented.length === 100 * 100 * 3 ? 'ok' : 'wrong length',
        (error: Error) =>
          error instanceof ImageDecodeError && error.message.includes(`${width}×${height}`)
            ? error.code
            : `${error.name}: ${error.message}`,
      );
      outcomes.push(`${width}×${height} ${outcome}`);
      wanted.push(`${width}×${height} ${expected(width, height)}`);
    }
    expect(outcomes).toEqual(wanted);
    expect(wanted.filter((line) => line.endsWith(' ok')).length).toBeGreaterThan(10);
    expect(wanted.filter((line) => line.endsWith('IMAGE_TOO_THIN')).length).toBeGreaterThan(10);
  }, 60_000);

  it('says what to do about a thin strip, and the header check alone refuses it', async () => {
    const strip = makeBlankPng(1_400_000, 1);
    expect(strip.length).toBeLessThan(2000);
    const error = await expectDecodeError(decodeImageInfo(strip), 'IMAGE_TOO_THIN');
    expect(error.message).toMatch(/1400000×1: its long side is 1400000 times its short side.*Crop it/);
  });
});

describe('normalizePixels', () => {
  it('applies (p / 255 − mean[c]) / std[c] per channel in HWC order', () => {
    const values = normalizePixels(new Uint8Array([0, 255, 51, 255, 0, 102]), config);
    expect(Array.from(values)).toEqual(
      [(0 - 0.5) / 0.25, (1 - 0.25) / 0.5, 0.2, (1 - 0.5) / 0.25, (0 - 0.25) / 0.5, 0.4].map(Math.fround),
    );
  });
});

describe('augmentImage', () => {
  const small = { ...config, resizeShorterSide: 64, cropSize: 48 };

  it('is deterministic for a seed and differs across seeds', async () => {
    const jpeg = await raw(300, 200, gradient).jpeg().toBuffer();
    const a = await augmentImage(jpeg, small, seedrandom('seed-1'));
    const b = await augmentImage(jpeg, small, seedrandom('seed-1'));
    const c = await augmentImage(jpeg, small, seedrandom('seed-2'));
    expect(a).toHaveLength(48 * 48 * 3);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('shares the normalisation with preprocessImage', async () => {
    const flat = await raw(300, 200, constant([90, 180, 30]))
      .png()
      .toBuffer();
    const evaluated = await preprocessImage(flat, small);
    const augmented = await augmentImage(flat, small, seedrandom('any'));
    expect(new Set(augmented)).toEqual(new Set(evaluated));
    expect(new Set(evaluated).size).toBe(3);
  });

  it('flips horizontally when the flip draw is below 0.5', async () => {
    const png = await raw(64, 48, (x) => [x * 4, 0, 0])
      .png()
      .toBuffer();
    // scale [1, 1] and ratio = the image's own: the crop is the whole image; the 5th draw is the flip.
    const draws = (flip: number) => {
      const values = [0.5, 0.5, 0, 0, flip];
      return () => values.shift()!;
    };
    const options = { scale: [1, 1] as [number, number], ratio: [4 / 3, 4 / 3] as [number, number] };
    const geometry = { ...config, resizeShorterSide: 48, cropSize: 48 };
    const kept = await augmentImage(png, geometry, draws(0.9), options);
    const flipped = await augmentImage(png, geometry, draws(0.1), options);
    const red = (values: Float32Array, x: number) => values[(10 * 48 + x) * 3];
    expect(red(kept, 0)).toBeLessThan(red(kept, 47));
    expect(red(flipped, 0)).toBeCloseTo(red(kept, 47), 5);
    expect(red(flipped, 47)).toBeCloseTo(red(kept, 0), 5);
  });
});

describe('randomResizedCropBox', () => {
  it('stays inside the image with area and aspect ratio in range', () => {
    const random = seedrandom('boxes');
    for (let i = 0; i < 500; i++) {
      const box = randomResizedCropBox(512, 384, random);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(512);
      expect(box.top + box.height).toBeLessThanOrEqual(384);
      const areaFraction = (box.width * box.height) / (512 * 384);
      expect(areaFraction).toBeGreaterThan(0.07);
      expect(areaFraction).toBeLessThanOrEqual(1);
      // Rounding to whole pixels can nudge the ratio slightly past 3/4 or 4/3 on small boxes.
      expect(box.width / box.height).toBeGreaterThan(0.7);
      expect(box.width / box.height).toBeLessThan(1.4);
    }
  });

  it('falls back to the centred, ratio-clamped whole image after 10 misses', () => {
    // Draws of 0.999 ask for the full area at ratio 4/3, which never fits a 100×300 portrait.
    const box = randomResizedCropBox(100, 300, () => 0.999);
    expect(box).toEqual({ left: 0, top: 83, width: 100, height: 133 });
  });
});

describe('real photo', () => {
  const present = existsSync(food10Images);
  it.skipIf(!present)(
    'preprocesses a Food-101 JPEG (skipped when ../shared/data/food10 is absent)',
    async () => {
      const className = readdirSync(food10Images).sort()[0];
      const file = readdirSync(path.join(food10Images, className)).sort()[0];
      const bytes = await readFile(path.join(food10Images, className, file));
      const info = await decodeImageInfo(bytes);
      expect(info.format).toBe('jpeg');
      expect(Math.max(info.width, info.height)).toBeLessThanOrEqual(512);
      const values = await preprocessImage(bytes, DEFAULT_PREPROCESS);
      expect(values).toHaveLength(224 * 224 * 3);
      expect(values.every(Number.isFinite)).toBe(true);
      // ImageNet normalisation of 0..255 spans about −2.1..2.6; a real photo uses a good part of it.
      const min = values.reduce((a, b) => Math.min(a, b));
      const max = values.reduce((a, b) => Math.max(a, b));
      expect(min).toBeGreaterThanOrEqual(-2.2);
      expect(max).toBeLessThanOrEqual(2.7);
      expect(max - min).toBeGreaterThan(1);
    },
  );
});
