import type { BenchResults, Measurement } from '../run-bench.ts';
import type { LoaderCpu, MeasurementSpec } from '../spec.ts';
import { formatNumber, formatResult, loadCell, table } from './format.ts';
import { medianOf } from './pick-measurements.ts';

const STAGES = {
  preprocess: '`preprocessImage`: decode + resize 256 + centre crop 224 + normalise',
  augment: '`augmentImage`: decode + random resized crop + flip + normalise',
  loader: '`createBatchLoader` with augmentation, concurrency = cores',
  'loader-512': 'the same on Food-101-size copies (longer side 512, ~46 KB)',
} as const;

/** Preprocessing and loader speed on real JPEGs, and whether the loader could feed a GPU. */
export function preprocessSection(results: BenchResults): string[] {
  const preprocess = results.measurements.filter((m) => m.spec.kind === 'preprocess');
  if (preprocess.length === 0) return [];
  const count = (preprocess[0]!.spec as { files: string[] }).files.length;
  const out = [
    '## Preprocessing, images per second',
    '',
    `${count} real JPEGs from the food10 set (${results.options.dataRoot}), 224×224 output. "preprocess" and "augment" run one ` +
      'image at a time from bytes in memory (sharp decodes on its own threads); "loader" is `createBatchLoader` as ' +
      `training uses it: file reads + augmentation in one decode worker thread per core, batches of 16, concurrency = ${results.machine.cores} cores.`,
    '',
    table(
      ['Stage', 'images/s', 'ms/image', 'images/s per core (CPU time)', 'main thread, ms/image', 'Load'],
      preprocess.map((m) => {
        const spec = m.spec as Extract<MeasurementSpec, { kind: 'preprocess' }>;
        const perSecond = medianOf(m.result);
        const cpu = cpuOf(m);
        return [
          STAGES[spec.mode],
          formatResult(m.result),
          perSecond ? formatNumber(1000 / perSecond) : '–',
          cpu ? formatNumber(cpu.imagesPerCoreSecond) : '–',
          cpu?.mainThreadMsPerImage === undefined ? '–' : formatNumber(cpu.mainThreadMsPerImage),
          loadCell(m),
        ];
      }),
    ),
    '',
  ];
  const fullSize = preprocess.find((m) => (m.spec as { mode: string }).mode === 'loader-512');
  const cpu = fullSize && cpuOf(fullSize);
  if (cpu) out.push(feedingAGpu(cpu), '');
  return out;
}

function cpuOf(m: Measurement): LoaderCpu | undefined {
  return m.result.status === 'ok' ? m.result.loaderCpu : undefined;
}

/** What the loader's CPU cost means for a GPU that trains at 800 images/s. */
export function feedingAGpu(cpu: LoaderCpu, cores = 8, target = 800): string {
  const byCores = cpu.imagesPerCoreSecond * cores;
  const mainThreadCap = cpu.mainThreadMsPerImage === undefined ? undefined : 1000 / cpu.mainThreadMsPerImage;
  const feeds = Math.min(byCores, mainThreadCap ?? Number.POSITIVE_INFINITY);
  return (
    `**Feeding a GPU.** On Food-101-size photos one core decodes and augments ${formatNumber(cpu.imagesPerCoreSecond)} ` +
    `images per CPU-second (CPU time of every thread, so other jobs on the machine do not distort it): ${cores} cores ` +
    `give ${formatNumber(byCores)} images/s if the work spreads over them` +
    (mainThreadCap === undefined
      ? ". (The main thread's share needs Node ≥ 23.9 to measure.)"
      : `, but every image also costs the main thread ${formatNumber(cpu.mainThreadMsPerImage!)} ms, which caps one loader at ` +
        `${formatNumber(mainThreadCap)} images/s`) +
    `. Against a GPU training at ${target} images/s: ${feeds >= target ? `enough (${formatNumber(feeds)} images/s)` : `**not enough** (${formatNumber(feeds)} images/s)`}.`
  );
}
