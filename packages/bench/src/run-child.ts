/** Runs one measurement in a fresh Node process (./measure-child.ts) and classifies how it ended. */
import { fileURLToPath } from 'node:url';
import { type CapturedRun, spawnCaptured, tsxArgs } from '@food/core/spawn-captured';
import { looksLikeOutOfMemory, type MeasurementResult, type MeasurementSpec, RESULT_PREFIX } from './spec.ts';

const CHILD = fileURLToPath(new URL('./measure-child.ts', import.meta.url));

export interface RunChildOptions {
  timeoutMs: number;
  /** Progress lines the child writes to stderr. */
  onLine?: (line: string) => void;
}

export async function runInChild(
  spec: MeasurementSpec,
  options: RunChildOptions,
): Promise<MeasurementResult> {
  const run = await spawnCaptured(process.execPath, tsxArgs(CHILD, [JSON.stringify(spec)]), {
    ...options,
    stderrLimit: 4000,
  });
  return classifyExit({ ...run, timeoutMs: options.timeoutMs });
}

/** Exported for tests: what a finished child's output and exit status mean. */
export function classifyExit(exit: Omit<CapturedRun, 'error'> & { timeoutMs: number }): MeasurementResult {
  const resultLine = exit.stdout
    .split('\n')
    .reverse()
    .find((line) => line.startsWith(RESULT_PREFIX));
  if (resultLine) return JSON.parse(resultLine.slice(RESULT_PREFIX.length)) as MeasurementResult;
  if (exit.timedOut) {
    return { status: 'timeout', reason: `stopped after ${Math.round(exit.timeoutMs / 1000)} s` };
  }
  const lastLines = exit.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  // SIGKILL with no output is the kernel's OOM killer; an abort with V8's message is the JS heap.
  if (looksLikeOutOfMemory(exit.stderr) || exit.signal === 'SIGKILL') {
    return { status: 'oom', reason: `process ${how}: ${lastLines || 'no output'}` };
  }
  return { status: 'failed', reason: `process ${how}: ${lastLines || 'no output'}` };
}
