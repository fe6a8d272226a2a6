import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const KERNEL_HISTORY = fileURLToPath(new URL('../wasm-kernels-history.md', import.meta.url));

/** The wasm kernels' history, written by hand before the bench existed: kept as written, never regenerated. */
export function kernelHistorySection(): string[] {
  return [readFileSync(KERNEL_HISTORY, 'utf8').trim(), ''];
}
