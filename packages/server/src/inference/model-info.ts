import { access } from 'node:fs/promises';
import path from 'node:path';
import { type CheckpointMetrics, isEpochMetrics } from '@food/core/checkpoint/epoch-metrics';
import { type Int8GuardRecord, readInt8Guard } from '@food/core/checkpoint/int8-guard';
import type { CheckpointMetadata } from '@food/core/checkpoint/load-checkpoint';
import type { RunConfig } from '@food/core/checkpoint/run-config';
import { defaultOnnxPath, int8GuardPath, RUN_FILES } from '@food/core/checkpoint/run-layout';
import type { ResolvedEngine } from '@food/core/engine/resolve-engine';
import { resNetName } from '@food/core/model/resnet50';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { REPORT_FILES } from '@food/core/report/report-layout';
import { readEvaluationMetricsIfPresent } from '@food/core/report/report-metrics-file';
import type { BrowserModelInfo } from './browser-model.ts';

/**
 * Pictures the model card shows, looked up in the checkpoint folder, the evaluation report folder
 * (`--report`: confusion.svg from `pnpm evaluate`) and the run folder (curves.svg, redrawn by `pnpm train`
 * after every epoch). Nothing else in those folders is served.
 */
export const MODEL_ASSETS = [
  RUN_FILES.curves,
  REPORT_FILES.confusion,
  'curves.png',
  'confusion.png',
] as const;
export type ModelAsset = (typeof MODEL_ASSETS)[number];

export function isModelAsset(name: string): name is ModelAsset {
  return (MODEL_ASSETS as readonly string[]).includes(name);
}

export interface TrainingSummary {
  /** Epochs trained when this checkpoint was written. */
  epoch: number | null;
  /** Epochs the run was configured for. */
  epochs: number | null;
  bestValAccuracy: number | null;
  valTop5: number | null;
}

export interface TestSummary {
  accuracy: number | null;
  top5: number | null;
  macroF1: number | null;
}

/** What runs the model: `--engine auto` decides at start-up (core/engine/resolve-engine.ts). */
export interface EngineInfo {
  name: 'tfjs' | 'onnx';
  /** The file the engine loaded, as `RUN/best.int8.onnx` or `RUN/best/model.json`. */
  file: string;
  /** For onnx: `float32` or `int8`. */
  precision: 'float32' | 'int8' | null;
}

/** What the model was trained on, from the run's run-config.json (`dataset`, else its prepared folder). */
export interface DatasetInfo {
  name: string | null;
  /**
   * True for generated images (`pnpm demo` without --data): such a model has never seen food, and the
   * UI says so. Null when the run did not record it.
   */
  synthetic: boolean | null;
}

/** The int8 guard's decision on this checkpoint's int8 export and the figures it judged. */
export type Int8GuardInfo = Pick<Int8GuardRecord, 'decision' | 'reason' | 'figures' | 'limits'>;

/** What `GET /api/model` answers and the UI's model card shows. */
export interface ModelInfo {
  /** The run's name: the folder above best/latest/epoch-NNN. */
  name: string;
  /** The checkpoint as `RUN/best`, never the server's absolute path. */
  checkpoint: string;
  classes: string[];
  /** The network, from run-config.json: `ResNet-50`, or e.g. `ResNet-14, 1/16 width` for a small one. */
  architecture: string;
  parameters: number;
  sizeBytes: number;
  preprocess: PreprocessConfig;
  training: TrainingSummary;
  test: TestSummary | null;
  /** metrics.json as written by the trainer, for fields this summary does not know. */
  metrics: CheckpointMetrics;
  assets: ModelAsset[];
  engine: EngineInfo;
  dataset: DatasetInfo;
  /** Null when the checkpoint has no guard record (no int8 export tried, or one of earlier weights). */
  int8Guard: Int8GuardInfo | null;
  /** The ONNX model the engine runs, for the web UI's "on this device"; null on tfjs. */
  browserModel: BrowserModelInfo | null;
}

