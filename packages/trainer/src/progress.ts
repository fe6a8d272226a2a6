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
 * A progress bar with ETA and live fields on stderr. Silent when `enabled` is false (tests) and a plain
 * line every 10% when stderr is not a terminal (CI logs), so logs stay readable.
 */
export function createProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled || total <= 0) return { tick() {}, stop() {} };
  if (!process.stderr.isTTY) return createLineProgress(label, total);
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

function createLineProgress(label: string, total: number): Progress {
  let done = 0;
  let lastDecile = -1;
  const started = Date.now();
  return {
    tick(amount = 1, fields = {}) {
      done += amount;
      const decile = Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? Math.round((elapsed / done) * (total - done)) : 0;
      const percent = Math.round((done / total) * 100);
      process.stderr.write(`${label} ${done}/${total} (${percent}%) ETA ${eta}s ${formatFields(fields)}\n`);
    },
    stop() {},
  };
}
