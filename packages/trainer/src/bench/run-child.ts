/** Runs one measurement in a fresh Node process (./measure-child.ts) and classifies how it ended. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { looksLikeOutOfMemory, type MeasurementResult, type MeasurementSpec, RESULT_PREFIX } from './spec.ts';

const CHILD = fileURLToPath(new URL('./measure-child.ts', import.meta.url));

export interface RunChildOptions {
  timeoutMs: number;
  /** Progress lines the child writes to stderr. */
  onLine?: (line: string) => void;
}

export function runInChild(spec: MeasurementSpec, options: RunChildOptions): Promise<MeasurementResult> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), CHILD, JSON.stringify(spec)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderrTail = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onLine?.(line);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(classifyExit({ stdout, stderrTail, code, signal, timedOut, timeoutMs: options.timeoutMs }));
    });
  });
}

/** Exported for tests: what a finished child's output and exit status mean. */
export function classifyExit(exit: {
  stdout: string;
  stderrTail: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  timeoutMs: number;
}): MeasurementResult {
  const resultLine = exit.stdout
    .split('\n')
    .reverse()
    .find((line) => line.startsWith(RESULT_PREFIX));
  if (resultLine) return JSON.parse(resultLine.slice(RESULT_PREFIX.length)) as MeasurementResult;
  if (exit.timedOut) {
    return { status: 'timeout', reason: `stopped after ${Math.round(exit.timeoutMs / 1000)} s` };
  }
  const lastLines = exit.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  // SIGKILL with no output is the kernel's OOM killer; an abort with V8's message is the JS heap.
  if (looksLikeOutOfMemory(exit.stderrTail) || exit.signal === 'SIGKILL') {
    return { status: 'oom', reason: `process ${how}: ${lastLines || 'no output'}` };
  }
  return { status: 'failed', reason: `process ${how}: ${lastLines || 'no output'}` };
}
