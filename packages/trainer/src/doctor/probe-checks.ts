/** Runs ./probe.ts in a child process and turns its result, or how it died, into a check. */
import { fileURLToPath } from 'node:url';
import { spawnCaptured, tsxArgs } from '@food/core/spawn-captured';
import type { CheckResult } from './check-result.ts';
import { TRAIN_IMAGE } from './fixes.ts';
import { type OnnxProbe, PROBE_RESULT, type TensorflowProbe, type WasmProbe } from './probe-protocol.ts';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));

export type ProbeOutcome<T> =
  | { ok: true; result: T; log: string }
  | { ok: false; reason: string; log: string };

export async function runProbe<T>(
  name: 'tensorflow' | 'wasm' | 'onnx',
  timeoutMs: number,
): Promise<ProbeOutcome<T>> {
  const run = await spawnCaptured(process.execPath, tsxArgs(PROBE, [name]), { timeoutMs, stderrLimit: 4000 });
  const line = run.stdout.split('\n').find((text) => text.startsWith(PROBE_RESULT));
  if (line) return { ok: true, result: JSON.parse(line.slice(PROBE_RESULT.length)) as T, log: run.stderr };
  const lastLines = run.stderr
    .trim()
    .split('\n')
    .filter((text) => !/^\s+at /.test(text));
  const reason = run.timedOut
    ? `no result after ${timeoutMs / 1000} s`
    : `${run.signal ? `killed by ${run.signal}` : `exit code ${run.code}`}: ${lastLines.slice(-2).join(' ').slice(0, 400)}`;
  return { ok: false, reason, log: run.stderr };
}

/**
 * TensorFlow's log line for the device it created, e.g. `Created device
 * /job:localhost/replica:0/task:0/device:GPU:0 with 14791 MB memory:  -> device: 0, name: Tesla
 * V100-SXM2-16GB, pci bus id: 0000:00:1e.0, compute capability: 7.0`.
 */
export function parseTensorflowDevice(log: string): string | undefined {
  const match = /Created device \S+device:GPU:(\d+) with (\d+) MB memory:.*?name: ([^,]+)/.exec(log);
  return match ? `GPU:${match[1]} ${match[3]!.trim()}, ${match[2]} MB for TensorFlow` : undefined;
}

/** `gpuListed`: nvidia-smi shows a GPU, so a step on the CPU means TensorFlow could not use it. */
export function checkTensorflowStep(
  outcome: ProbeOutcome<TensorflowProbe> | undefined,
  options: { requireGpu: boolean; gpuListed: boolean },
): CheckResult {
  const name = 'tensorflow-step';
  if (!outcome) {
    return { name, status: 'skip', detail: 'not run: no tensorflow binding (see libtensorflow)' };
  }
  if (!outcome.ok) {
    return {
      name,
      status: 'fail',
      detail: `a ResNet-50 training step on the tensorflow backend failed (${outcome.reason})`,
      fix: `Fix the checks above first (driver, CUDA libraries); if they pass, provision again: \`pnpm setup:tensorflow${options.gpuListed || options.requireGpu ? ' --gpu' : ''} --force\``,
    };
  }
  const { gpu, batch, plannedMicroBatch, microBatch, firstStepSeconds, imagesPerSecond } = outcome.result;
  const device = gpu ? (parseTensorflowDevice(outcome.log) ?? 'CUDA GPU') : 'CPU';
  const split =
    microBatch === batch
      ? `batch ${batch}`
      : `batch ${batch} as micro-batches of ${microBatch} (planned ${plannedMicroBatch}${microBatch < plannedMicroBatch ? ', halved after running out of memory' : ''})`;
  const detail = `ResNet-50 forward + backward at 224 px, ${split}, on ${device}: ${imagesPerSecond.toFixed(1)} images/s (first step ${firstStepSeconds.toFixed(1)} s)`;
  if (gpu) return { name, status: 'pass', detail };
  if (!options.requireGpu && !options.gpuListed) {
    return { name, status: 'pass', detail: `${detail}: the CPU path is ready (no GPU on this machine)` };
  }
  return {
    name,
    status: 'fail',
    detail: `${detail}: TensorFlow found no usable CUDA device`,
    fix: `Make the driver and CUDA library checks pass (\`pnpm setup:tensorflow --gpu\`), ${TRAIN_IMAGE}`,
  };
}

export function checkWasm(outcome: ProbeOutcome<WasmProbe>): CheckResult {
  const name = 'wasm';
  if (!outcome.ok) {
    return {
      name,
      status: 'fail',
      detail: `the wasm backend did not start (${outcome.reason})`,
      fix: 'Run `pnpm install` (it applies the wasm pthreads patch)',
    };
  }
  const { simd, threads } = outcome.result;
  const detail = `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'} (the CPU backend for evaluation, serving and CPU fine-tunes)`;
  return threads > 1 || simd
    ? { name, status: 'pass', detail }
    : { name, status: 'warn', detail, fix: 'Use a Node with wasm SIMD (Node 20 or 24)' };
}

export function checkOnnx(outcome: ProbeOutcome<OnnxProbe>): CheckResult {
  const name = 'onnxruntime';
  const expected = [4, 6]; // [1, 1] × [[1, 2], [3, 4]]
  if (outcome.ok && outcome.result.output.join() === expected.join()) {
    return { name, status: 'pass', detail: 'ONNX Runtime (CPU) ran a test model (--engine onnx)' };
  }
  return {
    name,
    status: 'fail',
    detail: outcome.ok
      ? `ONNX Runtime computed ${outcome.result.output.join(', ')} instead of ${expected.join(', ')}`
      : `ONNX Runtime did not run (${outcome.reason})`,
    fix: 'Run `pnpm install` (onnxruntime-node ships its CPU build in the package)',
  };
}
