/** Number formats shared by the HTML and Markdown reports, so both show the same figures. */
import type { TtaMode } from './test-time-augmentation.ts';

export const percent = (value: number, digits = 1): string => `${(value * 100).toFixed(digits)}%`;

export const score = (value: number): string => value.toFixed(3);

/** Signed difference in percentage points, e.g. "+12.4 pp". */
export const points = (value: number): string =>
  `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)} pp`;

export const milliseconds = (value: number): string =>
  value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;

export function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${size.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Image counts are exact: "13 k" for a 12,500-photo test split reads as a different split. */
export function exactCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** Parameter counts, compact. */
export function count(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(0)} k`;
  return value.toLocaleString('en-US');
}

/** What `--tta` did, in words both reports print beside the engine. */
export function ttaNote(tta: TtaMode): string {
  return tta === 'flip'
    ? 'test-time augmentation: flip (mean softmax of the centre crop and its mirror; latency without it)'
    : 'no test-time augmentation';
}
