/**
 * An engine on ONNX Runtime (CPU) for models written by `pnpm trainer export --format onnx`: input
 * `input` [batch, H, W, C] float32 NHWC (what preprocessImage makes), output `probabilities`
 * [batch, classes]. This is the only module that imports onnxruntime-node.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type InferenceEngine, predictInChunks } from './inference-engine.ts';
import { OnnxModelError } from './onnx-metadata.ts';

/** Tensor names of the exported graph (trainer/src/export/layers-to-onnx.ts). */
export const ONNX_INPUT = 'input';
export const ONNX_PROBABILITIES = 'probabilities';

export interface OnnxEngineOptions {
  /** Threads one inference may use (ONNX Runtime's intra-op pool). Default: the machine's cores. */
  intraOpThreads?: number;
  /** Largest batch given to the session at once; larger requests run in several batches. Default 32. */
  maxBatch?: number;
}

/** Opens an .onnx file (path) or its bytes. Rejects with OnnxModelError when it is not such a model. */
export async function createOnnxEngine(
  model: string | Uint8Array,
  options: OnnxEngineOptions = {},
): Promise<InferenceEngine> {
  const intraOpThreads = options.intraOpThreads ?? availableParallelism();
  const maxBatch = options.maxBatch ?? 32;
  for (const [name, value] of Object.entries({ intraOpThreads, maxBatch })) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const source = typeof model === 'string' ? model : 'in-memory model';
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: intraOpThreads,
    // One graph runs at a time per call; parallel branches would only compete for the same cores.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  let session: ort.InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, sessionOptions)
        : await ort.InferenceSession.create(model, sessionOptions);
  } catch (error) {
    throw new OnnxModelError(
      `ONNX Runtime cannot load ${source}: ${(error as Error).message}. Export it again with ` +
        '`pnpm trainer export --checkpoint DIR --format onnx --out FILE`.',
      { cause: error },
    );
  }
  const shape = describeSession(session, source);
  const { height, width, channels, classes } = shape;
  const inFlight = new Set<Promise<unknown>>();
  let disposed = false;

  const run = async (packed: Float32Array, rows: number): Promise<Float32Array> => {
    const input = new ort.Tensor('float32', packed, [rows, height, width, channels]);
    const outputs = await session.run({ [ONNX_INPUT]: input }, [ONNX_PROBABILITIES]);
    return outputs[ONNX_PROBABILITIES]!.data as Float32Array;
  };

  return {
    description:
      `onnxruntime ${ort.env.versions.common} cpu, ${typeof model === 'string' ? path.basename(model) : source}, ` +
      `${height}x${width}x${channels} -> ${classes} classes, ${intraOpThreads} intra-op threads, batches of <= ${maxBatch}`,

    async predict(batch) {
      if (disposed) throw new Error('This inference engine was disposed; create a new one.');
      return predictInChunks(batch, shape, maxBatch, async (packed, rows) => {
        const pending = run(packed, rows);
        inFlight.add(pending);
        try {
          return await pending;
        } finally {
          inFlight.delete(pending);
        }
      });
    },

    dispose() {
      if (disposed) return;
      disposed = true;
      // Releasing a session while a run uses it would free memory under that run: wait for them.
      void Promise.allSettled([...inFlight]).then(() => session.release());
    },
  };
}

function describeSession(session: ort.InferenceSession, source: string) {
  const input = session.inputMetadata.find((value) => value.name === ONNX_INPUT);
  const output = session.outputMetadata.find((value) => value.name === ONNX_PROBABILITIES);
  const fail = (why: string): never => {
    throw new OnnxModelError(
      `${source}: ${why}. The ONNX engine runs models written by \`pnpm trainer export --format onnx\` ` +
        `(input "${ONNX_INPUT}" [batch, H, W, 3] float32, output "${ONNX_PROBABILITIES}" [batch, classes]).`,
    );
  };
  if (!input?.isTensor || input.type !== 'float32') return fail(`no float32 input "${ONNX_INPUT}"`);
  if (!output?.isTensor || output.type !== 'float32')
    return fail(`no float32 output "${ONNX_PROBABILITIES}"`);
  const [, height, width, channels] = input.shape;
  const [, classes] = output.shape;
  if (input.shape.length !== 4 || ![height, width, channels].every((side) => typeof side === 'number')) {
    return fail(`input shape [${input.shape.join(', ')}] is not [batch, H, W, C] with a fixed H, W, C`);
  }
  if (output.shape.length !== 2 || typeof classes !== 'number') {
    return fail(`output shape [${output.shape.join(', ')}] is not [batch, classes]`);
  }
  return {
    height: height as number,
    width: width as number,
    channels: channels as number,
    classes,
  };
}
