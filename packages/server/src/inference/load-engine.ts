import { type BackendName, initBackend } from '@food/core/backend';
import { loadCheckpoint } from '@food/core/checkpoint/load-checkpoint';
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';

export interface EngineOptions {
  checkpoint: string;
  backend: BackendName;
  maxBatch: number;
  log?: (line: string) => void;
}

export interface LoadedEngine {
  engine: InferenceEngine;
  /** Backend that runs it, as `initBackend` chose it. */
  backend: string;
}

/**
 * Loads the checkpoint (checksums verified) into an engine on this thread's backend and runs one
 * batch through it, so the first request does not pay for kernel set-up and weight upload.
 * Both the worker threads and the in-process mode start their engine here.
 */
export async function loadWarmEngine(options: EngineOptions): Promise<LoadedEngine> {
  const log = options.log ?? (() => {});
  const backend = await initBackend(options.backend, log);
  const checkpoint = await loadCheckpoint(options.checkpoint);
  const engine = createTfjsEngine(checkpoint.model, { maxBatch: options.maxBatch });
  const side = checkpoint.preprocess.cropSize;
  await engine.predict([new Float32Array(side * side * 3)]);
  return { engine, backend: backend.name };
}
