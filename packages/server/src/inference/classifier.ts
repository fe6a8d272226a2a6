import path from 'node:path';
import { readCheckpointMetadata, verifyCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import { resolveRunFolder } from '@food/core/checkpoint/run-folder';
import { resolveEngine } from '@food/core/engine/resolve-engine';
import type { PreprocessConfig } from '@food/core/preprocess/config';
import { preprocessImage } from '@food/core/preprocess/image';
import { usableCores } from '@food/core/usable-cores';
import type { ServerConfig } from '../config.ts';
import { ModelLoadingError, QueueFullError } from '../errors.ts';
import type { BatchExecutor, ExecutorSlotStats } from './batch-executor.ts';
import { type BrowserModel, describeBrowserModel } from './browser-model.ts';
import { findCheckpointReport } from './find-checkpoint-report.ts';
import { InProcessExecutor } from './in-process-executor.ts';
import type { EngineOptions } from './load-engine.ts';
import { type BatcherStats, MicroBatcher } from './micro-batcher.ts';
import { describeModel, locateAssets, type ModelAsset, type ModelInfo } from './model-info.ts';
import { WorkerPool } from './worker-pool.ts';

/** The serving settings the classifier needs (documented on ServerConfig). */
export type ClassifierOptions = Pick<
  ServerConfig,
  | 'checkpoint'
  | 'backend'
  | 'engine'
  | 'onnxModel'
  | 'report'
  | 'workers'
  | 'maxBatch'
  | 'batchTimeoutMs'
  | 'maxQueue'
  | 'maxPixels'
> & { log?: (line: string) => void };

/**
 * The checkpoint (a run folder stands for its best, as for `pnpm evaluate`) and the evaluation report
 * for the model card: `--report`, else the newest test report about that checkpoint (as `pnpm runs`
 * finds them). Each choice made for the user is logged.
 */
async function locateModelFolders(
  options: ClassifierOptions,
): Promise<{ checkpoint: string; report: string | undefined }> {
  const { dir: checkpoint, note } = await resolveRunFolder(options.checkpoint);
  if (note) options.log?.(note);
  if (options.report !== undefined) return { checkpoint, report: options.report };
  const report = await findCheckpointReport(checkpoint);
  if (report)
    options.log?.(
      `model card: test figures from ${report}, the newest test report about ${checkpoint} (--report DIR picks another)`,
    );
  return { checkpoint, report };
}

export interface Prediction {
  label: string;
  probability: number;
}

export interface Classification {
  predictions: Prediction[];
  /** inferenceMs = queuedMs + runMs, give or take the event loop's turn. */
  timings: { preprocessMs: number; queuedMs: number; runMs: number; inferenceMs: number; batchSize: number };
}

export interface ClassifierStats {
  ready: boolean;
  batcher: BatcherStats;
  slots: ExecutorSlotStats[];
}

/**
 * The model behind the API: the checkpoint's own preprocessing (the same `preprocessImage` evaluation
 * uses), a micro-batcher, and an executor (worker threads or this thread).
 */
export class Classifier {
  readonly info: ModelInfo;
  /** Absolute path of the checkpoint folder (never sent to clients). */
  readonly checkpointDir: string;
  readonly preprocess: PreprocessConfig;
  readonly batcher: MicroBatcher;
  readonly #executor: BatchExecutor;
  readonly #maxPixels: number;
  readonly #maxQueue: number;
  #decoding = 0;
  #ready = false;

  private constructor(
    checkpointDir: string,
    info: ModelInfo,
    readonly assetFiles: ReadonlyMap<ModelAsset, string>,
    /** The ONNX file the engine runs, which the web UI may fetch to classify on the device. */
    readonly browserModel: BrowserModel | undefined,
    executor: BatchExecutor,
    options: ClassifierOptions,
  ) {
    this.checkpointDir = checkpointDir;
    this.info = info;
    this.preprocess = info.preprocess;
    this.#executor = executor;
    this.#maxPixels = options.maxPixels;
    this.#maxQueue = options.maxQueue;
    this.batcher = new MicroBatcher(executor, { ...options, slots: Math.max(1, options.workers) });
    executor.ready.then(
      () => {
        this.#ready = true;
      },
      () => {},
    );
  }

  /**
   * Verifies the checkpoint once per process (a missing or corrupt folder throws CheckpointError here,
   * at once) and starts loading the model; `ready` settles when it can classify.
   */
  static async open(options: ClassifierOptions): Promise<Classifier> {
    const { checkpoint, report } = await locateModelFolders(options);
    const metadata = await readCheckpointMetadata(checkpoint);
    const assetFiles = await locateAssets(metadata.dir, report);
    // Decided once here, so every worker runs the same engine and /api/model can say which.
    const engine = await resolveEngine(options.engine, metadata.dir, options.onnxModel, metadata);
    // tfjs runs weights.bin: hash it here, once, not in every worker. ONNX Runtime runs the export, whose
    // recorded weights hash resolveEngine has checked against checksums.json.
    if (engine.engine === 'tfjs') await verifyCheckpoint(metadata.dir);
    options.log?.(`engine: ${engine.reason}`);
    const browserModel =
      engine.engine === 'onnx' && engine.onnxModel
        ? await describeBrowserModel(engine.onnxModel, engine.precision ?? 'float32')
        : undefined;
    const info = await describeModel(metadata, assetFiles, engine, report, browserModel?.info ?? null);
    const engineOptions: EngineOptions = {
      checkpoint: metadata.dir,
      checkpointVerified: true,
      backend: options.backend,
      engine: engine.engine,
      onnxModel: engine.onnxModel,
      // Each worker's engine (ONNX Runtime session or wasm thread pool) gets its share of the cores, so N
      // workers do not oversubscribe them (a container's CPU limit counts: usableCores).
      intraOpThreads: Math.max(1, Math.floor(usableCores() / Math.max(1, options.workers))),
      maxBatch: options.maxBatch,
    };
    const executor: BatchExecutor =
      options.workers === 0
        ? new InProcessExecutor(engineOptions, options.log)
        : new WorkerPool({ engine: engineOptions, workers: options.workers, log: options.log });
    return new Classifier(path.resolve(metadata.dir), info, assetFiles, browserModel, executor, options);
  }

  /** Resolves once every model copy is loaded and warmed up; rejects with the load error. */
  get ready(): Promise<void> {
    return this.#executor.ready;
  }

  isReady(): boolean {
    return this.#ready;
  }

  get executor(): BatchExecutor {
    return this.#executor;
  }

  /** Top-`topK` labels for one encoded image. Throws ImageDecodeError, QUEUE_FULL, MODEL_LOADING, ... */
  async classify(bytes: Uint8Array, topK: number): Promise<Classification> {
    if (!this.#ready) throw new ModelLoadingError();
    // Admission before decoding: images being decoded count against the queue, so an overloaded server
    // answers 503 at once instead of decoding uploads it will then reject (and accepted requests' p99
    // stays bounded by queue length × batch time; see docs/benchmarks.md, serving under load).
    const waiting = this.batcher.queued + this.#decoding;
    if (waiting >= this.#maxQueue) throw new QueueFullError(waiting);
    const started = performance.now();
    this.#decoding += 1;
    let input: Float32Array;
    try {
      input = await preprocessImage(bytes, this.preprocess, { maxPixels: this.#maxPixels });
    } finally {
      this.#decoding -= 1;
    }
    const preprocessed = performance.now();
    const { probabilities, queuedMs, runMs, batchSize } = await this.batcher.submitTimed(input);
    return {
      predictions: topPredictions(probabilities, this.info.classes, topK),
      timings: {
        preprocessMs: preprocessed - started,
        queuedMs,
        runMs,
        inferenceMs: performance.now() - preprocessed,
        batchSize,
      },
    };
  }

  async stats(): Promise<ClassifierStats> {
    return { ready: this.#ready, batcher: this.batcher.stats(), slots: await this.#executor.stats() };
  }

  async close(): Promise<void> {
    await this.#executor.close();
  }
}

/** The `topK` most probable classes, most probable first (ties: lower class index first). */
export function topPredictions(probabilities: Float32Array, classes: string[], topK: number): Prediction[] {
  return Array.from(probabilities, (probability, index) => ({ index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, topK)
    .map(({ index, probability }) => ({ label: classes[index], probability }));
}
