/**
 * The confusion matrix as a PNG for TensorBoard's image tab: one square per (true row, predicted
 * column), shaded by the row's share (white 0, dark blue 1), so a good model shows a dark diagonal.
 */
import { deflateSync } from 'node:zlib';
import { crc32 } from './crc.ts';
import type { SummaryImage } from './event-file-writer.ts';

const TARGET_SIZE = 400;
const GRID = [220, 220, 220];
const DARKEST = [8, 48, 107];

export function confusionImage(confusion: readonly (readonly number[])[]): SummaryImage {
  const classes = confusion.length;
  const cell = Math.max(2, Math.floor(TARGET_SIZE / Math.max(1, classes)));
  const size = classes * cell;
  const rgb = new Uint8Array(size * size * 3);
  for (let row = 0; row < classes; row++) {
    const total = confusion[row].reduce((sum, count) => sum + count, 0);
    for (let column = 0; column < classes; column++) {
      const share = total > 0 ? confusion[row][column] / total : 0;
      const colour = DARKEST.map((dark) => Math.round(255 + (dark - 255) * share));
      fillCell(rgb, size, row * cell, column * cell, cell, colour);
    }
  }
  return { width: size, height: size, colorspace: 3, png: encodePng(rgb, size, size) };
}

/** A cell with a one-pixel grid line on its top and left edges. */
function fillCell(rgb: Uint8Array, size: number, top: number, left: number, cell: number, colour: number[]) {
  for (let y = top; y < top + cell; y++) {
    for (let x = left; x < left + cell; x++) {
      const edge = cell > 3 && (y === top || x === left);
      rgb.set(edge ? GRID : colour, (y * size + x) * 3);
    }
  }
}

/** An 8-bit RGB PNG (filter 0 on every row; zlib compresses the flat cells well). */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  const rows = Buffer.alloc(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) {
    rows.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, filter 0, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}
