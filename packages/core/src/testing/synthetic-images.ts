/**
 * PNG files made byte by byte (no image library), of any size and content, and broken ones: what the
 * server's tests upload and `pnpm bench:serve` posts.
 */
import { crc32, deflateSync } from 'node:zlib';

/** A 1×1 GIF and a 1×1 lossless WebP (well-known minimal files). */
export const TINY_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
export const TINY_WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG of `width`×`height` around `rows` (the filtered scanlines, deflated here), written byte by byte:
 * any bit depth and colour type, and headers that need not match the data (what sharp will not write).
 */
export function encodePng(
  width: number,
  height: number,
  rows: Uint8Array,
  { bitDepth = 8, colourType = 2 }: { bitDepth?: 1 | 8 | 16; colourType?: 0 | 2 } = {},
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType; // 2: RGB, 0: greyscale
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/**
 * An RGB PNG whose pixels come from `pixel(x, y)`; different `seed`s give visibly different images,
 * so batched requests can be told apart.
 */
export function makePng(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number] = gradient(0),
): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 3);
  }
  return encodePng(width, height, raw);
}

export function gradient(seed: number): (x: number, y: number) => [number, number, number] {
  return (x, y) => [(x * 5 + seed * 47) % 256, (y * 7 + seed * 91) % 256, ((x + y) * 3 + seed * 13) % 256];
}

/**
 * A decompression bomb: a valid header declaring `side`×`side` pixels and a few bytes of data. Decoding
 * it would need side²·3 bytes; the server must refuse it from the header alone.
 */
export function makePngBomb(side = 50_000): Buffer {
  return encodePng(side, side, Buffer.alloc(1024));
}

/**
 * A black 1-bit greyscale PNG declaring `width`×`height`: a few kilobytes even at millions of pixels
 * (a 1,400,000×1 strip is 250 bytes). Its rows are complete up to `completeUpTo` pixels (a valid
 * image); beyond that only the header is real, as in `makePngBomb`.
 */
export function makeBlankPng(width: number, height: number, completeUpTo = 40_000_000): Buffer {
  const rows =
    width * height <= completeUpTo ? Buffer.alloc((Math.ceil(width / 8) + 1) * height) : Buffer.alloc(64);
  return encodePng(width, height, rows, { bitDepth: 1, colourType: 0 });
}
