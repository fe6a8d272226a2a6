/**
 * Entry point of an inference worker thread (started through ./worker-bootstrap.mjs): loads the
 * checkpoint into its own engine and answers `predict` and `stats` messages from the pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { type EngineOptions, loadWarmEngine } from './load-engine.ts';
import { type MainToWorker, transferables, type WorkerToMain } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts must run in a worker thread');
const post = (message: WorkerToMain, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const options = workerData as EngineOptions;

try {
  const { engine, backend } = await loadWarmEngine(options, (line) => post({ type: 'log', line }));
  port.on('message', (message: MainToWorker) => {
    if (message.type === 'stats') {
      const { numTensors, numBytes } = tf.memory();
      post({ type: 'stats', id: message.id, numTensors, numBytes });
      return;
    }
    engine.predict(message.batch).then(
      (probabilities) =>
        post({ type: 'result', id: message.id, probabilities }, transferables(probabilities)),
      (error: unknown) =>
        post({ type: 'error', id: message.id, message: String((error as Error)?.message ?? error) }),
    );
  });
  post({ type: 'ready', backend });
} catch (error) {
  const { message, code } = error as { message?: string; code?: string };
  post({ type: 'fatal', message: message ?? String(error), code });
  // Let the message flush before the thread ends.
  setImmediate(() => process.exit(1));
}
