/**
 * Runs one step of `pnpm bench:scale` as a child process under GNU time, which reports what Node cannot
 * say about another process: its peak resident set and the bytes it wrote to disk.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '@food/core/errors';
import { spawnCaptured } from '@food/core/spawn-captured';

const GNU_TIME = '/usr/bin/time';

export interface StepUsage {
  wallSeconds: number;
  /** Largest resident set of the process (worker threads included), in bytes. */
  peakRssBytes: number;
  /** Bytes the process caused to be written to storage (getrusage's ru_oublock, 512-byte blocks). */
  diskWrittenBytes: number;
}

export interface StepRun extends StepUsage {
  ok: boolean;
  /** The last lines the step printed, when it failed. */
  failure?: string;
}

export function requireGnuTime(): void {
  if (!existsSync(GNU_TIME)) {
    throw new UserError(
      `${GNU_TIME} is missing: pnpm bench:scale reads each step's peak memory and disk writes from GNU time. ` +
        'Install it (Debian/Ubuntu: apt-get install time) and run again.',
    );
  }
}

/** GNU time's `-f '%M %O'`: peak RSS in KiB, then file-system outputs in 512-byte blocks. */
export function parseTimeOutput(text: string): Omit<StepUsage, 'wallSeconds'> {
  const line = text.trim().split('\n').at(-1) ?? '';
  const [rssKiB, blocks] = line.split(' ').map(Number);
  if (!Number.isFinite(rssKiB) || !Number.isFinite(blocks)) {
    throw new Error(`unexpected output of ${GNU_TIME}: "${line}"`);
  }
  return { peakRssBytes: rssKiB! * 1024, diskWrittenBytes: blocks! * 512 };
}

export async function measureStep(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): Promise<StepRun> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-scale-time-'));
  const usageFile = path.join(scratch, 'usage.txt');
  try {
    const started = performance.now();
    const run = await spawnCaptured(GNU_TIME, ['-f', '%M %O', '-o', usageFile, command, ...args], {
      env: options.env,
      onLine: options.onLine,
      stderrLimit: 4000,
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const usage = parseTimeOutput(await readFile(usageFile, 'utf8').catch(() => ''));
    const ok = run.code === 0;
    const failure = ok ? undefined : run.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return { ...usage, wallSeconds, ok, failure };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
