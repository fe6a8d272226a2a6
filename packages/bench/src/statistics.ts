/** Summaries of repeated timings: the median is the number we report, min/max show the spread. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize needs at least one value');
  if (!values.every(Number.isFinite)) throw new RangeError(`non-finite timing in [${values.join(', ')}]`);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/**
 * Times `runs` calls of `run` after `warmUp` untimed calls (the first call compiles kernels and grows
 * the wasm heap, which says nothing about steady state). Returns milliseconds per call.
 */
export async function timeRuns(
  run: () => Promise<void> | void,
  options: { runs: number; warmUp?: number; onRun?: (index: number, ms: number) => void },
): Promise<number[]> {
  for (let i = 0; i < (options.warmUp ?? 1); i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const started = performance.now();
    await run();
    const ms = performance.now() - started;
    samples.push(ms);
    options.onRun?.(i, ms);
  }
  return samples;
}
