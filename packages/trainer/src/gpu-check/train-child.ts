/**
 * One `pnpm train` of the check, as a real child process: its progress lines are watched (steps and when
 * they came), its peak memory polled, and it can be killed with SIGKILL once it has passed a step, as a
 * preempted node or the kernel's OOM killer would end it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { watchPeakMemory } from './memory-peak.ts';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
// Vite's module runner (the test suite) has no import.meta.resolve; there the repository root is the cwd.
const TSX = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx') : 'tsx';

export interface StepSeen {
  epoch: number;
  globalStep: number;
  /** performance.now() when the line arrived. */
  at: number;
}

export interface TrainPhase {
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  steps: StepSeen[];
  /** `--accumulate auto`'s line, when it printed one. */
  planLine?: string;
  microBatch?: number;
  peakMemoryBytes?: number;
  stderrTail: string;
}

export interface TrainPhaseOptions {
  memory: 'gpu' | 'host';
  /** SIGKILL the child once a progress line shows this global step or a later one. */
  killAtStep?: number;
  timeoutMs: number;
  onLine?: (line: string) => void;
}

/** `epoch 2/14 7/77 (9%) …`: the progress line of a training epoch. */
export function parseProgressLine(line: string): { epoch: number; globalStep: number } | undefined {
  const match = /^epoch (\d+)\/\d+ (\d+)\/(\d+) /.exec(line.trim());
  if (!match) return undefined;
  const [epoch, step, perEpoch] = match.slice(1).map(Number) as [number, number, number];
  return { epoch, globalStep: (epoch - 1) * perEpoch + step };
}

export function runTrainPhase(args: string[], options: TrainPhaseOptions): Promise<TrainPhase> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'train', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // TensorFlow would otherwise claim the whole GPU at start, and nvidia-smi would show that, not the peak.
    env: { ...process.env, TF_FORCE_GPU_ALLOW_GROWTH: 'true', UV_THREADPOOL_SIZE: '32' },
  });
  const memory = watchPeakMemory(child.pid!, options.memory);
  const phase: TrainPhase = { code: null, signal: null, seconds: 0, steps: [], stderrTail: '' };
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    phase.stderrTail = (phase.stderrTail + chunk.toString()).slice(-4000);
    const lines = (partial + chunk.toString()).split(/\r|\n/);
    partial = lines.pop() ?? '';
    for (const line of lines) watchLine(line, phase, options, () => child.kill('SIGKILL'));
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      Object.assign(phase, { code, signal, seconds: (performance.now() - started) / 1000 });
      phase.peakMemoryBytes = memory.stop();
      resolve(phase);
    });
  });
}

function watchLine(line: string, phase: TrainPhase, options: TrainPhaseOptions, kill: () => void): void {
  if (line.trim() === '') return;
  options.onLine?.(line);
  const plan = /micro-batches of (\d+)/.exec(line);
  if (line.startsWith('--accumulate auto') && plan) {
    phase.planLine = line;
    phase.microBatch = Number(plan[1]);
  }
  const progress = parseProgressLine(line);
  if (progress === undefined) return;
  phase.steps.push({ ...progress, at: performance.now() });
  if (options.killAtStep !== undefined && progress.globalStep >= options.killAtStep) kill();
}

/**
 * Training images per second between progress lines of the same epoch: steady state, without start-up,
 * validation or checkpoint saves.
 */
export function imagesPerSecond(steps: readonly StepSeen[], batchSize: number): number | undefined {
  let images = 0;
  let seconds = 0;
  for (let i = 1; i < steps.length; i++) {
    const [before, after] = [steps[i - 1]!, steps[i]!];
    if (before.epoch !== after.epoch || after.globalStep <= before.globalStep) continue;
    images += (after.globalStep - before.globalStep) * batchSize;
    seconds += (after.at - before.at) / 1000;
  }
  return seconds > 0 ? images / seconds : undefined;
}
