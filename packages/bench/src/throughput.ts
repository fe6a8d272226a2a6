/**
 * Inference throughput with all cores (images/s): N wasm worker threads side by side, or one ONNX
 * Runtime session with N intra-op threads. Runs inside a measurement child process.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { InferenceEngine } from '@food/core/engine/inference-engine';
import { createOnnxEngine } from '@food/core/engine/onnx-engine';
import { preprocessImage } from '@food/core/preprocess/image';
import {
  activationsToCalibrate,
  calibrateRanges,
  encodeModel,
  layersModelToOnnx,
  quantizeGraph,
} from '@food/trainer/building-blocks';
import * as tf from '@tensorflow/tfjs';
import { buildModel, randomImages } from './model-benchmarks.ts';
import { preprocessConfigFor } from './preprocess-benchmarks.ts';
import type { MeasurementSpec } from './spec.ts';
import type { FromThroughputWorker, ThroughputWorkerData, ToThroughputWorker } from './throughput-worker.ts';

type ThroughputSpec = Extract<MeasurementSpec, { kind: 'throughput' }>;

export async function measureThroughput(
  spec: ThroughputSpec,
  log: (line: string) => void,
): Promise<number[]> {
  return spec.engine === 'tfjs-wasm' ? measureWasmWorkers(spec, log) : measureOnnx(spec, log);
}

/** One image batch per `predict`; a run is `imagesPerRun` images over all workers, timed end to end. */
async function measureWasmWorkers(spec: ThroughputSpec, log: (line: string) => void): Promise<number[]> {
  const workers = await Promise.all(
    Array.from({ length: spec.workers }, (_, index) =>
      startWorker({ model: spec.model, batch: spec.batch, threads: spec.threadsPerWorker, seed: index + 1 }),
    ),
  );
  log(`${workers.length} wasm worker(s) ready`);
  try {
    const batchesPerWorker = Math.max(1, Math.round(spec.imagesPerRun / spec.batch / spec.workers));
    const samples: number[] = [];
    for (let run = 0; run < spec.runs; run++) {
      const started = performance.now();
      const images = await Promise.all(workers.map((worker) => worker.run(batchesPerWorker)));
      const seconds = (performance.now() - started) / 1000;
      const perSecond = images.reduce((a, b) => a + b, 0) / seconds;
      samples.push(perSecond);
      log(`run ${run + 1}/${spec.runs}: ${perSecond.toFixed(2)} images/s`);
    }
    return samples;
  } finally {
    for (const worker of workers) worker.stop();
  }
}

interface RunningWorker {
  run(batches: number): Promise<number>;
  stop(): void;
}

/**
 * Worker threads do not inherit tsx's loader, so a two-line bootstrap registers it before importing
 * the TypeScript entry (the server's worker-bootstrap.mjs does the same from a file).
 */
function startWorker(data: ThroughputWorkerData): Promise<RunningWorker> {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./throughput-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: data });
  let pending: { resolve: (images: number) => void; reject: (error: Error) => void } | undefined;
  return new Promise((resolveReady, rejectReady) => {
    const fail = (error: Error) => {
      if (pending) pending.reject(error);
      else rejectReady(error);
      pending = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`throughput worker exited with code ${code}`));
    });
    worker.on('message', (message: FromThroughputWorker) => {
      if (message.type === 'error') return fail(new Error(message.message));
      if (message.type === 'done') {
        pending?.resolve(message.images);
        pending = undefined;
        return;
      }
      resolveReady({
        run: (batches) =>
          new Promise((resolve, reject) => {
            pending = { resolve, reject };
            worker.postMessage({ type: 'run', batches } satisfies ToThroughputWorker);
          }),
        stop: () => worker.postMessage({ type: 'stop' } satisfies ToThroughputWorker),
      });
    });
  });
}

/**
 * The exporter's own code path (Keras layers → ONNX with BatchNorm folded; int8 QDQ calibrated on real
 * JPEGs when given), then the ONNX engine serving uses. Weights are the random initialisation: speed
 * does not depend on their values.
 */
async function measureOnnx(spec: ThroughputSpec, log: (line: string) => void): Promise<number[]> {
  await tf.setBackend('cpu');
  const model = buildModel(spec.model);
  let graph = layersModelToOnnx(model);
  model.dispose();
  if (spec.engine === 'onnx-int8') {
    const images =
      spec.calibrationImages.length > 0
        ? await Promise.all(
            spec.calibrationImages.map(async (file) =>
              preprocessImage(await readFile(file), preprocessConfigFor(spec.model.inputSize)),
            ),
          )
        : randomImages(8, spec.model.inputSize);
    log(`calibrating int8 ranges on ${images.length} images`);
    graph = quantizeGraph(
      graph,
      await calibrateRanges(graph, activationsToCalibrate(graph), images, { intraOpThreads: spec.workers }),
    );
  }
  const engine: InferenceEngine = await createOnnxEngine(encodeModel(graph, { metadata: {} }), {
    intraOpThreads: spec.workers,
    maxBatch: spec.batch,
  });
  try {
    const batch = randomImages(spec.batch, spec.model.inputSize);
    const batches = Math.max(1, Math.round(spec.imagesPerRun / spec.batch));
    await engine.predict(batch);
    const samples: number[] = [];
    for (let run = 0; run < spec.runs; run++) {
      const started = performance.now();
      for (let i = 0; i < batches; i++) await engine.predict(batch);
      const perSecond = (batches * spec.batch) / ((performance.now() - started) / 1000);
      samples.push(perSecond);
      log(`run ${run + 1}/${spec.runs}: ${perSecond.toFixed(2)} images/s`);
    }
    return samples;
  } finally {
    engine.dispose();
  }
}
