/**
 * The confusion matrix as a PNG for TensorBoard's image tab: one square per (true row, predicted
 * column), shaded by the row's share (white 0, dark blue 1), so a good model shows a dark diagonal.
 */
import { encodeRgbPng } from '@food/core/png';
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
  return { width: size, height: size, colorspace: 3, png: encodeRgbPng(rgb, size, size) };
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
