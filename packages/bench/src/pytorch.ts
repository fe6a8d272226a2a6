/**
 * The PyTorch reference (./pytorch_resnet50.py, run by Debian's /usr/bin/python3 with python3-torch):
 * the same network and shapes, timed the same way, so every row can carry a ratio ours / PyTorch.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnCaptured } from '@food/core/spawn-captured';
import { type GemmShape, gemmArgument, type MeasurementResult, type ModelShape } from './spec.ts';

const SCRIPT = fileURLToPath(new URL('./pytorch_resnet50.py', import.meta.url));
/** Debian's interpreter: python3-torch installs there, not into a pyenv `python3` earlier on PATH. */
export const PYTHON = '/usr/bin/python3';

export interface PytorchOptions {
  model: ModelShape;
  threads: number;
  runs: number;
  forwardBatches: number[];
  trainBatches: number[];
  /** A 1×1 convolution timed in GFLOP/s, the bound of every conv (see GEMM_PROBE). */
  gemm?: GemmShape;
  timeoutMs: number;
  onLine?: (line: string) => void;
  python?: string;
}

export interface PytorchReport {
  /** torch version, or why there are no PyTorch numbers. */
  version?: string;
  unavailable?: string;
  threads?: number;
  forward: Map<number, MeasurementResult>;
  train: Map<number, MeasurementResult>;
  /** GFLOP/s of `gemm`'s convolution. */
  gemm?: MeasurementResult;
}

interface ScriptOutput {
  available: boolean;
  reason?: string;
  version?: string;
  threads?: number;
  results?: Array<{
    kind: 'forward' | 'train' | 'gemm';
    batch: number;
    samples?: number[];
    error?: string;
    oom?: boolean;
  }>;
}

export async function runPytorch(options: PytorchOptions): Promise<PytorchReport> {
  const python = options.python ?? PYTHON;
  const empty = (unavailable: string): PytorchReport => ({
    unavailable,
    forward: new Map(),
    train: new Map(),
  });
  if (!existsSync(python)) return empty(`${python} not found (apt-get install -y python3-torch)`);
  const { model } = options;
  const args = [
    SCRIPT,
    `--threads=${options.threads}`,
    `--runs=${options.runs}`,
    `--forward=${options.forwardBatches.join(',')}`,
    `--train=${options.trainBatches.join(',')}`,
    `--size=${model.inputSize}`,
    `--classes=${model.numClasses}`,
    `--width=${model.widthMultiplier}`,
    `--blocks=${model.blocksPerStage.join(',')}`,
    ...(options.gemm ? [`--gemm=${gemmArgument(options.gemm)}`] : []),
  ];
  const { stdout, code, timedOut, stderr } = await spawnCaptured(python, args, {
    ...options,
    stderrLimit: 4000,
  });
  if (timedOut) return empty(`stopped after ${Math.round(options.timeoutMs / 1000)} s`);
  let output: ScriptOutput;
  try {
    output = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ScriptOutput;
  } catch {
    return empty(
      `reference script failed (exit ${code}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`,
    );
  }
  if (!output.available) return empty(output.reason ?? 'torch not available');
  return parsePytorchOutput(output);
}

/** Exported for tests: the script's JSON → results keyed by batch size. */
export function parsePytorchOutput(output: ScriptOutput): PytorchReport {
  const report: PytorchReport = {
    version: output.version,
    threads: output.threads,
    forward: new Map(),
    train: new Map(),
  };
  for (const row of output.results ?? []) {
    const unit = row.kind === 'gemm' ? 'GFLOP/s' : 'ms/image';
    const result: MeasurementResult = row.samples
      ? { status: 'ok', unit, samples: row.samples }
      : { status: row.oom ? 'oom' : 'failed', reason: row.error ?? 'no samples' };
    if (row.kind === 'gemm') report.gemm = result;
    else report[row.kind].set(row.batch, result);
  }
  return report;
}
