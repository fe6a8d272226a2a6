import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, encodeRgbPng } from '../src/png.ts';

describe('encodeRgbPng', () => {
  it('writes a PNG that an image library decodes back to the same pixels', async () => {
    const width = 3;
    const height = 2;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
    const { data, info } = await sharp(encodeRgbPng(rgb, width, height))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width, height, channels: 3 });
    expect([...data]).toEqual([...rgb]);
  });
});

describe('encodePng', () => {
  it('writes the header it is given, whatever the rows hold (a bomb: 50,000² pixels declared)', async () => {
    const metadata = await sharp(
      encodePng(50_000, 50_000, Buffer.alloc(16), { bitDepth: 1, colourType: 0 }),
      {
        limitInputPixels: false,
      },
    ).metadata();
    expect(metadata).toMatchObject({ width: 50_000, height: 50_000, format: 'png' });
  });
});