/** Where each available model-card picture is on disk (first folder that has it wins). */
export async function locateAssets(
  checkpointDir: string,
  reportDir?: string,
): Promise<Map<ModelAsset, string>> {
  const dir = path.resolve(checkpointDir);
  const folders = [dir, ...(reportDir ? [path.resolve(reportDir)] : []), path.dirname(dir)];
  const found = new Map<ModelAsset, string>();
  for (const asset of MODEL_ASSETS) {
    for (const folder of folders) {
      const file = path.join(folder, asset);
      if (
        await access(file).then(
          () => true,
          () => false,
        )
      ) {
        found.set(asset, file);
        break;
      }
    }
  }
  return found;
}

/**
 * Test-split numbers from an evaluation report's metrics.json (`pnpm evaluate --split test`); none when the
 * folder has no metrics.json. One that is not a report stops the server with a ReportError naming it.
 */
async function readReportTestSummary(reportDir: string | undefined): Promise<TestSummary | null> {
  const report = reportDir ? await readEvaluationMetricsIfPresent(reportDir) : undefined;
  if (report?.split !== 'test') return null;
  return { accuracy: report.accuracy, top5: report.top5Accuracy, macroF1: report.f1.macro };
}

export async function describeModel(
  metadata: CheckpointMetadata,
  assets: ReadonlyMap<ModelAsset, string>,
  engine: ResolvedEngine,
  reportDir?: string,
  browserModel: BrowserModelInfo | null = null,
): Promise<ModelInfo> {
  const dir = path.resolve(metadata.dir);
  const name = path.basename(path.dirname(dir));
  const metrics = metadata.metrics;
  // A mid-epoch `latest` has no validation yet; an epoch's metrics carry the run's best so far.
  const epochMetrics = isEpochMetrics(metrics) ? metrics : undefined;
  return {
    name,
    checkpoint: `${name}/${path.basename(dir)}`,
    classes: metadata.labels.classes,
    architecture: resNetName(metadata.runConfig),
    parameters: metadata.parameters,
    sizeBytes: metadata.sizeBytes,
    preprocess: metadata.preprocess,
    training: {
      epoch: metrics.epoch,
      epochs: metadata.runConfig.epochs,
      bestValAccuracy: epochMetrics?.bestValTop1 ?? null,
      valTop5: epochMetrics?.valTop5 ?? null,
    },
    // The trainer never sees the test split: its numbers come only from an evaluation report.
    test: await readReportTestSummary(reportDir),
    metrics,
    assets: [...assets.keys()],
    dataset: describeDataset(metadata.runConfig),
    int8Guard: await readGuard(metadata, engine),
    browserModel,
    engine: {
      name: engine.engine,
      file:
        engine.engine === 'onnx'
          ? `${name}/${path.basename(engine.onnxModel!)}`
          : `${name}/${path.basename(dir)}/model.json`,
      precision: engine.precision ?? null,
    },
  };
}

function describeDataset(runConfig: RunConfig): DatasetInfo {
  return {
    name: runConfig.dataset?.name ?? path.basename(runConfig.prepared),
    synthetic: runConfig.dataset?.synthetic ?? null,
  };
}

/**
 * The guard record beside the int8 export that runs (or, when float32 runs, beside the default int8
 * name, where a refusal is recorded). A record of other weights than the checkpoint's is stale: none.
 */
async function readGuard(
  metadata: CheckpointMetadata,
  engine: ResolvedEngine,
): Promise<Int8GuardInfo | null> {
  const int8 =
    engine.precision === 'int8' && engine.onnxModel
      ? engine.onnxModel
      : defaultOnnxPath(metadata.dir, 'int8');
  const record = await readInt8Guard(int8GuardPath(int8));
  if (!record || record.weightsSha256 !== metadata.files['weights.bin']?.sha256) return null;
  return { decision: record.decision, reason: record.reason, figures: record.figures, limits: record.limits };
}
