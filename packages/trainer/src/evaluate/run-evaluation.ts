/**
 * `pnpm evaluate`: score a checkpoint on a prepared split and write metrics, csv files, charts and
 * the reports into one folder. The checkpoint's own preprocess.json and labels.json are used as saved.
 */

import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BackendName, initBackend } from '@food/core/backend';
import { type CheckpointMetadata, readCheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import { runDirOf, runPaths } from '@food/core/checkpoint/run-layout';
import { loadEngine } from '@food/core/engine/create-engine';
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import { type EngineChoice, resolveEngine } from '@food/core/engine/resolve-engine';
import { UserError } from '@food/core/errors';
import { mostConfusedPairs } from '@food/core/metrics/confusion-matrix';
import { thumbnailJpeg } from '@food/core/preprocess/image';
import type {
  ComparedCheckpoint,
  EvaluationMetrics,
  LatencyReport,
} from '@food/core/report/evaluation-metrics';
import { REPORT_FILES, reportPaths } from '@food/core/report/report-layout';
import { writeEvaluationMetrics } from '@food/core/report/report-metrics-file';
import * as tf from '@tensorflow/tfjs';
import { curvesSvg } from '../charts/training-curves.ts';
import type { Sample } from '../data/loader.ts';
import type { PreparedManifest, SplitName } from '../data/manifest.ts';
import { readManifest } from '../data/prepared-set.ts';
import { withRunSplit } from '../data/run-split.ts';
import { spreadSubset } from '../data/spread-subset.ts';
import { createProgress, type ProgressMode } from '../progress.ts';
import { readHistory } from '../train/history.ts';
import { confusionSvg } from './charts.ts';
import { measureLatency } from './latency.ts';
import { type ImagePrediction, predictSplit } from './predict-split.ts';
import { renderHtmlReport } from './report-html.ts';
import type { ConfusedPairReport, ReportInput } from './report-input.ts';
import { renderMarkdownReport } from './report-md.ts';
import { majorityBaseline, predictedClass, type Summary, summarizePredictions } from './summarize.ts';
import { type TtaMode, withTestTimeAugmentation } from './test-time-augmentation.ts';
import { writeConfusionCsv, writePerClassCsv, writePredictionsCsv } from './write-csv.ts';

export interface EvaluateOptions {
  /** Checkpoint folder, e.g. checkpoints/RUN/best. */
  checkpoint: string;
  prepared: string;
  split: SplitName;
  out: string;
  batchSize: number;
  /** Only N images of the split, spread evenly over it (see `spreadSubset`). */
  limit?: number;
  /** Another checkpoint to score on the same images. */
  compare?: string;
  /** Also write probabilities.json with every probability at full float32 precision. */
  saveProbabilities?: boolean;
  /**
   * `tfjs` (default, on the current backend), `onnx` (ONNX Runtime, from `onnxModel`) or `auto` (the
   * export beside each checkpoint when there is one, else tfjs; see resolveEngine).
   */
  engine?: EngineChoice;
  /** The exported .onnx of `checkpoint` (default: beside it, see `pnpm trainer export`). */
  onnxModel?: string;
  /** ONNX Runtime intra-op threads, and wasm's when the tfjs engine starts it (default: every core). */
  threads?: number;
  /** The tfjs backend, started only when a checkpoint runs on the tfjs engine (default: auto). */
  backend?: BackendName;
  /** Images timed one at a time for the latency figures (default 20). */
  latencySamples?: number;
  /** Test-time augmentation of the scored pass (default `none`); latency is timed without it, as served. */
  tta?: TtaMode;
}

export interface EvaluateHooks {
  log: (line: string) => void;
  progress: ProgressMode;
}

export interface EvaluationOutcome {
  metrics: EvaluationMetrics;
  /** The files written, relative to `out`. */
  files: string[];
  /** Rows true class, columns predicted class. */
  confusion: number[][];
}

type ReportFile = keyof typeof REPORT_FILES;

const CONFUSED_PAIRS = 10;
const EXAMPLES_PER_PAIR = 4;

/** `checkpoints/RUN/best` → `RUN`: the run folder holds history.json and names the report. */
export function runNameOf(checkpointDir: string): string {
  return path.basename(runDirOf(checkpointDir));
}

export async function runEvaluation(
  options: EvaluateOptions,
  hooks: EvaluateHooks,
): Promise<EvaluationOutcome> {
  const listed = await readManifest(options.prepared);
  const checkpoint = await readCheckpointMetadata(options.checkpoint);
  // The run's own train and val images (`pnpm train --val-fraction` draws them with its seed).
  const manifest = withRunSplit(listed, checkpoint.runConfig);
  const samples = spreadSubset(manifest.splits[options.split], options.limit);
  if (samples.length === 0) {
    throw new UserError(
      `The ${options.split} split of ${options.prepared} has no images. Evaluate another --split, or re-run prepare.`,
      'EMPTY_SPLIT',
    );
  }
  const pass = await withEngine(checkpoint, options, hooks, async (engine) => {
    const scored = await predictWithProgress(engine, checkpoint, manifest, samples, options, hooks);
    const images = samples.map((sample) => sample.image);
    const latencySamples = options.latencySamples ?? 20;
    const latency = await measureLatency(engine, images, manifest.dataRoot, checkpoint.preprocess, {
      samples: latencySamples,
    });
    return { ...scored, latency };
  });
  const classes = checkpoint.labels.classes;
  const summary = summarizePredictions(pass.predictions, classes);
  const compare = options.compare
    ? await compareCheckpoint(options.compare, manifest, samples, classes, options, hooks)
    : null;
  const metrics = evaluationMetrics(options, checkpoint, manifest, pass, summary, compare);
  const input = await reportInput(options, metrics, summary, pass.predictions, manifest, classes);
  const files = await writeReport(options, hooks, input, summary, pass.predictions, classes);
  return { metrics, files, confusion: summary.confusion };
}

/** Another checkpoint (`--compare`) scored on the same images. */
async function compareCheckpoint(
  dir: string,
  manifest: PreparedManifest,
  samples: readonly Sample[],
  classes: readonly string[],
  options: EvaluateOptions,
  hooks: EvaluateHooks,
): Promise<ComparedCheckpoint> {
  const other = await readCheckpointMetadata(dir);
  const pass = await withEngine(other, options, hooks, (engine) =>
    predictWithProgress(engine, other, manifest, samples, options, hooks),
  );
  return {
    checkpoint: dir,
    parameters: other.parameters,
    sizeBytes: other.sizeBytes,
    metrics: summarizePredictions(pass.predictions, classes).metrics,
  };
}

/** The scored pass and what it ran on. */
interface ScoredPass {
  predictions: ImagePrediction[];
  seconds: number;
  latency: LatencyReport;
  backend: string;
}

function evaluationMetrics(
  options: EvaluateOptions,
  checkpoint: CheckpointMetadata,
  manifest: PreparedManifest,
  pass: ScoredPass,
  summary: Summary,
  compare: ComparedCheckpoint | null,
): EvaluationMetrics {
  const { predictions, seconds } = pass;
  const classes = checkpoint.labels.classes;
  return {
    ...summary.metrics,
    checkpoint: options.checkpoint,
    prepared: options.prepared,
    split: options.split,
    limit: options.limit ?? null,
    backend: pass.backend,
    tta: options.tta ?? 'none',
    parameters: checkpoint.parameters,
    sizeBytes: checkpoint.sizeBytes,
    latency: pass.latency,
    throughput: {
      batchSize: options.batchSize,
      seconds: round(seconds, 3),
      imagesPerSecond: round(predictions.length / seconds, 2),
    },
    baselines: {
      majorityClass: majorityBaseline(
        manifest.splits.train.map((sample) => sample.label),
        predictions.map((prediction) => prediction.label),
        classes,
      ),
      compare,
    },
    definitions:
      "Precision, recall and F1 as scikit-learn's precision_recall_fscore_support (zero_division=0); macro = unweighted mean over classes present in the labels or predictions, weighted = mean weighted by support.",
    evaluatedAt: new Date().toISOString(),
  };
}

/** What report.html and report.md show: the metrics, the most confused pairs and the charts. */
async function reportInput(
  options: EvaluateOptions,
  metrics: EvaluationMetrics,
  summary: Summary,
  predictions: readonly ImagePrediction[],
  manifest: PreparedManifest,
  classes: readonly string[],
): Promise<ReportInput> {
  const history = await readHistory(runDirOf(options.checkpoint));
  const historyFile = runPaths(path.dirname(options.checkpoint)).historyJson;
  const confused = confusedPairExamples(summary.confusion, predictions, summary.predicted, classes, manifest);
  return {
    runName: runNameOf(options.checkpoint),
    metrics,
    confusedPairs: await confused,
    confusionSvg: await confusionSvg(summary.confusion, classes),
    curvesSvg: history.length > 0 ? await curvesSvg(history) : null,
    curvesNote:
      history.length > 0
        ? `${history.length} epoch${history.length === 1 ? '' : 's'} from ${historyFile}.`
        : `No training curves: ${historyFile} does not exist (the checkpoint is not inside a run folder written by \`pnpm train\`).`,
  };
}

/**
 * Writes every file of the report folder (core's REPORT_FILES) and returns their names. A file this run
 * does not produce is removed, so none is left from an earlier report in the same folder.
 */
async function writeReport(
  options: EvaluateOptions,
  hooks: EvaluateHooks,
  input: ReportInput,
  summary: Summary,
  predictions: readonly ImagePrediction[],
  classes: readonly string[],
): Promise<string[]> {
  const paths = reportPaths(options.out);
  await writeEvaluationMetrics(options.out, input.metrics);
  await writePredictionsCsv(paths.predictionsCsv, predictions, classes);
  await writePerClassCsv(paths.perClassCsv, input.metrics.perClass);
  await writeConfusionCsv(paths.confusionCsv, summary.confusion, classes);
  const files: string[] = [REPORT_FILES.metrics, REPORT_FILES.predictionsCsv, REPORT_FILES.perClassCsv];
  files.push(REPORT_FILES.confusionCsv);
  const write = async (name: ReportFile, content: string | null) => {
    if (content === null) return rm(paths[name], { force: true });
    await writeFile(paths[name], content);
    files.push(REPORT_FILES[name]);
  };
  await write('confusion', input.confusionSvg);
  await write('curves', input.curvesSvg);
  if (!input.curvesSvg) hooks.log(`note: ${input.curvesNote}`);
  await write('probabilities', options.saveProbabilities ? probabilitiesJson(predictions, classes) : null);
  await write('html', renderHtmlReport(input));
  await write('markdown', renderMarkdownReport(input));
  return files;
}

function probabilitiesJson(predictions: readonly ImagePrediction[], classes: readonly string[]): string {
  const probabilities = {
    classes,
    images: predictions.map((prediction) => prediction.image),
    probabilities: predictions.map((prediction) => Array.from(prediction.probabilities)),
  };
  return `${JSON.stringify(probabilities)}\n`;
}

/**
 * Runs `use` with the chosen engine over the checkpoint (the same `loadEngine` serving uses), then frees
 * it. For `onnx` the exported file must come from this checkpoint. A tfjs backend is started only for
 * the tfjs engine: ONNX Runtime needs none (wasm would start a thread pool for nothing).
 */
async function withEngine<T>(
  checkpoint: CheckpointMetadata,
  options: EvaluateOptions,
  hooks: EvaluateHooks,
  use: (engine: InferenceEngine) => Promise<T>,
): Promise<T & { backend: string }> {
  const resolved = await resolveEngine(
    options.engine ?? 'tfjs',
    checkpoint.dir,
    checkpoint.dir === options.checkpoint ? options.onnxModel : undefined,
    checkpoint,
  );
  hooks.log(`engine: ${resolved.reason}`);
  if (resolved.engine === 'tfjs')
    await initBackend(options.backend ?? 'auto', undefined, { wasmThreads: options.threads });
  const { engine } = await loadEngine({
    ...resolved,
    checkpoint: checkpoint.dir,
    maxBatch: options.batchSize,
    intraOpThreads: options.threads,
  });
  try {
    const backend =
      resolved.engine === 'onnx' ? `onnxruntime (${path.basename(resolved.onnxModel!)})` : tf.getBackend();
    return { ...(await use(engine)), backend };
  } finally {
    engine.dispose();
  }
}

/** The batched pass over the split, with a progress bar showing the running top-1 accuracy. */
async function predictWithProgress(
  engine: InferenceEngine,
  checkpoint: CheckpointMetadata,
  manifest: PreparedManifest,
  samples: readonly Sample[],
  options: EvaluateOptions,
  hooks: EvaluateHooks,
): Promise<{ predictions: ImagePrediction[]; seconds: number }> {
  checkSameClasses(checkpoint, manifest, options.prepared);
  const scored = withTestTimeAugmentation(engine, options.tta ?? 'none', checkpoint.preprocess.cropSize);
  hooks.log(
    `evaluate: ${checkpoint.dir} on ${samples.length} ${options.split} images (${scored.description})`,
  );
  const progress = createProgress('evaluate', samples.length, hooks.progress);
  const started = performance.now();
  let correct = 0;
  let done = 0;
  try {
    const predictions = await predictSplit({
      engine: scored,
      samples,
      dataRoot: manifest.dataRoot,
      preprocess: checkpoint.preprocess,
      numClasses: checkpoint.labels.classes.length,
      batchSize: options.batchSize,
      onBatch: (batch) => {
        for (const prediction of batch) {
          if (predictedClass(prediction.probabilities) === prediction.label) correct++;
        }
        done += batch.length;
        progress.tick(batch.length, { acc: (correct / done).toFixed(4) });
      },
    });
    return { predictions, seconds: (performance.now() - started) / 1000 };
  } finally {
    progress.stop();
  }
}

function checkSameClasses(
  checkpoint: CheckpointMetadata,
  manifest: PreparedManifest,
  prepared: string,
): void {
  const ours = checkpoint.labels.classes;
  const theirs = manifest.classes;
  if (ours.length === theirs.length && ours.every((name, index) => name === theirs[index])) return;
  const missing = theirs.filter((name) => !ours.includes(name));
  const extra = ours.filter((name) => !theirs.includes(name));
  const some = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;
  const differences = [
    ...(missing.length > 0
      ? [`${missing.length} data set classes are not in the checkpoint (${some(missing)})`]
      : []),
    ...(extra.length > 0
      ? [`${extra.length} checkpoint classes are not in the data set (${some(extra)})`]
      : []),
  ];
  const difference = differences.length > 0 ? differences.join('; ') : 'the same names in a different order';
  throw new UserError(
    `The checkpoint was trained on other classes than ${prepared}: ${ours.length} vs ${theirs.length} classes, ${difference}. Evaluate it on the prepared data set it was trained on (see its run-config.json), or pass a checkpoint trained on ${prepared}.`,
    'CLASSES_MISMATCH',
  );
}

/** The most confused pairs, each with its most confident mistakes as thumbnails. */
async function confusedPairExamples(
  confusion: number[][],
  predictions: readonly ImagePrediction[],
  predicted: readonly number[],
  classes: readonly string[],
  manifest: PreparedManifest,
): Promise<ConfusedPairReport[]> {
  return Promise.all(
    mostConfusedPairs(confusion, CONFUSED_PAIRS).map(async (pair) => {
      const mistakes = predictions
        .filter(
          (prediction, index) =>
            prediction.label === pair.trueClass && predicted[index] === pair.predictedClass,
        )
        .map((prediction) => ({
          image: prediction.image,
          confidence: prediction.probabilities[pair.predictedClass],
        }))
        .sort((a, b) => b.confidence - a.confidence || a.image.localeCompare(b.image))
        .slice(0, EXAMPLES_PER_PAIR);
      const examples = await Promise.all(
        mistakes.map(async (mistake) => {
          // A report without one picture beats no report: an unreadable file only loses its thumbnail.
          const thumbnail = await readFile(path.join(manifest.dataRoot, mistake.image))
            .then(
              async (bytes) => `data:image/jpeg;base64,${(await thumbnailJpeg(bytes)).toString('base64')}`,
            )
            .catch(() => undefined);
          return { ...mistake, thumbnail };
        }),
      );
      return {
        ...pair,
        trueName: classes[pair.trueClass],
        predictedName: classes[pair.predictedClass],
        examples,
      };
    }),
  );
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
