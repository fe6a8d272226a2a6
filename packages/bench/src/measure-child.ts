/**
 * Entry point of a measurement child process: runs the one measurement given as JSON in argv[2] and
 * prints its result as the last stdout line (`RESULT {json}`); progress lines go to stderr. A wasm
 * abort or a heap exhaustion ends only this process, and the parent reports it as "out of memory".
 */
import { initBackend } from '@food/core/backend';
import * as tf from '@tensorflow/tfjs';
import { measureForward, measureGemm, measureTrainStep } from './model-benchmarks.ts';
import { measurePreprocess } from './preprocess-benchmarks.ts';
import {
  looksLikeOutOfMemory,
  type MeasurementResult,
  type MeasurementSpec,
  RESULT_PREFIX,
  unitOf,
} from './spec.ts';
import { measureThroughput } from './throughput.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function measure(spec: MeasurementSpec): Promise<MeasurementResult> {
  const unit = unitOf(spec);
  switch (spec.kind) {
    case 'forward':
    case 'train': {
      try {
        await initBackend(spec.backend, () => {}, { wasmThreads: spec.threads });
      } catch (error) {
        return { status: 'unavailable', reason: shorten((error as Error).message, 160) };
      }
      const options = { model: spec.model, batch: spec.batch, runs: spec.runs, log };
      if (spec.kind === 'forward') return { status: 'ok', unit, samples: await measureForward(options) };
      const { samples, leakedTensors } = await measureTrainStep({ ...options, microBatch: spec.microBatch });
      // A leak would make later steps slower and is a bug worth seeing in the report.
      const leak = leakedTensors === 0 ? [] : [`${leakedTensors} tensors leaked over ${spec.runs} steps`];
      const heap = wasmHeapBytes();
      // Off wasm the activations live in host memory: the process's peak resident size says how much.
      const memory =
        heap === undefined
          ? `peak RSS ${formatGiB(process.resourceUsage().maxRSS * 1024)}`
          : `wasm heap ${formatGiB(heap)}`;
      const details = [memory, ...leak];
      return { status: 'ok', unit, samples, detail: details.join(', ') || undefined };
    }
    case 'gemm':
      await initBackend('wasm', () => {}, { wasmThreads: spec.threads });
      return { status: 'ok', unit, samples: await measureGemm(spec.shape, spec.runs) };
    case 'throughput':
      return { status: 'ok', unit, samples: await measureThroughput(spec, log) };
    case 'preprocess':
      return { status: 'ok', unit, ...(await measurePreprocess(spec, log)) };
  }
}

const WASM_HEAP_NEARLY_FULL = 3.5 * 2 ** 30;

/** Size of the wasm backend's heap (it grows and never shrinks, so this is the peak); undefined off wasm. */
function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
}

function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

function shorten(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? 'null') as MeasurementSpec;
  let result: MeasurementResult;
  try {
    result = await measure(spec);
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const heap = wasmHeapBytes();
    // wasm32 cannot grow past 4 GiB; a crash with the heap near that limit is the heap running out, even
    // when it surfaces as an out-of-bounds access rather than as an abort in malloc.
    const heapFull = heap !== undefined && heap >= WASM_HEAP_NEARLY_FULL;
    const where = heap === undefined ? '' : ` (wasm heap at ${formatGiB(heap)} of 4 GiB)`;
    result = {
      status: looksLikeOutOfMemory(text) || heapFull ? 'oom' : 'failed',
      reason: shorten(text.split('\n')[0]!, 240) + where,
    };
  }
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  // Worker threads or ONNX sessions may still hold the event loop; the result is out.
  process.exit(0);
}

await main();
