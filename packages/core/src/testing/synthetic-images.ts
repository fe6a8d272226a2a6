/**
 * PNG files of any size and content, and broken ones (written by ../png.ts): what the server's tests
 * upload and `pnpm bench:serve` posts.
 */
import { encodePng, encodeRgbPng } from '../png.ts';

/** A 1×1 GIF and a 1×1 lossless WebP (well-known minimal files). */
export const TINY_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
export const TINY_WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

/**
 * An RGB PNG whose pixels come from `pixel(x, y)`; different `seed`s give visibly different images,
 * so batched requests can be told apart.
 */
export function makePng(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number] = gradient(0),
): Buffer {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgb.set(pixel(x, y), (y * width + x) * 3);
  }
  return encodeRgbPng(rgb, width, height);
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
