import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Advances by `amount` and updates the live fields shown after the bar (loss, acc, ...). */
  tick(amount?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

const formatFields = (fields: Record<string, string | number>) =>
  Object.entries(fields)
    .map(([key, value]) => `${key} ${value}`)
    .join(' ');

/**
 * How progress is shown: true, a bar on a terminal (plain lines when piped: CI logs); 'lines', plain
 * lines only (`--no-progress`: logs, Docker, CI), fewer than the piped default; false, nothing (library
 * calls and tests).
 */
export type ProgressMode = boolean | 'lines';

/** The mode a command's `--no-progress` flag (commander: `progress: false`) asks for. */
export const progressMode = (progress: boolean): ProgressMode => progress || 'lines';

/**
 * When plain lines are printed. Piped (the default off a terminal): every 10% and at least every 5 min,
 * so a long step is never silent in a CI log that kills quiet jobs. `--no-progress` asks for less: every
 * 25% and at least every 10 min.
 */
export const LINE_CADENCE = {
  piped: { everyPercent: 10, everyMs: 5 * 60_000 },
  quiet: { everyPercent: 25, everyMs: 10 * 60_000 },
} as const;

/** `--no-progress`'s help, the same in every command. */
export const NO_PROGRESS_HELP = 'progress as a few plain lines (every 25% or 10 min), no bar';

/** A progress bar with ETA and live fields on stderr, or plain lines (see ProgressMode). */
export function createProgress(label: string, total: number, mode: ProgressMode = true): Progress {
  if (!mode || total <= 0) return { tick() {}, stop() {} };
  if (mode === 'lines') return createLineProgress(label, total, LINE_CADENCE.quiet);
  if (!process.stderr.isTTY) return createLineProgress(label, total, LINE_CADENCE.piped);
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% {value}/{total} | ETA {eta_formatted} | {fields}`,
    stream: process.stderr,
    etaBuffer: 50,
    hideCursor: true,
  });
  bar.start(total, 0, { fields: '' });
  return {
    tick(amount = 1, fields = {}) {
      bar.increment(amount, Object.keys(fields).length > 0 ? { fields: formatFields(fields) } : undefined);
    },
    stop() {
      bar.stop();
    },
  };
}

const MIB = 2 ** 20;

export interface ByteProgressBar {
  /** `done` of `total` bytes so far; nothing is shown until the total is known. */
  report(done: number, total: number | undefined): void;
  stop(): void;
}

/**
 * A progress bar counted in MiB for a download or an extraction, created on the first report that
 * knows the total (a server may send none: then nothing is shown).
 */
export function createByteProgress(label: string, mode: ProgressMode): ByteProgressBar {
  let bar: Progress | undefined;
  let shown = 0;
  return {
    report(done, total) {
      if (total === undefined) return;
      bar ??= createProgress(`${label} (MiB)`, Math.ceil(total / MIB), mode);
      const mib = Math.floor(done / MIB);
      if (mib > shown) {
        bar.tick(mib - shown);
        shown = mib;
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

export interface LineProgressOptions {
  /** A line each time progress crosses a multiple of this percentage. */
  everyPercent: number;
  /** And a line when this long has passed since the last one (default: never). */
  everyMs?: number;
  write?: (line: string) => void;
  now?: () => number;
}

export function createLineProgress(label: string, total: number, options: LineProgressOptions): Progress {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  let done = 0;
  let lastStep = -1; // the first tick prints: the step has started
  const started = now();
  let lastLine = started;
  return {
    tick(amount = 1, fields = {}) {
      done += amount;
      const step = Math.floor((done / total) * (100 / options.everyPercent));
      const overdue = options.everyMs !== undefined && now() - lastLine >= options.everyMs;
      if (step === lastStep && !overdue) return;
      lastStep = step;
      lastLine = now();
      const elapsed = (lastLine - started) / 1000;
      const eta = done > 0 ? Math.round((elapsed / done) * (total - done)) : 0;
      const percent = Math.round((done / total) * 100);
      write(`${label} ${done}/${total} (${percent}%) ETA ${eta}s ${formatFields(fields)}`.trimEnd() + '\n');
    },
    stop() {},
  };
}
