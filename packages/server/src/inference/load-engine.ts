import { type BackendName, initBackend } from '@food/core/backend';
import { type LoadEngineOptions, loadEngine } from '@food/core/engine/create-engine';
import type { InferenceEngine } from '@food/core/engine/inference-engine';

/**
 * How the server loads its engine: decided once by `Classifier.open` (the engine `--engine auto` chose,
 * the checkpoint it verified) and passed as is to the in-process executor or, as `workerData`, to every
 * worker. Plain data, so it crosses the thread boundary by structured clone.
 */
export interface EngineOptions extends LoadEngineOptions {
  backend: BackendName;
  /** Threads this engine may use: ONNX Runtime's intra-op threads, or the wasm backend's pool. */
  intraOpThreads: number;
  maxBatch: number;
}

export interface LoadedEngine {
  engine: InferenceEngine;
  /** What runs it: the tfjs backend `initBackend` chose, or ONNX Runtime. */
  backend: string;
}

/**
 * Loads the checkpoint into an engine and runs one batch through it, so the first request does not pay
 * for kernel set-up and weight upload. Both the worker threads and the in-process mode start their engine
 * here; which engine runs is invisible past this point.
 */
export async function loadWarmEngine(
  options: EngineOptions,
  log: (line: string) => void = () => {},
): Promise<LoadedEngine> {
  const backend =
    options.engine === 'tfjs'
      ? (await initBackend(options.backend, log, { wasmThreads: options.intraOpThreads })).name
      : 'onnxruntime';
  const { engine, preprocess } = await loadEngine(options);
  const side = preprocess.cropSize;
  await engine.predict([new Float32Array(side * side * 3)]);
  return { engine, backend };
}
