import { spawn } from 'node:child_process';

export interface CapturedRun {
  stdout: string;
  /** The last 4,000 characters of stderr (enough for an error, bounded for chatty children). */
  stderrTail: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/**
 * Runs a measurement in its own process (so a crash, e.g. wasm running out of heap, cannot take the
 * bench down), killed after `timeoutMs`; stderr lines are streamed to `onLine` as progress.
 */
export function spawnCaptured(
  command: string,
  args: string[],
  options: { timeoutMs: number; onLine?: (line: string) => void },
): Promise<CapturedRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    let partial = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onLine?.(line.trim());
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ stdout: '', stderrTail: error.message, code: null, signal: null, timedOut: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderrTail, code, signal, timedOut });
    });
  });
}
