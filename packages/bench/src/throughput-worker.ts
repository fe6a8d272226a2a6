/**
 * A worker thread for the inference-throughput measurement: its own wasm backend instance with
 * `threads` threads (as each of the server's pool workers has its share of the cores), one engine,
 * and `predict` on command.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '@food/core/backend';
import { createTfjsEngine } from '@food/core/engine/tfjs-engine';
import { buildModel, randomImages } from './model-benchmarks.ts';
import type { ModelShape } from './spec.ts';

export interface ThroughputWorkerData {
  model: ModelShape;
  batch: number;
  threads: number;
  seed: number;
}

export type ToThroughputWorker = { type: 'run'; batches: number } | { type: 'stop' };
export type FromThroughputWorker =
  | { type: 'ready' }
  | { type: 'done'; images: number }
  | { type: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('throughput-worker.ts must run in a worker thread');
const post = (message: FromThroughputWorker) => port.postMessage(message);
const { model, batch, threads, seed } = workerData as ThroughputWorkerData;

try {
  await initBackend('wasm', () => {}, { wasmThreads: threads });
  const engine = createTfjsEngine(buildModel(model), { maxBatch: batch });
  const images = randomImages(batch, model.inputSize, seed);
  await engine.predict(images); // warm-up: kernel setup and heap growth are not steady state
  port.on('message', (message: ToThroughputWorker) => {
    if (message.type === 'stop') {
      engine.dispose();
      port.close();
      return;
    }
    (async () => {
      for (let i = 0; i < message.batches; i++) await engine.predict(images);
      post({ type: 'done', images: message.batches * batch });
    })().catch((error: unknown) =>
      post({ type: 'error', message: String((error as Error)?.message ?? error) }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'error', message: String((error as Error)?.message ?? error) });
}
