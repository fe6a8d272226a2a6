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
          stageLabel(spec, cpu),
          formatResult(m.result),
          perSecond ? formatNumber(1000 / perSecond) : '–',
          cpu ? formatNumber(cpu.imagesPerCoreSecond) : '–',
          mainThreadCell(cpu),
          loadCell(m),
        ];
      }),
    ),
    '',
  ];
  const scaling = loaderScaling(preprocess);
  if (scaling) out.push(scaling, '');
  return out;
}

function stageLabel(
  spec: Extract<MeasurementSpec, { kind: 'preprocess' }>,
  cpu: LoaderCpu | undefined,
): string {
  if (spec.workers === undefined) return STAGES[spec.mode];
  const workers = `${spec.workers} decode worker${spec.workers > 1 ? 's' : ''}`;
  const pinned = cpu?.pinnedCores
    ? `pinned to ${cpu.pinnedCores} core${cpu.pinnedCores > 1 ? 's' : ''}`
    : 'not pinned';
  return `loader, Food-101 size, ${workers}, ${pinned}`;
}

/** CPU time where Node measures it per thread, else the event loop's busy time (ELU). */
function mainThreadCell(cpu: LoaderCpu | undefined): string {
  if (cpu?.mainThreadMsPerImage !== undefined) return formatNumber(cpu.mainThreadMsPerImage);
  if (cpu?.mainThreadBusyMsPerImage !== undefined)
    return `${formatNumber(cpu.mainThreadBusyMsPerImage)} (busy)`;
  return '–';
}

/** The pinned 1- and 2-core loader runs: their scaling and what 16 cores would feed. */
function loaderScaling(preprocess: Measurement[]): string | undefined {
  const pinned = (cores: number) =>
    preprocess.find(
      (m) => cpuOf(m)?.pinnedCores === cores && (m.spec as { workers?: number }).workers === cores,
    );
  const one = pinned(1);
  const two = pinned(2);
  const oneRate = one && medianOf(one.result);
  const twoRate = two && medianOf(two.result);
  if (!one || !oneRate) return undefined;
  const cpu = cpuOf(two ?? one)!;
  const perCpuSecond = [one, two].flatMap((m) => (m ? [formatNumber(cpuOf(m)!.imagesPerCoreSecond)] : []));
  const wall = twoRate ? ` and ${formatNumber(twoRate)} on 2 (${(twoRate / oneRate).toFixed(2)}×)` : '';
  const loads = [one, two].flatMap((m) => (m ? [m.loadAverage.toFixed(1)] : [])).join(' and ');
  return (
    `**Scaling.** Per CPU-second the loader makes ${perCpuSecond.join(' images with 1 worker on 1 core and ')}` +
    `${two ? ' with 2 workers on 2 cores' : ''} (CPU time of every thread). Wall clock, pinned ` +
    `with taskset, it delivered ${formatNumber(oneRate)} images/s on 1 core${wall}, at load ${loads}: with other jobs ` +
    'on the same cores the wall-clock figures measure the load as much as the loader. ' +
    feedingAGpu(cpu)
  );
}

function cpuOf(m: Measurement): LoaderCpu | undefined {
  return m.result.status === 'ok' ? m.result.loaderCpu : undefined;
}

/**
 * What the loader's CPU cost means for a 16-core GPU box: one core is left to the training loop's main
 * thread, the others decode at the measured images per CPU-second, and the main thread's share per image
 * caps the total whatever the cores.
 */
export function feedingAGpu(cpu: LoaderCpu, cores = 16, target = 3000): string {
  const byCores = cpu.imagesPerCoreSecond * (cores - 1);
  const mainMs = cpu.mainThreadMsPerImage ?? cpu.mainThreadBusyMsPerImage;
  const mainThreadCap = mainMs === undefined ? Number.POSITIVE_INFINITY : 1000 / mainMs;
  const feeds = Math.min(byCores, mainThreadCap);
  return (
    `**Feeding a GPU.** On Food-101-size photos one core decodes, augments and normalises ` +
    `${formatNumber(cpu.imagesPerCoreSecond)} images per CPU-second (CPU time of every thread, so other jobs on ` +
    `the machine distort it less than wall time): ${cores - 1} decoding cores of a ${cores}-core box give ` +
    `${formatNumber(byCores)} images/s if the work spreads over them as it does over 2` +
    (mainMs === undefined
      ? ''
      : `; the main thread spends ${formatNumber(mainMs)} ms per image, a cap of ${formatNumber(mainThreadCap)} images/s`) +
    `. Against a target of ${target} images/s: ${feeds >= target ? `enough (${formatNumber(feeds)} images/s)` : `**not enough** (${formatNumber(feeds)} images/s)`}.`
  );
}
