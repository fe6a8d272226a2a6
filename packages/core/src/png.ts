/**
 * PNG files written byte by byte (no image library): the trainer's confusion-matrix image for
 * TensorBoard, and the test images (core/testing/synthetic-images.ts) the server's tests upload.
 */
import { deflateSync } from 'node:zlib';
import { crc32 } from './crc.ts';

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
 * A PNG of `width`×`height` around `rows` (the filtered scanlines, deflated here): any bit depth and
 * colour type, and headers that need not match the data (what the tests need and sharp will not write).
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
  ihdr[9] = colourType; // 2: RGB, 0: greyscale; then deflate, filter method 0, no interlace
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** An 8-bit RGB PNG of `rgb` (width × height × 3 bytes, row by row), filter 0 on every row. */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Buffer {
  const rows = Buffer.alloc(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) {
    rows.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  return encodePng(width, height, rows);
}
