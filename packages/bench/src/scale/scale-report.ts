/** docs/scale.md from a bench:scale run: the measured steps, the files written, the projections. */
import { CPU_PRESET } from '@food/trainer/building-blocks';
import { allProjections, PROJECTED_CORES, type Projection, type RecipeSettings } from './projections.ts';
import type { MeasuredStep, ScaleResults } from './run-scale.ts';
import type { ScaleOptions } from './scale-plan.ts';

const MiB = 2 ** 20;
const GB = 1e9;

export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function formatBytes(bytes: number): string {
  if (bytes < MiB) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** The command that reproduces a run with these options (the defaults left out). */
export function reproduceCommand(options: ScaleOptions, defaults: ScaleOptions): string {
  const flags: string[] = [];
  const flag = (name: string, value: string | number | boolean, initial: string | number | boolean) => {
    if (value === initial) return;
    flags.push(value === true ? `--${name}` : `--${name} ${value}`);
  };
  flag('classes', options.classes, defaults.classes);
  flag('per-class', options.perClass, defaults.perClass);
  flag('subset-classes', options.subsetClasses, defaults.subsetClasses);
  flag('feature-slice', options.featureSlice, defaults.featureSlice);
  flag('preset-steps', options.presetSteps, defaults.presetSteps);
  flag('full-steps', options.fullSteps, defaults.fullSteps);
  flag('full-batch', options.fullBatch, defaults.fullBatch);
  flag('quick', options.quick, defaults.quick);
  return ['nice -n 10 pnpm bench:scale', ...flags].join(' ');
}

function stepRows(steps: readonly MeasuredStep[], results: ScaleResults): string[] {
  const rows = steps.map((step) => {
    const rate = rateOf(step, results);
    const status = step.ok ? '' : ` **failed**: ${step.failure ?? ''}`;
    const reused = step.reused ? ' (an earlier run; reused this time)' : '';
    return `| ${step.name} | ${step.title}${reused}${status} | ${formatSeconds(step.wallSeconds)} | ${rate} | ${formatBytes(step.peakRssBytes)} | ${formatBytes(step.diskWrittenBytes)} |`;
  });
  const skipped = results.skipped.map((name) => `| ${name} | not run: an earlier step failed | | | | |`);
  return [
    '| step | what | wall | rate | peak RSS | disk written |',
    '| --- | --- | ---: | --- | ---: | ---: |',
    ...rows,
    ...skipped,
  ];
}

function rateOf(step: MeasuredStep, results: ScaleResults): string {
  const { counts, rates, options } = results;
  if (!counts || !rates) return '';
  const perSecond = (count: number, unit: string) =>
    `${(count / step.wallSeconds).toFixed(1)} ${unit}/s (${count.toLocaleString('en')} ${unit})`;
  switch (step.name) {
    case 'generate':
    case 'prepare-subset':
      return perSecond(
        (step.name === 'generate' ? options.classes : options.subsetClasses) * options.perClass,
        'photos',
      );
    case 'prepare-all':
      return perSecond(counts.allImages, 'photos');
    case 'stats':
    case 'loader-epoch':
      return perSecond(counts.subsetTrain, 'photos');
    case 'evaluate':
      return perSecond(counts.subsetTest, 'photos');
    case 'feature-cache':
      return `${rates.featureCache.toFixed(2)} entries/s net of start-up (${counts.featureEntries.toLocaleString('en')} entries, ${formatBytes(rates.featureEntryBytes)} each)`;
    case 'preset-steps':
      return `${rates.presetStepSeconds.toFixed(3)} s per training step (the trainer's own rate in history.json, median over epochs; the wall also holds each epoch's validation and checkpoint)`;
    case 'full-steps':
      return `${rates.fullTrain.toFixed(2)} photos/s net of start-up`;
    default:
      return '';
  }
}

function projectionRows(projections: readonly Projection[]): string[] {
  const key = (p: Projection) => `${p.recipe}:${p.classes}`;
  const groups = new Map<string, Projection[]>();
  for (const projection of projections)
    groups.set(key(projection), [...(groups.get(key(projection)) ?? []), projection]);
  const rows = [...groups.values()].map((group) => {
    const first = group[0]!;
    const recipe = first.recipe === 'gpu' ? 'GPU recipe (14 epochs, full network)' : '`--preset cpu`';
    const times = group.map((p) => formatSeconds(p.seconds)).join(' | ');
    const disk = first.diskBytes > 0 ? `${(first.diskBytes / GB).toFixed(1)} GB` : '–';
    const phases = first.phases
      .map((phase) => `${phase.name} ${formatSeconds(phase.seconds)} (${phase.from})`)
      .join('; ');
    return `| ${recipe} | ${first.classes} | ${times} | ${disk} | ${phases} |`;
  });
  const coreHeads = PROJECTED_CORES.map((cores) => `${cores} cores`).join(' | ');
  return [
    `| recipe | classes | ${coreHeads} | feature cache | phases at ${PROJECTED_CORES[0]} cores (measured rate it scales from) |`,
    `| --- | ---: | ${PROJECTED_CORES.map(() => '---:').join(' | ')} | ---: | --- |`,
    ...rows,
  ];
}

export function renderScaleReport(
  results: ScaleResults,
  defaults: ScaleOptions,
  gpuImagesPerSecond: number,
): string {
  const { options, machine } = results;
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(', ');
  const lines = [
    '# Food-101 at scale: every step measured',
    '',
    '<!-- Written by `pnpm bench:scale` (packages/bench/src/scale). Rerun it rather than editing by hand. -->',
    '',
    `Run of ${results.startedAt}: ${options.classes} classes × ${options.perClass} synthetic photos ` +
      `(${options.classes * options.perClass === 101_000 ? 'full size' : '**not full size**'}: Food-101 is 101 × 1,000), ` +
      `training and evaluation on ${options.subsetClasses} of them. Machine: ${machine.cores} cores, ` +
      `${formatBytes(machine.memoryBytes)} memory, Node ${machine.node}; load average (1, 5, 15 min) ` +
      `${load(machine.loadBefore)} before and ${load(machine.loadAfter)} after. Weights: ${options.weights === 'none' ? 'none (random initialisation: the same work per step as ImageNet weights; the accuracies mean nothing)' : options.weights}.${options.quick ? ' **--quick: a tiny network at 64 px; the training and evaluation figures mean nothing.**' : ''}`,
    '',
    `Reproduce: \`${reproduceCommand(options, defaults)}\``,
    '',
    runTimeLine(results.steps),
    '',
    '## Measured',
    '',
    'Each step ran as its own process under GNU time: wall time, peak resident set (worker threads ' +
      "included), and the bytes it wrote to disk (getrusage's block outputs). The feature cache and " +
      'full-network rates are net of a start-up run of the same command with one step (model build, weights, one step, the checkpoint save).',
    '',
    ...stepRows(results.steps, results),
    '',
    `Generated set: ${results.set.files.toLocaleString('en')} files, ${formatBytes(results.set.bytes)}.`,
    '',
    '## Files the run wrote',
    '',
    '| file | size |',
    '| --- | ---: |',
    ...results.written.map(
      (entry) =>
        `| ${entry.path}${entry.files > 1 ? ` (${entry.files.toLocaleString('en')} files)` : ''} | ${formatBytes(entry.bytes)} |`,
    ),
    '',
  ];
  if (results.rates) lines.push(...projectionSection(results, gpuImagesPerSecond));
  return `${lines.join('\n')}\n`;
}

function projectionSection(results: ScaleResults, gpuImagesPerSecond: number): string[] {
  const recipe: RecipeSettings = {
    presetViews: CPU_PRESET.featureViews,
    presetEpochs: CPU_PRESET.epochs,
    presetBatch: CPU_PRESET.batchSize,
    gpuEpochs: 14,
    gpuImagesPerSecond,
  };
  return [
    '## Projected wall times on the official split',
    '',
    'Food-101: 750 training photos per class (675 train, 75 validation) and 250 test photos. Each phase is ' +
      `its photo count divided by the rate measured above at ${results.machine.cores} cores, scaled ` +
      "**linearly with the number of cores** (every step is CPU-parallel: decode workers, TensorFlow's thread " +
      'pool). That is an upper bound on the speed-up: the loader measured 1.57× from 1 to 2 cores ' +
      '(docs/benchmarks.md). `--preset cpu`: the feature cache (the centre crop and ' +
      `${recipe.presetViews} views of every training and validation photo) at the measured cache rate, then ` +
      `${recipe.presetEpochs} epochs of ${recipe.presetBatch}-photo steps at the measured training step time, ` +
      `plus ${recipe.presetEpochs} validations of the validation photos, each priced as a training photo ` +
      `(errs long). GPU recipe: ${recipe.gpuEpochs} epochs of training and validation photos at the slower of ` +
      `**an assumed ${gpuImagesPerSecond} photos/s for the GPU (not measured: no GPU here)** and the loader ` +
      'rate measured here per core, times every core but two. prepare, stats and evaluate (ONNX Runtime on ' +
      'the CPU) are the same in both.',
    '',
    ...projectionRows(allProjections(results.rates!, recipe)),
    '',
  ];
}

/** The whole run's time, the set's generation counted apart when an earlier run made it. */
function runTimeLine(steps: readonly MeasuredStep[]): string {
  const sum = (list: readonly MeasuredStep[]) => list.reduce((total, step) => total + step.wallSeconds, 0);
  const reused = steps.filter((step) => step.reused);
  const measured = formatSeconds(sum(steps.filter((step) => !step.reused)));
  if (reused.length === 0) return `The whole run took **${measured}**, the set's generation included.`;
  return (
    `The whole run took **${measured}** with the generated set reused; generating it the first time took ` +
    `${formatSeconds(sum(reused))} more.`
  );
}
