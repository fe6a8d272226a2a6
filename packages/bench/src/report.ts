/** docs/benchmarks.md from the bench results: targets first, then every table, then how it was measured. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isLoaded } from './machine.ts';
import type { BenchResults, Measurement } from './run-bench.ts';
import { formatDuration, SECTIONS } from './run-bench.ts';
import { gemmFlop, type LoaderCpu, type MeasurementResult, type MeasurementSpec } from './spec.ts';
import { type Summary, summarize } from './statistics.ts';
import { tensorflowColumnSection } from './tensorflow-column.ts';

const KERNEL_HISTORY = fileURLToPath(new URL('./wasm-kernels-history.md', import.meta.url));

export interface Target {
  name: string;
  ours: string;
  /** Our number in ms per image (times only), for the comparison with the idle reference. */
  oursMs?: number;
  /** What PyTorch number it compares with, and the largest ratio that passes (times only). */
  against?: { measure: 'forward' | 'train'; limit: number };
  reference: string;
  /** ours / reference in the direction the target is stated, undefined when either side is missing. */
  ratio: number | undefined;
  goal: string;
  pass: boolean | undefined;
}

/** Significant digits that suit a timing: 1234 ms, 56.7 ms, 3.45 ms. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatSummary(summary: Summary): string {
  return `${formatNumber(summary.median)} (${formatNumber(summary.min)}–${formatNumber(summary.max)})`;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? '–' : `${ratio.toFixed(2)}×`;
}

/** A result cell: "median (min–max)" or what stopped the measurement. */
export function formatResult(result: MeasurementResult | undefined): string {
  if (!result) return 'not measured';
  if (result.status === 'ok') {
    // One run has no spread to show; say that it is one run rather than print "x (x–x)".
    return result.samples.length === 1
      ? `${formatNumber(result.samples[0]!)} (1 run)`
      : formatSummary(summarize(result.samples));
  }
  const label = {
    oom: '**out of memory**',
    failed: '**failed**',
    timeout: '**timed out**',
    unavailable: 'not available',
  }[result.status];
  // The first clause is enough in a table; the full reason is in the progress output.
  const reason = result.status === 'unavailable' ? result.reason.split(' (')[0]! : result.reason;
  return `${label}: ${escapeCell(reason)}`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function medianOf(result: MeasurementResult | undefined): number | undefined {
  return result?.status === 'ok' ? summarize(result.samples).median : undefined;
}

function find(results: BenchResults, match: (spec: MeasurementSpec) => boolean): Measurement | undefined {
  return results.measurements.find((m) => match(m.spec));
}

type TrainSpec = Extract<MeasurementSpec, { kind: 'train' }>;
type ThroughputSpec = Extract<MeasurementSpec, { kind: 'throughput' }>;

/** The largest wasm train batch that ran on every core, the one the targets use. */
function bestTrain(results: BenchResults): Measurement | undefined {
  return results.measurements
    .filter(
      (m) =>
        m.spec.kind === 'train' &&
        m.spec.backend === 'wasm' &&
        m.spec.threads === results.machine.cores &&
        m.result.status === 'ok',
    )
    .sort((a, b) => (b.spec as TrainSpec).batch - (a.spec as TrainSpec).batch)[0];
}

/** "batch 32 (8 × 4 accumulated), 2 threads" */
export function describeTrainBatch(spec: TrainSpec): string {
  const accumulated =
    spec.microBatch < spec.batch ? ` (${spec.batch / spec.microBatch} × ${spec.microBatch} accumulated)` : '';
  return `batch ${spec.batch}${accumulated}, ${spec.threads} thread${spec.threads === 1 ? '' : 's'}`;
}

/** The fastest all-core layout of an engine: wasm instances × threads, or ONNX intra-op threads. */
function bestThroughput(results: BenchResults, engine: ThroughputSpec['engine']): Measurement | undefined {
  return throughputRows(results)
    .filter((m) => {
      const spec = m.spec as ThroughputSpec;
      return spec.engine === engine && spec.workers * spec.threadsPerWorker === results.machine.cores;
    })
    .sort((a, b) => (medianOf(b.result) ?? 0) - (medianOf(a.result) ?? 0))[0];
}

function describeLayout(spec: ThroughputSpec): string {
  return spec.engine === 'tfjs-wasm'
    ? `${spec.workers} worker${spec.workers === 1 ? '' : 's'} × ${spec.threadsPerWorker} thread${spec.threadsPerWorker === 1 ? '' : 's'}`
    : `${spec.workers} thread${spec.workers === 1 ? '' : 's'}`;
}

/** PyTorch's forward at its largest measured batch: what every inference ratio compares with. */
function pytorchForward(results: BenchResults): { batch: number; ms: number | undefined } {
  const batch = Math.max(...(results.pytorch?.forward.keys() ?? []), 0);
  return { batch, ms: medianOf(results.pytorch?.forward.get(batch)) };
}

function throughputRows(results: BenchResults): Measurement[] {
  return results.measurements.filter((m) => m.spec.kind === 'throughput');
}

export function computeTargets(results: BenchResults): Target[] {
  const targets: Target[] = [];
  const torch = results.pytorch;
  const cores = results.machine.cores;

  const train = bestTrain(results);
  const trainBatch = train ? (train.spec as TrainSpec).batch : undefined;
  const oursTrain = medianOf(train?.result);
  const oursTrainLabel =
    oursTrain === undefined
      ? 'not measured'
      : `${formatNumber(oursTrain)} (wasm, ${describeTrainBatch(train!.spec as TrainSpec)})`;
  const torchTrain = trainBatch === undefined ? undefined : medianOf(torch?.train.get(trainBatch));
  const trainRatio = oursTrain !== undefined && torchTrain !== undefined ? oursTrain / torchTrain : undefined;
  targets.push({
    name: 'Training step, ms per image (same batch)',
    ours: oursTrainLabel,
    oursMs: oursTrain,
    against: { measure: 'train', limit: 3 },
    reference:
      torchTrain === undefined ? 'not measured' : `${formatNumber(torchTrain)} (batch ${trainBatch})`,
    ratio: trainRatio,
    goal: '≤ 3× PyTorch',
    pass: trainRatio === undefined ? undefined : trainRatio <= 3,
  });

  // Stricter: against PyTorch's fastest batch per image (it can use batches wasm's 4 GiB heap cannot hold).
  const fastest = [...(torch?.train ?? [])]
    .map(([batch, result]) => ({ batch, ms: medianOf(result) }))
    .filter((row): row is { batch: number; ms: number } => row.ms !== undefined)
    .sort((a, b) => a.ms - b.ms)[0];
  const fastestRatio = oursTrain !== undefined && fastest ? oursTrain / fastest.ms : undefined;
  targets.push({
    name: "Training step, ms per image, against PyTorch's fastest batch",
    ours: oursTrainLabel,
    reference: fastest ? `${formatNumber(fastest.ms)} (batch ${fastest.batch})` : 'not measured',
    ratio: fastestRatio,
    goal: '≤ 3× PyTorch',
    pass: fastestRatio === undefined ? undefined : fastestRatio <= 3,
  });

  const { batch: torchBatch, ms: torchForward } = pytorchForward(results);
  // Issue 7 asks every engine for ≤ 2× PyTorch; issue 8 asks ONNX for ≤ 1× (fp32) and ≤ 0.5× (int8).
  const inferenceGoals = [
    ['tfjs-wasm', 2],
    ['onnx-fp32', 2],
    ['onnx-int8', 2],
    ['onnx-fp32', 1],
    ['onnx-int8', 0.5],
  ] as const;
  for (const [engine, limit] of inferenceGoals) {
    const best = bestThroughput(results, engine);
    const perSecond = medianOf(best?.result);
    const ours = perSecond === undefined ? undefined : 1000 / perSecond;
    const ratio = ours !== undefined && torchForward !== undefined ? ours / torchForward : undefined;
    targets.push({
      name: `Inference, ms per image with all ${cores} cores: ${engine}${limit < 2 ? ` (ONNX goal ≤ ${limit}×)` : ''}`,
      ours:
        ours === undefined
          ? 'not measured'
          : `${formatNumber(ours)} (${formatNumber(perSecond!)} images/s, ${describeLayout(best!.spec as ThroughputSpec)})`,
      oursMs: ours,
      against: { measure: 'forward', limit },
      reference:
        torchForward === undefined
          ? 'not measured'
          : `${formatNumber(torchForward)} (batch ${torchBatch}, ${torch?.threads} threads)`,
      ratio,
      goal: `≤ ${limit}× PyTorch`,
      pass: ratio === undefined ? undefined : ratio <= limit,
    });
  }

  const loader = find(results, (s) => s.kind === 'preprocess' && s.mode === 'loader');
  const loaderRate = medianOf(loader?.result);
  const consumption = oursTrain === undefined ? undefined : 1000 / oursTrain;
  const preprocessRatio =
    loaderRate !== undefined && consumption !== undefined ? loaderRate / consumption : undefined;
  targets.push({
    name: 'Preprocessing (loader with augmentation, all cores) vs what training consumes',
    ours: loaderRate === undefined ? 'not measured' : `${formatNumber(loaderRate)} images/s`,
    reference:
      consumption === undefined ? 'not measured' : `${formatNumber(consumption)} images/s (wasm train step)`,
    ratio: preprocessRatio,
    goal: '≥ 3× consumption',
    pass: preprocessRatio === undefined ? undefined : preprocessRatio >= 3,
  });
  return targets;
}

function passCell(pass: boolean | undefined): string {
  return pass === undefined ? 'not measured' : pass ? '**pass**' : '**FAIL**';
}

export function renderReport(results: BenchResults): string {
  const { machine, model, pytorch, options } = results;
  const cores = machine.cores;
  const load = machine.loadAverage;
  const out: string[] = [];
  const command = `pnpm bench${options.quick ? ' --quick' : ''} --runs ${options.runs}${
    options.sections.length < SECTIONS.length ? ` --only ${options.sections.join(',')}` : ''
  }${options.trainBatches ? ` --train-batches ${options.trainBatches.join(',')}` : ''}`;
  const modelName =
    model.widthMultiplier === 1 && model.blocksPerStage.join() === '3,4,6,3'
      ? `ResNet-50 v1 at ${model.inputSize}×${model.inputSize}, ${model.numClasses} classes`
      : `tiny ResNet (width ×${model.widthMultiplier}, blocks ${model.blocksPerStage.join('/')}) at ${model.inputSize}×${model.inputSize}`;

  out.push('# Benchmarks', '');
  out.push(
    `Written by \`${command}\` (packages/bench/src/) on ${results.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; ` +
      `the run took ${formatDuration(results.seconds)}. Model: ${modelName}. Every number is the **median of ${options.runs} run${options.runs === 1 ? '' : 's'} ` +
      `after one warm-up run, with (min–max)**; each measurement ran in its own Node process.`,
    '',
  );
  if (options.note) out.push(`> Note: ${options.note}`, '');
  if (options.quick) {
    out.push(
      '> **`--quick` run: a tiny model and few images. These numbers check the harness, not the speed.**',
      '',
    );
  }
  if (isLoaded(load[0], cores)) {
    out.push(
      `> **Warning: the machine was loaded.** Load average at the start ${load.map((l) => l.toFixed(2)).join(' / ')} ` +
        `(1 / 5 / 15 min) on ${cores} cores: other work shared the CPU, so absolute times are inflated and noisy. ` +
        'The "load" column gives the 1-minute load average when each measurement started. PyTorch ran in the same ' +
        'conditions, so the ratios are fairer than the absolute numbers, but not exact: the more threads a ' +
        'measurement uses, the more it suffers from sharing the cores (threads wait for each other).',
      '',
    );
  }
  for (const line of results.skipped) out.push(`> ${line}`, '');

  out.push('## Targets', '');
  out.push(
    table(
      ['Target', 'Ours', 'Reference', 'Ratio', 'Goal', 'Result'],
      computeTargets(results).map((t) => [
        t.name,
        t.ours,
        t.reference,
        formatRatio(t.ratio),
        t.goal,
        passCell(t.pass),
      ]),
    ),
    '',
  );
  out.push(
    'Ratios are ours / PyTorch for times (lower is better) and loader / consumption for preprocessing. ' +
      'Inference "with all cores" is the fastest layout of the engine that uses every core (wasm: instances × ' +
      `threads; ONNX: intra-op threads), against PyTorch's largest measured batch with ${pytorch?.threads ?? cores} threads.`,
    '',
  );

  out.push(...idleReferenceSection(results));

  out.push('## Machine', '');
  out.push(
    table(
      ['', ''],
      [
        ['CPU', `${machine.cpuModel}, ${cores} cores`],
        ['Memory', `${machine.memoryGiB.toFixed(1)} GiB`],
        ['OS', machine.platform],
        ['Node', machine.node],
        ['@tensorflow/tfjs', machine.tfjs],
        ...Object.entries(machine.packages).map(([name, version]) => [name, version]),
        [
          'PyTorch',
          pytorch?.version
            ? `${pytorch.version} (${pytorch.threads} threads)`
            : `not measured (${pytorch?.unavailable ?? 'not run'})`,
        ],
        ['Load average at start', `${load.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`],
      ],
    ),
    '',
  );

  const torchCell = (result: MeasurementResult | undefined) => (pytorch ? formatResult(result) : 'not run');
  const ratioCell = (ours: MeasurementResult | undefined, reference: MeasurementResult | undefined) => {
    const a = medianOf(ours);
    const b = medianOf(reference);
    return formatRatio(a !== undefined && b !== undefined ? a / b : undefined);
  };
  const loadCell = (m: Measurement) => m.loadAverage.toFixed(1);

  const forward = results.measurements.filter((m) => m.spec.kind === 'forward' && m.spec.backend === 'wasm');
  if (forward.length > 0) {
    out.push('## Forward pass (inference), wasm, ms per image', '');
    out.push(
      'Through `createTfjsEngine` (the engine evaluation and serving use: packing, `model.predict`, softmax), one ' +
        "batch per run, on tfjs's pthreads build with N threads (1 thread: the single-threaded SIMD build).",
      '',
    );
    out.push(
      table(
        ['Batch', 'Threads', 'Ours: ms/image', 'PyTorch: ms/image', 'Ours / PyTorch', 'Load'],
        forward.map((m) => {
          const spec = m.spec as Extract<MeasurementSpec, { kind: 'forward' }>;
          const batch = spec.batch;
          const reference = pytorch?.forward.get(batch);
          return [
            String(batch),
            String(spec.threads),
            formatResult(m.result),
            torchCell(reference),
            ratioCell(m.result, reference),
            loadCell(m),
          ];
        }),
      ),
      '',
    );
  }

  const train = results.measurements.filter((m) => m.spec.kind === 'train' && m.spec.backend === 'wasm');
  if (train.length > 0 && options.sections.includes('train')) {
    out.push('## Training step, wasm, ms per image', '');
    out.push(
      "The trainer's real `trainStep` (train/train-step.ts: forward in training mode, softmax cross-entropy, gradients of " +
        'every weight, `AdamL2` update), all layers trainable, random inputs. A batch larger than the wasm heap holds ' +
        'runs as micro-batches with gradient accumulation and one update, as `pnpm train` does. PyTorch: the same ' +
        'network, `Adam(weight_decay)`, the whole batch at once.',
      '',
    );
    out.push(
      table(
        ['Batch', 'Threads', 'Ours: ms/image', 'PyTorch: ms/image', 'Ours / PyTorch', 'Load'],
        [...train]
          .sort(
            (a, b) =>
              (a.spec as TrainSpec).batch - (b.spec as TrainSpec).batch ||
              (b.spec as TrainSpec).threads - (a.spec as TrainSpec).threads,
          )
          .map((m) => {
            const spec = m.spec as TrainSpec;
            const reference = pytorch?.train.get(spec.batch);
            const detail = m.result.status === 'ok' && m.result.detail ? ` (${m.result.detail})` : '';
            const accumulated =
              spec.microBatch < spec.batch ? ` (${spec.batch / spec.microBatch} × ${spec.microBatch})` : '';
            return [
              `${spec.batch}${accumulated}`,
              String(spec.threads),
              formatResult(m.result) + detail,
              torchCell(reference),
              ratioCell(m.result, reference),
              loadCell(m),
            ];
          }),
      ),
      '',
    );
    if (train.some((m) => m.result.status === 'oom')) {
      out.push(
        'wasm32 addresses at most 4 GiB, and a training step keeps every activation of the forward pass for the ' +
          'gradient (~0.65 GiB per image at 224×224). A batch whose estimated heap (train/wasm-heap-budget.ts) ' +
          'exceeds 3.5 GiB is not run: the single-threaded build would abort in malloc and the pthreads build ' +
          'would deadlock. `pnpm train` refuses it the same way and names the `--accumulate` that fits.',
        '',
      );
    }
  }

  out.push(...tensorflowColumnSection(results));

  out.push(...gemmSection(results));

  const throughput = throughputRows(results);
  if (throughput.length > 0) {
    out.push('## Inference throughput, images per second', '');
    out.push(
      'tfjs-wasm: worker threads, each with its own wasm instance, engine and thread pool (1 worker × all threads is ' +
        "`pnpm evaluate`; 1 thread per worker is the server's default pool), batches of 4. ONNX: the exporter's " +
        'graph (BatchNorm folded; int8 = static QDQ calibrated on real JPEGs) in `createOnnxEngine` with N intra-op ' +
        'threads, batches of 8.',
      '',
    );
    const { batch: torchBatch, ms: torchForward } = pytorchForward(results);
    out.push(
      table(
        [
          'Engine',
          'Layout',
          'images/s',
          'ms/image',
          `Ours / PyTorch (batch ${torchBatch}, ${pytorch?.threads ?? '–'} threads)`,
          'Load',
        ],
        throughput.map((m) => {
          const spec = m.spec as ThroughputSpec;
          const perSecond = medianOf(m.result);
          const ms = perSecond === undefined ? undefined : 1000 / perSecond;
          return [
            spec.engine,
            describeLayout(spec),
            formatResult(m.result),
            ms === undefined ? '–' : formatNumber(ms),
            formatRatio(ms !== undefined && torchForward !== undefined ? ms / torchForward : undefined),
            loadCell(m),
          ];
        }),
      ),
      '',
    );
  }

  const preprocess = results.measurements.filter((m) => m.spec.kind === 'preprocess');
  if (preprocess.length > 0) {
    const count = (preprocess[0]!.spec as { files: string[] }).files.length;
    out.push('## Preprocessing, images per second', '');
    out.push(
      `${count} real JPEGs from the food10 set (${options.dataRoot}), 224×224 output. "preprocess" and "augment" run one ` +
        'image at a time from bytes in memory (sharp decodes on its own threads); "loader" is `createBatchLoader` as ' +
        `training uses it: file reads + augmentation in one decode worker thread per core, batches of 16, concurrency = ${cores} cores.`,
      '',
    );
    const what = {
      preprocess: '`preprocessImage`: decode + resize 256 + centre crop 224 + normalise',
      augment: '`augmentImage`: decode + random resized crop + flip + normalise',
      loader: '`createBatchLoader` with augmentation, concurrency = cores',
      'loader-512': 'the same on Food-101-size copies (longer side 512, ~46 KB)',
    } as const;
    const cpuOf = (m: Measurement) => (m.result.status === 'ok' ? m.result.loaderCpu : undefined);
    out.push(
      table(
        ['Stage', 'images/s', 'ms/image', 'images/s per core (CPU time)', 'main thread, ms/image', 'Load'],
        preprocess.map((m) => {
          const spec = m.spec as Extract<MeasurementSpec, { kind: 'preprocess' }>;
          const perSecond = medianOf(m.result);
          const cpu = cpuOf(m);
          return [
            what[spec.mode],
            formatResult(m.result),
            perSecond ? formatNumber(1000 / perSecond) : '–',
            cpu ? formatNumber(cpu.imagesPerCoreSecond) : '–',
            cpu?.mainThreadMsPerImage === undefined ? '–' : formatNumber(cpu.mainThreadMsPerImage),
            loadCell(m),
          ];
        }),
      ),
      '',
    );
    const fullSize = preprocess.find((m) => (m.spec as { mode: string }).mode === 'loader-512');
    const cpu = fullSize && cpuOf(fullSize);
    if (cpu) out.push(feedingAGpu(cpu), '');
  }

  const backendRows = results.measurements.filter(
    (m) =>
      (m.spec.kind === 'forward' && m.spec.batch === 1) ||
      (m.spec.kind === 'train' && m.spec.batch === results.backendTrainBatch),
  );
  if (options.sections.includes('backends') && backendRows.length > 0) {
    const batch = results.backendTrainBatch;
    out.push('## Per backend, ms per image', '');
    out.push(
      `Forward at batch 1 and a training step at batch ${batch}. The pure-JS cpu backend needs minutes for one ` +
        'ResNet-50 step, so its step is timed once after the warm-up (marked "1 run"): it is a fallback, not a way ' +
        'to train. `tensorflow` is @tensorflow/tfjs-node(-gpu), available once `pnpm setup:tensorflow` provisioned it.',
      '',
    );
    const rows = (['wasm', 'cpu', 'tensorflow'] as const).map((backend) => {
      const get = (kind: 'forward' | 'train', b: number) =>
        results.measurements.find(
          (m) =>
            m.spec.kind === kind && 'backend' in m.spec && m.spec.backend === backend && m.spec.batch === b,
        )?.result;
      const forwardResult = get('forward', 1);
      const trainResult = forwardResult?.status === 'unavailable' ? forwardResult : get('train', batch);
      return [backend, formatResult(forwardResult), formatResult(trainResult)];
    });
    out.push(table(['Backend', 'Forward, batch 1', `Train step, batch ${batch}`], rows), '');
  }

  if (pytorch) {
    out.push('## PyTorch reference', '');
    if (pytorch.unavailable) out.push(`Not measured: ${pytorch.unavailable}.`, '');
    else
      out.push(
        `PyTorch ${pytorch.version} (Debian \`python3-torch\`, \`/usr/bin/python3\`), ${pytorch.threads} threads, ` +
          'packages/bench/src/pytorch_resnet50.py: ResNet-50 v1 written by hand with the same layers as ours ' +
          '(biased convs, stride on the first 1×1), NCHW, forward under `torch.inference_mode()`, train step = ' +
          '`Adam(lr=1e-4, weight_decay=1e-4)` on cross-entropy. One warm-up run, then the timed runs, in one process. ' +
          "**On a loaded machine these numbers flatter us:** PyTorch's OpenMP threads wait for each other, so when " +
          'other processes hold the cores its times inflate more than those of a single-threaded measurement. ' +
          'For the real ratio, rerun on an idle machine: `pnpm bench --only train,pytorch`.',
        '',
        table(
          ['Measurement', 'Batch', 'ms/image'],
          [
            ...[...pytorch.forward].map(([batch, r]) => ['forward', String(batch), formatResult(r)]),
            ...[...pytorch.train].map(([batch, r]) => ['train step', String(batch), formatResult(r)]),
            ...(pytorch.gemm ? [['1×1 convolution, GFLOP/s', '–', formatResult(pytorch.gemm)]] : []),
          ],
        ),
        '',
      );
  }

  out.push('## How to reproduce', '');
  out.push(
    '```sh',
    'apt-get install -y python3-torch   # the reference (optional: rows say "not measured" without it)',
    'pnpm bench                          # full run, writes docs/benchmarks.md',
    'pnpm bench --only forward,train --runs 5',
    'pnpm bench --quick --out /tmp/bench.md   # tiny model: checks the harness in seconds',
    '```',
    '',
    "Caveats: a step's time depends on what else runs (see the load column). Random weights and inputs: a dense " +
      'CNN does the same work whatever the values.',
    '',
  );

  out.push(readFileSync(KERNEL_HISTORY, 'utf8').trim(), '');
  return out.join('\n');
}

/**
 * PyTorch 1.13 with 2 threads on an idle machine of this kind, as measured for the issue that set the
 * targets (forward 57–61 ms/image, train step 160–210 ms/image). A loaded machine slows multi-threaded
 * PyTorch more than single-threaded measurements, so ratios against the same-run PyTorch can flatter us; this
 * table states the comparison against the idle reference too, with the upper (kinder) bound.
 */
const IDLE_PYTORCH_MS = { forward: 61, train: 210 } as const;

function idleReferenceSection(results: BenchResults): string[] {
  const rows = computeTargets(results)
    .filter((target) => target.name !== "Training step, ms per image, against PyTorch's fastest batch")
    .flatMap((target) => {
      const ours = target.oursMs;
      if (ours === undefined || !target.against) return [];
      const { measure, limit } = target.against;
      const reference = IDLE_PYTORCH_MS[measure];
      const ratio = ours / reference;
      return [
        [
          target.name,
          target.ours,
          `${reference}`,
          formatRatio(ratio),
          `≤ ${limit}×`,
          passCell(ratio <= limit),
        ],
      ];
    });
  if (rows.length === 0) return [];
  return [
    '### Against the idle-machine PyTorch reference',
    '',
    `PyTorch 1.13, 2 threads, idle machine of this kind (from the issue that set the targets, not measured in this run): forward ${IDLE_PYTORCH_MS.forward} ms/image, train step ${IDLE_PYTORCH_MS.train} ms/image (upper bounds of the quoted ranges). This is the comparison to quote when the run above was loaded.`,
    '',
    table(['Target', 'Ours', 'PyTorch idle, ms/image', 'Ratio', 'Goal', 'Result'], rows),
    '',
  ];
}

/** Multiply-adds × 2 of one ResNet-50 v1 forward pass at 224 (4.1 G multiply-adds; the head is noise). */
const RESNET50_FORWARD_GFLOP = 8.2;

/**
 * What bounds wasm: XNNPACK's GEMM speed against PyTorch's on the same convolution. No step made of
 * convolutions can beat the ratio of the two, however little else it does.
 */
function gemmSection(results: BenchResults): string[] {
  const gemm = results.measurements.filter((m) => m.spec.kind === 'gemm');
  if (gemm.length === 0) return [];
  const shape = (gemm[0]!.spec as Extract<MeasurementSpec, { kind: 'gemm' }>).shape;
  const torch = medianOf(results.pytorch?.gemm);
  const gemmAt = (threads: number) =>
    medianOf(gemm.find((m) => (m.spec as { threads: number }).threads === threads)?.result);
  // All cores either as one pool (train, evaluate) or as one single-threaded instance per core (the
  // server's workers), whichever computes more.
  const cores = results.machine.cores;
  const pooled = gemmAt(cores);
  const perInstance = gemmAt(1);
  const candidates = [pooled, perInstance === undefined ? undefined : perInstance * cores].filter(
    (value): value is number => value !== undefined,
  );
  const wasmPeak = candidates.length > 0 ? Math.max(...candidates) : undefined;
  const out = [
    '## What bounds wasm: convolution speed, GFLOP/s',
    '',
    `One ${shape.inChannels}→${shape.outChannels} 1×1 convolution on ${shape.batch}×${shape.size}×${shape.size} ` +
      `(${(gemmFlop(shape) / 1e9).toFixed(2)} GFLOP, a plain GEMM): XNNPACK in wasm (128-bit SIMD, no FMA) against ` +
      "PyTorch's oneDNN (AVX2 with FMA) on the same cores. Every convolution of ResNet-50, forward or backward, runs " +
      'at most this fast, so the ratio of the two is the floor of any ratio in the targets above.',
    '',
    table(
      ['Runtime', 'Threads', 'GFLOP/s', 'Load'],
      [
        ...gemm.map((m) => [
          'tfjs wasm (XNNPACK)',
          String((m.spec as { threads: number }).threads),
          formatResult(m.result),
          m.loadAverage.toFixed(1),
        ]),
        ['PyTorch', String(results.pytorch?.threads ?? '–'), formatResult(results.pytorch?.gemm), '–'],
      ],
    ),
    '',
  ];
  if (wasmPeak !== undefined && torch !== undefined) {
    out.push(
      `wasm's best on all ${cores} cores: ${formatNumber(wasmPeak)} GFLOP/s (${cores} thread pool: ` +
        `${pooled === undefined ? '–' : formatNumber(pooled)}; ${cores} single-threaded instances: ` +
        `${perInstance === undefined ? '–' : formatNumber(perInstance * cores)}). PyTorch / wasm: ` +
        `**${formatRatio(torch / wasmPeak)}**: the best any convolution-bound ratio can be here.`,
      '',
    );
  }
  const isResNet50 = results.model.widthMultiplier === 1 && results.model.blocksPerStage.join() === '3,4,6,3';
  if (isResNet50 && results.model.inputSize === 224 && wasmPeak !== undefined) {
    const torchForward = pytorchForward(results).ms;
    const train = bestTrain(results);
    const trainMs = medianOf(train?.result);
    const torchTrain = train
      ? medianOf(results.pytorch?.train.get((train.spec as TrainSpec).batch))
      : undefined;
    const versus = (ms: number, reference: number | undefined, what: string) =>
      reference === undefined ? '' : `, ${formatRatio(ms / reference)} PyTorch's measured ${what}`;
    // Inference may spread over instances; a training step is one model, so it gets the pool's speed.
    const floorForward = (RESNET50_FORWARD_GFLOP * 1000) / wasmPeak;
    // A training step is ~3 forward passes of work: the forward, the input gradients, the weight gradients.
    const floorTrain = pooled === undefined ? undefined : (3 * RESNET50_FORWARD_GFLOP * 1000) / pooled;
    out.push(
      `At that speed, with nothing but convolutions, ResNet-50 needs at least ${formatNumber(floorForward)} ms per ` +
        `image forward (${RESNET50_FORWARD_GFLOP} GFLOP${versus(floorForward, torchForward, 'forward')})` +
        (floorTrain === undefined
          ? '.'
          : ` and ${formatNumber(floorTrain)} ms per image for a training step on the thread pool (~3× the ` +
            `forward's work${versus(floorTrain, torchTrain, 'step at the same batch')})` +
            (trainMs === undefined
              ? '.'
              : `. The measured step takes ${formatNumber(trainMs)} ms per image: ` +
                `${Math.round((100 * floorTrain) / trainMs)}% of it is convolution work at full speed, the rest is ` +
                'BatchNorm, elementwise gradients, the Adam update and slower gradient convolutions (per-kernel ' +
                'profile below).')),
      '',
    );
  }
  return out;
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
