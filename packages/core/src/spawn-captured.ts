/**
 * Runs a program in a child process and captures what it prints: the one way the CLIs' tests, `pnpm
 * docs:cli`, the doctor's probes and the benchmarks' measurement children start a process and read it.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

export interface CapturedRun {
  stdout: string;
  /** All of stderr, or its last `stderrLimit` characters. */
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Why the process could not be started (spawn's 'error'); code and signal are then null. */
  error?: Error;
}

export interface CaptureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long (no limit by default). */
  timeoutMs?: number;
  /** Each non-blank stderr line, trimmed, as it arrives (progress). */
  onLine?: (line: string) => void;
  /** Keep only the last N characters of stderr (bounded memory for chatty children; default: all). */
  stderrLimit?: number;
}

export interface StartedCapture {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves once the process has exited and its output is closed; never rejects. */
  finished: Promise<CapturedRun>;
}

/** `command args` with stdin closed; the caller keeps the child (to signal it) and awaits `finished`. */
export function startCaptured(
  command: string,
  args: readonly string[],
  options: CaptureOptions = {},
): StartedCapture {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const limit = options.stderrLimit ?? Number.POSITIVE_INFINITY;
  let stdout = '';
  let stderr = '';
  let partial = '';
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-limit);
    if (!options.onLine) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) options.onLine(line.trim());
  });
  const finished = new Promise<CapturedRun>((resolve) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ stdout: '', stderr: error.message, code: null, signal: null, timedOut: false, error });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal, timedOut });
    });
  });
  return { child, finished };
}

/** Runs `command args` to the end (or `timeoutMs`) and resolves with its output; never rejects. */
export function spawnCaptured(
  command: string,
  args: readonly string[],
  options: CaptureOptions = {},
): Promise<CapturedRun> {
  return startCaptured(command, args, options).finished;
}

/** A TypeScript CLI run to the end as the package scripts run it (see tsxArgs). */
export function runTsCli(
  entry: string,
  args: readonly string[],
  options: CaptureOptions = {},
): Promise<CapturedRun> {
  return spawnCaptured(process.execPath, tsxArgs(entry, args), options);
}

/**
 * `node --import tsx ENTRY ...args`: how the package scripts run a TypeScript CLI (no build step). tsx is
 * resolved from here, so the child starts from any working directory.
 */
export function tsxArgs(entry: string, args: readonly string[] = []): string[] {
  return ['--import', TSX_LOADER, entry, ...args];
}

// createRequire rather than import.meta.resolve, which vitest's module runner does not provide.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
