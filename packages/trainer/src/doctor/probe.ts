/**
 * `pnpm doctor`'s runtime probes, each in its own process (a broken native library can crash or hang it
 * without taking the doctor down). `probe.ts tensorflow|wasm|onnx` prints one `PROBE_RESULT {json}` line.
 */
import { availableParallelism } from 'node:os';
import { initBackend } from '@food/core/backend';
import { RUN_SETTINGS } from '@food/core/checkpoint/run-settings';
import { buildResNet50 } from '@food/core/model/resnet50';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { addInitializer, emptyGraph, encodeModel } from '../export/onnx-graph.ts';
import { AdamL2 } from '../train/adam.ts';
import { chooseMicroBatch } from '../train/choose-micro-batch.ts';
import { createMicroBatchRunner } from '../train/micro-batch-runner.ts';
import { trainableParameters } from '../train/parameters.ts';
import { startTrainingBackend } from '../train/start-backend.ts';
import { trainStep } from '../train/train-step.ts';
import { type OnnxProbe, PROBE_RESULT, type TensorflowProbe, type WasmProbe } from './probe-protocol.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * A real ResNet-50 forward + backward + Adam step at 224 px. On a GPU it is the recipe's batch, split the
 * way `pnpm train` splits it: micro-batches from the memory plan (`--accumulate auto`), halved and retried
 * on an out-of-memory error, so a 16 GB card passes where it can train. On the CPU, 2 images: a smoke test.
 */
async function probeTensorflow(): Promise<TensorflowProbe> {
  const { backend, gpu } = await startTrainingBackend({
    requested: 'tensorflow',
    deterministic: false,
    wholeNetworkOnImages: false,
    log,
  });
  const batch = backend.gpu ? RUN_SETTINGS.batchSize.default : 2;
  const model = buildResNet50({ numClasses: 50, inputSize: 224, seed: 1 });
  const parameters = trainableParameters(model);
  const optimizer = new AdamL2({ learningRate: 1e-5, weightDecay: 5e-4 });
  const plannedMicroBatch = chooseMicroBatch({ batchSize: batch, accumulate: 'auto' }, model, gpu, log);
  const runner = createMicroBatchRunner({ microBatch: plannedMicroBatch, model, optimizer, log });
  const images = {
    inputs: tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1),
    labels: tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 50),
      'int32',
    ),
  };
  const step = () => runner.step(images, (parts) => trainStep(model, optimizer, parameters, parts, 50));
  let started = performance.now();
  step();
  const firstStepSeconds = (performance.now() - started) / 1000;
  const steps = backend.gpu ? 3 : 1;
  started = performance.now();
  for (let i = 0; i < steps; i++) step();
  const imagesPerSecond = (steps * batch) / ((performance.now() - started) / 1000);
  const microBatch = runner.microBatch;
  return { gpu: backend.gpu, batch, plannedMicroBatch, microBatch, firstStepSeconds, imagesPerSecond };
}

/** The wasm backend with its pthreads build (the pnpm patch), running a convolution. */
async function probeWasm(): Promise<WasmProbe> {
  const threads = Math.min(4, availableParallelism());
  const backend = await initBackend('wasm', log, { wasmThreads: threads });
  tf.tidy(() =>
    tf
      .conv2d(tf.ones([1, 16, 16, 3]) as tf.Tensor4D, tf.ones([3, 3, 3, 8]) as tf.Tensor4D, 1, 'same')
      .dataSync(),
  );
  return { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean, threads: backend.threads };
}

/** ONNX Runtime's CPU build (what `--engine onnx` serves with) running a one-node model. */
async function probeOnnx(): Promise<OnnxProbe> {
  const graph = emptyGraph('doctor');
  addInitializer(graph, 'w', [2, 2], new Float32Array([1, 2, 3, 4]));
  graph.nodes.push({ name: 'matmul', op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] });
  graph.inputs.push({ name: 'x', shape: [1, 2] });
  graph.outputs.push({ name: 'y', shape: [1, 2] });
  const session = await ort.InferenceSession.create(encodeModel(graph, { metadata: {} }));
  const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1]), [1, 2]) });
  await session.release();
  return { output: Array.from(y!.data as Float32Array) };
}

const probes = { tensorflow: probeTensorflow, wasm: probeWasm, onnx: probeOnnx } as const;

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const name = process.argv[2] as keyof typeof probes;
  const result = await probes[name]();
  process.stdout.write(`${PROBE_RESULT}${JSON.stringify(result)}\n`);
  // The wasm pool's threads and tfjs-node's runtime do not always let Node exit on their own.
  process.exit(0);
}
