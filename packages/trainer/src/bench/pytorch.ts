/**
 * The PyTorch reference (./pytorch_resnet50.py, run by Debian's /usr/bin/python3 with python3-torch):
 * the same network and shapes, timed the same way, so every row can carry a ratio ours / PyTorch.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MeasurementResult, ModelShape } from './spec.ts';

const SCRIPT = fileURLToPath(new URL('./pytorch_resnet50.py', import.meta.url));
/** Debian's interpreter: python3-torch installs there, not into a pyenv `python3` earlier on PATH. */
export const PYTHON = '/usr/bin/python3';

export interface PytorchOptions {
  model: ModelShape;
  threads: number;
  runs: number;
  forwardBatches: number[];
  trainBatches: number[];
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
}

interface ScriptOutput {
  available: boolean;
  reason?: string;
  version?: string;
  threads?: number;
  results?: Array<{
    kind: 'forward' | 'train';
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
  ];
  const { stdout, code, timedOut, stderr } = await run(python, args, options);
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
    const result: MeasurementResult = row.samples
      ? { status: 'ok', unit: 'ms/image', samples: row.samples }
      : { status: row.oom ? 'oom' : 'failed', reason: row.error ?? 'no samples' };
    report[row.kind].set(row.batch, result);
  }
  return report;
}

function run(
  command: string,
  args: string[],
  options: PytorchOptions,
): Promise<{ stdout: string; stderr: string; code: number | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) options.onLine?.(line.trim());
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ stdout: '', stderr: error.message, code: null, timedOut: false });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, timedOut });
    });
  });
}
